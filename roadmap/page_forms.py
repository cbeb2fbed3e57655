"""GET filter forms of the roadmap pages (labelled fields, choices from terminology)."""

from __future__ import annotations

from django import forms

from roadmap.pages_queries import (
    READINESS,
    ListFilters,
    live_owners,
    live_phases,
    open_assignees,
)
from system.terminology import choices

ANY = [("", "Any")]


class RoadmapFilterForm(forms.Form):
    """Filters of ``/roadmap/``; an invalid value is reported and dropped rather than
    failing the page (:meth:`ignored` says which)."""

    q = forms.CharField(label="Text", required=False, max_length=200)
    readiness = forms.ChoiceField(label="Readiness", required=False)
    phase = forms.ChoiceField(label="Phase", required=False)
    status = forms.ChoiceField(label="Status", required=False)
    owner = forms.ChoiceField(label="Owner", required=False)
    assignee = forms.ChoiceField(label="Assigned to", required=False)
    item_type = forms.ChoiceField(label="Type", required=False)

    def __init__(self, data=None):
        super().__init__(data)
        self.fields["readiness"].choices = ANY + [(r.key, r.label) for r in READINESS.values()]
        self.fields["phase"].choices = ANY + live_phases()
        self.fields["status"].choices = ANY + choices("roadmap_status")
        self.fields["owner"].choices = ANY + [(owner, owner) for owner in live_owners()]
        self.fields["assignee"].choices = ANY + [(who, who) for who in open_assignees()]
        self.fields["item_type"].choices = ANY + choices("roadmap_item_type")

    def filters(self) -> ListFilters:
        """The valid, non-empty values (an invalid one counts as "any")."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return ListFilters(
            text=cleaned.get("q", "").strip(),
            readiness=cleaned.get("readiness", ""),
            phase=cleaned.get("phase", ""),
            status=cleaned.get("status", ""),
            owner=cleaned.get("owner", ""),
            assignee=cleaned.get("assignee", ""),
            item_type=cleaned.get("item_type", ""),
        )

    def ignored(self) -> list[str]:
        """One sentence per filter value that was not understood and so not applied."""
        self.is_valid()
        return [
            f"{self.fields[name].label}: {' '.join(errors)} This filter was not applied."
            for name, errors in self.errors.items()
        ]


class GraphFilterForm(forms.Form):
    """Selection of ``/roadmap/graph/``: one phase or all, with or without completed items."""

    phase = forms.ChoiceField(label="Phase", required=False)
    hide_completed = forms.BooleanField(label="Hide completed items", required=False)

    def __init__(self, data=None):
        super().__init__(data)
        self.fields["phase"].choices = [("", "All phases")] + choices("roadmap_phase")

    def selection(self) -> dict:
        """Keyword arguments for ``roadmap_picture``."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {
            "phase_key": cleaned.get("phase", ""),
            "hide_completed": cleaned.get("hide_completed", False),
        }
