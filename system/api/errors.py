"""One error shape for every failure of the API.

``{"error": {"status": 409, "code": "kernel_rule", "message": "KERNEL: ...",
"fields": {...}, "details": {...}}}`` — ``fields`` only for validation errors, ``details``
only where there is more to tell (e.g. ``missing_prereqs``, ``next_actions``). A trigger's
ABORT keeps its exact text as ``message``.
"""

from __future__ import annotations

from django.db import IntegrityError, OperationalError
from django.http import JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from system.db_errors import database_message, is_kernel_rule
from system.errors import Conflict, ServiceError


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


def exception_handler(exc, context):
    """DRF's handler, plus database refusals and service errors, in the common shape."""
    if isinstance(exc, IntegrityError):
        exc = refusal(exc)
    if isinstance(exc, ServiceError):
        fields = exc.details.get("fields")
        details = {k: v for k, v in exc.details.items() if k != "fields"}
        body = error_body(exc.status, exc.code, exc.message, fields=fields, details=details)
        return Response(body, status=exc.status)
    if isinstance(exc, OperationalError) and "locked" in str(exc):
        body = error_body(503, "database_busy", "The database stayed busy; retry shortly.")
        return Response(body, status=503, headers={"Retry-After": "1"})

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
        )
    return response


def not_found_view(request, *args, **kwargs):
    """Unknown ``/api/`` paths answer in the same shape instead of an HTML page."""
    return JsonResponse(
        error_body(404, "not_found", f"No API endpoint at {request.path}."), status=404
    )
