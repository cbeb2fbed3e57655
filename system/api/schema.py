"""OpenAPI generation: the document is the API's contract with agents' generated clients.

- Every operation documents the statuses it can answer in the common error shape (see
  :data:`ERROR_STATUSES`) and, for POSTs, the ``Idempotency-Key`` header.
- Every operation has a summary (explicit, or the first sentence of its description).
- The agent loop comes first: the ``work`` tag, its operations in loop order
  (:func:`operation_order`), and OpenAPI links from each step to the next
  (:func:`add_links`): ready → claim → context → evidence → release.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import alpha_operation_sorter
from drf_spectacular.utils import OpenApiParameter
from rest_framework.settings import api_settings

from system.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from system.api.idempotency import MAX_KEY_LENGTH
from system.api.serializers import INT64_MAX, INT64_MIN, ErrorSerializer

_WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def _error_statuses(method: str, *, has_path_parameters: bool, is_list: bool) -> list[str]:
    """The error statuses an operation can answer (all in the common error shape)."""
    codes = ["401", "403", "429", "503"]  # authentication, role, throttle, database unusable
    if method in _WRITE_METHODS or is_list:
        codes.append("400")  # invalid body, or unknown/invalid query parameters
    if has_path_parameters or method in _WRITE_METHODS:
        codes.append("404")  # the row in the path, or one the body names
    if method in _WRITE_METHODS:
        codes.append("409")  # a rule of the database or of the roles' policy refused it
    if method in ("POST", "PUT", "PATCH"):
        codes.append("413")  # body too large
    if method == "POST":
        codes.append("422")  # Idempotency-Key reused with another body
    return codes


#: Documented for reference (README, tests): statuses by kind of operation.
ERROR_STATUSES = {
    "GET detail": _error_statuses("GET", has_path_parameters=True, is_list=False),
    "GET list": _error_statuses("GET", has_path_parameters=False, is_list=True),
    "POST": _error_statuses("POST", has_path_parameters=False, is_list=False),
}


class MotusAutoSchema(AutoSchema):
    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self.method == "POST":
            parameters = [
                *parameters,
                OpenApiParameter(
                    IDEMPOTENCY_HEADER,
                    {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
                    OpenApiParameter.HEADER,
                    description="Retry safely: the same key and body replays the first "
                    "response; the same key with another body gets 422.",
                ),
            ]
        return parameters

    def get_summary(self):
        """The explicit summary, else the first sentence of the description."""
        summary = super().get_summary()
        if summary:
            return summary
        description = (self.get_description() or "").strip()
        first = description.split(". ")[0].split("\n\n")[0]
        return " ".join(first.split()).rstrip(".") or None

    def _get_filter_parameters(self):
        """``search`` only where the view searches (DRF's search filter documents it
        everywhere, and ignores it where there is nothing to search)."""
        parameters = super()._get_filter_parameters()
        if not getattr(self.view, "search_fields", None):
            parameters = [p for p in parameters if p["name"] != api_settings.SEARCH_PARAM]
        return parameters

    def _map_basic_serializer(self, serializer, direction):
        """In a response every field a serializer renders is there (model rows and the
        services' full row dicts alike), so the document marks them all required, except
        those a serializer names in ``optional_in_response``."""
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "response" and schema.get("properties"):
            optional = set(getattr(serializer, "optional_in_response", ()))
            schema["required"] = [name for name in schema["properties"] if name not in optional]
        return schema

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = _error_statuses(
            self.method,
            has_path_parameters="{" in self.path,
            is_list=self._is_list_view(),
        )
        for code in codes:
            responses.setdefault(code, self._get_response_for_code(ErrorSerializer, code))
        return responses


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "system.api.authentication.TokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token printed by `python manage.py create_agent NAME`.",
        }


class StaffSessionScheme(OpenApiAuthenticationExtension):
    target_class = "system.api.authentication.StaffSessionAuthentication"
    name = "staffSession"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "A staff user's admin session (unsafe methods need the CSRF token).",
        }


# The agent loop, first in the document.

#: (path, method) of the loop's steps, in the order an agent calls them.
LOOP = [
    ("/api/v1/work/ready/", "GET"),
    ("/api/v1/work/{id}/claim/", "POST"),
    ("/api/v1/attempts/{id}/context/", "GET"),
    ("/api/v1/attempts/{id}/evidence/", "POST"),
    ("/api/v1/attempts/{id}/release/", "POST"),
]


def operation_order(endpoint):
    """``SORT_OPERATIONS``: the loop's steps in loop order, then everything by path."""
    path, _, method, _ = endpoint
    try:
        # Endpoints name the key {pk}; the document calls it {id}.
        return (0, LOOP.index((path.replace("{pk}", "{id}"), method)), ())
    except ValueError:
        return (1, 0, alpha_operation_sorter(endpoint))


_ATTEMPT = "/api/v1/attempts/{id}"
#: source (path, method, status) → links (name, target path, target method, parameters,
#: request body or None). Parameters and bodies are OpenAPI runtime expressions.
LINKS = {
    ("/api/v1/work/ready/", "get", "200"): [
        ("claim", "/api/v1/work/{id}/claim/", "post", {"id": "$response.body#/results/0/id"}),
        ("item", "/api/v1/items/{id}/", "get", {"id": "$response.body#/results/0/id"}),
    ],
    ("/api/v1/work/{id}/claim/", "post", "201"): [
        (name, f"{_ATTEMPT}/{call}", method, {"id": "$response.body#/attempt/id"}, body)
        for name, call, method, body in (
            ("context", "context/", "get", None),
            ("record_evidence", "evidence/", "post", None),
            ("register_outcome", "outcomes/", "post", None),
            ("record_decision", "decisions/", "post", None),
            ("heartbeat", "heartbeat/", "post", None),
            ("release", "release/", "post", None),
        )
    ],
    (f"{_ATTEMPT}/context/", "get", "200"): [
        ("record_evidence", f"{_ATTEMPT}/evidence/", "post", {"id": "$response.body#/attempt/id"}),
        ("release", f"{_ATTEMPT}/release/", "post", {"id": "$response.body#/attempt/id"}),
    ],
    (f"{_ATTEMPT}/evidence/", "post", "201"): [
        (
            "release_completed",
            f"{_ATTEMPT}/release/",
            "post",
            {"id": "$response.body#/record/attempt_id"},
            {"disposition": "completed"},
        ),
        ("context", f"{_ATTEMPT}/context/", "get", {"id": "$response.body#/record/attempt_id"}),
        ("evidence", "/api/v1/evidence/{id}/", "get", {"id": "$response.body#/record/id"}),
    ],
    (f"{_ATTEMPT}/outcomes/", "post", "201"): [
        ("context", f"{_ATTEMPT}/context/", "get", {"id": "$response.body#/record/attempt_id"}),
    ],
    (f"{_ATTEMPT}/decisions/", "post", "201"): [
        ("context", f"{_ATTEMPT}/context/", "get", {"id": "$response.body#/record/attempt_id"}),
    ],
    (f"{_ATTEMPT}/release/", "post", "200"): [
        ("ready", "/api/v1/work/ready/", "get", {}),
        ("attempt", f"{_ATTEMPT}/", "get", {"id": "$response.body#/attempt/id"}),
        ("item", "/api/v1/items/{id}/", "get", {"id": "$response.body#/item/id"}),
    ],
    ("/api/v1/leases/", "post", "201"): [
        (name, f"/api/v1/leases/{{id}}/{call}", method, {"id": "$response.body#/lease/id"})
        for name, call, method in (
            ("lease", "", "get"),
            ("heartbeat", "heartbeat/", "post"),
            ("release", "release/", "post"),
        )
    ],
    ("/api/v1/items/", "post", "201"): [
        ("item", "/api/v1/items/{id}/", "get", {"id": "$response.body#/id"}),
        ("change", "/api/v1/items/{id}/", "patch", {"id": "$response.body#/id"}),
        ("claim", "/api/v1/work/{id}/claim/", "post", {"id": "$response.body#/id"}),
        ("delete", "/api/v1/items/{id}/", "delete", {"id": "$response.body#/id"}),
    ],
    ("/api/v1/blockers/", "post", "201"): [
        ("blocker", "/api/v1/blockers/{id}/", "get", {"id": "$response.body#/record/id"}),
        ("resolve", "/api/v1/blockers/{id}/resolve/", "post", {"id": "$response.body#/record/id"}),
    ],
    ("/api/v1/assignments/", "post", "201"): [
        (name, f"/api/v1/assignments/{{id}}/{call}", method, {"id": "$response.body#/id"})
        for name, call, method in (
            ("assignment", "", "get"),
            ("start", "start/", "post"),
            ("drop", "drop/", "post"),
        )
    ],
    ("/api/v1/bugs/", "post", "201"): [
        ("bug", "/api/v1/bugs/{id}/", "get", {"id": "$response.body#/id"}),
    ],
    ("/api/v1/claims/", "post", "201"): [
        ("claim", "/api/v1/claims/{id}/", "get", {"id": "$response.body#/id"}),
        ("verify", "/api/v1/claims/{id}/", "patch", {"id": "$response.body#/id"}),
    ],
    ("/api/v1/deployments/", "post", "201"): [
        ("deployment", "/api/v1/deployments/{id}/", "get", {"id": "$response.body#/id"}),
    ],
}


def bound_integer_parameters(result, generator, request, public):
    """``POSTPROCESSING_HOOKS``: an integer parameter (an integer key in a path) documents
    the range SQLite's INTEGER holds; outside it there is no such row (404)."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if schema.get("type") == "integer":
                    schema.setdefault("minimum", INT64_MIN)
                    schema.setdefault("maximum", INT64_MAX)
    return result


def add_links(result, generator, request, public):
    """``POSTPROCESSING_HOOKS``: OpenAPI links from each step of the loop to the next (and
    from each created row to the calls on it), by ``operationId``."""
    paths = result.get("paths", {})
    for (path, method, status), links in LINKS.items():
        response = paths.get(path, {}).get(method, {}).get("responses", {}).get(status)
        if response is None:
            continue
        for name, target_path, target_method, parameters, *body in links:
            target = paths.get(target_path, {}).get(target_method)
            if target is None:
                continue
            link = {"operationId": target["operationId"]}
            if parameters:
                link["parameters"] = parameters
            if body and body[0] is not None:
                link["requestBody"] = body[0]
            response.setdefault("links", {})[name] = link
    return result
