"""The MCP server, driven by the official SDK's own client over both transports:

- streamable HTTP at ``/mcp/`` on a live server, with the REST API's Bearer tokens;
- stdio: ``manage.py mcp --agent NAME`` spawned by the SDK's stdio client against a
  migrated scratch database (a file; on PostgreSQL a database of its own).

Each runs the loop (ready → claim → context → evidence → decision → release), a refused
double claim (the kernel's message as a tool error, not a protocol failure) and a blocker
with the release as blocked. The HTTP cycle is checked against the same cycle over the
REST API: the same audit rows (actor, action) and the same database state.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import urllib.error
import urllib.request
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import backends
import httpx2
import jsonschema
import pytest
from api_support import ApiClient, error_of, make_user
from conftest import ROOT, manage
from django.core.cache import cache
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from kernel.models import Attempt, Blocker, Decision, Evidence, Lease
from roadmap.models import RoadmapAssignment, RoadmapItem
from system.models import AuditLog

TOOLS = {
    "ready_work",
    "claim_work",
    "work_context",
    "record_evidence",
    "record_decision",
    "record_outcome",
    "raise_blocker",
    "resolve_blocker",
    "heartbeat",
    "release_work",
    "handoff_work",
    "my_work",
    "acquire_lease",
    "release_lease",
    "roadmap_item",
    "roadmap_progress",
}
DOUBLE_CLAIM = "KERNEL: Work already has active attempt. Use handoff instead of new claim."
EVIDENCE = {"evidence_type": "test_result", "uri": "ci://runs/1/report.xml", "content": "ok"}
DECISION = {"decision_type": "plan_committed", "decision_summary": "Do it", "rationale": "Why"}
BLOCKER = {"reason_code": "missing_credential", "title": "Need the staging password"}


def run(scenario, *args):
    """Run an async scenario (the SDK's client) from a synchronous test."""
    return anyio.run(scenario, *args)


@asynccontextmanager
async def http_session(url: str, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
        async with Client(streamable_http_client(url, http_client=http)) as client:
            yield client


def stdio_params(db: Path | str, agent: str) -> StdioServerParameters:
    """``db``: a SQLite file, or a ``postgres://`` URL."""
    if str(db).startswith("postgres"):
        env = {"DATABASE_URL": str(db)}
    else:
        env = {"MOTUS_DB_PATH": str(db)}
    return StdioServerParameters(
        command=sys.executable,
        args=["manage.py", "mcp", "--agent", agent],
        cwd=str(ROOT),
        env=env,
    )


def open_db(db: Path | str):
    """An autocommit connection to the scratch database, as the `motus` tool holds one."""
    if backends.POSTGRESQL:
        return backends.PgConnection(str(db))
    return sqlite3.connect(db, isolation_level=None)


def refusal_of(result) -> tuple[str, dict]:
    """(first line, error body) of a tool error."""
    assert result.is_error, result
    first, body = (block.text for block in result.content)
    return first, json.loads(body)["error"]


async def check_tool_list(client) -> None:
    tools = (await client.list_tools()).tools
    assert {tool.name for tool in tools} == TOOLS
    for tool in tools:
        assert tool.description and tool.input_schema["type"] == "object"
        assert tool.output_schema["type"] == "object"
        jsonschema.Draft202012Validator.check_schema(tool.input_schema)
        jsonschema.Draft202012Validator.check_schema(tool.output_schema)
    claim = next(tool for tool in tools if tool.name == "claim_work")
    assert claim.input_schema["required"] == ["work_id"]
    assert "work_context" in claim.description


async def cycle(client, work_id: str) -> dict:
    """ready → claim → context → evidence → decision → release(completed); the results.
    (The SDK's client checks every result against the tool's output schema.)"""
    ready = (await client.call_tool("ready_work", {})).structured_content
    row = next(item for item in ready["items"] if item["id"] == work_id)
    assert row["claim"] == {"tool": "claim_work", "arguments": {"work_id": work_id}}
    claim = await client.call_tool("claim_work", {"work_id": work_id, "ttl_seconds": 600})
    assert not claim.is_error, claim.content
    attempt_id = claim.structured_content["attempt"]["id"]
    next_tools = {a["tool"] for a in claim.structured_content["next_actions"]}
    assert {"work_context", "record_evidence", "release_work", "heartbeat"} <= next_tools
    context = await client.call_tool("work_context", {"attempt_id": attempt_id})
    assert context.structured_content["item"]["id"] == work_id
    assert context.structured_content["item"]["status"] == "in_progress"
    evidence = await client.call_tool("record_evidence", {"attempt_id": attempt_id, **EVIDENCE})
    assert not evidence.is_error, evidence.content
    decision = await client.call_tool("record_decision", {"attempt_id": attempt_id, **DECISION})
    assert not decision.is_error, decision.content
    release = await client.call_tool(
        "release_work", {"attempt_id": attempt_id, "disposition": "completed"}
    )
    assert not release.is_error, release.content
    assert release.structured_content["item"] == {"id": work_id, "status": "completed"}
    assert release.structured_content["next_actions"] == [{"tool": "ready_work", "arguments": {}}]
    return {
        "attempt_id": attempt_id,
        "evidence": evidence.structured_content["record"],
        "decision": decision.structured_content["record"],
    }


async def blocked(client, work_id: str) -> str:
    """Claim, raise a blocker on the attempt, release as blocked; the blocker's id."""
    claim = await client.call_tool("claim_work", {"work_id": work_id})
    attempt_id = claim.structured_content["attempt"]["id"]
    raised = await client.call_tool("raise_blocker", {"attempt_id": attempt_id, **BLOCKER})
    assert not raised.is_error, raised.content
    blocker = raised.structured_content["record"]
    assert (blocker["work_id"], blocker["attempt_id"]) == (work_id, attempt_id)
    release = await client.call_tool(
        "release_work", {"attempt_id": attempt_id, "disposition": "blocked"}
    )
    assert not release.is_error, release.content
    assert release.structured_content["item"]["status"] == "blocked"
    ready = (await client.call_tool("ready_work", {})).structured_content
    assert work_id not in {item["id"] for item in ready["items"]}
    return blocker["id"]


# Streamable HTTP: the live server, Bearer tokens.


def seed(*item_ids: str) -> None:
    for item_id in item_ids:
        RoadmapItem.objects.create(id=item_id, phase_key="phase_a", title=f"Item {item_id}")


def audit_trail(actor: str) -> list[tuple]:
    return [
        (row.event_type, row.resource_type, row.action, sorted(json.loads(row.new_value or "{}")))
        for row in AuditLog.objects.filter(actor=actor).order_by("id")
    ]


def state_of(work_id: str, worker: str) -> dict:
    """The rows a cycle leaves, without ids, times and the worker's name."""
    attempt = Attempt.objects.get(work_id=work_id)
    lease = Lease.objects.get(attempt_id=attempt.id)
    return {
        "item": RoadmapItem.objects.filter(pk=work_id).values_list("status_key", flat=True)[0],
        "attempt": (
            attempt.worker_id == worker,
            attempt.worker_type,
            attempt.outcome,
            attempt.ended_at is not None,
        ),
        "assignments": list(
            RoadmapAssignment.objects.filter(item_id=work_id).values_list(
                "agent_id", "role", "status"
            )
        ),
        "lease": (lease.worker_id == worker, lease.mode, lease.released_at is not None),
        "evidence": list(
            Evidence.objects.filter(work_id=work_id).values_list(
                "evidence_type", "uri", "sha256", "size_bytes", "created_by"
            )
        ),
        "decisions": list(
            Decision.objects.filter(work_id=work_id).values_list(
                "decision_type", "decision_summary", "rationale", "decided_by"
            )
        ),
    }


@pytest.mark.django_db(transaction=True)
def test_http_cycle_is_the_rest_cycle(live_server):
    seed("MCP-1", "REST-1")
    _, token = make_user("mcpagent", agent=True)

    async def scenario():
        async with http_session(f"{live_server.url}/mcp/", token) as client:
            await check_tool_list(client)
            return await cycle(client, "MCP-1")

    done = run(scenario)

    rest = ApiClient("agent:restagent", make_user("restagent", agent=True)[1])
    claim = rest.post("/api/v1/work/REST-1/claim/", {"ttl_seconds": 600}).json()
    attempt = claim["attempt"]["id"]
    assert rest.post(f"/api/v1/attempts/{attempt}/evidence/", EVIDENCE).status_code == 201
    assert rest.post(f"/api/v1/attempts/{attempt}/decisions/", DECISION).status_code == 201
    released = rest.post(f"/api/v1/attempts/{attempt}/release/", {"disposition": "completed"})
    assert released.status_code == 200

    # The same rows, written by the same services under each caller's own identity.
    trail = audit_trail("agent:mcpagent")
    assert [(resource, action) for _, resource, action, _ in trail] == [
        ("roadmap_item", "status_change"),  # pending → in_progress
        ("roadmap_assignment", "assign"),  # (the assignment trigger's row)
        ("attempt", "claim"),
        ("evidence", "create"),
        ("decision", "create"),
        ("roadmap_item", "status_change"),  # in_progress → completed
        ("attempt", "release"),
    ]
    assert trail == audit_trail("agent:restagent")
    mcp_state = state_of("MCP-1", "agent:mcpagent")
    rest_state = state_of("REST-1", "agent:restagent")
    assert json.dumps(mcp_state).replace("mcpagent", "X") == json.dumps(rest_state).replace(
        "restagent", "X"
    )
    assert mcp_state["item"] == "completed"
    assert mcp_state["attempt"] == (True, "agent", "completed", True)
    # The results are the REST bodies (same serializers).
    evidence = rest.get(f"/api/v1/evidence/{done['evidence']['id']}/").json()
    assert evidence == done["evidence"]


@pytest.mark.django_db(transaction=True)
def test_http_double_claim_is_a_tool_error_with_the_kernel_message(live_server):
    seed("TAKEN")
    _, alice = make_user("alice", agent=True)
    _, bob = make_user("bob", agent=True)
    url = f"{live_server.url}/mcp/"

    async def scenario():
        async with http_session(url, alice) as first, http_session(url, bob) as second:
            won = await first.call_tool("claim_work", {"work_id": "TAKEN"})
            lost = await second.call_tool("claim_work", {"work_id": "TAKEN"})
            again = await first.call_tool("claim_work", {"work_id": "TAKEN"})
            return won, lost, again

    won, lost, again = run(scenario)
    assert not won.is_error
    first, error = refusal_of(lost)
    assert first == f"409 kernel_rule: {DOUBLE_CLAIM}"
    assert (error["status"], error["code"], error["message"]) == (409, "kernel_rule", DOUBLE_CLAIM)
    # The details are the REST API's (the obstacles), next actions as tool calls.
    active = error["details"]["active_attempt"]
    assert active["id"] == won.structured_content["attempt"]["id"]
    assert active["worker_id"] == "agent:alice"
    assert error["details"]["next_actions"] == [{"tool": "ready_work", "arguments": {}}]
    assert refusal_of(again)[0] == f"409 kernel_rule: {DOUBLE_CLAIM}"
    # The REST API refuses the same claim with the same error.
    rest = error_of(ApiClient("agent:bob", bob).post("/api/v1/work/TAKEN/claim/", {}))
    assert (rest["code"], rest["message"]) == ("kernel_rule", DOUBLE_CLAIM)
    assert Attempt.objects.filter(work_id="TAKEN").count() == 1
    assert not AuditLog.objects.filter(actor="agent:bob").exists()


@pytest.mark.django_db(transaction=True)
def test_http_blocker_and_release_as_blocked(live_server):
    seed("STUCK")
    _, token = make_user("carol", agent=True)

    async def scenario():
        async with http_session(f"{live_server.url}/mcp/", token) as client:
            blocker_id = await blocked(client, "STUCK")
            # Resolving needs evidence newer than the blocker: the database says so.
            early = await client.call_tool(
                "resolve_blocker", {"blocker_id": blocker_id, "resolution": "Found it"}
            )
            item = await client.call_tool("roadmap_item", {"item_id": "STUCK"})
            return blocker_id, early, item.structured_content

    blocker_id, early, item = run(scenario)
    blocker = Blocker.objects.get(pk=blocker_id)
    assert blocker.resolved_at is None and blocker.created_by == "agent:carol"
    assert RoadmapItem.objects.get(pk="STUCK").status_key == "blocked"
    assert Attempt.objects.get(work_id="STUCK").outcome == "blocked"
    first, error = refusal_of(early)
    assert first.startswith("409 ") and error["message"] in first
    assert item["status_key"] == "blocked" and item["counts"]["open_blockers"] == 1
    actions = [(r.resource_type, r.action) for r in AuditLog.objects.filter(actor="agent:carol")]
    assert ("blocker", "create") in actions and ("attempt", "release") in actions


@pytest.mark.django_db(transaction=True)
def test_http_refuses_a_missing_or_unknown_token(live_server):
    url = f"{live_server.url}/mcp/"

    async def connect(token):
        async with http_session(url, token) as client:
            await client.list_tools()

    refusals = {
        None: "401 not_authenticated: Authentication credentials were not provided",
        "motus_not-a-token": "401 authentication_failed: Unknown or revoked token.",
    }
    for token, message in refusals.items():
        with pytest.raises(BaseExceptionGroup) as refused:  # the client's task groups wrap it
            run(connect, token)
        matched, _ = refused.value.split(
            lambda e, expected=message: isinstance(e, MCPError) and expected in str(e)
        )
        assert matched is not None, refused.value

    request = urllib.request.Request(
        url,
        data=b'{"jsonrpc": "2.0", "id": 1, "method": "ping"}',
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 401
    assert refused.value.headers["WWW-Authenticate"] == 'Bearer realm="mcp"'
    error = json.loads(refused.value.read())["error"]
    assert error["data"]["code"] == "not_authenticated"


@pytest.mark.django_db(transaction=True)
def test_http_account_without_a_role_is_refused_per_call(live_server):
    _, token = make_user("norole", agent=True, role="")
    seed("OPEN")

    async def scenario():
        async with http_session(f"{live_server.url}/mcp/", token) as client:
            return await client.call_tool("claim_work", {"work_id": "OPEN"})

    first, error = refusal_of(run(scenario))
    assert first.startswith("403 permission_denied: Your account has no role")
    assert not Attempt.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_http_writes_count_against_the_token_write_rate(live_server, settings):
    """The REST API's per-token write throttle: each tool that writes is one write."""
    framework = dict(settings.REST_FRAMEWORK)
    framework["DEFAULT_THROTTLE_RATES"] = {**framework["DEFAULT_THROTTLE_RATES"], "writes": "2/min"}
    settings.REST_FRAMEWORK = framework
    cache.clear()
    seed("W-1", "W-2", "W-3")
    _, token = make_user("busy", agent=True)

    async def scenario():
        async with http_session(f"{live_server.url}/mcp/", token) as client:
            for _ in range(3):  # reads do not count
                assert not (await client.call_tool("ready_work", {})).is_error
            claims = [
                await client.call_tool("claim_work", {"work_id": work_id})
                for work_id in ("W-1", "W-2", "W-3")
            ]
            return claims, await client.call_tool("my_work", {})

    try:
        claims, mine = run(scenario)
    finally:
        cache.clear()
    assert [claim.is_error for claim in claims] == [False, False, True]
    first, error = refusal_of(claims[2])
    assert first.startswith("429 throttled: Request was throttled.")
    assert 0 < error["details"]["retry_after"] <= 60
    assert not mine.is_error and len(mine.structured_content["attempts"]) == 2
    assert not Attempt.objects.filter(work_id="W-3").exists()


@pytest.mark.django_db(transaction=True)
def test_http_invalid_arguments_get_the_rest_validation_errors(live_server):
    seed("CHECKED")
    _, token = make_user("dave", agent=True)
    rest = ApiClient("agent:dave", token)
    attempt = rest.post("/api/v1/work/CHECKED/claim/", {}).json()["attempt"]["id"]
    bad = {"evidence_type": "rumour", "uri": "x"}

    async def scenario():
        async with http_session(f"{live_server.url}/mcp/", token) as client:
            return await client.call_tool("record_evidence", {"attempt_id": attempt, **bad})

    first, error = refusal_of(run(scenario))
    assert first == "400 validation_error: Invalid input."
    assert error == error_of(rest.post(f"/api/v1/attempts/{attempt}/evidence/", bad))


@pytest.mark.django_db(transaction=True)
def test_http_resources_and_prompt(live_server):
    seed("DOC-1")
    _, token = make_user("erin", agent=True)

    async def scenario():
        async with http_session(f"{live_server.url}/mcp/", token) as client:
            resources = (await client.list_resources()).resources
            templates = (await client.list_resource_templates()).resource_templates
            roadmap = (await client.read_resource("motus://roadmap")).contents[0]
            item = (await client.read_resource("motus://items/DOC-1")).contents[0]
            with pytest.raises(MCPError) as missing:
                await client.read_resource("motus://items/NOPE")
            prompts = (await client.list_prompts()).prompts
            prompt = await client.get_prompt("work_cycle", {"work_id": "DOC-1"})
            progress = await client.call_tool("roadmap_progress", {})
            return resources, templates, roadmap, item, missing.value, prompts, prompt, progress

    resources, templates, roadmap, item, missing, prompts, prompt, progress = run(scenario)
    assert [r.uri for r in resources] == ["motus://roadmap"]
    assert [t.uri_template for t in templates] == ["motus://items/{id}"]
    assert roadmap.mime_type == "text/markdown" and "DOC-1" in roadmap.text
    detail = json.loads(item.text)
    assert detail["id"] == "DOC-1"
    assert detail["next_actions"] == [{"tool": "claim_work", "arguments": {"work_id": "DOC-1"}}]
    assert "404 not_found" in str(missing)
    assert [p.name for p in prompts] == ["work_cycle"]
    text = prompt.messages[0].content.text
    assert "agent:erin" in text and "DOC-1" in text and "release_work" in text
    phases = {row["phase_key"]: row for row in progress.structured_content["phases"]}
    assert (phases["phase_a"]["total_items"], phases["phase_a"]["completed"]) == (1, 0)


# stdio: manage.py mcp --agent NAME on a scratch database file.


@pytest.fixture
def stdio_db(raw_db_path) -> Path | str:
    db = raw_db_path
    manage(db, "create_agent", "stdioagent")
    conn = open_db(db)
    for row in [("SIO-1", "First"), ("SIO-2", "Second")]:
        conn.execute(
            "INSERT INTO roadmap_items (id, phase_key, title) VALUES (?, 'phase_a', ?)", row
        )
    conn.close()
    return db


def test_stdio_cycle_double_claim_and_blocker(stdio_db, tmp_path):
    errlog = (tmp_path / "stderr.log").open("w")  # the server's stderr, for a failure

    async def scenario():
        transport = stdio_client(stdio_params(stdio_db, "stdioagent"), errlog=errlog)
        async with Client(transport) as client:
            await check_tool_list(client)
            done = await cycle(client, "SIO-1")
            claim = await client.call_tool("claim_work", {"work_id": "SIO-2"})
            double = await client.call_tool("claim_work", {"work_id": "SIO-2"})
            await client.call_tool(
                "release_work",
                {"attempt_id": claim.structured_content["attempt"]["id"], "disposition": "failed"},
            )
            blocker_id = await blocked(client, "SIO-2")
            mine = (await client.call_tool("my_work", {})).structured_content
            # The account is read again on every call: a role taken away stops the agent.
            conn = open_db(stdio_db)
            conn.execute(
                "DELETE FROM auth_user_groups WHERE group_id IN"
                " (SELECT id FROM auth_group WHERE name LIKE 'role:%')"
            )
            conn.close()
            stopped = await client.call_tool("my_work", {})
            return done, double, blocker_id, mine, stopped

    with errlog:
        done, double, blocker_id, mine, stopped = run(scenario)

    assert refusal_of(double)[0] == f"409 kernel_rule: {DOUBLE_CLAIM}"
    assert mine["attempts"] == [] and mine["next_actions"][0]["tool"] == "ready_work"
    assert refusal_of(stopped)[0].startswith("403 permission_denied: Your account has no role")
    conn = open_db(stdio_db)
    statuses = dict(conn.execute("SELECT id, status_key FROM roadmap_items WHERE id LIKE 'SIO-%'"))
    assert statuses == {"SIO-1": "completed", "SIO-2": "blocked"}
    # (Attempts of one second have no order on PostgreSQL: compared ended first.)
    outcomes = conn.execute(
        "SELECT work_id, worker_id, outcome FROM attempts"
        " ORDER BY work_id, ended_at, outcome = 'blocked'"
    ).fetchall()
    assert outcomes == [
        ("SIO-1", "agent:stdioagent", "completed"),
        ("SIO-2", "agent:stdioagent", "failed"),
        ("SIO-2", "agent:stdioagent", "blocked"),
    ]
    assert conn.execute(
        "SELECT created_by, resolved_at FROM blockers WHERE id = ?", [blocker_id]
    ).fetchone() == ("agent:stdioagent", None)
    actors = {row[0] for row in conn.execute("SELECT DISTINCT actor FROM audit_log")}
    assert "agent:stdioagent" in actors
    assert conn.execute(
        "SELECT resource_type, action FROM audit_log WHERE actor = 'agent:stdioagent'"
        " AND resource_id = ? ",
        [done["attempt_id"]],
    ).fetchall()[0] == ("attempt", "claim")
    conn.close()


def test_stdio_needs_an_existing_agent(stdio_db):
    result = manage(stdio_db, "mcp", "--agent", "ghost", check=False)
    assert result.returncode != 0
    assert "No active agent 'ghost'" in result.stderr
