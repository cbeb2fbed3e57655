"""The REST API's ``next_actions`` as MCP tool calls.

What may come next is decided once, by the REST views' helpers (``kernel.api.views``:
only calls that would be accepted as things stand). Each entry names an API route and
carries its path (``href``); here it becomes ``{"tool", "arguments", "note"?}``: the tool
that does the same, with the id the path carries. The id is read back exactly, by
matching the path against the route's own pattern (``system.api.rendering.api_path``
quotes ids the same way every time), so an id holding ``/`` or ``#`` survives.
"""

from __future__ import annotations

from urllib.parse import unquote

from system.api.rendering import api_path

#: API route name → (tool, the argument its path id becomes; None: no id).
ROUTE_TOOLS: dict[str, tuple[str, str | None]] = {
    "work-ready": ("ready_work", None),
    "my-work": ("my_work", None),
    "work-claim": ("claim_work", "work_id"),
    "attempt-context": ("work_context", "attempt_id"),
    "attempt-evidence": ("record_evidence", "attempt_id"),
    "attempt-decisions": ("record_decision", "attempt_id"),
    "attempt-outcomes": ("record_outcome", "attempt_id"),
    "attempt-blockers": ("raise_blocker", "attempt_id"),
    "attempt-heartbeat": ("heartbeat", "attempt_id"),
    "attempt-release": ("release_work", "attempt_id"),
    "attempt-handoff": ("handoff_work", "attempt_id"),
    "blocker-resolve": ("resolve_blocker", "blocker_id"),
    "lease-heartbeat": ("heartbeat", "lease_id"),
    "lease-release": ("release_lease", "lease_id"),
}

_PLACEHOLDER = "MCP-ID-PLACEHOLDER"
_REST_KEYS = {"action", "method", "href"}


def _route_of(href: str) -> tuple[str, str | None] | None:
    """(route name, its id) of an API path, or None for a route without a tool."""
    for route, (_, argument) in ROUTE_TOOLS.items():
        if argument is None:
            if href == api_path(route):
                return route, None
            continue
        prefix, _, suffix = api_path(route, _PLACEHOLDER).partition(_PLACEHOLDER)
        if (
            href.startswith(prefix)
            and href.endswith(suffix)
            and len(href) > len(prefix) + len(suffix)
        ):
            quoted = href[len(prefix) : len(href) - len(suffix)]
            if "/" not in quoted:
                return route, unquote(quoted)
    return None


def tool_call(entry: dict) -> dict | None:
    """One REST ``next_action`` as an MCP tool call; None when no tool does it."""
    found = _route_of(entry["href"])
    if found is None:
        return None
    route, pk = found
    tool, argument = ROUTE_TOOLS[route]
    call = {"tool": tool, "arguments": {argument: pk} if argument else {}}
    if entry.get("note"):
        call["note"] = entry["note"]
    return call


def _is_rest_action(value) -> bool:
    return isinstance(value, dict) and _REST_KEYS <= set(value) <= _REST_KEYS | {"note"}


def as_tool_calls(data):
    """``data`` (a response body) with every REST next action turned into a tool call:
    in lists (``next_actions``) those no tool does are left out; a single one (a ready
    row's ``claim``) becomes null."""
    if _is_rest_action(data):
        return tool_call(data)
    if isinstance(data, dict):
        return {key: as_tool_calls(value) for key, value in data.items()}
    if isinstance(data, list):
        converted = [as_tool_calls(value) for value in data]
        if any(_is_rest_action(value) for value in data):
            converted = [value for value in converted if value is not None]
        return converted
    return data
