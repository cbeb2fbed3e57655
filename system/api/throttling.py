"""Throttling: write rates per token and failed token attempts per client address (DRF
throttles), and the lockout of repeated failed logins to the admin and pages (django-axes).

Rates are settings (``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``, from ``MOTUS_THROTTLE_*``;
README "Limits and throttling"), read when a request comes, so changing them needs no
restart of anything but the settings. A throttled caller gets 429 in the API's error shape
with ``Retry-After``; nothing was written. Counts live in the default cache: shared by
gunicorn's workers through ``MOTUS_CACHE_DIR`` (``gunicorn.conf.py``), per process otherwise.
An unusable cache (a full disk) lets requests through rather than failing them.
"""

from __future__ import annotations

import logging

from axes.backends import AxesStandaloneBackend
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from system.models import ApiToken

logger = logging.getLogger(__name__)


class RateThrottle(SimpleRateThrottle):
    """DRF's sliding-window throttle, with its rate read from the live settings (``None``
    turns it off) and failing open when the cache cannot be used."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except OSError as exc:  # e.g. the file cache's disk is full
            logger.warning("Throttle %s skipped: the cache is unusable (%s)", self.scope, exc)
            return True


class WriteRateThrottle(RateThrottle):
    """Writes (every method but GET/HEAD/OPTIONS) per API token, or per user for a staff
    session: a runaway client cannot keep the database's single write lock busy."""

    scope = "writes"

    def get_cache_key(self, request, view):
        if request.method in SAFE_METHODS:
            return None
        token = request.auth
        if isinstance(token, ApiToken) and token.key_digest:
            ident = f"token-{token.key_digest[:32]}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}


class FailedTokenThrottle(RateThrottle):
    """Failed token attempts (unknown, revoked, empty) per client address.

    Under the rate a failure is the usual 401; over it, 429 with ``Retry-After``, and the
    attempt is not counted (so the address is free again once its failures age out). A
    valid token is never refused here: tokens are 256-bit random, so there is nothing to
    guess, and agents that share an address (usually the server's own host) keep working
    while one of them retries a revoked token.
    """

    scope = "auth_failures"

    def get_cache_key(self, request, view=None):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def refuse(self, request, message: str):
        """Raise the answer to a failed attempt: 401 ``message``, or 429 once over the rate."""
        if self.allow_request(request, None):
            raise exceptions.AuthenticationFailed(message)
        raise exceptions.Throttled(
            self.wait(), detail="Too many failed authentication attempts from this address."
        )


def client_address(request) -> str | None:
    """The client's address as the throttles see it (``REMOTE_ADDR``, or the
    ``X-Forwarded-For`` entry ``NUM_PROXIES`` hops back): django-axes uses it too."""
    return BaseThrottle().get_ident(request) or None


class LoginLockoutBackend(AxesStandaloneBackend):
    """django-axes' check for logins over HTTP (admin, ``/login/``): refuses a locked-out
    username from that address before the password is even checked.

    ``authenticate()`` called without a request (a test client's ``login()``, a script) is
    no HTTP login attempt: it passes to the next backend instead of raising.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
