"""One error shape for every failure of the API.

``{"error": {"status": 409, "code": "kernel_rule", "message": "KERNEL: ...",
"fields": {...}, "details": {...}}}`` — ``fields`` only for validation errors, ``details``
only where there is more to tell (e.g. ``missing_prereqs``, ``next_actions``). A trigger's
ABORT keeps its exact text as ``message``.

Everything else under ``/api/`` answers in this shape too (``system.api.middleware``): unknown
paths (404), oversize bodies (413), malformed or too-deep JSON (400), non-numeric ids (404),
a database that cannot be used (503 naming the cause: busy, full, read-only, unreachable,
with ``Retry-After``), throttled callers (429 with ``Retry-After``) and server errors (500).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import DataError, IntegrityError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from system.db_errors import database_message, database_unavailable, is_kernel_rule
from system.errors import Conflict, Invalid, ServiceError


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = "This Idempotency-Key was used with a different request."


def error_body(status_code: int, code: str, message: str, *, fields=None, details=None) -> dict:
    error = {"status": status_code, "code": code, "message": message}
    if fields:
        error["fields"] = fields
    if details:
        error["details"] = details
    return {"error": error}


def refusal(exc: IntegrityError, **details) -> Conflict:
    """The database refused a write: 409 with its exact message (``kernel_rule`` for a
    trigger, ``constraint`` for a key or CHECK), plus what the caller can do about it."""
    code = "kernel_rule" if is_kernel_rule(exc) else "constraint"
    return Conflict(database_message(exc), code=code, details=details)


def unstorable(exc: DataError) -> Invalid:
    """A value the database cannot hold: 400 with its words, nothing written (PostgreSQL's
    text cannot hold a NUL character, which SQLite takes)."""
    return Invalid(f"A value cannot be stored: {database_message(exc)}", code="value_not_storable")


def as_refusal(exc):
    """A database refusal as the service error the API answers (a trigger's or a key's:
    409; a value it cannot hold: 400); anything else unchanged."""
    if isinstance(exc, IntegrityError):
        return refusal(exc)
    if isinstance(exc, DataError):
        return unstorable(exc)
    return exc


def exception_handler(exc, context):
    """DRF's handler, plus database refusals and service errors, in the common shape."""
    exc = as_refusal(exc)
    if isinstance(exc, ServiceError):
        fields = exc.details.get("fields")
        details = {k: v for k, v in exc.details.items() if k != "fields"}
        body = error_body(exc.status, exc.code, exc.message, fields=fields, details=details)
        return Response(body, status=exc.status)
    special = special_error(exc)
    if special is not None:
        status_code, body, headers = special
        return Response(body, status=status_code, headers=headers)

    # DRF turns these into its own exceptions itself, but the code comes from the exception.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = error_body(
            response.status_code, "validation_error", "Invalid input.", fields=detail
        )
    else:
        detail = getattr(exc, "detail", None)
        code = detail.code if isinstance(detail, exceptions.ErrorDetail) else None
        response.data = error_body(
            response.status_code,
            code or getattr(exc, "default_code", "error"),
            str(detail) if detail is not None else str(exc),
            details={"retry_after": wait} if (wait := getattr(exc, "wait", None)) else None,
        )
    return response


def special_error(exc) -> tuple[int, dict, dict] | None:
    """``(status, body, headers)`` for failures that are not the caller's request being
    refused: a database that cannot be used (503 naming the cause, with ``Retry-After``) and
    a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413). None for anything else."""
    unavailable = database_unavailable(exc)
    if unavailable is not None:
        body = error_body(
            503,
            unavailable.code,
            unavailable.message,
            details={"retry_after": unavailable.retry_after, "database_error": unavailable.detail},
        )
        return 503, body, {"Retry-After": str(unavailable.retry_after)}
    if isinstance(exc, RequestDataTooBig):
        return 413, error_body(413, "request_too_large", str(exc)), {}
    return None


@csrf_exempt
def not_found_view(request, *args, **kwargs):
    """Unknown ``/api/`` paths answer in the same shape instead of an HTML page, whatever
    the method (no CSRF check: there is nothing here to protect, and a POST to a wrong path
    should learn that the path is wrong, not that a CSRF token is missing)."""
    return JsonResponse(
        error_body(404, "not_found", f"No API endpoint at {request.path}."), status=404
    )
