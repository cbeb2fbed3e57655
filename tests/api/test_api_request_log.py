"""One log line per API request: actor, method, path, status, duration (operations)."""

from __future__ import annotations

import logging
import re


def test_one_line_per_api_request_with_actor_status_and_duration(alice, anonymous, caplog):
    caplog.set_level(logging.INFO, logger="motus.api")
    alice.get("/api/v1/work/ready/?limit=5")
    alice.post("/api/v1/work/NOPE/claim/", {})
    anonymous.get("/api/v1/items/")
    lines = [r.getMessage() for r in caplog.records if r.name == "motus.api"]
    assert len(lines) == 3, lines
    pattern = r"^(\S+) (GET|POST) (\S+) (\d{3}) \d+\.\dms$"
    parsed = [re.match(pattern, line).groups() for line in lines]
    assert parsed == [
        ("agent:alice", "GET", "/api/v1/work/ready/?limit=5", "200"),
        ("agent:alice", "POST", "/api/v1/work/NOPE/claim/", "404"),
        ("anonymous", "GET", "/api/v1/items/", "401"),
    ]


def test_pages_are_not_logged_as_api_requests(client, caplog):
    caplog.set_level(logging.INFO, logger="motus.api")
    client.get("/login/")
    assert not [r for r in caplog.records if r.name == "motus.api"]
