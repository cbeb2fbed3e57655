"""Races over real HTTP: 32 clients hit a live server at the same instant, on either backend.

The database decides: on SQLite, IMMEDIATE transactions queue on the write lock and the
triggers refuse the losers; on PostgreSQL, writers run side by side, so the service takes
the trigger's advisory lock first (``system.sql.serialize``: ``work:<id>``,
``lease:<type>:<id>``, ``idempotency:<caller> <key>``) and the trigger then sees the
winner's committed row. Either way: exactly one winner, every other client a clean 409 with
the kernel's message (or a clean 503 ``database_busy`` had a lock wait outlasted the
server's patience), never a 500 or "database is locked"."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from api_support import make_user
from django.core.servers.basehttp import ThreadedWSGIServer
from pytest_django.live_server_helper import LiveServer

from kernel.models import Attempt, Lease
from roadmap.models import RoadmapItem
from system import policy
from system.models import IdempotencyKey

CLIENTS = 32


class _RaceServer(ThreadedWSGIServer):
    """Django's test server, with a listen queue that takes every client of a race at once
    (its own holds 10: the rest would be refused before reaching the application)."""

    request_queue_size = 4 * CLIENTS


@pytest.fixture(scope="module")
def race_server(django_db_setup, django_db_blocker):
    """A live server (a thread per request, each with its own database connection) whose
    listen queue takes CLIENTS connections at once: ``.url``."""
    server = LiveServer("localhost", start=False)
    server.thread.server_class = _RaceServer
    server._live_server_modified_settings.enable()
    with django_db_blocker.unblock():
        server.start()
    yield server
    server.stop()
    server._live_server_modified_settings.disable()


def post_at_once(url: str, body: dict, tokens: list[str], headers=None) -> list[tuple[int, dict]]:
    """POST ``body`` to ``url`` once per token, all released at the same instant; (status,
    JSON body) each."""
    start = threading.Barrier(len(tokens))

    def post(token):
        request = urllib.request.Request(
            url,
            data=json.dumps(body).encode(),
            method="POST",
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                **(headers or {}),
            },
        )
        start.wait()
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    # (On SQLite this once stalled for the busy timeout: a BEGIN's cursor left open by Django,
    # collected by another thread; system/db_backend closes it.)
    with ThreadPoolExecutor(len(tokens)) as pool:
        outcomes = list(pool.map(post, tokens))
    for _, raw in outcomes:
        assert b"database is locked" not in raw
    return [(status, json.loads(raw)) for status, raw in outcomes]


def race(url: str, body: dict) -> list[tuple[int, dict]]:
    """POST ``body`` to ``url`` from CLIENTS agents at once."""
    tokens = [make_user(f"racer{n}", agent=True)[1] for n in range(CLIENTS)]
    return post_at_once(url, body, tokens)


def assert_clean_refusals(outcomes, message: str | None = None) -> None:
    """No 500; every error in the API's shape: a 409 with the kernel's ``message``, or a
    503 database_busy."""
    for status, body in outcomes:
        assert status in (200, 201, 409, 503), (status, body)
        if status in (409, 503):
            error = body["error"]
            assert error["status"] == status
            if status == 503:
                assert error["code"] == "database_busy", error
            elif message is not None:
                assert (error["code"], error["message"]) == ("kernel_rule", message), error


def assert_one_winner(outcomes, message):
    statuses = [status for status, _ in outcomes]
    assert statuses.count(201) == 1, sorted(statuses)
    assert statuses.count(409) + statuses.count(503) == CLIENTS - 1, sorted(statuses)
    assert_clean_refusals(outcomes, message)


@pytest.mark.django_db(transaction=True)
def test_clients_claim_the_same_item(race_server):
    RoadmapItem.objects.create(id="RACE", phase_key="phase_a", title="Contended")
    outcomes = race(f"{race_server.url}/api/v1/work/RACE/claim/", {})
    assert_one_winner(
        outcomes, "KERNEL: Work already has active attempt. Use handoff instead of new claim."
    )
    winner = next(body for status, body in outcomes if status == 201)
    attempts = Attempt.objects.filter(work_id="RACE")
    assert [a.id for a in attempts] == [winner["attempt"]["id"]]
    assert Lease.objects.filter(resource_id="RACE").count() == 1


@pytest.mark.django_db(transaction=True)
def test_clients_take_the_same_exclusive_lease(race_server):
    body = {
        "resource_type": "file",
        "resource_id": "db.sqlite",
        "mode": "exclusive",
        "ttl_seconds": 60,
    }
    outcomes = race(f"{race_server.url}/api/v1/leases/", body)
    assert_one_winner(
        outcomes, "KERNEL: Cannot acquire exclusive lease - resource has active leases"
    )
    assert Lease.objects.filter(resource_id="db.sqlite").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_idempotency_key_claim_once(race_server):
    """One agent sends the same claim CLIENTS times at once with one key (a retry storm):
    the first runs, the others wait for it (the write lock; on PostgreSQL the key's lock)
    and replay its response."""
    RoadmapItem.objects.create(id="RETRY", phase_key="phase_a", title="Retried")
    _, token = make_user("retrier", agent=True)
    outcomes = post_at_once(
        f"{race_server.url}/api/v1/work/RETRY/claim/",
        {},
        [token] * CLIENTS,
        headers={"Idempotency-Key": "retry-storm"},
    )
    assert_clean_refusals(outcomes)
    # Every answer is the claim's (its replay), or a 503 had a wait outlasted the server;
    # never the double-claim 409 a second run of the claim would meet.
    statuses = sorted(status for status, _ in outcomes)
    assert set(statuses) <= {201, 503} and 201 in statuses, statuses
    created = [body for status, body in outcomes if status == 201]
    assert len({body["attempt"]["id"] for body in created}) == 1
    # One effect: one attempt, one lease, one stored answer that every 201 is.
    assert Attempt.objects.filter(work_id="RETRY").count() == 1
    assert Lease.objects.filter(resource_id="RETRY").count() == 1
    stored = IdempotencyKey.objects.get()
    assert stored.status == "complete"
    assert all(body == json.loads(stored.response)["body"] for body in created)


@pytest.mark.django_db(transaction=True)
def test_clients_take_the_last_place_of_a_phase(race_server):
    """The phase limit (50 active items): with 49 there, CLIENTS leads create an item in it
    at once; the count is taken after the phase's other writers (``phase:`` lock)."""
    RoadmapItem.objects.bulk_create(
        RoadmapItem(id=f"FULL-{n:02}", phase_key="phase_a", title=f"Item {n}") for n in range(49)
    )
    tokens = [
        make_user(f"lead{n}", agent=False, staff=True, role=policy.Role.LEAD)[1]
        for n in range(CLIENTS)
    ]
    outcomes = post_at_once(
        f"{race_server.url}/api/v1/items/",
        {"title": "The last place", "phase_key": "phase_a"},
        tokens,
    )
    assert_one_winner(outcomes, "POLICY: Maximum 50 active items per phase")
    assert RoadmapItem.objects.filter(phase_key="phase_a").count() == 50
