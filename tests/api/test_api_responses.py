"""Responses are what the OpenAPI document says, and say only what is true.

Each case of the issue "the schema promises fields the responses lack" has its test here:
documented fields present with their types, JSON columns as JSON, one timestamp format (the
API's ISO form; the database's own inside stored JSON), integers the database cannot hold
refused with 400, ``PATCH /claims/{id}/`` with an ``id``, ``next_actions`` listing only calls
that would be accepted, unknown query parameters refused naming the valid ones, and links
built by ``reverse()`` with the id quoted. Refusals are checked for status, the JSON error
shape, and that nothing was written.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from api_support import error_of
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from kernel.models import Attempt, Blocker, Decision, Evidence, Lease
from roadmap.models import Claim, RoadmapItem
from system import policy
from system.api.rendering import api_path
from system.api.serializers import INT64_MAX, INT64_MIN
from system.fields import utc_now
from system.models import AuditLog

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
STORED = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
EVIDENCE = {"evidence_type": "test_result", "uri": "ci://runs/1", "content": "42 passed"}


@pytest.fixture(scope="module")
def document():
    return json.loads(json.dumps(SchemaGenerator().get_schema(public=True), default=str))


@pytest.fixture
def lead(api_for):
    return api_for("lee", agent=False, staff=True, role=policy.Role.LEAD)


def backdate(model, pk, seconds=5, field="created_at"):
    model.objects.filter(pk=pk).update(**{field: utc_now() - dt.timedelta(seconds=seconds)})


# Checking a body against the document.


def _resolve(document, schema: dict) -> dict:
    """Follow ``$ref`` (also as drf-spectacular's single-element ``allOf``)."""
    while True:
        if "$ref" in schema:
            schema = {**schema, **_component(document, schema["$ref"])}
            schema.pop("$ref")
        elif len(schema.get("allOf", [])) == 1:
            schema = {**{k: v for k, v in schema.items() if k != "allOf"}, **schema["allOf"][0]}
        else:
            return schema


def _component(document, ref: str) -> dict:
    return document["components"]["schemas"][ref.rsplit("/", 1)[1]]


_TYPES = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "object": dict,
    "array": list,
}


def mismatches(document, schema: dict, value, path: str = "$") -> list[str]:
    """Every documented (required) property missing from ``value``, recursively, and every
    value of another type than documented. Empty arrays leave their items unchecked."""
    schema = _resolve(document, schema)
    if value is None:
        return [] if schema.get("nullable") or not schema else [f"{path}: null"]
    problems = []
    expected = schema.get("type")
    if expected and not isinstance(value, _TYPES[expected]):
        return [f"{path}: {type(value).__name__}, documented {expected}"]
    if expected == "integer" and isinstance(value, bool):
        return [f"{path}: bool, documented integer"]
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{path}: {value!r} not in {schema['enum']}")
    if schema.get("format") == "date-time" and isinstance(value, str) and not ISO.match(value):
        problems.append(f"{path}: {value!r} is not YYYY-MM-DDTHH:MM:SSZ")
    required = set(schema.get("required", []))
    for name, property_schema in schema.get("properties", {}).items():
        if isinstance(value, dict):
            if name in value:
                problems += mismatches(document, property_schema, value[name], f"{path}.{name}")
            elif name in required:
                problems.append(f"{path}.{name}: missing")
    if expected == "array":
        for index, item in enumerate(value):
            problems += mismatches(document, schema.get("items", {}), item, f"{path}[{index}]")
    return problems


def response_schema(document, path: str, method: str, status: int) -> dict:
    response = document["paths"][path][method]["responses"][str(status)]
    return response["content"]["application/json"]["schema"]


# Documented fields are present, with their types.


@pytest.fixture
def worked_item(alice, lead, make_item):
    """Item B, after prerequisite A was completed, claimed by alice with an outcome,
    evidence, a decision and a blocker of its attempt, and an earlier review rejection."""
    make_item("A", status_key="completed")
    make_item("B", depends_on=["A"], description="Do B", owner="ann")
    Decision.objects.create(
        id="dec-review",
        work_id="B",
        decision_type="review_rejected",
        decision_summary="Missing tests",
        rationale="Add tests for B",
        decided_by="user:lee",
    )
    claim = alice.post("/api/v1/work/B/claim/", {"ttl_seconds": 600})
    assert claim.status_code == 201, claim.content
    attempt_id = claim.json()["attempt"]["id"]
    url = f"/api/v1/attempts/{attempt_id}"
    assert (
        alice.post(f"{url}/outcomes/", {"outcome_type": "file", "path": "b.py"}).status_code == 201
    )
    assert alice.post(f"{url}/evidence/", EVIDENCE).status_code == 201
    decision = {"decision_type": "plan_committed", "decision_summary": "Plan"}
    assert alice.post(f"{url}/decisions/", decision).status_code == 201
    blocker = {"reason_code": "missing_info", "title": "Which port?"}
    assert alice.post(f"{url}/blockers/", blocker).status_code == 201
    return claim, attempt_id


def test_a_claims_response_has_every_documented_field(document, worked_item):
    claim, _ = worked_item
    body = claim.json()
    schema = response_schema(document, "/api/v1/work/{id}/claim/", "post", 201)
    assert mismatches(document, schema, body) == []
    # The fields the issue found missing.
    assert {"context_hash", "role", "strategy_id", "lease_id"} <= set(body["attempt"])
    assert body["lease"]["is_active"] is True
    assert body["attempt"]["lease_id"] == body["lease"]["id"]


def test_a_contexts_response_has_every_documented_field(document, alice, worked_item):
    _, attempt_id = worked_item
    body = alice.get(f"/api/v1/attempts/{attempt_id}/context/").json()
    schema = response_schema(document, "/api/v1/attempts/{id}/context/", "get", 200)
    assert mismatches(document, schema, body) == []
    for name in ("dependencies", "open_blockers", "evidence", "outcomes", "decisions"):
        assert body[name], name  # filled, so their items were checked too
    assert body["review_feedback"][0]["rationale"] == "Add tests for B"
    assert {"context_hash", "role", "strategy_id"} <= set(body["attempt"])
    assert body["lease"]["is_active"] is True


def test_the_loops_other_responses_have_every_documented_field(document, alice, worked_item):
    _, attempt_id = worked_item
    url = f"/api/v1/attempts/{attempt_id}"
    calls = [
        ("/api/v1/work/ready/", "get", 200, alice.get("/api/v1/work/ready/")),
        ("/api/v1/my-work/", "get", 200, alice.get("/api/v1/my-work/")),
        ("/api/v1/items/{id}/", "get", 200, alice.get("/api/v1/items/B/")),
        ("/api/v1/attempts/{id}/evidence/", "post", 201, alice.post(f"{url}/evidence/", EVIDENCE)),
        ("/api/v1/attempts/{id}/heartbeat/", "post", 200, alice.post(f"{url}/heartbeat/", {})),
        (
            "/api/v1/attempts/{id}/release/",
            "post",
            200,
            alice.post(f"{url}/release/", {"disposition": "completed"}),
        ),
    ]
    for path, method, status, response in calls:
        assert response.status_code == status, (path, response.content)
        schema = response_schema(document, path, method, status)
        assert mismatches(document, schema, response.json()) == [], path


# JSON columns are JSON; timestamps have one format.


def test_json_columns_come_back_as_json(alice, make_item):
    make_item("A")
    attempt_id = alice.post("/api/v1/work/A/claim/").json()["attempt"]["id"]
    url = f"/api/v1/attempts/{attempt_id}"
    results = {"passed": 3, "failed": 0, "suites": ["api"]}
    recorded = alice.post(
        f"{url}/evidence/",
        {**EVIDENCE, "test_results": results, "artifacts": ["report.xml"]},
    ).json()["record"]
    assert recorded["test_results"] == results and recorded["artifacts"] == ["report.xml"]
    assert alice.get(f"/api/v1/evidence/{recorded['id']}/").json()["test_results"] == results
    listed = alice.get("/api/v1/evidence/", {"attempt_id": attempt_id}).json()["results"]
    assert listed[0]["test_results"] == results
    outcome = alice.post(f"{url}/outcomes/", {"outcome_type": "file", "metadata": {"lines": 3}})
    assert outcome.json()["record"]["metadata"] == {"lines": 3}
    audit = alice.get("/api/v1/audit-log/", {"resource_id": recorded["id"]}).json()["results"]
    assert audit[0]["new_value"]["sha256"] == recorded["sha256"]


def test_timestamps_are_iso_in_responses_and_stored_form_in_stored_json(lead, make_item):
    make_item("A")
    done = lead.patch("/api/v1/items/A/", {"status_key": "completed", "reason": "Shipped"})
    assert done.status_code == 200
    assert ISO.match(done.json()["completed_at"]) and ISO.match(done.json()["updated_at"])
    row = AuditLog.objects.get(resource_id="A", action="status_override")
    stored = json.loads(row.new_value)
    assert STORED.match(stored["completed_at"]), row.new_value
    assert "+00:00" not in row.new_value
    listed = lead.get("/api/v1/audit-log/", {"resource_id": "A"}).json()["results"][0]
    assert listed["new_value"]["completed_at"] == stored["completed_at"]
    assert ISO.match(listed["timestamp"])


def test_every_timestamp_of_the_loop_is_iso(alice, make_item):
    make_item("A")
    claim = alice.post("/api/v1/work/A/claim/").json()
    assert ISO.match(claim["attempt"]["started_at"])
    assert all(ISO.match(claim["lease"][k]) for k in ("acquired_at", "expires_at"))
    work = alice.get("/api/v1/my-work/").json()
    assert ISO.match(work["attempts"][0]["lease_expires_at"])
    assert ISO.match(work["assignments"][0]["assigned_at"])
    detail = alice.get("/api/v1/items/A/").json()
    assert ISO.match(detail["active_attempt"]["started_at"])
    lease = alice.get(f"/api/v1/leases/{claim['lease']['id']}/").json()
    assert ISO.match(lease["events"][0]["created_at"])


# PATCH /claims/{id}/ with an id.


@pytest.mark.parametrize(
    "body, status",
    [
        ({"id": "CL-1"}, 200),
        ({"id": "CL-1", "test_status": "pass"}, 200),
        ({"id": "CL-2"}, 400),
        ({"id": 7}, 400),
        ({"id": None}, 400),
        ({"id": ["CL-1"]}, 400),
    ],
)
def test_patching_a_claims_id_is_never_a_500(lead, body, status):
    Claim.objects.create(id="CL-1", claim_text="Serves pages", page="/", claim_type="qualitative")
    Claim.objects.create(id="CL-2", claim_text="Serves more", page="/", claim_type="qualitative")
    response = lead.patch("/api/v1/claims/CL-1/", body)
    assert response.status_code == status, response.content
    if status == 400:
        assert "id" in error_of(response)["fields"]
    assert sorted(Claim.objects.values_list("id", flat=True)) == ["CL-1", "CL-2"]
    missing = lead.patch("/api/v1/claims/NOPE/", body)
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    assert not Claim.objects.filter(pk="NOPE").exists()


# Integers the database cannot hold are a 400, not an overflow.


@pytest.mark.parametrize("value", [INT64_MAX + 1, INT64_MIN - 1, 10**30])
def test_integers_outside_64_bits_are_400_and_nothing_is_written(alice, lead, make_item, value):
    make_item("A")
    attempt_id = alice.post("/api/v1/work/A/claim/").json()["attempt"]["id"]
    evidence = alice.post(
        f"/api/v1/attempts/{attempt_id}/evidence/", {**EVIDENCE, "size_bytes": value}
    )
    assert evidence.status_code == 400 and "size_bytes" in error_of(evidence)["fields"]
    assert not Evidence.objects.exists()

    changed = lead.patch("/api/v1/items/A/", {"sort_order": value})
    assert changed.status_code == 400 and "sort_order" in error_of(changed)["fields"]
    assert RoadmapItem.objects.get(pk="A").sort_order == 0
    created = lead.post(
        "/api/v1/items/", {"title": "x", "phase_key": "phase_a", "sort_order": value}
    )
    assert created.status_code == 400 and "sort_order" in error_of(created)["fields"]
    assert RoadmapItem.objects.count() == 1

    for path in (f"/api/v1/attempts/{attempt_id}/heartbeat/", "/api/v1/work/A/claim/"):
        ttl = alice.post(path, {"ttl_seconds": value})
        assert ttl.status_code == 400 and "ttl_seconds" in error_of(ttl)["fields"]
    assert Attempt.objects.count() == 1 and Lease.objects.count() == 1

    listing = alice.get("/api/v1/items/", {"offset": abs(value)})
    assert listing.status_code == 400 and "offset" in error_of(listing)["fields"]
    page = alice.get("/api/v1/items/", {"limit": abs(value)})
    assert page.status_code == 200 and page.json()["count"] == 1


def test_every_integer_a_request_may_carry_is_bounded(document):
    for name, component in document["components"]["schemas"].items():
        if not name.endswith("Request"):
            continue
        for field, schema in component.get("properties", {}).items():
            if schema.get("type") == "integer":
                assert schema.get("minimum", INT64_MIN - 1) >= INT64_MIN, (name, field)
                assert schema.get("maximum", INT64_MAX + 1) <= INT64_MAX, (name, field)
    for path, operations in document["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["schema"].get("type") == "integer":
                    assert "maximum" in parameter["schema"], (path, parameter["name"])


# next_actions: only calls that would be accepted now.


def _actions(body) -> list[tuple[str, str]]:
    return [(a["action"], a["href"]) for a in body["next_actions"]]


def test_no_claim_is_offered_on_items_a_claim_would_fail_on(alice, lead, api_for, make_item):
    make_item("DONE", status_key="completed")
    make_item("PRE")
    make_item("WAITS", depends_on=["PRE"])
    make_item("HELD")
    make_item("BLOCKED", depends_on=["DONE"])
    lead.post("/api/v1/blockers/", {"work_id": "HELD", "reason_code": "other", "title": "Wait"})
    for item_id in ("DONE", "WAITS", "HELD"):
        assert _actions(alice.get(f"/api/v1/items/{item_id}/").json()) == [], item_id
        refused = alice.post(f"/api/v1/work/{item_id}/claim/")
        assert refused.status_code == 409, item_id
    assert not Attempt.objects.exists()
    ready = alice.get("/api/v1/items/BLOCKED/").json()
    assert _actions(ready) == [("claim", "/api/v1/work/BLOCKED/claim/")]
    viewer = api_for("vic", agent=False, role=policy.Role.VIEWER)
    assert _actions(viewer.get("/api/v1/items/BLOCKED/").json()) == []
    rows = {row["id"]: row["claim"] for row in alice.get("/api/v1/work/ready/").json()["results"]}
    assert rows["HELD"] is None and rows["BLOCKED"]["href"] == "/api/v1/work/BLOCKED/claim/"
    assert "DONE" not in rows and "WAITS" not in rows
    viewer_rows = viewer.get("/api/v1/work/ready/").json()["results"]
    assert {row["claim"] for row in viewer_rows} == {None}


def test_attempt_actions_follow_the_attempt(alice, bob, make_item):
    make_item("A")
    claim = alice.post("/api/v1/work/A/claim/").json()
    attempt_id, lease_id = claim["attempt"]["id"], claim["lease"]["id"]
    context = f"/api/v1/attempts/{attempt_id}/context/"
    names = [a["action"] for a in alice.get(context).json()["next_actions"]]
    assert "heartbeat" in names and "release" in names
    # Someone else may read the context, nothing more.
    assert [a["action"] for a in bob.get(context).json()["next_actions"]] == ["context"]
    # An expired lease takes no heartbeat (409 lease_inactive): none is offered.
    Lease.objects.filter(pk=lease_id).update(expires_at=utc_now() - dt.timedelta(seconds=1))
    names = [a["action"] for a in alice.get(context).json()["next_actions"]]
    assert "heartbeat" not in names
    assert alice.post(f"/api/v1/attempts/{attempt_id}/heartbeat/").status_code == 409
    recorded = alice.post(f"/api/v1/attempts/{attempt_id}/evidence/", EVIDENCE).json()
    assert "heartbeat" not in [a["action"] for a in recorded["next_actions"]]
    released = alice.post(f"/api/v1/attempts/{attempt_id}/release/", {"disposition": "failed"})
    assert _actions(released.json()) == [("find_ready_work", "/api/v1/work/ready/")]
    assert [a["action"] for a in alice.get(context).json()["next_actions"]] == ["find_ready_work"]


def test_resolving_offers_the_claim_only_when_it_would_be_accepted(alice, lead, make_item):
    make_item("PRE")
    make_item("A", depends_on=["PRE"])
    make_item("B")
    for item_id in ("A", "B"):
        blocker = lead.post(
            "/api/v1/blockers/", {"work_id": item_id, "reason_code": "other", "title": "Wait"}
        ).json()
        backdate(Blocker, blocker["record"]["id"])
        resolve = f"/api/v1/blockers/{blocker['record']['id']}/resolve/"
        offered = _actions(lead.get(f"/api/v1/items/{item_id}/").json())
        assert offered == [("resolve_blocker", resolve)]
        resolved = lead.post(resolve, {"resolution": "Not needed", "waive": True})
        assert resolved.status_code == 200, resolved.content
        expected = [] if item_id == "A" else [("claim", "/api/v1/work/B/claim/")]
        assert _actions(resolved.json()) == expected
    # An agent cannot resolve someone else's blocker: never offered to it.
    make_item("C")
    lead.post("/api/v1/blockers/", {"work_id": "C", "reason_code": "other", "title": "Wait"})
    Blocker.objects.filter(work_id="C").update(created_at=utc_now() - dt.timedelta(seconds=5))
    assert _actions(alice.get("/api/v1/items/C/").json()) == []


# Unknown query parameters.


@pytest.mark.parametrize(
    "path, params, valid",
    [
        ("/api/v1/items/", {"status_key": "completed"}, "status"),
        ("/api/v1/work/ready/", {"phase_key": "phase_a"}, "phase"),
        ("/api/v1/evidence/", {"attempt": "x"}, "attempt_id"),
        ("/api/v1/leases/", {"mine": "true"}, "active"),
        ("/api/v1/audit-log/", {"until": "2025-01-01"}, "since"),
        ("/api/v1/views/can-deploy/", {"page": "1"}, None),
    ],
)
def test_unknown_query_parameters_are_400_naming_the_valid_ones(
    alice, make_item, path, params, valid
):
    make_item("A")
    make_item("B", status_key="completed")
    response = alice.get(path, params)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "unknown_parameter"
    assert set(error["fields"]) == set(params)
    listed = error["details"].get("valid_parameters", [])
    if valid:
        assert valid in listed and valid in error["message"]
    else:
        assert listed == [] and "none" in error["message"]


def test_known_query_parameters_still_work(alice, make_item):
    make_item("A", title="Login")
    make_item("B", status_key="completed")

    def ids(**params):
        response = alice.get("/api/v1/items/", params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids(status="completed") == ["B"]
    assert ids(q="login", ordering="-id", limit=5, offset=0) == ["A"]
    assert alice.get("/api/v1/evidence/", {"search": "x"}).status_code == 200
    # A detail takes no filters and ignores nothing that matters.
    assert alice.get("/api/v1/items/A/", {"status": "x"}).status_code == 200


def test_lists_take_exactly_the_parameters_the_document_lists(document, alice):
    """Each documented query parameter is accepted; the refusal of an unknown one names
    exactly the documented ones."""
    checked = 0
    for path, methods in document["paths"].items():
        operation = methods.get("get")
        if "{" in path or operation is None or "400" not in operation["responses"]:
            continue
        documented = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
        refused = alice.get(path, {"no_such_parameter": "1"})
        assert refused.status_code == 400, path
        assert sorted(error_of(refused)["details"].get("valid_parameters", [])) == sorted(
            documented
        ), path
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "query":
                continue
            schema = parameter["schema"]
            value = {"integer": "1", "boolean": "true"}.get(schema.get("type"), "x")
            value = str(schema.get("enum", [value])[0])
            response = alice.get(path, {parameter["name"]: value})
            assert response.status_code in (200, 400), (path, parameter["name"])
            if response.status_code == 400:
                assert error_of(response)["code"] != "unknown_parameter", (path, parameter)
        checked += 1
    assert checked >= 25


# Links: reverse() and quoting, one helper.


def test_an_id_that_needs_quoting_gets_a_working_href(alice, make_item):
    make_item("A#1 x?")
    href = reverse("api:work-claim", kwargs={"pk": "A#1 x?"})
    assert href == "/api/v1/work/A%231%20x%3F/claim/"
    row = alice.get("/api/v1/work/ready/").json()["results"][0]
    assert row["claim"]["href"] == href
    assert _actions(alice.get(f"/api/v1/items/{'A%231%20x%3F'}/").json()) == [("claim", href)]
    claimed = alice.client.post(href, "{}", content_type="application/json")
    assert claimed.status_code == 201 and claimed.json()["item"]["id"] == "A#1 x?"


@pytest.mark.parametrize("pk", ["A", "A#1", "a b", "x?y=1&z", "ünï", "100%", "~:@!$&'()*+,;="])
def test_the_url_helper_is_reverse(pk):
    for name in ("work-claim", "attempt-context", "blocker-resolve", "lease-heartbeat"):
        assert api_path(name, pk) == reverse(f"api:{name}", kwargs={"pk": pk})
    assert api_path("work-ready") == reverse("api:work-ready")
    assert api_path("work-claim", "a/b") == "/api/v1/work/a%2Fb/claim/"


# The Swagger page teaches the loop.


def test_the_document_teaches_the_agent_loop(document, anonymous):
    assert document["tags"][0]["name"] == "work"
    description = document["info"]["description"]
    positions = [
        description.index(step)
        for step in (
            "GET /api/v1/work/ready/",
            "POST /api/v1/work/{id}/claim/",
            "GET /api/v1/attempts/{id}/context/",
            "POST /api/v1/attempts/{id}/evidence/",
            "POST /api/v1/attempts/{id}/release/",
        )
    ]
    assert positions == sorted(positions)
    operations = [
        (path, method, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]
    assert all(operation.get("summary") for _, _, operation in operations)
    first = [(path, method) for path, method, _ in operations[:5]]
    assert first == [
        ("/api/v1/work/ready/", "get"),
        ("/api/v1/work/{id}/claim/", "post"),
        ("/api/v1/attempts/{id}/context/", "get"),
        ("/api/v1/attempts/{id}/evidence/", "post"),
        ("/api/v1/attempts/{id}/release/", "post"),
    ]
    claim = document["paths"]["/api/v1/work/{id}/claim/"]["post"]
    example = claim["requestBody"]["content"]["application/json"]["examples"]
    assert [e["value"] for e in example.values()] == [{"ttl_seconds": 900}]
    links = claim["responses"]["201"]["links"]
    assert links["record_evidence"]["parameters"] == {"id": "$response.body#/attempt/id"}
    assert anonymous.get("/api/docs/").status_code == 200


def test_examples_are_realistic(document):
    def numbers(value):
        if isinstance(value, bool):
            return
        if isinstance(value, int | float):
            yield value
        elif isinstance(value, dict):
            for item in value.values():
                yield from numbers(item)
        elif isinstance(value, list):
            for item in value:
                yield from numbers(item)

    examples = []
    for methods in document["paths"].values():
        for operation in methods.values():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                examples += [e["value"] for e in content.get("examples", {}).values()]
    assert len(examples) >= 15
    assert all(abs(n) < 10**6 for example in examples for n in numbers(example))
