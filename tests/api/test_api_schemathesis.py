"""Property-based tests of the whole API against its own OpenAPI document (schemathesis).

Every operation of ``/api/schema/`` is called with generated input (valid and invalid),
authenticated as an agent, through the WSGI application over a seeded database, and every
response must pass four checks: no 5xx (``not_a_server_error``), a documented status
(``status_code_conformance``), the documented content type (``content_type_conformance``)
and the documented body (``response_schema_conformance``).

Operations reach their logic instead of a 404: path parameters are drawn from the seeded
rows as often as at random, and the seed holds the rows the document's examples name
(``RM-42``, ``F-LEASES``, ``agent:reviewer-2``…). A stateful run follows the document's
OpenAPI links through the agent loop: ready work → claim → context → evidence → release.

Generation is derandomized (the same cases every run) and bounded (a couple of minutes on
a two-core machine). Each call, and each stateful scenario, runs in a savepoint that is
rolled back: every case meets the same seeded database, so a failure replays exactly.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from api_support import make_user
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kernel import leases, services
from kernel.models import KernelDecision, KernelEvidence
from programs.models import (
    Bug,
    ChangeRequest,
    CharterDoc,
    Feature,
    Product,
    Program,
    Release,
    Standard,
    StandardAssignment,
)
from roadmap import services as roadmap_services
from roadmap.models import Claim, DeploymentEvent, RoadmapDependency, RoadmapItem
from system import policy
from system.identity import Actor
from system.models import AuditLog

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

#: Generated cases per operation in the fuzzing phase (the examples and coverage phases add
#: their own: the document's examples, boundary values and invalid inputs).
MAX_EXAMPLES = 6
#: Stateful scenarios through the loop's links, and calls per scenario.
SCENARIOS = 15
STEPS = 6


def _settings(max_examples: int, **kwargs) -> settings:
    return settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
        **kwargs,
    )


def openapi_document() -> dict:
    """The document ``/api/schema/`` serves, as plain JSON."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(json.dumps(document, default=str))


@pytest.fixture
def wsgi_app():
    """Django's WSGI application, keeping the test's database connection (and so its
    transaction) across requests, as Django's own test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


#: Seeded ids per collection (the path's first segment after /api/v1/), filled by ``seeded``.
KNOWN: dict[str, list[str]] = {}


@pytest.fixture
def seeded(db):
    """A database an agent can work in: ready, waiting, blocked, in-progress and completed
    items (one with an id that needs quoting), the agent's own attempt with evidence, a
    decision and an outcome, a lease, a blocker, an assignment, deploy claims, legacy kernel
    rows and a program catalog. Returns the headers of the agent ``ada``."""
    lead_user, _ = make_user("lee", agent=False, staff=True, role=policy.Role.LEAD)
    agent_user, token = make_user("ada", agent=True)
    make_user("reviewer-2", agent=True, role=policy.Role.REVIEWER)
    lead, agent = Actor.of(lead_user), Actor.of(agent_user)

    for n, item_id in enumerate(["RM-7", "RM-42", "R3", "R4"], start=1):
        RoadmapItem.objects.create(id=item_id, title=f"Ready {n}", phase_key="phase_a", rank=n)
    RoadmapItem.objects.create(id="DONE", title="Done", phase_key="phase_a", status_key="completed")
    RoadmapItem.objects.create(id="WAIT", title="Waits for RM-7", phase_key="phase_b")
    RoadmapDependency.objects.create(item_id="WAIT", depends_on_id="RM-7")
    RoadmapItem.objects.create(id="A#1", title="An id to quote", phase_key="phase_b")
    RoadmapItem.objects.create(id="WIP", title="Ada's", phase_key="phase_a")
    RoadmapItem.objects.create(id="HELD", title="Blocked", phase_key="phase_a", rank=100)

    claim = services.claim(agent, "WIP", ttl_seconds=600)
    attempt_id = claim["attempt"]["id"]
    evidence = services.record_evidence(
        agent,
        attempt_id,
        {
            "evidence_type": "test_result",
            "uri": "ci://runs/1",
            "sha256": "0" * 64,
            "test_results": '{"passed":3}',
        },
    )
    decision = services.record_decision(
        agent,
        {"decision_type": "plan_committed", "decision_summary": "Plan"},
        attempt_id=attempt_id,
    )
    outcome = services.register_outcome(agent, attempt_id, {"outcome_type": "file", "path": "a"})
    blocker = services.raise_blocker(
        lead, {"reason_code": "missing_info", "title": "Which DB?"}, work_id="HELD"
    )
    lease = leases.acquire_lease(
        agent, resource_type="file", resource_id="README", mode="write", ttl_seconds=600
    )
    assignment = roadmap_services.create_assignment(
        lead, "R3", agent_id=agent.identity, role="implementer", notes=None
    )
    Claim.objects.create(id="CL-1", claim_text="Serves pages", page="/", claim_type="qualitative")
    deployment = DeploymentEvent.objects.create(target="pypi", version="1.0", triggered_by="lee")
    KernelDecision.objects.create(
        id="kd-1",
        work_id="WIP",
        decision_type="plan_committed",
        decision_summary="Legacy",
        decided_by="agent:ada",
    )
    KernelEvidence.objects.create(
        id="ke-1",
        work_id="WIP",
        evidence_type="test_result",
        test_results='{"passed":1}',
        created_by="agent:ada",
    )

    Program.objects.create(id="P1", name="Motus")
    Product.objects.create(id="PR1", program_id="P1", name="Kernel")
    Feature.objects.create(id="F-LEASES", product_id="PR1", name="Leases", version="1.0")
    Release.objects.create(id="REL1", product_id="PR1", name="1.0")
    ChangeRequest.objects.create(id="CR-1", title="Faster", product_id="PR1", feature_id="F-LEASES")
    Bug.objects.create(id="BUG-1", title="Slow", feature_id="F-LEASES", feature_version="1.0")
    Standard.objects.create(
        id="STD-1",
        name="Tests",
        level_key="feature",
        check_type_key="boolean",
        failure_message="Fails.",
    )
    StandardAssignment.objects.create(
        standard_id="STD-1", entity_type="feature", entity_id="F-LEASES"
    )
    CharterDoc.objects.create(
        id="CH-1", doc_type_key="roadmap", version="1.0", title="Roadmap", content_hash="a"
    )

    KNOWN.clear()
    KNOWN.update(
        {
            "items": ["RM-42", "DONE", "WAIT", "A#1", "WIP", "HELD"],
            "work": ["RM-42", "R4", "DONE", "WAIT", "WIP", "HELD", "A#1"],
            "attempts": [attempt_id],
            "evidence": [evidence["id"]],
            "decisions": [decision["id"]],
            "kernel-outcomes": [outcome["id"]],
            "kernel-decisions": ["kd-1"],
            "kernel-evidence": ["ke-1"],
            "blockers": [blocker["id"]],
            "leases": [lease["id"], claim["lease"]["id"]],
            "assignments": [str(assignment.id)],
            "claims": ["CL-1"],
            "deployments": [str(deployment.id)],
            "contracts": [claim["contract"]["hash"]],
            "audit-log": [str(AuditLog.objects.order_by("id").values_list("id", flat=True)[0])],
            "programs": ["P1"],
            "products": ["PR1"],
            "features": ["F-LEASES"],
            "releases": ["REL1"],
            "change-requests": ["CR-1"],
            "bugs": ["BUG-1"],
            "standards": ["STD-1"],
            "charters": ["CH-1"],
            "depends_on_id": ["RM-7"],
        }
    )
    return {"Authorization": f"Bearer {token}"}


def _with_known_ids(context, path_parameters):
    """``flatmap_path_parameters``: a seeded row's id as often as the generated value, so
    that operations get past their 404."""
    if not path_parameters:
        return st.just(path_parameters)
    collection = context.operation.path.split("/")[3]
    strategies = {}
    for name, value in path_parameters.items():
        known = KNOWN.get(name if name == "depends_on_id" else collection, [])
        strategies[name] = st.sampled_from(known) | st.just(value) if known else st.just(value)
    return st.fixed_dictionaries(strategies)


DOCUMENT = openapi_document()
schema = schemathesis.openapi.from_dict(DOCUMENT)
schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True)
# Methods an operation does not have answer 405 everywhere (Django/DRF); not worth the time.
schema.config.phases.coverage.unexpected_methods = set()
schema.hook("flatmap_path_parameters")(_with_known_ids)
#: The loop's operations, chained by links alone (no seeded ids: each id comes from the
#: previous response).
loop_schema = schemathesis.openapi.from_dict(DOCUMENT).include(
    path_regex=r"^/api/v1/(work/|attempts/\{id\}/(evidence|release)/)"
)
loop_schema.config.generation.update(deterministic=True)


@schema.parametrize()
@_settings(MAX_EXAMPLES)
def test_every_operation_conforms_to_the_schema(case, seeded, wsgi_app):
    with transaction.atomic():
        case.call_and_validate(app=wsgi_app, headers=seeded, checks=CHECKS)
        transaction.set_rollback(True)


def _pointer(document, expression: str):
    """The value of a runtime expression ``$response.body#/a/0/b`` in a response body."""
    prefix = "$response.body#"
    assert expression.startswith(prefix), expression
    value = document
    for token in expression[len(prefix) :].split("/")[1:]:
        value = value[int(token)] if isinstance(value, list) else value[token]
    return value


def _operation_by_id(operation_id: str) -> tuple[str, str]:
    for path, methods in DOCUMENT["paths"].items():
        for method, operation in methods.items():
            if operation["operationId"] == operation_id:
                return path, method
    raise KeyError(operation_id)


def test_the_loop_follows_the_documents_links(seeded, wsgi_app):
    """ready → claim → context → evidence → release, each call's path and body taken from
    the previous response through the link the document declares, each response checked."""

    def call(path, method, *, path_parameters=None, body=None):
        operation = schema[path][method.upper()]
        kwargs = {"path_parameters": path_parameters or {}}
        if body is not None:
            kwargs["body"] = body
        case = operation.Case(**kwargs)
        response = case.call(app=wsgi_app, headers=seeded)
        case.validate_response(response, checks=CHECKS)
        return response

    def follow(path, method, response, link_name, body=None):
        status = str(response.status_code)
        link = DOCUMENT["paths"][path][method]["responses"][status]["links"][link_name]
        target_path, target_method = _operation_by_id(link["operationId"])
        parameters = {
            name: _pointer(response.json(), expression)
            for name, expression in link.get("parameters", {}).items()
        }
        body = {**(body or {}), **link.get("requestBody", {})}
        reply = call(target_path, target_method, path_parameters=parameters, body=body or None)
        return target_path, target_method, reply

    ready = call("/api/v1/work/ready/", "get")
    assert ready.status_code == 200
    step = follow("/api/v1/work/ready/", "get", ready, "claim", body={"ttl_seconds": 900})
    assert step[2].status_code == 201, step[2].text
    claim = step
    step = follow(*claim, "context")
    assert step[2].status_code == 200 and step[2].json()["item"]["id"] == "RM-7"
    evidence_example = next(
        iter(
            DOCUMENT["paths"]["/api/v1/attempts/{id}/evidence/"]["post"]["requestBody"]["content"][
                "application/json"
            ]["examples"].values()
        )
    )["value"]
    step = follow(*step, "record_evidence", body=evidence_example)
    assert step[2].status_code == 201, step[2].text
    step = follow(*step, "release_completed")
    assert step[2].status_code == 200, step[2].text
    assert step[2].json()["item"] == {"id": "RM-7", "status": "completed"}
    step = follow(*step, "ready")
    assert "RM-7" not in [row["id"] for row in step[2].json()["results"]]


def test_stateful_scenarios_through_the_documents_links(seeded, wsgi_app):
    """Generated scenarios chained by the document's links among the loop's operations
    (ready → claim → evidence → release), every response checked; at least one claim is
    reached through a link."""
    claimed = []

    class AgentLoop(loop_schema.as_state_machine()):
        def setup(self):
            self._savepoint = transaction.atomic()
            self._savepoint.__enter__()

        def teardown(self):
            transaction.set_rollback(True)
            self._savepoint.__exit__(None, None, None)

        def get_call_kwargs(self, case):
            return {"app": wsgi_app, "headers": seeded}

        def after_call(self, response, case):
            super().after_call(response, case)
            if (case.operation.path, response.status_code) == ("/api/v1/work/{id}/claim/", 201):
                claimed.append(case.path_parameters["id"])

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    AgentLoop.run(settings=_settings(SCENARIOS, stateful_step_count=STEPS))
    assert claimed
