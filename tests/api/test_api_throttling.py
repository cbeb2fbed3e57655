"""Throttling: writes per token, failed token attempts per client address (DRF throttles,
429 in the error shape with Retry-After, nothing written), and the lockout of repeated
failed logins to the admin and the pages (django-axes). The rates are settings; the tests
lower them and start each test with empty counts."""

from __future__ import annotations

import pytest
from api_support import ApiClient, error_of
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from motus_site.settings import env_rate
from programs.models import Bug, Feature, Product, Program

API = "/api/v1"
PASSWORD = "a-long-password-1"


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    """Throttle and login counts start empty (the test client's address is 127.0.0.1)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def rates(settings):
    """``rates(writes="3/min")``: throttle rates for this test (the others keep theirs)."""

    def set_rates(**changed):
        framework = dict(settings.REST_FRAMEWORK)
        framework["DEFAULT_THROTTLE_RATES"] = {**framework["DEFAULT_THROTTLE_RATES"], **changed}
        settings.REST_FRAMEWORK = framework

    return set_rates


@pytest.fixture
def feature(db):
    Program.objects.create(id="P1", name="Motus")
    Product.objects.create(id="PR1", program_id="P1", name="Kernel")
    return Feature.objects.create(id="F1", product_id="PR1", name="Claims", version="1.0")


def file_bug(client, n):
    return client.post(f"{API}/bugs/", {"title": f"Bug {n}", "feature_id": "F1"})


def assert_throttled(response):
    assert response.status_code == 429, response.content
    error = error_of(response)
    assert error["code"] == "throttled"
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= 60
    assert error["details"] == {"retry_after": retry_after}
    return error


def test_the_default_rates_are_settings():
    from django.conf import settings

    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert rates == {"writes": "600/min", "auth_failures": "30/min"}
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] == [
        "system.api.throttling.WriteRateThrottle"
    ]


def test_rates_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("MOTUS_THROTTLE_WRITES", "20/s")
    assert env_rate("MOTUS_THROTTLE_WRITES", "600/min") == "20/s"
    monkeypatch.setenv("MOTUS_THROTTLE_WRITES", "off")
    assert env_rate("MOTUS_THROTTLE_WRITES", "600/min") is None
    monkeypatch.delenv("MOTUS_THROTTLE_WRITES")
    assert env_rate("MOTUS_THROTTLE_WRITES", "600/min") == "600/min"
    monkeypatch.setenv("MOTUS_THROTTLE_WRITES", "lots")
    with pytest.raises(ImproperlyConfigured, match="MOTUS_THROTTLE_WRITES"):
        env_rate("MOTUS_THROTTLE_WRITES", "600/min")


# Writes per token.


def test_writes_over_the_rate_are_429_and_write_nothing(alice, bob, feature, rates):
    rates(writes="3/min")
    for n in range(3):
        assert file_bug(alice, n).status_code == 201
    error = assert_throttled(file_bug(alice, 3))
    assert "throttled" in error["message"].lower()
    assert Bug.objects.count() == 3
    # Reads are not writes; another token has its own count.
    assert alice.get(f"{API}/bugs/").status_code == 200
    assert file_bug(bob, 4).status_code == 201
    assert Bug.objects.count() == 4


def test_each_token_of_one_user_counts_apart(alice, feature, rates):
    from system.models import ApiToken

    rates(writes="1/min")
    assert file_bug(alice, 1).status_code == 201
    assert_throttled(file_bug(alice, 2))
    _, second_token = ApiToken.issue(alice.user, name="second client")
    second = ApiClient("agent:alice", second_token, alice.user)
    assert file_bug(second, 3).status_code == 201


def test_refused_writes_count_too_but_unauthenticated_ones_do_not(alice, anonymous, rates):
    rates(writes="2/min")
    for _ in range(3):
        assert anonymous.post(f"{API}/bugs/", {}).status_code == 401
    assert alice.post(f"{API}/bugs/", {}).status_code == 400  # invalid: counted
    assert alice.post(f"{API}/bugs/", {}).status_code == 400
    assert_throttled(alice.post(f"{API}/bugs/", {}))


def test_writes_are_unlimited_when_the_rate_is_off(alice, feature, rates):
    rates(writes=None)
    for n in range(5):
        assert file_bug(alice, n).status_code == 201


# Failed token attempts per client address.


def bad_token(address="127.0.0.1", **headers):
    return Client(HTTP_AUTHORIZATION="Bearer motus_wrong", REMOTE_ADDR=address, **headers)


def test_failed_token_attempts_over_the_rate_are_429(alice, rates):
    rates(auth_failures="5/min")
    for _ in range(5):
        response = bad_token().get(f"{API}/whoami/")
        assert response.status_code == 401
        assert error_of(response)["code"] == "authentication_failed"
    for _ in range(3):
        error = assert_throttled(bad_token().get(f"{API}/whoami/"))
        assert "failed authentication attempts" in error["message"]
    # An empty token is a failed attempt too.
    assert_throttled(Client(HTTP_AUTHORIZATION="Bearer ").get(f"{API}/whoami/"))
    # A valid token from the same address still works; another address is not throttled.
    assert alice.get(f"{API}/whoami/").status_code == 200
    assert bad_token("10.0.0.9").get(f"{API}/whoami/").status_code == 401


def test_a_forged_forwarded_for_header_does_not_change_the_address(db, rates):
    rates(auth_failures="2/min")
    for n in range(2):
        client = bad_token(HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
        assert client.get(f"{API}/whoami/").status_code == 401
    assert_throttled(bad_token(HTTP_X_FORWARDED_FOR="192.0.2.99").get(f"{API}/whoami/"))


def test_a_failed_write_attempt_writes_nothing(feature, rates):
    rates(auth_failures="1/min")
    body = {"title": "x", "feature_id": "F1"}
    client = bad_token()
    assert client.post(f"{API}/bugs/", body, content_type="application/json").status_code == 401
    assert_throttled(client.post(f"{API}/bugs/", body, content_type="application/json"))
    assert not Bug.objects.exists()


def test_the_default_rate_refuses_a_flood_of_bad_tokens(db):
    """The issue's case: 200 bad tokens from one address; 30 are answered 401, the rest 429."""
    client = bad_token()
    statuses = [client.get(f"{API}/whoami/").status_code for _ in range(200)]
    assert statuses == [401] * 30 + [429] * 170


# Failed logins to the admin and the pages (django-axes).


@pytest.fixture
def lead(django_user_model, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return django_user_model.objects.create_superuser("lead", "lead@example.com", PASSWORD)


def login(url, password, username="lead", address="127.0.0.1"):
    client = Client(REMOTE_ADDR=address)
    response = client.post(url, {"username": username, "password": password})
    return response, client


@pytest.mark.parametrize("url", ["/admin/login/", "/login/"])
def test_repeated_failed_logins_lock_the_username_out_from_that_address(lead, settings, url):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        response, _ = login(url, "wrong")
        assert response.status_code == 200  # the form again, with its error
    response, _ = login(url, "wrong")
    assert response.status_code == 429  # the third failure locks the username out
    response, client = login(url, PASSWORD)
    assert response.status_code == 429
    assert "too many login attempts" in response.content.decode().lower()
    assert "_auth_user_id" not in client.session
    # Another address may still log in with the right password.
    response, client = login(url, PASSWORD, address="10.0.0.9")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(lead.pk)


def test_the_issue_case_forty_wrong_admin_passwords_then_the_right_one(lead):
    statuses = [login("/admin/login/", f"guess-{n}")[0].status_code for n in range(40)]
    assert statuses[:9] == [200] * 9 and set(statuses[9:]) == {429}
    assert login("/admin/login/", PASSWORD)[0].status_code == 429


def test_a_successful_login_resets_the_count(lead, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        assert login("/login/", "wrong")[0].status_code == 200
    assert login("/login/", PASSWORD)[0].status_code == 302
    for _ in range(2):
        assert login("/login/", "wrong")[0].status_code == 200
    assert login("/login/", PASSWORD)[0].status_code == 302


def test_logins_without_a_request_are_not_counted(lead, client, settings):
    """A test client's ``login()`` (no HTTP request) is not an attempt django-axes can see."""
    settings.AXES_FAILURE_LIMIT = 1
    assert not client.login(username="lead", password="wrong")
    assert client.login(username="lead", password=PASSWORD)
