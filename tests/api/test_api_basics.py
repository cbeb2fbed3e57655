"""Identity, tokens, the common error shape, safe retries and the OpenAPI document."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from api_support import ApiClient, error_of
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.test import Client
from drf_spectacular.drainage import GENERATOR_STATS

from kernel.models import Attempt, Blocker
from system import policy
from system.fields import utc_now
from system.models import ApiToken, AuditLog, IdempotencyKey

# Identity and tokens.


def test_missing_or_bad_credentials_are_401(anonymous, alice):
    response = anonymous.get("/api/v1/whoami/")
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    bad = ApiClient("x", "motus_not-a-token").get("/api/v1/whoami/")
    assert bad.status_code == 401 and error_of(bad)["code"] == "authentication_failed"
    empty = Client(HTTP_AUTHORIZATION="Bearer ").get("/api/v1/whoami/")
    assert empty.status_code == 401


def test_identity_of_agents_and_people(alice, api_for):
    assert alice.get("/api/v1/whoami/").json() == {
        "identity": "agent:alice",
        "worker_type": "agent",
        "username": "alice",
        "is_staff": False,
        "roles": ["agent"],
        "permissions": sorted(policy.ROLE_PERMISSIONS[policy.Role.AGENT] + (policy.READ,)),
    }
    pat = api_for("pat", agent=False)
    assert pat.get("/api/v1/whoami/").json()["identity"] == "user:pat"


def test_identity_in_the_body_is_ignored(alice, make_item):
    make_item("A")
    response = alice.post("/api/v1/work/A/claim/", {"worker_id": "agent:mallory"})
    assert response.json()["attempt"]["worker_id"] == "agent:alice"
    assert not AuditLog.objects.filter(actor="agent:mallory").exists()


def test_revoked_token_and_inactive_user_are_refused(alice):
    token = ApiToken.objects.get(user=alice.user)
    token.revoked_at = utc_now()
    token.save()
    assert alice.get("/api/v1/whoami/").status_code == 401
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=None)
    User.objects.filter(pk=alice.user.pk).update(is_active=False)
    assert alice.get("/api/v1/whoami/").status_code == 401


def test_last_used_is_written_at_most_once_a_minute(alice):
    token = ApiToken.objects.get(user=alice.user)
    assert token.last_used_at is None
    alice.get("/api/v1/whoami/")
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    earlier = first - dt.timedelta(seconds=30)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=earlier)
    alice.get("/api/v1/whoami/")
    assert ApiToken.objects.get(pk=token.pk).last_used_at == earlier
    stale = first - dt.timedelta(seconds=61)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=stale)
    alice.get("/api/v1/whoami/")
    assert ApiToken.objects.get(pk=token.pk).last_used_at > stale


def test_create_agent_prints_a_token_once(db):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_agent", "builder", stdout=out, stderr=err)
    raw_key = out.getvalue().strip()
    assert raw_key.startswith("motus_") and "not shown again" in err.getvalue()
    token = ApiToken.objects.get(user__username="builder")
    assert token.key_digest == ApiToken.digest(raw_key) and raw_key not in token.key_digest
    client = ApiClient("agent:builder", raw_key)
    assert client.get("/api/v1/whoami/").json()["identity"] == "agent:builder"
    with pytest.raises(CommandError):
        call_command("create_agent", "builder", stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(CommandError):
        call_command("create_agent", "bad name", stdout=io.StringIO(), stderr=io.StringIO())
    second = io.StringIO()
    call_command("create_agent", "builder", "--new-token", stdout=second, stderr=io.StringIO())
    assert second.getvalue().strip() != raw_key
    assert ApiToken.objects.filter(user__username="builder").count() == 2


def test_staff_session_works_with_csrf_and_others_sessions_do_not(db, make_item):
    make_item("A")
    staff = User.objects.create_user("sam", is_staff=True)
    staff.groups.add(Group.objects.get(name=policy.group_name(policy.Role.LEAD)))
    session = Client(enforce_csrf_checks=True)
    session.force_login(staff)
    assert session.get("/api/v1/whoami/").json()["identity"] == "user:sam"
    no_csrf = session.post("/api/v1/work/A/claim/", "{}", content_type="application/json")
    assert no_csrf.status_code == 403 and "CSRF" in error_of(no_csrf)["message"]
    session.get("/admin/")  # renders a form, which sets the CSRF cookie
    csrf = session.cookies["csrftoken"].value
    claimed = session.post(
        "/api/v1/work/A/claim/", "{}", content_type="application/json", HTTP_X_CSRFTOKEN=csrf
    )
    assert claimed.status_code == 201
    assert claimed.json()["attempt"]["worker_type"] == "human"
    plain = Client()
    plain.force_login(User.objects.create_user("visitor"))
    assert plain.get("/api/v1/whoami/").status_code == 401


# One error shape.


def test_error_shape_for_each_status(alice, bob, make_item):
    make_item("A")
    attempt_id = alice.post("/api/v1/work/A/claim/").json()["attempt"]["id"]
    cases = {
        400: alice.post("/api/v1/items/", {"phase_key": "phase_a"}),
        403: bob.post(f"/api/v1/attempts/{attempt_id}/heartbeat/"),
        404: alice.get("/api/v1/items/NOPE/"),
        405: alice.put("/api/v1/items/A/", {}),
        409: bob.post("/api/v1/work/A/claim/"),
    }
    for status_code, response in cases.items():
        assert response.status_code == status_code
        error_of(response)
    assert error_of(cases[400])["fields"] == {"title": ["This field is required."]}


def test_unknown_api_path_answers_json_404(alice):
    response = alice.get("/api/v1/no/such/thing/")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_malformed_json_is_400(alice):
    response = alice.client.post("/api/v1/items/", "{not json", content_type="application/json")
    assert response.status_code == 400 and error_of(response)["code"] == "parse_error"
    form = alice.client.post("/api/v1/items/", {"title": "x"})
    assert form.status_code == 415


POST_ENDPOINTS = [
    "/api/v1/items/",
    "/api/v1/items/A/dependencies/",
    "/api/v1/assignments/",
    "/api/v1/claims/",
    "/api/v1/deployments/",
    "/api/v1/work/A/claim/",
    "/api/v1/attempts/{attempt}/outcomes/",
    "/api/v1/attempts/{attempt}/evidence/",
    "/api/v1/attempts/{attempt}/decisions/",
    "/api/v1/attempts/{attempt}/blockers/",
    "/api/v1/attempts/{attempt}/release/",
    "/api/v1/attempts/{attempt}/heartbeat/",
    "/api/v1/attempts/{attempt}/handoff/",
    "/api/v1/decisions/",
    "/api/v1/blockers/",
    "/api/v1/leases/",
]
GARBAGE = [[], "text", 42, None, {"ttl_seconds": "soon"}, {"disposition": []}, {"x": {"y": 1}}]


def test_bad_input_never_causes_a_500(alice, make_item):
    make_item("A")
    make_item("B")
    attempt_id = alice.post("/api/v1/work/B/claim/").json()["attempt"]["id"]
    for template in POST_ENDPOINTS:
        path = template.format(attempt=attempt_id)
        for body in GARBAGE:
            response = alice.client.post(path, json.dumps(body), content_type="application/json")
            assert response.status_code < 500, (path, body, response.content)
            if response.status_code >= 400:
                error_of(response)
            else:  # unknown fields are ignored by the calls that need no input
                assert path.endswith(("/claim/", "/heartbeat/")) and isinstance(body, dict)


def test_bad_query_parameters_and_patches_are_400_not_500(alice, make_item):
    make_item("A")
    since = alice.get("/api/v1/audit-log/", {"since": "last tuesday"})
    assert since.status_code == 400 and "since" in error_of(since)["fields"]
    # Unreadable booleans, limits and orderings are ignored, as django-filter and DRF do.
    for path, params in [
        ("/api/v1/attempts/", {"active": "maybe"}),
        ("/api/v1/leases/", {"active": "perhaps"}),
        ("/api/v1/items/", {"limit": "many", "ordering": "nope"}),
    ]:
        assert alice.get(path, params).status_code == 200
    for body in GARBAGE:
        for path in ("/api/v1/items/A/", "/api/v1/claims/NOPE/"):
            response = alice.client.patch(path, json.dumps(body), content_type="application/json")
            assert response.status_code < 500, (path, body, response.content)


# Safe retries.


def test_retried_claim_with_the_same_key_returns_the_same_attempt(alice, make_item):
    make_item("A")
    key = {"HTTP_IDEMPOTENCY_KEY": "claim-A-1"}
    first = alice.post("/api/v1/work/A/claim/", {"ttl_seconds": 300}, **key)
    second = alice.post("/api/v1/work/A/claim/", {"ttl_seconds": 300}, **key)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert Attempt.objects.filter(work_id="A").count() == 1
    stored = IdempotencyKey.objects.get(key="agent:alice claim-A-1")
    assert (stored.status, stored.operation, stored.created_by) == (
        "complete",
        "POST /api/v1/work/A/claim/",
        "agent:alice",
    )
    assert stored.expires_at > stored.created_at
    assert AuditLog.objects.filter(action="claim").count() == 1


def test_same_key_with_another_body_is_422(alice, make_item):
    make_item("A")
    key = {"HTTP_IDEMPOTENCY_KEY": "k1"}
    assert alice.post("/api/v1/work/A/claim/", {"ttl_seconds": 300}, **key).status_code == 201
    response = alice.post("/api/v1/work/A/claim/", {"ttl_seconds": 60}, **key)
    assert response.status_code == 422
    assert error_of(response)["code"] == "idempotency_key_reused"
    other_path = alice.post("/api/v1/leases/", {"ttl_seconds": 300}, **key)
    assert other_path.status_code == 422


def test_a_refused_request_runs_again_on_retry(alice, staff, make_item):
    make_item("A")
    blocker = staff.post(
        "/api/v1/blockers/", {"work_id": "A", "reason_code": "other", "title": "Wait"}
    ).json()["record"]
    key = {"HTTP_IDEMPOTENCY_KEY": "claim-after-blocker"}
    refused = alice.post("/api/v1/work/A/claim/", {}, **key)
    assert refused.status_code == 409
    assert IdempotencyKey.objects.get(key="agent:alice claim-after-blocker").status == "failed"
    Blocker.objects.filter(pk=blocker["id"]).update(created_at=utc_now() - dt.timedelta(seconds=5))
    staff.post(
        "/api/v1/decisions/", {"work_id": "A", "decision_type": "waiver", "decision_summary": "ok"}
    )
    resolved = staff.post(f"/api/v1/blockers/{blocker['id']}/resolve/", {"resolution": "waived"})
    assert resolved.status_code == 200
    retried = alice.post("/api/v1/work/A/claim/", {}, **key)
    assert retried.status_code == 201
    assert IdempotencyKey.objects.get(key="agent:alice claim-after-blocker").status == "complete"


def test_keys_are_scoped_per_caller(alice, bob, make_item):
    make_item("A")
    make_item("B")
    key = {"HTTP_IDEMPOTENCY_KEY": "same-key"}
    assert alice.post("/api/v1/work/A/claim/", {}, **key).status_code == 201
    bobs = bob.post("/api/v1/work/B/claim/", {}, **key)
    assert bobs.status_code == 201 and bobs.json()["attempt"]["worker_id"] == "agent:bob"


def test_key_length_is_checked(alice, make_item):
    make_item("A")
    response = alice.post("/api/v1/work/A/claim/", {}, HTTP_IDEMPOTENCY_KEY="k" * 201)
    assert response.status_code == 400 and "Idempotency-Key" in error_of(response)["fields"]
    assert not Attempt.objects.exists()


# OpenAPI.


def test_openapi_schema_is_valid_without_warnings(alice, tmp_path):
    GENERATOR_STATS.reset()
    output = tmp_path / "schema.json"
    # Raises SchemaGenerationError on any warning, and validates against the OpenAPI spec.
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--format",
        "openapi-json",
        "--file",
        str(output),
        stderr=io.StringIO(),
    )
    assert json.loads(output.read_text())["openapi"].startswith("3.")
    served = alice.get("/api/schema/", {"format": "json"}).json()
    assert "/api/v1/work/{id}/claim/" in served["paths"]
    error = served["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["$ref"].endswith("/ErrorDetail")
    claim_responses = served["paths"]["/api/v1/work/{id}/claim/"]["post"]["responses"]
    assert {"201", "400", "401", "403", "404", "409", "422"} <= set(claim_responses)
    parameters = served["paths"]["/api/v1/work/{id}/claim/"]["post"]["parameters"]
    assert "Idempotency-Key" in {p["name"] for p in parameters}


def test_swagger_ui_is_served_offline(anonymous):
    page = anonymous.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    asset = anonymous.client.get(
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
    )
    assert asset.status_code == 200
    assert anonymous.get("/api/schema/").status_code == 200
    assert anonymous.get("/api/v1/work/ready/").status_code == 401


def _api_endpoints(patterns, prefix=""):
    from django.urls import URLPattern, URLResolver

    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _api_endpoints(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def test_every_post_handler_of_the_api_takes_an_idempotency_key():
    """Every POST of the API replays with the same ``Idempotency-Key``: each handler carries
    ``system.api.idempotency.idempotent`` (a new one without it fails here)."""
    from django.urls import get_resolver

    post_handlers = {}
    for route, callback in _api_endpoints(get_resolver().url_patterns):
        view_class = getattr(callback, "cls", None)
        if view_class is None or not route.startswith("api/"):
            continue
        actions = getattr(callback, "actions", None)  # a viewset route: method → action
        name = actions.get("post") if actions is not None else "post"
        handler = getattr(view_class, name, None) if name else None
        if handler is not None:
            post_handlers[f"{route} {view_class.__name__}.{name}"] = handler
    assert len(post_handlers) >= 25
    missing = sorted(
        key for key, handler in post_handlers.items() if not getattr(handler, "idempotent", False)
    )
    assert missing == []
