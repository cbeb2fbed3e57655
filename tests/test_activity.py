"""Recent activity in words (``kernel.activity``): one sentence per kind of audit row, written
by the real service functions, rendered by ``templates/pages/_activity.html``; its links open
real pages over HTTP."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext

from kernel import leases, services
from kernel.activity import Activity, recent_activity
from kernel.models import Attempt, Blocker, Lease
from programs import services as program_services
from programs.models import Feature, Product, Program
from roadmap import services as roadmap_services
from system import audit, policy
from system.fields import utc_now
from system.identity import Actor
from system.models import AuditLog, InstanceConfig
from tests.api_support import make_user
from tests.page_support import depend, item

EVIDENCE = {"evidence_type": "test_result", "uri": "ci://runs/1", "sha256": "0" * 64}


@pytest.fixture
def people(db):
    """An agent (ann), another (bob), a reviewer (rita) and a staff lead, as actors."""
    made = {
        "ann": make_user("ann", agent=True)[0],
        "bob": make_user("bob", agent=True)[0],
        "rita": make_user("rita", agent=True, role=policy.Role.REVIEWER)[0],
        "rob": make_user("rob", agent=True, role=policy.Role.REVIEWER)[0],
        "lead": make_user("lead", agent=False, staff=True)[0],
        "vera": make_user("vera", agent=False)[0],
    }
    return {name: Actor.of(user) for name, user in made.items()} | {
        f"{name}_user": user for name, user in made.items()
    }


@pytest.fixture
def items(db):
    item("R1", title="Index leases by resource")
    item("R2", title="Ship the lease store")
    depend("R2", "R1")


def latest(kind: str, *, user=None) -> Activity:
    """The newest entry of this kind (``<resource_type>.<action>``)."""
    for entry in recent_activity(200, user=user):
        if entry.kind == kind:
            return entry
    raise AssertionError(f"no {kind} row among {[e.kind for e in recent_activity(200)]}")


def links(entry: Activity) -> dict[str, str]:
    return {part.text: part.url for part in entry.parts if part.url}


def opens(client, url: str) -> None:
    """The link opens a page (200), and its #fragment is an id on that page."""
    path, _, fragment = url.partition("#")
    response = client.get(path)
    assert response.status_code == 200, url
    if fragment:
        assert f'id="{fragment}"' in response.content.decode(), url


@pytest.fixture
def lead_client(client, people):
    client.force_login(people["lead_user"])
    return client


def claimed(actor, item_id="R1") -> str:
    return services.claim(actor, item_id)["attempt"]["id"]


# -- attempts ------------------------------------------------------------------------------


def test_a_claim_names_the_item_its_title_and_the_attempt_linked_to_its_card(
    people, items, lead_client
):
    attempt = claimed(people["ann"])
    entry = latest("attempt.claim")
    assert entry.actor == "agent:ann"
    assert entry.text == f"agent:ann claimed R1 “Index leases by resource” (attempt {attempt})"
    assert links(entry) == {"R1": "/roadmap/R1/", attempt: f"/roadmap/R1/#attempt-{attempt}"}
    for url in links(entry).values():
        opens(lead_client, url)
    moved = latest("roadmap_item.status_change")
    assert moved.sentence == "moved R1 “Index leases by resource” to In Progress by claiming it"


def test_a_release_says_how_and_what_the_item_became(people, items):
    attempt = claimed(people["ann"])
    services.raise_blocker(
        people["ann"],
        {"reason_code": "missing_credential", "title": "Need keys"},
        attempt_id=attempt,
    )
    services.release(people["ann"], attempt, "blocked")
    entry = latest("attempt.release")
    assert entry.sentence == (
        f"released R1 “Index leases by resource” as blocked (attempt {attempt});"
        " its status is now Blocked"
    )
    assert latest("roadmap_item.status_change").sentence == (
        "moved R1 “Index leases by resource” to Blocked by releasing it as blocked"
    )
    Blocker.objects.filter(work_id="R1").update(created_at=utc_now() - dt.timedelta(minutes=5))
    blocker = Blocker.objects.get(work_id="R1").id
    services.resolve_blocker(people["lead"], blocker, "Keys are in the vault", waive=True)
    assert latest("roadmap_item.status_change").text == (
        "user:lead moved R1 “Index leases by resource” to Pending by resolving its last blocker"
    )


def test_a_handoff_names_the_new_worker_and_both_attempts(people, items):
    attempt = claimed(people["ann"])
    services.handoff(people["ann"], attempt, "agent:bob", "End of my shift")
    successor = Attempt.objects.get(work_id="R1", worker_id="agent:bob").id
    entry = latest("attempt.handoff")
    assert entry.sentence == (
        f"handed R1 “Index leases by resource” over to agent:bob (attempt {attempt} → "
        f"{successor}) (reason: End of my shift)"
    )
    assert links(entry)[successor] == f"/roadmap/R1/#attempt-{successor}"


def test_a_stale_attempt_ended_by_a_lead(people, items):
    attempt = claimed(people["ann"])
    Lease.objects.filter(attempt_id=attempt).update(expires_at=utc_now() - dt.timedelta(minutes=5))
    services.end_stale_attempt(people["lead"], attempt)
    entry = latest("attempt.expire_stale")
    assert entry.text == (
        f"user:lead ended the stale attempt {attempt} of agent:ann on R1"
        " “Index leases by resource” as failed"
    )
    assert latest("roadmap_item.status_change").sentence.endswith(
        "to Pending when its attempt went stale"
    )


# -- records of an attempt -----------------------------------------------------------------


def test_evidence_outcomes_and_decisions_name_their_item_and_attempt(people, items, lead_client):
    ann = people["ann"]
    attempt = claimed(ann)
    evidence = services.record_evidence(ann, attempt, EVIDENCE)["id"]
    outcome = services.register_outcome(ann, attempt, {"outcome_type": "file", "path": "a.py"})
    decision = services.record_decision(
        ann, {"decision_type": "plan_committed", "decision_summary": "Plan"}, attempt_id=attempt
    )["id"]
    tail = f"R1 “Index leases by resource” (attempt {attempt})"
    assert (
        latest("evidence.create").sentence == f"recorded test result evidence {evidence} on {tail}"
    )
    assert latest("kernel_outcome.create").sentence == (
        f"registered file outcome a.py ({outcome['id']}) on {tail}"
    )
    entry = latest("decision.create", user=people["lead_user"])
    assert entry.sentence == f"recorded decision “plan committed” ({decision}) on {tail}"
    # A lead reaches the decision's admin page; a reader sees its id only.
    assert links(entry)[decision] == f"/admin/kernel/decision/{decision}/change/"
    opens(lead_client, links(entry)[decision])
    assert decision not in links(latest("decision.create", user=people["vera_user"]))


# -- blockers ------------------------------------------------------------------------------


def test_blockers_raised_and_waived_name_title_and_item(people, items, lead_client):
    blocker = services.raise_blocker(
        people["ann"],
        {"reason_code": "missing_credential", "title": "Need staging credentials"},
        work_id="R1",
    )["id"]
    raised = latest("blocker.create", user=people["lead_user"])
    assert raised.text == (
        f"agent:ann raised blocker {blocker} “Need staging credentials” on R1"
        " “Index leases by resource”"
    )
    opens(lead_client, links(raised)[blocker])
    Blocker.objects.filter(pk=blocker).update(created_at=utc_now() - dt.timedelta(minutes=5))
    services.resolve_blocker(people["lead"], blocker, "Not needed on staging", waive=True)
    assert latest("blocker.resolve").text == (
        f"user:lead waived blocker {blocker} “Need staging credentials” on R1"
        " “Index leases by resource”"
    )
    assert latest("decision.create").sentence.startswith("recorded decision “waiver”")


# -- leases --------------------------------------------------------------------------------


def test_bare_leases_acquired_renewed_and_released(people, items):
    ann, lead = people["ann"], people["lead"]
    lease = leases.acquire_lease(
        ann, resource_type="file", resource_id="README.md", mode="write", ttl_seconds=600
    )["id"]
    leases.heartbeat_lease(ann, lease)
    leases.release_lease(ann, lease)
    assert latest("lease.acquire").text == f"agent:ann took lease {lease} on file README.md"
    assert latest("lease.heartbeat").sentence == f"renewed lease {lease} on file README.md"
    assert latest("lease.release").sentence == f"released lease {lease} on file README.md"
    other = leases.acquire_lease(
        ann, resource_type="file", resource_id="setup.py", mode="write", ttl_seconds=600
    )["id"]
    leases.release_lease(lead, other, reason="Agent gone", force=True)
    assert latest("lease.force_release").text == (
        f"user:lead force-released lease {other} on file setup.py (reason: Agent gone)"
    )


# -- roadmap items -------------------------------------------------------------------------


def test_item_created_edited_overridden_deleted_and_restored(people, items):
    lead = people["lead"]
    roadmap_services.create_item(lead, id="R9", title="Write the docs", phase_key="phase_a")
    assert latest("roadmap_item.create").text == "user:lead created R9 “Write the docs”"
    roadmap_services.update_item(lead, "R9", {"title": "Write the user docs", "owner": "ann"})
    assert latest("roadmap_item.update").sentence == (
        "edited R9 “Write the user docs” (owner, title)"
    )
    roadmap_services.update_item(lead, "R9", {"status_key": "deferred"}, reason="Not this month")
    assert latest("roadmap_item.status_override").sentence == (
        "set R9 “Write the user docs” to Deferred by hand (reason: Not this month)"
    )
    roadmap_services.delete_item(lead, "R9", reason="Duplicate of R1")
    assert latest("roadmap_item.delete").sentence == (
        "deleted R9 “Write the user docs” (reason: Duplicate of R1)"
    )
    roadmap_services.restore_item(lead, "R9")
    assert latest("roadmap_item.restore").sentence == "restored R9 “Write the user docs”"


def test_review_passed_and_rejected(people, items):
    ann, rita = people["ann"], people["rita"]
    InstanceConfig.objects.filter(key="review_required").update(value="true")
    for decision_type in ("review_rejected", "review_passed"):
        attempt = claimed(ann)
        services.record_evidence(ann, attempt, EVIDENCE)
        services.release(ann, attempt, "completed")
        services.record_decision(
            rita,
            {"work_id": "R1", "decision_type": decision_type, "rationale": "Looked at it"},
            work_id="R1",
        )
    assert latest("attempt.release").sentence.endswith("; its status is now In Review")
    assert latest("roadmap_item.review_rejected").text == (
        "agent:rita rejected the review of R1 “Index leases by resource”;"
        " its status is back to Pending"
    )
    assert latest("roadmap_item.review_passed").text == (
        "agent:rita passed the review of R1 “Index leases by resource”; its status is now Completed"
    )


# -- dependencies and assignments ----------------------------------------------------------


def test_dependencies_added_and_removed(people, items):
    lead = people["lead"]
    item("R3", title="Document leases")
    roadmap_services.add_dependency(lead, "R3", "R2", "blocks", None)
    assert latest("roadmap_dependency.create").text == (
        "user:lead made R3 “Document leases” depend on R2 “Ship the lease store” (blocks)"
    )
    roadmap_services.remove_dependency(lead, "R3", "R2")
    assert latest("roadmap_dependency.delete").sentence == (
        "removed the dependency of R3 “Document leases” on R2 “Ship the lease store”"
    )


def test_assignments_and_the_cascade_they_detect(people, items, lead_client):
    lead = people["lead"]
    assignment = roadmap_services.create_assignment(
        lead, "R2", agent_id="agent:bob", role="implementer", notes=None
    )
    assigned = latest("roadmap_assignment.assign")
    assert (
        assigned.text == "user:lead assigned R2 “Ship the lease store” to agent:bob as implementer"
    )
    cascade = latest("roadmap_assignment.cascade_detected")
    assert cascade.text == (
        "user:lead assigned R2 to agent:bob, but 1 of its prerequisites has nobody assigned: R1"
    )
    assert links(cascade) == {"R2": "/roadmap/R2/", "R1": "/roadmap/R1/"}
    for url in links(cascade).values():
        opens(lead_client, url)
    roadmap_services.transition_assignment(lead, assignment.id, "start")
    assert latest("roadmap_assignment.start").sentence == (
        "started the implementer assignment of agent:bob on R2 “Ship the lease store”"
    )
    roadmap_services.transition_assignment(lead, assignment.id, "drop")
    assert latest("roadmap_assignment.drop").sentence.startswith("dropped the implementer")


def test_a_cascade_names_five_prerequisites_and_counts_the_rest(people, db):
    item("TOP", title="Top")
    for n in range(7):
        item(f"P{n}")
        depend("TOP", f"P{n}")
    roadmap_services.create_assignment(
        people["lead"], "TOP", agent_id="agent:bob", role="implementer", notes=None
    )
    entry = latest("roadmap_assignment.cascade_detected")
    assert "7 of its prerequisites have nobody assigned: " in entry.sentence
    assert entry.sentence.endswith(" and 2 more")
    assert len([p for p in entry.parts if p.url]) == 1 + 5


# -- programs, claims, deployments ---------------------------------------------------------


@pytest.fixture
def feature(db):
    program = Program.objects.create(id="PG1", name="Motus")
    product = Product.objects.create(id="PR1", program=program, name="Kernel")
    return Feature.objects.create(id="F1", product=product, name="Leases")


def test_a_filed_bug_links_to_its_programs_row_or_for_a_lead_its_admin_page(
    people, feature, lead_client
):
    bug = program_services.file_bug(
        people["ann"], title="Lease lost on restart", feature_id="F1", feature_version="1.0"
    )
    for_reader = latest("bug.create", user=people["vera_user"])
    assert for_reader.text == f"agent:ann filed bug {bug.id} “Lease lost on restart”"
    row = f"bug-{bug.id.lower()}"
    assert links(for_reader)[bug.id] == f"/programs/#{row}"
    opens(lead_client, links(for_reader)[bug.id])
    for_lead = latest("bug.create", user=people["lead_user"])
    assert links(for_lead)[bug.id] == f"/admin/programs/bug/{bug.id}/change/"
    opens(lead_client, links(for_lead)[bug.id])


def test_admin_edits_of_any_model_read_as_verb_and_entity(people, feature, lead_client):
    # What ContractAdmin writes for a lead's change in the admin.
    audit.record("user:lead", "product", "PR1", "update", old={"name": "K"}, new={"name": "Kernel"})
    audit.record("user:lead", "feature", "F1", "create", new={"name": "Leases"})
    entry = latest("product.update", user=people["lead_user"])
    assert entry.text == "user:lead edited product PR1"
    opens(lead_client, links(entry)["PR1"])
    assert latest("feature.create").sentence == "created feature F1"
    assert links(latest("feature.create")) == {"F1": "/programs/#feature-f1"}
    opens(lead_client, "/programs/#feature-f1")


def test_claims_and_deployments(people, db):
    lead = people["lead"]
    roadmap_services.create_claim(
        lead, id="CL-1", claim_text="Pages load fast", page="/", claim_type="qualitative"
    )
    roadmap_services.update_claim(lead, "CL-1", {"test_status": "pass"})
    roadmap_services.record_deployment(lead, target="website", version="1.2", status="success")
    assert latest("claim.create").text == "user:lead added website claim CL-1 on page /"
    assert latest("claim.update").sentence == "marked website claim CL-1 as pass"
    deployment = latest("deployment_event.create")
    assert deployment.sentence.startswith("recorded deployment ")
    assert deployment.sentence.endswith(" of 1.2 to website (success)")


# -- fallbacks -----------------------------------------------------------------------------


def test_unknown_actions_read_as_a_generic_sentence_never_a_raw_verb(people, items):
    instance = InstanceConfig.objects.get(key="instance_id").value
    AuditLog.objects.create(
        event_type="schema_change",
        actor="migration:012_item_type_terminology",
        resource_type="roadmap_items",
        resource_id=None,
        action="add_column",
        instance_id=instance,
    )
    assert latest("roadmap_items.add_column").text == (
        "migration:012_item_type_terminology recorded “add column” on roadmap items"
    )
    audit.record("system", "widget", "w-1", "frobnicate_all")
    entry = latest("widget.frobnicate_all")
    assert entry.text == "system recorded “frobnicate all” on widget w-1"
    assert [p.code for p in entry.parts if p.text == "w-1"] == [True]
    # The assignment trigger's own rows name the item: an unknown action on one still links.
    audit.record("agent:ann", "roadmap_assignment", "R1", "poke")
    assert latest("roadmap_assignment.poke").sentence == (
        "recorded “poke” on the assignments of R1 “Index leases by resource”"
    )
    assert "_" not in "".join(e.sentence for e in recent_activity(200))


def test_an_item_that_is_gone_is_named_without_a_link(people, db):
    audit.record("user:lead", "roadmap_item", "NOPE", "create")
    entry = latest("roadmap_item.create")
    assert entry.sentence == "created NOPE"
    assert links(entry) == {}


# -- rendering, time, queries --------------------------------------------------------------


def test_the_fragment_renders_time_actor_and_links(people, items):
    attempt = claimed(people["ann"])
    entry = latest("attempt.claim")
    # As read five minutes later.
    entry = replace(entry, now=entry.timestamp + dt.timedelta(minutes=5, seconds=3))
    assert entry.ago == "5\xa0minutes ago"
    assert replace(entry, now=entry.timestamp).ago == "just now"
    html = render_to_string("pages/_activity.html", {"activity": [entry]})
    assert f'<li data-audit-id="{entry.id}" data-kind="attempt.claim">' in html
    exact = entry.timestamp.strftime("%Y-%m-%d %H:%M:%S UTC")
    iso = entry.timestamp.isoformat()
    assert f'<time datetime="{iso}" title="{exact}">5\xa0minutes ago</time>' in html
    assert '<span class="actor">agent:ann</span>' in html
    assert '<a href="/roadmap/R1/">R1</a>' in html
    assert f'<a href="/roadmap/R1/#attempt-{attempt}">{attempt}</a>' in html
    assert 'id="activity"' in html and 'id="activity-heading"' in html


def test_no_activity_says_so(db):
    html = render_to_string("pages/_activity.html", {"activity": []})
    assert "No activity recorded yet." in html


def test_long_titles_are_shortened_with_the_whole_title_as_tooltip(people, db):
    title = "A very long title " * 10
    item("LONG", title=title)
    audit.record("user:lead", "roadmap_item", "LONG", "create")
    entry = latest("roadmap_item.create")
    shortened = [p for p in entry.parts if p.title]
    assert shortened and shortened[0].title == title and shortened[0].text.endswith("…”")
    assert len(shortened[0].text) <= 82


def _write_some_of_everything(people, n: int) -> None:
    ann, lead = people["ann"], people["lead"]
    for i in range(n):
        item(f"Q{n}-{i}", title=f"Item {i}")
        attempt = claimed(ann, f"Q{n}-{i}")
        services.record_evidence(ann, attempt, EVIDENCE)
        blocker = services.raise_blocker(
            ann, {"reason_code": "missing_info", "title": "Which DB?"}, attempt_id=attempt
        )["id"]
        services.release(ann, attempt, "blocked")
        Blocker.objects.filter(pk=blocker).update(created_at=utc_now() - dt.timedelta(minutes=1))
        services.resolve_blocker(lead, blocker, "Use SQLite", waive=True)
        lease = leases.acquire_lease(
            ann, resource_type="file", resource_id=f"f{i}", mode="write", ttl_seconds=60
        )["id"]
        leases.heartbeat_lease(ann, lease)
        assignment = roadmap_services.create_assignment(
            lead, f"Q{n}-{i}", agent_id="agent:rob", role="reviewer", notes=None
        )
        roadmap_services.transition_assignment(lead, assignment.id, "drop")


def test_query_count_is_flat_in_the_number_of_rows(people, db):
    def count() -> int:
        lead = User.objects.get(username="lead")  # no permissions cached yet
        with CaptureQueriesContext(connection) as queries:
            render_to_string("pages/_activity.html", {"activity": recent_activity(500, user=lead)})
        return len(queries)

    _write_some_of_everything(people, 2)
    few = count()
    _write_some_of_everything(people, 10)
    assert AuditLog.objects.count() > 100
    assert count() == few
