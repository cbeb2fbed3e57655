"""Who may do what: the one policy every interface asks (API, admin, pages, commands).

Roles are Django groups (``role:viewer``, ``role:agent``, ``role:reviewer``, ``role:lead``)
holding model permissions plus the custom ones declared in the models' ``Meta.permissions``;
a caller's authority is ``user.has_perm(...)`` (asked through :func:`user_can`), so a
superuser may do everything and a lead can grant one person a single extra permission (e.g.
``record_test_result``) in the admin.

Whether a caller is an *agent* (``agent:NAME``) or a *person* (``user:NAME``) is identity,
not authority: the ``agents`` group says which (see :mod:`system.identity`).

The database's triggers stay the last word on *what* may happen; this module says *who*.
Object-level rules (own attempt, own ad-hoc item, someone else's blocker) are small
predicates here that the service functions call with the facts they read.

:data:`MATRIX` is the table of the README (``manage.py policy_table`` prints it, a test
checks the README holds it) and the source of the role × action tests.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from system.errors import Forbidden, Invalid
from system.identity import Actor, user_of

# --------------------------------------------------------------------------- roles


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    AGENT = "agent", "Agent"
    REVIEWER = "reviewer", "Reviewer"
    LEAD = "lead", "Lead"


def group_name(role: str) -> str:
    """The Django group of a role: ``role:lead``."""
    return f"role:{role}"


def roles_of(user) -> list[str]:
    """The user's roles, in the order of :class:`Role`."""
    names = set(user.groups.values_list("name", flat=True))
    return [role.value for role in Role if group_name(role) in names]


# --------------------------------------------------------------------------- permissions

#: Read the pages and the read API.
READ = "roadmap.view_roadmapitem"
#: Claim ready work; act on one's own attempts, leases and blockers.
CLAIM_WORK = "kernel.claim_work"
#: Create ad-hoc items; edit or delete one's own ad-hoc items nobody else works on.
ADD_ADHOC_ITEM = "roadmap.add_adhoc_item"
#: Create any item; change any item, its phase and its dependencies; assign others.
MANAGE_ROADMAP = "roadmap.change_roadmapitem"
#: Set an item's status directly (with a reason, audited).
OVERRIDE_STATUS = "roadmap.override_status"
#: Record waiver / approval / review decisions; resolve other people's blockers.
REVIEW_WORK = "kernel.review_work"
#: Set a deploy-gate claim's test status; record deployments.
RECORD_TEST_RESULT = "roadmap.record_test_result"
#: Create and edit deploy-gate claims themselves.
MANAGE_CLAIMS = "roadmap.change_claim"
#: Hold bare leases (on anything but a work item), up to the configured TTL.
HOLD_LEASE = "kernel.hold_lease"
#: Release anybody's lease.
FORCE_RELEASE_LEASE = "kernel.force_release_lease"
#: End anybody's stale attempt.
EXPIRE_ATTEMPT = "kernel.expire_attempt"
#: File bugs.
FILE_BUG = "programs.add_bug"

#: Decision types that are governance: they need :data:`REVIEW_WORK`, whoever's work it is.
#: A ``waiver`` lets blockers be resolved without evidence; ``review_*`` complete or reopen
#: work in review. (``plan_committed``, ``escalation`` and the ``draft_*`` types are notes
#: of one's own work.)
GOVERNANCE_DECISIONS = frozenset(
    {"waiver", "approval", "review_passed", "review_rejected", "completion_accepted", "revocation"}
)

#: The models whose rows leads edit in the admin (app_label.model_name): add + change + view.
LEAD_EDITED_MODELS = (
    "programs.program",
    "programs.product",
    "programs.feature",
    "programs.release",
    "programs.changerequest",
    "programs.crdependency",
    "programs.bug",
    "programs.standard",
    "programs.standardassignment",
    "programs.charterdoc",
    "roadmap.roadmapitem",
    "roadmap.roadmapdependency",
    "roadmap.roadmapassignment",
    "roadmap.claim",
    "kernel.blocker",
    "kernel.workrequiredcapability",
    "system.terminology",
    "system.instanceconfig",
)

#: Apps whose every model a role may view (the admin's read-only pages).
READABLE_APPS = ("system", "programs", "roadmap", "kernel")

_AGENT_PERMISSIONS = (CLAIM_WORK, ADD_ADHOC_ITEM, HOLD_LEASE, FILE_BUG)

#: Permissions of each role, beyond viewing every table. Each role has the ones before it.
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Role.VIEWER: (),
    Role.AGENT: _AGENT_PERMISSIONS,
    Role.REVIEWER: (*_AGENT_PERMISSIONS, REVIEW_WORK),
    Role.LEAD: (
        *_AGENT_PERMISSIONS,
        REVIEW_WORK,
        RECORD_TEST_RESULT,
        OVERRIDE_STATUS,
        FORCE_RELEASE_LEASE,
        EXPIRE_ATTEMPT,
        *(
            f"{model.split('.')[0]}.{verb}_{model.split('.')[1]}"
            for model in LEAD_EDITED_MODELS
            for verb in ("add", "change")
        ),
    ),
}


# --------------------------------------------------------------------------- the matrix


@dataclass(frozen=True)
class Rule:
    """One row of the README's table: an action and the permission it takes."""

    action: str
    permission: str
    #: Said in the table for a role that lacks the permission but can be given it alone.
    grantable_to: tuple[str, ...] = ()


MATRIX: tuple[Rule, ...] = (
    Rule("read pages and read API", READ),
    Rule("claim ready work; act on own attempts, leases, blockers", CLAIM_WORK),
    Rule(
        "create ADHOC items; edit or delete only own ADHOC items nobody else works on",
        ADD_ADHOC_ITEM,
    ),
    Rule("file bugs", FILE_BUG),
    Rule("bare leases (not on `work_item`), TTL ≤ `MOTUS_MAX_LEASE_TTL_SECONDS`", HOLD_LEASE),
    Rule(
        "record waiver / approval / review decisions (never on own work); resolve others' blockers",
        REVIEW_WORK,
    ),
    Rule(
        "set deploy-gate claims' test status, record deployments",
        RECORD_TEST_RESULT,
        grantable_to=(Role.REVIEWER,),
    ),
    Rule(
        "change any item, phase, dependency; assign others; edit programs, products, "
        "features, releases, CRs, bugs, standards, claims in the admin",
        MANAGE_ROADMAP,
    ),
    Rule("change an item's status directly (reason required, audited)", OVERRIDE_STATUS),
    Rule("force-release leases, expire attempts", FORCE_RELEASE_LEASE),
)


def role_has(role: str, permission: str) -> bool:
    return permission == READ or permission in ROLE_PERMISSIONS[role]


def matrix_table() -> str:
    """The README's role × action table, in Markdown."""
    roles = list(Role)
    lines = [
        "| action | permission | " + " | ".join(role.value for role in roles) + " |",
        "|---|---|" + "---|" * len(roles),
    ]
    for rule in MATRIX:
        cells = []
        for role in roles:
            if role_has(role, rule.permission):
                cells.append("yes")
            elif role in rule.grantable_to:
                cells.append("if granted")
            else:
                cells.append("")
        lines.append(f"| {rule.action} | `{rule.permission}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- checks


def user_can(user, permission: str) -> bool:
    """Whether ``user`` (a Django user, anonymous included) holds ``permission``: Django's
    ``has_perm`` answer, asked of the authentication backends once per user object.

    An active superuser holds every permission, an inactive or anonymous user none,
    anybody else what ``get_all_permissions()`` names (no backend of this project
    overrides ``has_perm``). A request builds its user afresh, so the set is the request's;
    asking every backend again on each check (importing and instantiating each) cost an
    API call more than the check itself."""
    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    held = getattr(user, "_motus_permissions", None)
    if held is None:
        held = user._motus_permissions = frozenset(user.get_all_permissions())
    return permission in held


def hold_permissions(user, names: frozenset[str]) -> None:
    """Give :func:`user_can` (and Django's ``has_perm``, through ModelBackend's cache) the
    user's whole permission set, read by the caller as ModelBackend reads it: the user's
    own permissions and its groups'. Token authentication loads it in its one query, so no
    backend is asked again during the request."""
    user._perm_cache = names
    user._motus_permissions = names


def can(actor, permission: str) -> bool:
    """Whether the caller holds ``permission`` (the ``system`` actor holds them all)."""
    user = getattr(actor, "user", None)
    if user is None:
        return getattr(actor, "identity", None) == "system"
    return user_can(user, permission)


def require(actor, permission: str, message: str) -> None:
    """:class:`Forbidden` (403) with ``message`` unless the caller holds ``permission``."""
    if not can(actor, permission):
        raise Forbidden(message, details={"required_permission": permission})


def require_item_editor(actor, *, item_id: str, created_by: str | None, worked_by) -> None:
    """Changing or deleting an item: leads may; others only their own ad-hoc item that
    nobody else works on (``worked_by``: the identities of its active attempts/leases)."""
    if can(actor, MANAGE_ROADMAP):
        return
    require(actor, ADD_ADHOC_ITEM, f"You may not change roadmap item {item_id}.")
    if created_by != actor.identity:
        raise Forbidden(
            f"Item {item_id} was created by {created_by or 'someone else'}; only a lead may "
            "change it.",
            details={"required_permission": MANAGE_ROADMAP},
        )
    others = sorted({who for who in worked_by if who and who != actor.identity})
    if others:
        raise Forbidden(
            f"Item {item_id} is being worked on by {', '.join(others)}; only a lead may "
            "change it now.",
            details={"required_permission": MANAGE_ROADMAP, "worked_by": others},
        )


def require_decision_authority(actor, decision_type: str, *, implementer: str | None) -> None:
    """Governance decisions take :data:`REVIEW_WORK`, and nobody reviews or waives their
    own work (``implementer``: who did the work the decision is about, if anyone)."""
    if decision_type not in GOVERNANCE_DECISIONS:
        return
    require(
        actor,
        REVIEW_WORK,
        f"A {decision_type} decision needs the reviewer role ({REVIEW_WORK}).",
    )
    if implementer and implementer == actor.identity:
        raise Forbidden(
            f"You cannot record a {decision_type} decision on your own work.",
            code="own_work",
        )


def require_blocker_resolver(actor, *, blocker_id: str, raised_by: str, attempt_worker) -> None:
    """One's own blocker (raised by, or on the attempt of, the caller) needs
    :data:`CLAIM_WORK`; anybody else's needs :data:`REVIEW_WORK`."""
    if actor.identity in (raised_by, attempt_worker):
        require(actor, CLAIM_WORK, "You may not resolve blockers.")
        return
    require(
        actor,
        REVIEW_WORK,
        f"Blocker {blocker_id} was raised by {raised_by}; resolving someone else's blocker "
        "needs the reviewer role.",
    )


def acting_identity(identity: str, *, field: str, permission: str | None = None) -> Actor:
    """The caller named by ``identity``, which must be an active account of that kind
    (``agent:NAME`` an agent, ``user:NAME`` a person) and, if ``permission`` is given, hold
    it: a handoff or assignment to anybody else would create work nobody can act on."""
    user = user_of(identity)
    if user is None:
        raise Invalid(
            "Unknown identity.",
            details={
                "fields": {
                    field: [
                        f"No active account {identity!r}: use agent:NAME for an agent, "
                        "user:NAME for a person."
                    ]
                }
            },
        )
    if permission and not user_can(user, permission):
        raise Invalid(
            "That identity cannot act here.",
            details={"fields": {field: [f"{identity} lacks the permission {permission}."]}},
        )
    return Actor.of(user)


# --------------------------------------------------------------------------- role groups

#: Tables nobody but a superuser sees in the admin, whatever their role.
PRIVATE_MODELS = ("system.apitoken",)


def role_permission_names(role: str, available) -> set[str]:
    """``app_label.codename`` of every permission ``role`` holds, out of ``available``:
    viewing every table of the project's apps, plus :data:`ROLE_PERMISSIONS`."""
    private = {f"{m.split('.')[0]}.view_{m.split('.')[1]}" for m in PRIVATE_MODELS}
    viewing = {
        name
        for name in available
        if name.split(".", 1)[1].startswith("view_") and name not in private
    }
    return viewing | set(ROLE_PERMISSIONS[role])


def sync_role_groups(apps=None, *, strict: bool = True) -> None:
    """Create the four role groups and give each its permissions (adds, never removes: a
    lead's extra grants in the admin stay). ``strict``: a permission named by this module
    that does not exist is an error (the data migration); after ``flush`` it is skipped."""
    if apps is None:
        from django.apps import apps
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    by_name = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in permission_model.objects.select_related("content_type").filter(
            content_type__app_label__in=READABLE_APPS
        )
    }
    for role in Role:
        wanted = role_permission_names(role, by_name)
        missing = sorted(wanted - set(by_name))
        if missing and strict:
            raise LookupError(f"Permissions of role {role} missing: {', '.join(missing)}")
        group, _ = group_model.objects.get_or_create(name=group_name(role))
        group.permissions.add(*(by_name[name] for name in wanted if name in by_name))
