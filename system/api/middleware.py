"""Everything under ``/api/`` answers in the API's error shape, not only what DRF handles.

``ApiErrorMiddleware`` comes first in ``MIDDLEWARE``, so it wraps the whole stack:

- a body larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (by its ``Content-Length``) is refused
  413 before anything reads it, authenticates or touches the database;
- a non-numeric (or out of range) id in a URL whose model has an integer key is a 404
  before the view runs (views never see ``int("abc")``);
- an exception that escapes a view is answered 503 naming the cause when the database could
  not be used (busy, full, read-only, unreachable), and left to Django otherwise;
- any other non-JSON error response (Django's own 400/403/404/500 pages, e.g. after an
  exception in a middleware) is replaced by the JSON shape with the same status. A 500 whose
  exception (seen through ``got_request_exception``) was the database's is a 503 instead.

The progress pages and the admin keep their HTML pages (``templates/404.html``, ``500.html``).
"""

from __future__ import annotations

import functools
import logging
import sys
import time

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.signals import got_request_exception
from django.db import models
from django.http import JsonResponse

from system.api.errors import error_body, special_error

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"

#: SQLite's INTEGER range: ids outside it cannot name a row (and would overflow the driver).
_INT64 = range(-(2**63), 2**63)

#: An oversize body is read and dropped up to this many times the limit, so the client
#: (still sending) reads the 413 instead of a reset connection; beyond that it is not read.
_DRAIN_FACTOR = 16

#: Messages of the statuses Django itself answers (its error pages), in the API's words.
_GENERIC = {
    400: ("bad_request", "The request is malformed."),
    403: (
        "forbidden",
        "Forbidden (a session's unsafe request needs its CSRF token; API clients send "
        "Authorization: Bearer <token>).",
    ),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "Method not allowed."),
    413: ("request_too_large", "The request body is too large."),
    500: ("server_error", "The server failed to answer this request; it has been logged."),
}


def _remember_exception(sender, request=None, **kwargs):
    """Django is about to answer an uncaught exception with its 500 page: keep the exception
    on the request, so the middleware can tell a database failure (503) from a bug (500)."""
    if request is not None:
        request._motus_exception = sys.exc_info()[1]


got_request_exception.connect(_remember_exception, dispatch_uid="motus-api-remember-exception")


def is_api(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


def error_response(status: int, code: str, message: str, *, details=None, headers=None):
    response = JsonResponse(error_body(status, code, message, details=details), status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


class ApiErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_api(request):
            return self.get_response(request)
        too_large = self._refuse_oversize(request)
        if too_large is not None:
            return too_large
        response = self.get_response(request)
        if response.status_code >= 400 and not _is_json(response):
            response = self._as_json(request, response)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if is_api(request) and _names_no_row(view_func, view_kwargs):
            return error_response(404, "not_found", "Not found: ids here are whole numbers.")
        return None

    def process_exception(self, request, exception):
        if not is_api(request):
            return None
        special = special_error(exception)
        if special is None:
            return None  # Django logs it and answers 500; __call__ makes that JSON
        status, body, headers = special
        if status == 503:
            logger.warning("%s %s: %s", request.method, request.path, exception)
        response = JsonResponse(body, status=status)
        for name, value in headers.items():
            response[name] = value
        return response

    @staticmethod
    def _refuse_oversize(request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(400, "bad_request", "The Content-Length header is not a number.")
        if limit is None or length <= limit:
            return None
        if length <= limit * _DRAIN_FACTOR:
            while request.read(65536):
                pass
        return error_response(
            413,
            "request_too_large",
            f"The request body has {length} bytes; the limit is {limit} bytes.",
            details={"limit_bytes": limit},
        )

    @staticmethod
    def _as_json(request, response):
        exception = getattr(request, "_motus_exception", None)
        special = special_error(exception) if exception is not None else None
        if special is not None:
            status, body, headers = special
            json_response = JsonResponse(body, status=status)
        else:
            status = response.status_code
            code, message = _GENERIC.get(status, ("error", f"HTTP {status}."))
            json_response = error_response(status, code, message)
            headers = {}
        for name in ("Allow", "Retry-After", "WWW-Authenticate"):
            if name in response:
                json_response[name] = response[name]
        for name, value in headers.items():
            json_response[name] = value
        return json_response


def _is_json(response) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


def _names_no_row(view_func, view_kwargs) -> bool:
    """True when the URL's lookup value cannot be a key of the view's model: a non-numeric
    or out-of-range value where the key is an integer."""
    kwarg = _integer_lookup_kwarg(view_func)
    if kwarg is None:
        return False
    value = view_kwargs.get(kwarg)
    if value is None:
        return False
    try:
        return int(value) not in _INT64
    except ValueError:
        return True


@functools.lru_cache(maxsize=1024)  # one entry per URL pattern's view
def _integer_lookup_kwarg(view_func) -> str | None:
    """The URL keyword naming an integer key of the view's model, if the view (a DRF view
    or viewset) has one; worked out once per view function."""
    view_class = getattr(view_func, "cls", None)  # DRF views (APIView.as_view, viewsets)
    if view_class is None:
        return None
    lookup_field = getattr(view_class, "lookup_field", "pk")
    model = getattr(getattr(view_class, "queryset", None), "model", None)
    if model is None:
        return None
    try:
        field = model._meta.pk if lookup_field == "pk" else model._meta.get_field(lookup_field)
    except FieldDoesNotExist:
        return None
    if not isinstance(field, models.IntegerField):
        return None
    return getattr(view_class, "lookup_url_kwarg", None) or lookup_field


request_logger = logging.getLogger("motus.api")


class RequestLogMiddleware:
    """One log line per API request, on the ``motus.api`` logger (INFO):
    ``actor method path status duration_ms``. Outermost, so the status is what the client
    got (413s and 503s of :class:`ApiErrorMiddleware` included) and the duration is the
    whole stack's. Tracebacks of server errors go to stderr through ``django.request``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        started = time.perf_counter()
        response = self.get_response(request)
        request_logger.info(
            "%s %s %s %s %.1fms",
            _actor_of(request),
            request.method,
            request.get_full_path(),
            response.status_code,
            (time.perf_counter() - started) * 1000,
            extra={"status_code": response.status_code},
        )
        return response


def _actor_of(request) -> str:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return "anonymous"
    from system.identity import identity_of

    return identity_of(user)
