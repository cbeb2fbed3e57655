"""Refusals raised by the service layer, independent of HTTP.

The API maps each to its status code and the common error shape; management commands print
the message. The database's own refusals stay ``IntegrityError`` (see ``db_errors``).
"""

from __future__ import annotations


class ServiceError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}


class Invalid(ServiceError):
    """Input the database would never accept; ``details['fields']`` names the culprits."""

    status = 400
    code = "validation_error"


class Forbidden(ServiceError):
    """Acting on someone else's attempt, lease or assignment."""

    status = 403
    code = "permission_denied"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Conflict(ServiceError):
    """The row exists but is not in a state that allows the action."""

    status = 409
    code = "conflict"
