"""Races over real HTTP: 16 clients hit a live server at the same instant. The database
decides (IMMEDIATE transactions queue on the write lock, the triggers refuse the losers):
exactly one winner, every other client a clean 409, never a 500 or "database is locked"."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from api_support import make_user

from kernel.models import Attempt, Lease
from roadmap.models import RoadmapItem

CLIENTS = 16


def race(url: str, body: dict) -> list[tuple[int, dict]]:
    """POST ``body`` to ``url`` from CLIENTS agents at once; (status, JSON body) each."""
    tokens = [make_user(f"racer{n}", agent=True)[1] for n in range(CLIENTS)]
    start = threading.Barrier(CLIENTS)

    def post(token):
        request = urllib.request.Request(
            url,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        start.wait()
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    with ThreadPoolExecutor(CLIENTS) as pool:
        outcomes = list(pool.map(post, tokens))
    for _, raw in outcomes:
        assert b"database is locked" not in raw
    return [(status, json.loads(raw)) for status, raw in outcomes]


def assert_one_winner(outcomes, message):
    statuses = sorted(status for status, _ in outcomes)
    assert statuses == [201] + [409] * (CLIENTS - 1), statuses
    losers = [body["error"] for status, body in outcomes if status == 409]
    assert {(e["code"], e["message"]) for e in losers} == {("kernel_rule", message)}


@pytest.mark.django_db(transaction=True)
def test_sixteen_clients_claim_the_same_item(live_server):
    RoadmapItem.objects.create(id="RACE", phase_key="phase_a", title="Contended")
    outcomes = race(f"{live_server.url}/api/v1/work/RACE/claim/", {})
    assert_one_winner(
        outcomes, "KERNEL: Work already has active attempt. Use handoff instead of new claim."
    )
    winner = next(body for status, body in outcomes if status == 201)
    attempts = Attempt.objects.filter(work_id="RACE")
    assert [a.id for a in attempts] == [winner["attempt"]["id"]]
    assert Lease.objects.filter(resource_id="RACE").count() == 1


@pytest.mark.django_db(transaction=True)
def test_sixteen_clients_take_the_same_exclusive_lease(live_server):
    body = {
        "resource_type": "file",
        "resource_id": "db.sqlite",
        "mode": "exclusive",
        "ttl_seconds": 60,
    }
    outcomes = race(f"{live_server.url}/api/v1/leases/", body)
    assert_one_winner(
        outcomes, "KERNEL: Cannot acquire exclusive lease - resource has active leases"
    )
    assert Lease.objects.filter(resource_id="db.sqlite").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_idempotency_key_claim_once(live_server):
    """One agent sends the same claim 8 times at once with one key (a retry storm): the
    first runs, the others wait for the write lock and replay its response."""
    RoadmapItem.objects.create(id="RETRY", phase_key="phase_a", title="Retried")
    _, token = make_user("retrier", agent=True)
    start = threading.Barrier(8)

    def post(_):
        request = urllib.request.Request(
            f"{live_server.url}/api/v1/work/RETRY/claim/",
            data=b"{}",
            method="POST",
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "Idempotency-Key": "retry-storm",
            },
        )
        start.wait()
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(post, range(8)))
    assert {status for status, _ in outcomes} == {201}
    assert len({body["attempt"]["id"] for _, body in outcomes}) == 1
    assert Attempt.objects.filter(work_id="RETRY").count() == 1
