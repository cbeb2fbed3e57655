"""The admin, driven like a lead would: real logins, real GETs and POSTs, a real SQLite file
with the contract's triggers. Forms are submitted with the values the page renders."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from admin_forms import (
    action,
    add_inline_row,
    add_url,
    change_url,
    changelist_url,
    submit,
)
from backends import POSTGRESQL
from django.contrib import admin as django_admin
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kernel.models import Blocker, Decision, WorkRequiredCapability
from programs.models import (
    Bug,
    ChangeRequest,
    CharterDoc,
    CrDependency,
    EntityVersion,
    Feature,
    Product,
    Program,
    Release,
)
from roadmap.models import Claim, RoadmapAssignment, RoadmapDependency, RoadmapItem
from system import policy
from system.admin_base import DateTextField
from system.models import ApiToken, AuditLog, Terminology

PASSWORD = "correct horse battery staple"
PAST = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.UTC)


@pytest.fixture
def lead(db, client, django_user_model, settings):
    """The test client, logged in as a superuser named ``lead``."""
    # A fast hasher: the default one spends a deliberate half-second per hash.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    django_user_model.objects.create_superuser("lead", "lead@example.com", PASSWORD)
    assert client.login(username="lead", password=PASSWORD)
    return client


# Rows are created as last updated in the past: an update in the same second as the
# previous one leaves updated_at unchanged, and then no version is recorded (RULES.md 1.8).


def item(pk, phase="phase_a", status="pending") -> RoadmapItem:
    return RoadmapItem.objects.create(
        id=pk, phase_key=phase, title=f"Item {pk}", status_key=status, updated_at=PAST
    )


def product_tree():
    program = Program.objects.create(id="P1", name="Motus", updated_at=PAST)
    product = Product.objects.create(id="PR1", program=program, name="Kernel", updated_at=PAST)
    feature = Feature.objects.create(id="F1", product=product, name="Leases", updated_at=PAST)
    return program, product, feature


# --------------------------------------------------------------------------- every page


def registered_models():
    return sorted(django_admin.site._registry, key=lambda m: m._meta.label)


@pytest.mark.parametrize("model", registered_models(), ids=lambda m: m._meta.label)
def test_every_changelist_and_add_page_renders(lead, model):
    listing = lead.get(changelist_url(model))
    assert listing.status_code == 200
    assert listing.context["cl"].model is model
    model_admin = django_admin.site._registry[model]
    request = listing.wsgi_request
    expected_add = 200 if model_admin.has_add_permission(request) else 403
    assert lead.get(add_url(model)).status_code == expected_add


def test_composite_key_models_cannot_be_registered_and_are_edited_through_their_parent():
    assert CrDependency not in django_admin.site._registry
    assert RoadmapDependency not in django_admin.site._registry
    with pytest.raises(ImproperlyConfigured, match="composite primary key"):
        django_admin.site.register(CrDependency)


# --------------------------------------------------------------------------- query counts


def fill_programs(start, stop):
    Program.objects.bulk_create(
        Program(id=f"P{i:04}", name=f"Program {i}") for i in range(start, stop)
    )


def _products():
    program, _ = Program.objects.get_or_create(id="PX", defaults={"name": "Parent"})
    return [
        Product.objects.get_or_create(id=f"PX{i}", defaults={"program": program, "name": f"Px{i}"})[
            0
        ]
        for i in range(5)
    ]


def fill_products(start, stop):
    program, _ = Program.objects.get_or_create(id="PX", defaults={"name": "Parent"})
    Product.objects.bulk_create(
        Product(id=f"PR{i:04}", program=program, name=f"Product {i}") for i in range(start, stop)
    )


def fill_features(start, stop):
    products = _products()
    Feature.objects.bulk_create(
        Feature(id=f"F{i:04}", product=products[i % 5], name=f"Feature {i}")
        for i in range(start, stop)
    )


def fill_change_requests(start, stop):
    products = _products()
    ChangeRequest.objects.bulk_create(
        ChangeRequest(id=f"CR{i:04}", title=f"Change {i}", product=products[i % 5])
        for i in range(start, stop)
    )


def fill_bugs(start, stop):
    products = _products()
    features = [
        Feature.objects.get_or_create(id=f"FX{i}", defaults={"product": products[i], "name": "F"})[
            0
        ]
        for i in range(5)
    ]
    fix = ChangeRequest.objects.get_or_create(id="CRX", defaults={"title": "Fix"})[0]
    Bug.objects.bulk_create(
        Bug(
            id=f"B{i:04}",
            title=f"Bug {i}",
            feature=features[i % 5],
            feature_version="1.0",
            fix_cr=fix,
        )
        for i in range(start, stop)
    )


def fill_roadmap_items(start, stop):
    # Completed items do not count against the 50-per-phase limit.
    RoadmapItem.objects.bulk_create(
        RoadmapItem(id=f"R{i:04}", phase_key="phase_a", title=f"Item {i}", status_key="completed")
        for i in range(start, stop)
    )


def fill_assignments(start, stop):
    fill_roadmap_items(start, stop)
    RoadmapAssignment.objects.bulk_create(
        RoadmapAssignment(item_id=f"R{i:04}", agent_id=f"agent-{i % 7}") for i in range(start, stop)
    )


def fill_compliance_results(start, stop):
    from programs.models import ComplianceResult, Standard

    products = _products()
    standard = Standard.objects.get_or_create(
        id="S1",
        defaults={
            "name": "Tests",
            "level_key": "product",
            "check_type_key": "boolean",
            "failure_message": "failing",
        },
    )[0]
    release = Release.objects.get_or_create(
        id="REL1", defaults={"product": products[0], "name": "1.0"}
    )[0]
    ComplianceResult.objects.bulk_create(
        ComplianceResult(
            standard=standard,
            release=release,
            entity_type="release",
            entity_id="REL1",
            result="pass",
            checked_by="ci",
        )
        for _ in range(start, stop)
    )


def fill_blockers(start, stop):
    fill_roadmap_items(start, stop)
    Blocker.objects.bulk_create(
        Blocker(
            id=f"BL{i:04}",
            work_id=f"R{i:04}",
            reason_code="other",
            title="Waiting",
            created_by="agent:a",
        )
        for i in range(start, stop)
    )


def fill_audit_log(start, stop):
    AuditLog.objects.bulk_create(
        AuditLog(event_type="test", actor="system", action="create", instance_id="x")
        for _ in range(start, stop)
    )


CHANGELISTS = {
    "programs.Program": (Program, fill_programs),
    "programs.Product": (Product, fill_products),
    "programs.Feature": (Feature, fill_features),
    "programs.ChangeRequest": (ChangeRequest, fill_change_requests),
    "programs.Bug": (Bug, fill_bugs),
    "programs.ComplianceResult": ("programs.ComplianceResult", fill_compliance_results),
    "roadmap.RoadmapItem": (RoadmapItem, fill_roadmap_items),
    "roadmap.RoadmapAssignment": ("roadmap.RoadmapAssignment", fill_assignments),
    "kernel.Blocker": (Blocker, fill_blockers),
    "system.AuditLog": (AuditLog, fill_audit_log),
}


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response


@pytest.mark.parametrize("label", CHANGELISTS)
def test_changelist_costs_as_many_queries_for_1000_rows_as_for_10(lead, label):
    from django.apps import apps

    model, fill = CHANGELISTS[label]
    model = apps.get_model(model) if isinstance(model, str) else model
    url = (
        changelist_url(model) + "?deleted=all"
        if hasattr(model, "deleted_at")
        else (changelist_url(model))
    )
    baseline = model.objects.count()
    fill(0, 10)
    lead.get(url)  # warm per-process caches (content types, sessions)
    few, response = count_queries(lead, url)
    assert response.context["cl"].result_count == baseline + 10
    fill(10, 1000)
    many, response = count_queries(lead, url)
    assert response.context["cl"].result_count == baseline + 1000
    assert len(response.context["cl"].result_list) == 50
    assert many == few


# --------------------------------------------------------------------------- terminology


def test_terminology_columns_are_drop_downs_of_live_display_names(lead):
    page = lead.get(add_url(ChangeRequest))
    status = page.context["adminform"].form.fields["status_key"]
    assert list(status.choices) == [
        ("queue", "Queue"),
        ("in_progress", "In Progress"),
        ("review", "Review"),
        ("done", "Done"),
    ]
    assert page.context["adminform"].form["status_key"].value() == "queue"  # the default
    item_type = lead.get(add_url(RoadmapItem)).context["adminform"].form.fields["item_type"]
    assert ("gate", "Gate") in list(item_type.choices)


def test_renaming_a_display_name_shows_everywhere(lead):
    ChangeRequest.objects.create(id="CR1", title="Sync faster")
    queue = Terminology.objects.get(domain="cr_status", internal_key="queue")
    response = submit(lead, change_url(Terminology, queue.pk), display_name="Backlog")
    assert response.status_code == 302
    assert Terminology.objects.get(pk=queue.pk).updated_by == "user:lead"

    listing = lead.get(changelist_url(ChangeRequest)).content.decode()
    assert '<td class="field-status_key_display">Backlog</td>' in listing
    assert "?status_key=queue" in listing and ">Backlog</a>" in listing  # the filter
    options = lead.get(add_url(ChangeRequest)).context["adminform"].form.fields["status_key"]
    assert ("queue", "Backlog") in list(options.choices)


def test_display_name_columns_sort_and_filter_by_display_name(lead):
    ChangeRequest.objects.create(id="CR1", title="Being built", status_key="in_progress")
    ChangeRequest.objects.create(id="CR2", title="Being read", status_key="review")
    Terminology.objects.filter(domain="cr_status", internal_key="review").update(
        display_name="Awaiting review"
    )
    listing = lead.get(changelist_url(ChangeRequest))
    columns = [getattr(column, "__name__", column) for column in listing.context["cl"].list_display]
    position = columns.index("status_key_display")
    by_status = lead.get(changelist_url(ChangeRequest), {"o": str(position)})
    # "Awaiting review" sorts before "In Progress", although "review" > "in_progress".
    assert [cr.pk for cr in by_status.context["cl"].result_list] == ["CR2", "CR1"]

    filtered = lead.get(changelist_url(ChangeRequest), {"status_key": "review"})
    assert [cr.pk for cr in filtered.context["cl"].result_list] == ["CR2"]
    status_filter = next(
        spec for spec in filtered.context["cl"].filter_specs if spec.parameter_name == "status_key"
    )
    assert ("review", "Awaiting review") in status_filter.lookup_choices


def test_a_deprecated_key_is_not_offered_but_a_row_keeps_it(lead):
    Terminology.objects.filter(domain="cr_type", internal_key="spec").update(deprecated_at=PAST)
    ChangeRequest.objects.create(id="CR1", title="Spec it", type_key="spec")
    new_choices = lead.get(add_url(ChangeRequest)).context["adminform"].form.fields["type_key"]
    assert "spec" not in dict(new_choices.choices)
    page = lead.get(change_url(ChangeRequest, "CR1"))
    assert dict(page.context["adminform"].form.fields["type_key"].choices)["spec"] == (
        "Spec (deprecated)"
    )
    assert submit(lead, change_url(ChangeRequest, "CR1"), title="Spec it now").status_code == 302
    assert ChangeRequest.objects.get(pk="CR1").type_key == "spec"


def test_a_key_outside_the_domain_is_refused(lead):
    response = submit(lead, add_url(ChangeRequest), id="CR9", title="Odd", status_key="shipped")
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not ChangeRequest.objects.filter(pk="CR9").exists()


# --------------------------------------------------------------------------- soft delete


def test_soft_delete_records_who_and_why_and_restore_undoes_it(lead):
    term = Terminology.objects.create(domain="cr_type", internal_key="docs", display_name="Docs")
    response = action(
        lead,
        Terminology,
        "soft_delete_selected",
        [term.pk],
        deletion_reason="duplicate of chore",
        post="yes",  # the confirmation page's answer
    )
    assert response.status_code == 302
    term.refresh_from_db()
    assert term.deleted_at is not None
    assert (term.deleted_by, term.deletion_reason) == ("user:lead", "duplicate of chore")

    live = lead.get(changelist_url(Terminology) + "?q=docs")
    assert term not in live.context["cl"].result_list
    deleted = lead.get(changelist_url(Terminology) + "?q=docs&deleted=only")
    assert list(deleted.context["cl"].result_list) == [term]
    # A soft-deleted entry is no longer offered.
    choices = lead.get(add_url(ChangeRequest)).context["adminform"].form.fields["type_key"]
    assert "docs" not in dict(choices.choices)

    restored = action(lead, Terminology, "restore_selected", [term.pk], query="?deleted=only")
    assert restored.status_code == 302
    term.refresh_from_db()
    assert (term.deleted_at, term.deleted_by, term.deletion_reason) == (None, None, None)


def test_soft_delete_keeps_the_row_and_hard_delete_is_not_offered(lead):
    ChangeRequest.objects.create(id="CR1", title="Keep me")
    page = lead.get(changelist_url(ChangeRequest))
    actions = dict(page.context["action_form"].fields["action"].choices)
    assert "delete_selected" not in actions and "soft_delete_selected" in actions
    assert not django_admin.site._registry[ChangeRequest].has_delete_permission(page.wsgi_request)
    # Django's delete URL is the soft-delete confirmation, not Django's hard delete.
    confirm = lead.get(reverse("admin:programs_changerequest_delete", args=["CR1"]))
    assert confirm.templates[0].name == "admin/soft_delete_confirmation.html"

    response = action(
        lead, ChangeRequest, "soft_delete_selected", ["CR1"], deletion_reason="dup", post="yes"
    )
    assert response.status_code == 302
    cr = ChangeRequest.objects.get(pk="CR1")
    assert cr.deleted_at is not None
    assert lead.get(changelist_url(ChangeRequest)).context["cl"].result_count == 0
    assert lead.get(change_url(ChangeRequest, "CR1")).status_code == 200


def test_autocomplete_offers_live_parents_only(lead):
    program, product, _ = product_tree()
    Product.objects.create(id="PR2", program=program, name="Kernel legacy")
    Product.objects.filter(pk="PR2").soft_delete(by="user:lead")
    response = lead.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "programs",
            "model_name": "feature",
            "field_name": "product",
            "term": "Kernel",
        },
    )
    assert [row["id"] for row in response.json()["results"]] == ["PR1"]
    assert response.json()["results"][0]["text"] == "PR1 · Kernel"


# --------------------------------------------------------------------------- read-only tables

APPEND_ONLY = [
    "system.AuditLog",
    "kernel.Decision",
    "kernel.Evidence",
    "kernel.KernelDecision",
    "kernel.KernelEvidence",
    "kernel.KernelOutcome",
    "programs.ComplianceResult",
    "programs.EntityVersion",
    "kernel.CompiledContract",
]


@pytest.mark.parametrize("label", APPEND_ONLY)
def test_append_only_tables_cannot_be_added_changed_or_deleted(lead, label):
    from django.apps import apps

    model = apps.get_model(label)
    listing = lead.get(changelist_url(model))
    assert listing.status_code == 200
    assert listing.context["has_add_permission"] is False
    assert lead.get(add_url(model)).status_code == 403
    model_admin = django_admin.site._registry[model]
    request = listing.wsgi_request
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert model_admin.get_actions(request) == {}


def test_an_append_only_row_is_shown_but_a_post_is_refused(lead):
    version = EntityVersion.objects.create(
        entity_type="cr", entity_id="CR1", version=1, data="{}", changed_by="system"
    )
    page = lead.get(change_url(EntityVersion, version.pk))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert lead.post(change_url(EntityVersion, version.pk), {"changed_by": "me"}).status_code == (
        403
    )
    version.refresh_from_db()
    assert version.changed_by == "system"


# --------------------------------------------------------------------------- saving


def test_saving_an_unchanged_form_writes_nothing(lead):
    ChangeRequest.objects.create(id="CR1", title="Old", updated_at=PAST)
    assert submit(lead, change_url(ChangeRequest, "CR1")).status_code == 302
    # No UPDATE: updated_at is untouched, so the version trigger recorded nothing.
    assert ChangeRequest.objects.get(pk="CR1").updated_at == PAST
    assert not EntityVersion.objects.filter(entity_id="CR1").exists()


def test_activating_a_charter_doc_deactivates_the_active_one_of_its_type(lead):
    CharterDoc.objects.create(
        id="E1", doc_type_key="ethos", version="1", title="Ethos 1", content_hash="a"
    )
    CharterDoc.objects.create(
        id="E2",
        doc_type_key="ethos",
        version="2",
        title="Ethos 2",
        content_hash="b",
        is_active=False,
    )
    response = submit(lead, change_url(CharterDoc, "E2"), is_active="on")
    assert response.status_code == 302
    assert dict(CharterDoc.objects.values_list("id", "is_active")) == {"E1": False, "E2": True}

    response = submit(
        lead,
        add_url(CharterDoc),
        id="E3",
        doc_type_key="ethos",
        version="3",
        title="Ethos 3",
        content_hash="c",
        is_active="on",
    )
    assert response.status_code == 302
    assert dict(CharterDoc.objects.values_list("id", "is_active")) == {
        "E1": False,
        "E2": False,
        "E3": True,
    }


def test_products_are_edited_inline_under_their_program_but_keep_their_key(lead):
    program, product, _ = product_tree()
    url = change_url(Program, "P1")
    assert submit(lead, url, **{"products-0-name": "Kernel v2"}).status_code == 302
    assert list(Product.objects.values_list("id", "name")) == [("PR1", "Kernel v2")]

    page = lead.get(url).content.decode()
    assert 'name="products-0-id" value="PR1" class="vTextField" readonly' in page
    # A key changed anyway (the field is read-only) matches no row: nothing is renamed/added.
    assert submit(lead, url, **{"products-0-id": "PR9"}).status_code == 302
    assert list(Product.objects.values_list("id", flat=True)) == ["PR1"]


def test_a_restore_the_database_refuses_is_reported_and_changes_nothing(lead):
    CharterDoc.objects.create(
        id="E1", doc_type_key="ethos", version="1", title="Ethos 1", content_hash="a"
    )
    CharterDoc.objects.filter(pk="E1").soft_delete(by="user:lead")
    CharterDoc.objects.create(
        id="E2", doc_type_key="ethos", version="2", title="Ethos 2", content_hash="b"
    )
    response = action(lead, CharterDoc, "restore_selected", ["E1"], query="?deleted=only")
    assert response.status_code == 302
    page = lead.get(response.url)
    # The database's own words for the key failure (idx_charter_singleton).
    refused = (
        "Duplicate key value violates unique constraint &quot;idx_charter_singleton&quot;"
        if POSTGRESQL
        else "UNIQUE constraint failed: charter_docs.doc_type_key"
    )
    assert refused in page.content.decode()
    assert CharterDoc.objects.get(pk="E1").deleted_at is not None


def test_a_release_shows_its_compliance_results_read_only(lead):
    fill_compliance_results(0, 2)
    page = lead.get(change_url(Release, "REL1"))
    html = page.content.decode()
    group = html[html.index('id="compliance_results-group"') :]
    assert group.count("<p>Pass</p>") == 2 and "S1 · Tests" in group
    assert 'name="compliance_results-0-result"' not in group  # shown, not editable
    assert 'name="compliance_results-MAX_NUM_FORMS" value="0"' in group  # nothing to add


def test_cr_dependencies_are_added_changed_and_removed_through_the_cr(lead):
    for pk in ("X", "Y"):
        ChangeRequest.objects.create(id=pk, title=f"CR {pk}")
    url = change_url(ChangeRequest, "X")
    changes = add_inline_row({}, "dependencies", 0, depends_on="Y", dependency_type="blocks")
    assert submit(lead, url, **changes).status_code == 302
    assert list(CrDependency.objects.values_list("cr_id", "depends_on_id", "dependency_type")) == [
        ("X", "Y", "blocks")
    ]

    assert submit(lead, url, **{"dependencies-0-dependency_type": "related"}).status_code == 302
    assert CrDependency.objects.get().dependency_type == "related"

    assert submit(lead, url, **{"dependencies-0-DELETE": "on"}).status_code == 302
    assert not CrDependency.objects.exists()
    assert ChangeRequest.objects.filter(pk="Y").exists()


def test_required_capabilities_are_edited_on_the_work_items_page(lead):
    item("W")
    url = change_url(RoadmapItem, "W")
    changes = add_inline_row(
        {}, "work_required_capabilities", 0, capability_id="gpu", required_by="agent:planner"
    )
    assert submit(lead, url, **changes).status_code == 302
    assert list(WorkRequiredCapability.objects.values_list("work_id", "capability_id")) == [
        ("W", "gpu")
    ]
    changes = {"work_required_capabilities-0-required_by": "user:lead"}
    assert submit(lead, url, **changes).status_code == 302
    assert WorkRequiredCapability.objects.get().required_by == "user:lead"
    assert submit(lead, url, **{"work_required_capabilities-0-DELETE": "on"}).status_code == 302
    assert not WorkRequiredCapability.objects.exists()


def test_roadmap_item_inlines_record_the_acting_user(lead, django_user_model):
    # An assignee must be a known account able to do the role (services.create_assignment).
    agent = django_user_model.objects.create_user("agent-7")
    for group in ("agents", policy.group_name(policy.Role.AGENT)):
        agent.groups.add(Group.objects.get_or_create(name=group)[0])
    item("A")
    item("B")
    changes = add_inline_row({}, "dependencies", 0, depends_on="A", dependency_type="soft")
    add_inline_row(
        changes,
        "roadmap_assignments",
        0,
        agent_id="agent:agent-7",
        role="implementer",
        status="assigned",
    )
    assert submit(lead, change_url(RoadmapItem, "B"), **changes).status_code == 302
    assert RoadmapDependency.objects.get().created_by == "user:lead"
    assignment = RoadmapItem.objects.get(pk="B").roadmap_assignments.get()
    assert (assignment.agent_id, assignment.assigned_by) == ("agent:agent-7", "user:lead")
    actors = set(
        AuditLog.objects.filter(resource_type="roadmap_dependency").values_list("actor", flat=True)
    )
    assert actors == {"user:lead"}


# --------------------------------------------------------------------------- history

HISTORY_CASES = {
    "cr": (
        ChangeRequest,
        lambda: ChangeRequest.objects.create(id="CR1", title="Sync", updated_at=PAST),
        {
            "title": "Sync",
            "status_key": "queue",
            "type_key": "enhancement",
            "size": "M",
            "owner": None,
            "product_id": None,
            "feature_id": None,
            "target_version": None,
        },
        {"status_key": "in_progress"},
        "Status</strong>:\n            Queue → In Progress",
    ),
    "product": (
        Product,
        lambda: product_tree()[1],
        {"name": "Kernel", "status_key": "active", "version": "0.0.0", "program_id": "P1"},
        {"version": "1.2.0"},
        "Version</strong>:\n            0.0.0 → 1.2.0",
    ),
    "feature": (
        Feature,
        lambda: product_tree()[2],
        {"name": "Leases", "status_key": "planned", "version": None, "product_id": "PR1"},
        {"status_key": "beta"},
        "Status</strong>:\n            Planned → Beta",
    ),
    "bug": (
        Bug,
        lambda: Bug.objects.create(
            id="B1",
            title="Crash",
            feature=product_tree()[2],
            feature_version="1.0",
            updated_at=PAST,
        ),
        {
            "title": "Crash",
            "status_key": "open",
            "severity_key": "medium",
            "feature_id": "F1",
            "feature_version": "1.0",
            "fix_cr_id": None,
        },
        {"severity_key": "critical"},
        "Severity</strong>:\n            Medium → Critical",
    ),
    "roadmap_item": (
        RoadmapItem,
        lambda: item("R1"),
        {
            "title": "Item R1",
            "phase_key": "phase_a",
            "status_key": "pending",
            "owner": None,
            "target_date": None,
        },
        {"title": "Item R1, renamed"},
        "Title</strong>:\n            Item R1 → Item R1, renamed",
    ),
}


@pytest.mark.parametrize("entity_type", HISTORY_CASES)
def test_change_page_shows_the_version_timeline_with_what_changed(lead, entity_type):
    model, create, first_snapshot, change, expected = HISTORY_CASES[entity_type]
    row = create()
    # Version 1 as the trigger would have written it after an earlier update.
    EntityVersion.objects.create(
        entity_type=entity_type,
        entity_id=row.pk,
        version=1,
        data=json.dumps(first_snapshot),
        changed_by="system",
    )
    assert submit(lead, change_url(model, row.pk), **change).status_code == 302
    versions = EntityVersion.objects.filter(entity_type=entity_type, entity_id=row.pk)
    assert versions.count() == 2  # the trigger wrote version 2

    page = lead.get(change_url(model, row.pk)).content.decode()
    timeline = page[page.index('class="version-history"') :]
    assert expected in timeline
    assert timeline.index("<td>2</td>") < timeline.index("<td>1</td>")  # newest first
    assert "First recorded state" in timeline


# --------------------------------------------------------------------------- database refusals


def assert_refused(response, message):
    assert response.status_code == 200
    content = response.content.decode()
    assert message in content
    assert "errornote" in content


def test_starting_an_item_with_open_blocking_dependencies_is_a_form_error(lead):
    item("A")
    item("B")
    RoadmapDependency.objects.create(item_id="B", depends_on_id="A", dependency_type="blocks")
    response = submit(
        lead,
        change_url(RoadmapItem, "B"),
        status_key="in_progress",
        title="Started B",
        reason="Started by hand",  # a status change is a lead's override, with a reason
    )
    assert_refused(response, "Cannot start: blocking dependencies not complete")
    # The error names the unfinished prerequisite, linked to its page, as the API does.
    assert response.context["adminform"].form.non_field_errors() == [
        "Cannot start: blocking dependencies not complete",
        f'Unfinished blocking prerequisites: <a href="{change_url(RoadmapItem, "A")}">A</a> '
        "Item A (Pending).",
    ]
    assert f'<a href="{change_url(RoadmapItem, "A")}">A</a> Item A' in response.content.decode()
    b = RoadmapItem.objects.get(pk="B")
    assert (b.status_key, b.title) == ("pending", "Item B")
    assert not EntityVersion.objects.filter(entity_id="B").exists()
    # The user's input is kept for correction.
    assert response.context["adminform"].form["title"].value() == "Started B"


def test_a_dependency_cycle_added_inline_is_a_form_error_and_nothing_is_saved(lead):
    item("A")
    item("B")
    RoadmapDependency.objects.create(item_id="A", depends_on_id="B")
    changes = add_inline_row(
        {"title": "B renamed"}, "dependencies", 0, depends_on="A", dependency_type="blocks"
    )
    response = submit(lead, change_url(RoadmapItem, "B"), **changes)
    assert_refused(response, "Circular dependency detected")
    assert RoadmapItem.objects.get(pk="B").title == "Item B"
    assert list(RoadmapDependency.objects.values_list("item_id", "depends_on_id")) == [("A", "B")]


def test_changing_a_completed_items_status_is_a_form_error(lead):
    item("C", status="completed")
    response = submit(lead, change_url(RoadmapItem, "C"), status_key="pending", reason="Reopen")
    assert_refused(response, "POLICY: Completed items cannot be modified")
    assert RoadmapItem.objects.get(pk="C").status_key == "completed"


def test_adding_an_item_to_a_full_phase_is_a_form_error(lead):
    RoadmapItem.objects.bulk_create(
        RoadmapItem(id=f"F{i:02}", phase_key="phase_b", title=f"Full {i}") for i in range(50)
    )
    response = submit(
        lead, add_url(RoadmapItem), id="F50", title="One too many", phase_key="phase_b"
    )
    assert_refused(response, "POLICY: Maximum 50 active items per phase")
    assert RoadmapItem.objects.filter(phase_key="phase_b").count() == 50


def resolution(when: dt.datetime, text: str) -> dict:
    return {
        "resolved_at_0": when.strftime("%Y-%m-%d"),
        "resolved_at_1": when.strftime("%H:%M:%S"),
        "resolution": text,
    }


def test_a_check_constraint_failure_is_a_form_error(lead):
    response = submit(
        lead,
        add_url(Claim),
        id="C1",
        claim_text="Twice as fast",
        page="/",
        claim_type="quantitative",
        test_function="",
    )
    assert_refused(response, "claims_claim_type_test_function_check")
    assert not Claim.objects.exists()
    # An emptied optional column is stored as NULL, not '' (the CHECK tests for NULL).
    response = submit(
        lead,
        add_url(Claim),
        id="C1",
        claim_text="Feels fast",
        page="/",
        claim_type="qualitative",
        test_function="",
    )
    assert response.status_code == 302
    assert Claim.objects.get(pk="C1").test_function is None


def test_resolving_a_blocker_without_evidence_or_waiver_is_a_form_error(lead):
    item("W")
    Blocker.objects.create(
        id="BL1",
        work_id="W",
        reason_code="missing_info",
        title="Need spec",
        created_by="agent:a",
        created_at=PAST,
    )
    now = dt.datetime.now(dt.UTC)
    response = submit(lead, change_url(Blocker, "BL1"), **resolution(now, "Asked around"))
    assert_refused(response, "KERNEL: Blocker resolution requires evidence or waiver decision")
    blocker = Blocker.objects.get(pk="BL1")
    assert (blocker.resolved_at, blocker.resolution) == (None, None)


def test_a_blocker_resolved_with_a_waiver_is_frozen_but_stays_editable(lead):
    item("W")
    Blocker.objects.create(
        id="BL1",
        work_id="W",
        reason_code="missing_info",
        title="Need spec",
        created_by="agent:a",
        created_at=PAST,
    )
    Decision.objects.create(id="D1", work_id="W", decision_type="waiver", decided_by="user:lead")
    now = dt.datetime.now(dt.UTC)
    assert submit(lead, change_url(Blocker, "BL1"), **resolution(now, "Waived")).status_code == (
        302
    )
    blocker = Blocker.objects.get(pk="BL1")
    assert (blocker.resolution, blocker.resolved_by) == ("Waived", "user:lead")

    page = lead.get(change_url(Blocker, "BL1"))
    assert "resolution" not in page.context["adminform"].form.fields
    # Editing another column does not rewrite the frozen resolution (the trigger would refuse).
    assert submit(lead, change_url(Blocker, "BL1"), title="Need spec v2").status_code == 302
    assert Blocker.objects.get(pk="BL1").title == "Need spec v2"


# --------------------------------------------------------------------------- API tokens


def test_api_tokens_are_listed_and_revoked_never_shown_or_edited(lead, django_user_model):
    agent = django_user_model.objects.create_user("agent-1")
    token, raw_key = ApiToken.issue(agent, name="ci")
    listing = lead.get(changelist_url(ApiToken))
    assert raw_key not in listing.content.decode()
    assert token.key_digest not in lead.get(change_url(ApiToken, token.pk)).content.decode()
    assert lead.get(add_url(ApiToken)).status_code == 403

    assert action(lead, ApiToken, "revoke_selected", [token.pk]).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


# --------------------------------------------------------------------------- the lead's admin

SECTION_ORDER = ["Roadmap", "Programs", "Governance logs", "System"]


def index_sections(client) -> dict[str, list[str]]:
    """Section name → the table names it lists, as the index shows them."""
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    return {
        app["name"]: [model["name"] for model in app["models"]] for app in index.context["app_list"]
    }


def test_the_index_is_motus_grouped_by_what_a_lead_does_daily_tables_first(lead):
    page = lead.get(reverse("admin:index"))
    html = page.content.decode()
    assert "<title>Roadmap, programs and logs | Motus</title>" in html
    assert '<div id="site-name"><a href="/admin/">Motus</a></div>' in html
    assert "Django administration" not in html

    sections = index_sections(lead)
    assert list(sections) == SECTION_ORDER
    assert sections["Roadmap"][:4] == [
        "Roadmap items",
        "Blockers",
        "Assignments",
        "Website claims (deploy gate)",
    ]
    assert sections["Programs"] == [
        "Programs",
        "Products",
        "Features",
        "Releases",
        "Change requests",
        "Bugs",
        "Standards",
        "Charter documents",
    ]
    governance = sections["Governance logs"]
    assert governance[:3] == [
        "Audit log",
        "Work decisions (reviews, waivers, plans)",
        "Work evidence",
    ]
    # The kernel's legacy logs, last and said to be legacy.
    assert governance[-3:] == [
        "Legacy kernel decision log",
        "Legacy kernel evidence log",
        "Legacy kernel outcome log",
    ]
    assert sections["System"][:5] == [
        "Users",
        "Groups and roles",
        "API tokens",
        "Terminology",
        "Instance settings",
    ]

    # Every registered table once, no two names a reader could mix up.
    names = [name for tables in sections.values() for name in tables]
    assert len(names) == len(django_admin.site._registry)
    assert len({name.lower() for name in names}) == len(names)
    # ("Decisions" beside "Kernel decisions" was: the same name with a word in front.)
    words = [name.lower().split() for name in names]
    assert not [(a, b) for a in words for b in words if len(b) > 1 and b[1:] == a]


def test_each_section_has_its_own_page_and_an_apps_page_keeps_the_sections(lead):
    index = lead.get(reverse("admin:index"))
    for section in index.context["app_list"]:
        page = lead.get(section["app_url"])
        assert page.status_code == 200, section["name"]
        assert [app["name"] for app in page.context["app_list"]] == [section["name"]]
        assert f"<h1>{section['name']}</h1>" in page.content.decode()
    assert lead.get(reverse("admin:section", args=["nothing-here"])).status_code == 404

    kernel = lead.get(reverse("admin:app_list", args=["kernel"]))
    assert kernel.context["title"] == "Kernel tables"
    tables = {app["name"]: [m["name"] for m in app["models"]] for app in kernel.context["app_list"]}
    assert tables["Roadmap"] == ["Blockers", "Work attempts", "Leases"]
    assert "Legacy kernel decision log" in tables["Governance logs"]


def test_lists_and_breadcrumbs_name_tables_as_the_index_does(lead):
    from system.models import ApiToken as Token

    listing = lead.get(changelist_url(Token)).content.decode()
    assert "<h1>API tokens</h1>" in listing
    assert '&rsaquo; <a href="/admin/sections/system/">System</a>\n&rsaquo; API tokens' in listing
    item("R1")
    page = lead.get(change_url(RoadmapItem, "R1")).content.decode()
    assert '<a href="/admin/sections/roadmap/">Roadmap</a>' in page
    assert f'<a href="{changelist_url(RoadmapItem)}">Roadmap items</a>' in page


def fieldsets_of(response) -> dict:
    """Fieldset name → (its fields, its CSS classes) of the admin form a page rendered."""
    return {
        name: (list(options["fields"]), list(options.get("classes", ())))
        for name, options in response.context["adminform"].fieldsets
    }


def test_the_item_form_shows_what_a_lead_edits_and_tucks_the_rest_away(lead):
    item("R1")
    page = lead.get(change_url(RoadmapItem, "R1"))
    fieldsets = fieldsets_of(page)
    main, _ = fieldsets[None]
    assert main == [
        "id",
        "title",
        "phase_key",
        "status_key",
        "reason",
        "item_type",
        "owner",
        "target_date",
        "rank",
        "feature",
        "cr",
        "description",
    ]
    advanced, classes = fieldsets["Advanced"]
    assert "collapse" in classes
    assert {
        "scope",
        "sort_order",
        "external_id",
        "external_url",
        "raw_status",
        "raw_type",
        "completed_at",
    } <= set(advanced)
    assert {"created_by", "created_at", "updated_at"} <= set(advanced)
    # Written by the service when the item is completed: shown, never typed in.
    form = page.context["adminform"].form
    assert "completed_at" not in form.fields
    assert form.fields["cr"].label == "Change request"
    assert form.fields["item_type"].label == "Type"
    html = page.content.decode()
    assert '<label for="id_cr">Change request:</label>' in html
    assert ">Cr:<" not in html
    assert "<details><summary>" in html  # collapsed without JavaScript


def test_terminology_options_say_display_name_and_description(lead):
    html = lead.get(add_url(RoadmapItem)).content.decode()
    assert '<option value="phase_a" title="Foundation">Phase A — Foundation</option>' in html
    # A long description is cut in the option and whole in its tooltip.
    Terminology.objects.filter(domain="roadmap_phase", internal_key="phase_b").update(
        description="Core development: " + "the kernel, the API and the pages " * 3
    )
    html = lead.get(add_url(RoadmapItem)).content.decode()
    assert 'title="Core development: the kernel, the API and the pages the kernel' in html
    assert (
        ">Phase B — Core development: the kernel, the API and the pages the ker…</option>" in html
    )


def test_the_target_date_is_a_date_picker_stored_as_the_contracts_text(lead):
    from django.contrib.admin.widgets import AdminDateWidget

    item("R1")
    url = change_url(RoadmapItem, "R1")
    page = lead.get(url)
    assert isinstance(page.context["adminform"].form.fields["target_date"].widget, AdminDateWidget)
    assert 'name="target_date" class="vDateField"' in page.content.decode()

    assert submit(lead, url, target_date="2026-10-01").status_code == 302
    assert RoadmapItem.objects.get(pk="R1").target_date == "2026-10-01"
    assert submit(lead, url, target_date="10/02/2026").status_code == 302  # a site input format
    assert RoadmapItem.objects.get(pk="R1").target_date == "2026-10-02"
    refused = submit(lead, url, target_date="soon")
    assert refused.context["adminform"].form.errors["target_date"] == ["Enter a date (YYYY-MM-DD)."]
    assert RoadmapItem.objects.get(pk="R1").target_date == "2026-10-02"

    # Free text the `motus` tool wrote stays as it is while nobody changes it.
    RoadmapItem.objects.filter(pk="R1").update(target_date="Q3")
    assert submit(lead, url, title="Renamed").status_code == 302
    assert RoadmapItem.objects.get(pk="R1").target_date == "Q3"
    assert submit(lead, url, target_date="").status_code == 302
    assert RoadmapItem.objects.get(pk="R1").target_date is None


def test_program_forms_get_the_same_care(lead):
    _, product, _ = product_tree()
    Release.objects.create(id="REL1", product=product, name="1.0")
    release = lead.get(change_url(Release, "REL1"))
    assert isinstance(release.context["adminform"].form.fields["target_date"], DateTextField)
    html = release.content.decode()
    assert ">Version — Semantic versioned software release</option>" in html
    bug_form = lead.get(add_url(Bug)).context["adminform"].form
    assert bug_form.fields["fix_cr"].label == "Fix (change request)"
    cr_fieldsets = fieldsets_of(lead.get(add_url(ChangeRequest)))
    advanced, classes = cr_fieldsets["Advanced"]
    assert "collapse" in classes and {"started_at", "completed_at"} <= set(advanced)
    assert not {"started_at", "completed_at"} & set(cr_fieldsets[None][0])


def test_the_item_page_and_its_admin_page_link_both_ways(lead):
    from roadmap.links import item_url

    item("R1")
    Blocker.objects.create(
        id="BL1", work_id="R1", reason_code="other", title="Waiting", created_by="agent:a"
    )
    page = lead.get(change_url(RoadmapItem, "R1")).content.decode()
    assert f'<a href="{item_url("R1")}" class="viewsitelink">View on site</a>' in page
    blocker = lead.get(change_url(Blocker, "BL1")).content.decode()
    assert f'<a href="{item_url("R1")}" class="viewsitelink">View on site</a>' in blocker
    assignment = RoadmapAssignment.objects.create(item_id="R1", agent_id="agent:a")
    assigned = lead.get(change_url(RoadmapAssignment, assignment.pk)).content.decode()
    assert f'<a href="{item_url("R1")}" class="viewsitelink">View on site</a>' in assigned
    assert lead.get(item_url("R1")).status_code == 200


# --------------------------------------------------------------------------- soft delete, confirmed


def delete_url(model, pk) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[pk])


def test_the_change_pages_delete_link_asks_for_a_reason_and_soft_deletes(lead):
    item("A")
    item("B")
    RoadmapDependency.objects.create(item_id="B", depends_on_id="A", dependency_type="soft")
    change = lead.get(change_url(RoadmapItem, "A")).content.decode()
    assert f'<a href="{delete_url(RoadmapItem, "A")}" class="deletelink">' in change

    page = lead.get(delete_url(RoadmapItem, "A"))
    html = page.content.decode()
    assert "Soft-delete 1 roadmap item?" in html
    assert f'<a href="{change_url(RoadmapItem, "A")}">A · Item A</a>' in html
    assert f'<a href="{change_url(RoadmapItem, "A")}" class="button cancel-link">Cancel</a>' in html
    assert page.context["obstacles"] == []  # a soft edge holds nothing up
    assert "detach_dependents" not in page.context["form"].fields

    # No reason: the page again, with the error, and nothing deleted or audited.
    refused = lead.post(delete_url(RoadmapItem, "A"), {"post": "yes", "deletion_reason": " "})
    assert refused.status_code == 200
    assert refused.context["form"].errors["deletion_reason"] == [
        "Say why: the reason goes into the audit trail."
    ]
    assert RoadmapItem.objects.get(pk="A").deleted_at is None
    assert not AuditLog.objects.filter(resource_type="roadmap_item", resource_id="A").exists()

    done = lead.post(
        delete_url(RoadmapItem, "A"), {"post": "yes", "deletion_reason": "Duplicate of B"}
    )
    assert done.status_code == 302 and done.url == changelist_url(RoadmapItem)
    assert RoadmapItem.objects.get(pk="A").deleted_at is not None
    deleted = AuditLog.objects.get(resource_type="roadmap_item", resource_id="A")
    assert (deleted.actor, deleted.action, json.loads(deleted.context)) == (
        "user:lead",
        "delete",
        {"reason": "Duplicate of B"},
    )
    assert [str(m) for m in lead.get(done.url).context["messages"]] == [
        "Soft-deleted 1 roadmap item. Reason: Duplicate of B"
    ]
    # Deleted: no delete link on its page any more.
    assert "deletelink" not in lead.get(change_url(RoadmapItem, "A")).content.decode()


def test_the_delete_page_names_what_stands_in_the_way_and_a_refusal_is_no_error_page(lead):
    item("A")
    item("B")
    RoadmapDependency.objects.create(item_id="B", depends_on_id="A", dependency_type="blocks")
    page = lead.get(delete_url(RoadmapItem, "A"))
    html = page.content.decode()
    assert "unfinished items depend on it" in html
    assert f'<a href="{change_url(RoadmapItem, "B")}">B Item B</a>' in html
    assert "detach_dependents" in page.context["form"].fields

    refused = lead.post(delete_url(RoadmapItem, "A"), {"post": "yes", "deletion_reason": "Gone"})
    assert refused.status_code == 200
    assert "Nothing was deleted: Cannot delete A: B depend on it." in refused.content.decode()
    assert RoadmapItem.objects.get(pk="A").deleted_at is None


def test_a_table_with_deletion_columns_keeps_who_and_why_on_the_row(lead):
    term = Terminology.objects.create(domain="cr_type", internal_key="docs", display_name="Docs")
    url = delete_url(Terminology, term.pk)
    assert lead.post(url, {"post": "yes", "deletion_reason": "Unused"}).status_code == 302
    term.refresh_from_db()
    assert (term.deleted_by, term.deletion_reason) == ("user:lead", "Unused")
    audit = AuditLog.objects.get(resource_type="terminology", resource_id=str(term.pk))
    assert (audit.actor, json.loads(audit.context)) == ("user:lead", {"reason": "Unused"})
    # Its delete page again: already deleted, back to its page.
    again = lead.get(url)
    assert again.status_code == 302 and again.url == change_url(Terminology, term.pk)


def test_the_bulk_soft_delete_goes_through_the_same_confirmation(lead):
    for pk in ("CR1", "CR2", "CR3"):
        ChangeRequest.objects.create(id=pk, title=f"Change {pk}")
    page = action(lead, ChangeRequest, "soft_delete_selected", ["CR1", "CR2"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "Soft-delete 2 change requests?" in html
    assert html.count('name="_selected_action"') == 2
    assert '<input type="hidden" name="action" value="soft_delete_selected">' in html
    assert f'<a href="{changelist_url(ChangeRequest)}" class="button cancel-link">' in html

    refused = action(lead, ChangeRequest, "soft_delete_selected", ["CR1", "CR2"], post="yes")
    assert refused.status_code == 200 and refused.context["form"].errors
    assert not ChangeRequest.objects.filter(deleted_at__isnull=False).exists()

    done = action(
        lead,
        ChangeRequest,
        "soft_delete_selected",
        ["CR1", "CR2"],
        post="yes",
        deletion_reason="Merged",
    )
    assert done.status_code == 302
    assert set(
        ChangeRequest.objects.filter(deleted_at__isnull=False).values_list("pk", flat=True)
    ) == {"CR1", "CR2"}
    rows = AuditLog.objects.filter(resource_type="change_request", action="delete")
    assert sorted(
        (row.resource_id, row.actor, json.loads(row.context)["reason"]) for row in rows
    ) == [
        ("CR1", "user:lead", "Merged"),
        ("CR2", "user:lead", "Merged"),
    ]


def test_nobody_without_change_rights_reaches_the_delete_page(db, client):
    from django.contrib.auth.models import User

    viewer = User.objects.create_user("vic", is_staff=True)
    viewer.groups.add(Group.objects.get(name=policy.group_name(policy.Role.VIEWER)))
    client.force_login(viewer)
    item("A")
    assert "deletelink" not in client.get(change_url(RoadmapItem, "A")).content.decode()
    assert client.get(delete_url(RoadmapItem, "A")).status_code == 403
    assert (
        client.post(
            delete_url(RoadmapItem, "A"), {"post": "yes", "deletion_reason": "x"}
        ).status_code
        == 403
    )
    assert RoadmapItem.objects.get(pk="A").deleted_at is None
