"""``export_roadmap [--format markdown|json] [--phase P] [--output FILE]``: the roadmap by
phase with status, owner, dependencies and progress (see :mod:`roadmap.export`)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from roadmap import export


class Command(BaseCommand):
    help = "Export the live roadmap items by phase as Markdown (default) or JSON."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=("markdown", "json"), default="markdown")
        parser.add_argument("--phase", help="Only this phase (its key or display name).")
        parser.add_argument("--output", "-o", help="Write to this file instead of stdout.")

    def handle(self, *args, **options):
        try:
            data = export.build_export(options["phase"])
        except export.UnknownPhase as exc:
            raise CommandError(str(exc)) from exc
        text = export.to_json(data) if options["format"] == "json" else export.to_markdown(data)
        if options["output"]:
            Path(options["output"]).write_text(text, encoding="utf-8")
            count = data["progress"]["total_items"]
            self.stdout.write(f"Wrote {count} item(s) to {options['output']}.")
        else:
            self.stdout.write(text, ending="")
