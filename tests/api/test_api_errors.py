"""Every failure under /api/ answers in the error shape, not an HTML page: unknown paths
(whatever the method, no CSRF), oversize bodies (413), too-deep JSON (400), non-numeric ids
(404), a database that cannot be used (503 naming the cause, Retry-After: busy, full,
read-only, unreachable), Django's own error pages and bugs (500). Each case writes nothing.
The pages keep HTML, with the site's styled 404 and 500 pages.

The database cases use real SQLite behaviour on the test database's own connection: a held
write lock from another connection, ``PRAGMA max_page_count`` (full), ``PRAGMA query_only``
(read-only), a file in a missing folder (unreachable). On PostgreSQL: tables locked by
another connection past ``lock_timeout``, read-only transactions, a database that does not
exist (a full disk is not simulated there)."""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import contextmanager

import backends
import pytest
from api_support import error_of
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import OperationalError, connection
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import include, path
from rest_framework.views import APIView

from kernel.models import Attempt
from programs.models import Bug, Feature, Product, Program
from roadmap.models import RoadmapAssignment
from system.api.parsers import MAX_DEPTH
from system.fields import utc_now
from system.models import ApiToken, AuditLog

API = "/api/v1"


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    """Throttle and login counts start empty (the test client's address is 127.0.0.1)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def feature(db):
    Program.objects.create(id="P1", name="Motus")
    Product.objects.create(id="PR1", program_id="P1", name="Kernel")
    return Feature.objects.create(id="F1", product_id="PR1", name="Claims", version="1.0")


def bug_body(**fields) -> dict:
    return {"title": "Heartbeat ignored", "feature_id": "F1", **fields}


def nothing_written():
    return not Bug.objects.exists() and not AuditLog.objects.filter(resource_type="bug").exists()


# Unknown paths.


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_unknown_api_paths_are_404_json_for_every_method_without_csrf(method, alice):
    # A browser-like client that enforces CSRF, with and without a token.
    for client in (Client(enforce_csrf_checks=True), alice.client):
        if method == "get":
            response = client.get(f"{API}/no-such-thing/")
        else:
            response = getattr(client, method)(
                f"{API}/no-such-thing/", data="{}", content_type="application/json"
            )
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        error = error_of(response)
        assert error["code"] == "not_found"
        assert "/api/v1/no-such-thing/" in error["message"]


def test_django_error_pages_under_api_become_json():
    """Django answers a bad Host header itself (400): under /api/ it is JSON too."""
    response = Client(HTTP_HOST="evil.example").get(f"{API}/whoami/")
    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"


# Oversize bodies.


def test_an_oversize_body_is_413_before_anything_reads_it(alice, feature, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
    body = json.dumps(bug_body(description="x" * 3_000_000))
    response = alice.client.post(f"{API}/bugs/", body, content_type="application/json")
    assert response.status_code == 413
    error = error_of(response)
    assert error["code"] == "request_too_large"
    assert error["details"] == {"limit_bytes": 2_621_440}
    assert str(len(body)) in error["message"]
    assert nothing_written()
    # Also without credentials, and on an unknown path: the size is checked first.
    anonymous = Client().post("/api/nowhere", body, content_type="application/json")
    assert anonymous.status_code == 413 and error_of(anonymous)["code"] == "request_too_large"


def test_a_body_at_the_limit_is_read(alice, feature, settings):
    body = json.dumps(bug_body(description="x" * 1000))
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = len(body)
    response = alice.client.post(f"{API}/bugs/", body, content_type="application/json")
    assert response.status_code == 201, response.content


# Too-deep JSON.


def test_json_nested_100000_deep_is_a_400_not_a_recursion_error(alice, feature):
    response = alice.client.post(f"{API}/bugs/", "[" * 100_000, content_type="application/json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "parse_error"
    assert f"nested deeper than {MAX_DEPTH} levels" in error["message"]
    assert nothing_written()


def test_json_deeper_than_the_limit_is_refused_and_the_limit_itself_is_parsed(alice, feature):
    def nested(depth):  # a bug body whose "description" holds depth - 1 more levels
        value = "deep"
        for _ in range(depth - 1):
            value = [value]
        return json.dumps(bug_body(description=value))

    too_deep = alice.client.post(
        f"{API}/bugs/", nested(MAX_DEPTH + 1), content_type="application/json"
    )
    assert too_deep.status_code == 400 and error_of(too_deep)["code"] == "parse_error"
    at_limit = alice.client.post(f"{API}/bugs/", nested(MAX_DEPTH), content_type="application/json")
    # Parsed: the serializer (not the parser) refuses a list as the description.
    assert at_limit.status_code == 400
    assert error_of(at_limit)["code"] == "validation_error"
    assert nothing_written()


def test_malformed_json_is_a_400(alice, feature):
    response = alice.client.post(f"{API}/bugs/", "{not json", content_type="application/json")
    assert response.status_code == 400 and error_of(response)["code"] == "parse_error"
    assert nothing_written()


# Ids that cannot name a row.


@pytest.mark.parametrize("pk", ["abc", "12abc", "99999999999999999999", "-99999999999999999999"])
@pytest.mark.parametrize("action", ["start", "complete", "drop"])
def test_non_numeric_assignment_ids_are_404(alice, make_item, pk, action):
    make_item("A")
    audit_rows = AuditLog.objects.count()
    response = alice.post(f"{API}/assignments/{pk}/{action}/")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert alice.get(f"{API}/assignments/{pk}/").status_code == 404
    assert AuditLog.objects.count() == audit_rows
    assert not RoadmapAssignment.objects.exists()


@pytest.mark.parametrize("resource", ["audit-log", "assignments", "deployments"])
def test_non_numeric_ids_of_integer_keyed_resources_are_404(alice, resource):
    response = alice.get(f"{API}/{resource}/abc/")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


def test_text_ids_still_reach_their_views(alice, make_item):
    make_item("ITEM-abc")
    assert alice.get(f"{API}/items/ITEM-abc/").status_code == 200
    for unknown in ("items/nope/", "evidence/abc/", "decisions/123/"):
        response = alice.get(f"{API}/{unknown}")
        assert response.status_code == 404 and error_of(response)["code"] == "not_found"


# A database that cannot be used: 503 naming the cause, Retry-After, nothing written.


def assert_unavailable(response, code: str, words: str):
    assert response.status_code == 503, response.content
    error = error_of(response)
    assert error["code"] == code
    assert words in error["message"]
    retry_after = int(response["Retry-After"])
    assert retry_after > 0 and error["details"]["retry_after"] == retry_after
    return error


@pytest.mark.sqlite_only  # SQLITE_FULL through max_page_count; PostgreSQL has no such knob
def test_a_full_database_is_503_database_full(alice, feature):
    with connection.cursor() as cursor:
        # Use up the free pages, then forbid the file to grow: SQLite's SQLITE_FULL.
        cursor.execute("CREATE TABLE filler (x BLOB)")  # rolled back with the test
        cursor.execute("PRAGMA freelist_count")
        (free,) = cursor.fetchone()
        cursor.execute("INSERT INTO filler VALUES (zeroblob(?))", [(free + 1) * 4096])
        cursor.execute("PRAGMA page_count")
        (pages,) = cursor.fetchone()
        cursor.execute(f"PRAGMA max_page_count = {pages}")
    try:
        response = alice.post(f"{API}/bugs/", bug_body(description="x" * 64_000))
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA max_page_count = 4294967294")
    error = assert_unavailable(response, "database_full", "disk is full")
    assert error["details"]["database_error"] == "database or disk is full"
    assert nothing_written()


def check_read_only_database(alice, read_only: str, writable: str):
    """With ``read_only`` run on the connection: a write is 503, a read with a token not
    used for a minute is answered anyway (the use cannot be recorded)."""
    token = ApiToken.objects.get(user=alice.user)
    with connection.cursor() as cursor:
        cursor.execute(read_only)
    try:
        response = alice.post(f"{API}/bugs/", bug_body())
        read = alice.get(f"{API}/bugs/")
    finally:
        with connection.cursor() as cursor:
            cursor.execute(writable)
    assert_unavailable(response, "database_read_only", "read-only")
    assert read.status_code == 200
    assert ApiToken.objects.get(pk=token.pk).last_used_at is None
    assert nothing_written()


@pytest.mark.sqlite_only
def test_a_read_only_database_is_503_and_reads_still_work(alice, feature):
    check_read_only_database(alice, "PRAGMA query_only = ON", "PRAGMA query_only = OFF")


@pytest.mark.postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_read_only_postgresql_is_503_and_reads_still_work(alice, feature):
    """Every transaction of the session read-only, as on a standby (SQLSTATE 25006)."""
    check_read_only_database(
        alice,
        "SET default_transaction_read_only = on",
        "SET default_transaction_read_only = off",
    )


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_database_is_503_database_unavailable(alice, tmp_path):
    """The database cannot be opened: its file's folder is gone, or (PostgreSQL) the
    database does not exist."""
    real_name = connection.settings_dict["NAME"]
    connection.close()
    if backends.POSTGRESQL:
        missing, words = "motus_gone", 'database "motus_gone" does not exist'
    else:
        missing, words = str(tmp_path / "gone" / "coordination.db"), "unable to open database file"
    connection.settings_dict["NAME"] = missing
    try:
        response = alice.get(f"{API}/whoami/")
        write = alice.post(f"{API}/work/A/claim/")
    finally:
        connection.close()
        connection.settings_dict["NAME"] = real_name
    assert_unavailable(response, "database_unavailable", "cannot be opened")
    assert words in error_of(response)["details"]["database_error"]
    assert_unavailable(write, "database_unavailable", "cannot be opened")


@pytest.fixture
def short_lock_wait():
    """This connection waits 2 s (not the settings' 30 s) for the write lock (PostgreSQL:
    for any lock)."""
    connection.ensure_connection()
    usual = django_settings.MOTUS_BUSY_TIMEOUT_MS
    if backends.POSTGRESQL:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 2000")
        yield
        with connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = {usual}")
        return
    connection.connection.execute("PRAGMA busy_timeout = 2000")
    yield
    connection.connection.execute(f"PRAGMA busy_timeout = {usual}")


@contextmanager
def write_lock_held():
    """Another connection holds the write lock: SQLite's (BEGIN IMMEDIATE); on PostgreSQL
    an EXCLUSIVE lock on every table (reads go on, every write waits)."""
    if backends.POSTGRESQL:
        holder = backends.PgConnection(backends.url_for(connection.settings_dict["NAME"]))
        tables = [
            row[0]
            for row in holder.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            )
        ]
        holder.execute("BEGIN")
        holder.execute(f"LOCK TABLE {', '.join(tables)} IN EXCLUSIVE MODE")
        try:
            yield "canceling statement due to lock timeout"
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    holder = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield "database is locked"
    finally:
        holder.rollback()
        holder.close()


@pytest.mark.django_db(transaction=True)
def test_a_held_write_lock_is_503_busy_and_reads_do_not_wait(alice, make_item, short_lock_wait):
    make_item("A")
    token = ApiToken.objects.get(user=alice.user)
    stale = utc_now().replace(year=2000)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=stale)
    with write_lock_held() as database_error:
        started = time.monotonic()
        write = alice.post(f"{API}/work/A/claim/")
        write_seconds = time.monotonic() - started
        started = time.monotonic()
        read = alice.get(f"{API}/work/ready/")
        read_seconds = time.monotonic() - started
    error = assert_unavailable(write, "database_busy", "write lock")
    assert error["details"]["database_error"] == database_error
    assert write_seconds >= 1.9  # it did wait for the lock, the connection's busy timeout
    assert read.status_code == 200 and read_seconds < 1
    # The use was not recorded (the lock was taken) and nothing else was written.
    assert ApiToken.objects.get(pk=token.pk).last_used_at == stale
    assert not Attempt.objects.exists()
    assert not AuditLog.objects.filter(actor="agent:alice").exists()
    # Once the lock is free, the next read records the use.
    alice.get(f"{API}/work/ready/")
    assert ApiToken.objects.get(pk=token.pk).last_used_at > stale


# Exceptions outside DRF's views, Django's 500, and the pages' HTML error pages.


def boom(request):
    raise RuntimeError("a bug")


def disk_full(request):
    raise OperationalError("database or disk is full")


class DrfBoom(APIView):
    permission_classes = []
    authentication_classes = []

    def get(self, request):
        raise RuntimeError("a bug in a DRF view")


def fine(request):
    return HttpResponse("ok")


urlpatterns = [
    path("api/test-boom/", boom),
    path("api/test-disk-full/", disk_full),
    path("api/test-drf-boom/", DrfBoom.as_view()),
    path("test-boom/", boom),
    path("test-disk-full/", disk_full),
    path("", include("motus_site.urls")),
]


@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize("url", ["/api/test-boom/", "/api/test-drf-boom/"])
def test_a_bug_under_api_is_a_500_in_the_error_shape(db, url):
    response = Client(raise_request_exception=False).get(url)
    assert response.status_code == 500
    assert error_of(response)["code"] == "server_error"
    assert "a bug" not in response.content.decode()  # no internals to the client


@override_settings(ROOT_URLCONF=__name__)
def test_a_database_failure_outside_drf_is_a_503(db):
    response = Client(raise_request_exception=False).get("/api/test-disk-full/")
    assert_unavailable(response, "database_full", "disk is full")


@override_settings(ROOT_URLCONF=__name__)
def test_pages_keep_styled_html_error_pages(db):
    client = Client(raise_request_exception=False)
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404
    html = missing.content.decode()
    assert "text/html" in missing["Content-Type"]
    assert 'id="not-found"' in html and "/no-such-page/" in html
    assert "pages/site.css" in html  # the site's layout (base.html)
    for url in ("/test-boom/", "/test-disk-full/"):
        failed = client.get(url)
        assert failed.status_code == 500
        html = failed.content.decode()
        assert 'id="server-error"' in html and "pages/site.css" in html
        assert "a bug" not in html
    assert client.get("/admin/no-such-page/").status_code in (302, 404)
