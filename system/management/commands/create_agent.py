"""``create_agent NAME [--role agent|reviewer]``: a Django user for an agent, in the ``agents``
group and a role group (``system.policy``), with a token.

The token is printed once and only its hash is kept; run the command again (with
``--new-token``) to issue another one for the same agent.
"""

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from system import policy
from system.identity import AGENT_GROUP
from system.models import ApiToken


class Command(BaseCommand):
    help = "Create an agent user and print a new API token for it (shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="Agent name; its identity becomes agent:NAME.")
        parser.add_argument(
            "--client", default="default", help="Label of the client that uses the token."
        )
        parser.add_argument(
            "--role",
            choices=[policy.Role.AGENT, policy.Role.REVIEWER],
            default=None,
            help="What the agent may do (default: agent for a new agent; an existing one keeps "
            "its roles unless this is given). Leads and viewers are people: give those roles "
            "in the admin.",
        )
        parser.add_argument(
            "--new-token",
            action="store_true",
            help="Issue another token for an agent that already exists.",
        )

    def handle(self, *args, name, client, new_token, role, **options):
        name = name.strip()
        if not name or ":" in name or any(ch.isspace() for ch in name):
            raise CommandError("NAME must be non-empty, without spaces or ':'.")
        with transaction.atomic():
            user, created = User.objects.get_or_create(username=name)
            if not created and not new_token:
                raise CommandError(
                    f"User {name!r} already exists; use --new-token to issue another token."
                )
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            group, _ = Group.objects.get_or_create(name=AGENT_GROUP)
            user.groups.add(group)
            if created or role:
                role_groups = Group.objects.filter(
                    name__in=[policy.group_name(r) for r in policy.Role]
                )
                user.groups.remove(*role_groups)
                user.groups.add(Group.objects.get(name=policy.group_name(role or "agent")))
            _, raw_key = ApiToken.issue(user, name=client)
        roles = ", ".join(
            g.removeprefix("role:")
            for g in user.groups.filter(name__startswith="role:").values_list("name", flat=True)
        )
        self.stderr.write(
            f"agent:{name} (role: {roles or 'none'}) — keep this token, it is not shown again:"
        )
        self.stdout.write(raw_key)
