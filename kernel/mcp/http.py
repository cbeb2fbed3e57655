"""``/mcp/``: the MCP server over streamable HTTP, as a Django view.

The app is served by gunicorn's ``sync`` workers (WSGI, one request at a time per worker),
so the SDK runs in its stateless mode with JSON responses: every POST carries a whole
JSON-RPC exchange and gets its whole answer, no session lives between requests (any worker
may answer the next one) and there is no server-sent event stream to hold a worker
(``GET``/``DELETE`` are answered 405, which the protocol allows).

The bridge is this view, not a WSGI wrapper such as a2wsgi around the SDK's Starlette app:

- it is a route among the others, behind Django's own middleware (allowed hosts, security
  headers), authenticated with the REST API's ``TokenAuthentication`` (same tokens, same
  throttle on failed attempts, same 401/429 bodies);
- the SDK's streamable-HTTP manager gets the request as an ASGI call (scope, the body,
  the response collected) inside ``asgiref.async_to_sync``, Django's own sync/async
  bridge. ``async_to_sync`` runs the event loop in a helper thread while this thread waits
  to run ``sync_to_async(thread_sensitive=True)`` work, so the tools' database work runs
  here, in the request's thread on its connection, as a REST call's does. a2wsgi would run
  the SDK in a long-lived loop thread of its own; the database work would then land on
  another thread than the request's (connections never cleaned up by Django), the SDK's
  manager would need its lifespan started by hand in each forked worker, and the
  endpoint would sit outside the URLconf;
- a stateless manager has no state worth keeping, so each request gets a fresh one (its
  ``run()`` may be entered only once) on the one ``Server`` of the process. Bridge, SDK and
  all, an MCP cycle costs gunicorn about 1.35 times the CPU of the same REST cycle
  (``bench/mcp_cycle.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import anyio
import mcp_types
from asgiref.sync import async_to_sync
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from rest_framework import exceptions

from kernel.mcp.server import build_server, caller, write_gate
from system.api.authentication import TokenAuthentication
from system.api.errors import error_body, special_error
from system.api.throttling import WriteRateThrottle
from system.identity import Actor

WWW_AUTHENTICATE = 'Bearer realm="mcp"'


def _refused(
    status: int, code: str, message: str, headers: dict | None = None, details=None
) -> HttpResponse:
    """A refusal before the MCP server is reached: a JSON-RPC error (what MCP clients read
    from a non-2xx answer and show) whose message is ``"<status> <code>: <message>"`` and
    whose data is the REST API's error object."""
    body = mcp_types.JSONRPCError(
        jsonrpc="2.0",
        id=None,
        error=mcp_types.ErrorData(
            code=mcp_types.INVALID_REQUEST,
            message=f"{status} {code}: {message}",
            data=error_body(status, code, message, details=details)["error"],
        ),
    )
    return HttpResponse(
        body.model_dump_json(by_alias=True, exclude_unset=True),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def _scope(request: HttpRequest) -> dict:
    """The request as an ASGI HTTP scope (the token stays out of it)."""
    headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in request.headers.items()
        if name.lower() != "authorization"
    ]
    host, _, port = request.get_host().partition(":")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": request.scheme,
        "path": request.path,
        "raw_path": request.path.encode(),
        "query_string": request.META.get("QUERY_STRING", "").encode("latin-1"),
        "root_path": "",
        "headers": headers,
        "client": (request.META.get("REMOTE_ADDR") or "", 0),
        "server": (host, int(port) if port.isdigit() else 80),
    }


def _write_gate(request: HttpRequest, user, token) -> Callable[[], None]:
    """The REST API's write throttle (``WriteRateThrottle``: writes per token) for the tools
    that write: each such call counts as one POST of the token."""
    as_seen = SimpleNamespace(method="POST", user=user, auth=token, META=request.META)

    def check() -> None:
        throttle = WriteRateThrottle()
        if not throttle.allow_request(as_seen, None):
            raise exceptions.Throttled(throttle.wait())

    return check


async def _serve(scope: dict, body: bytes, actor: Actor, gate) -> tuple[int, list, bytes]:
    """Run the SDK's stateless streamable-HTTP handler on one request; its response."""
    caller.set(lambda: actor)
    write_gate.set(gate)
    manager = StreamableHTTPSessionManager(app=build_server(), json_response=True, stateless=True)
    answered = anyio.Event()
    sent_body = False
    status = 500
    headers: list = []
    chunks: list[bytes] = []

    async def receive() -> dict:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}
        await answered.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status, headers = message["status"], message.get("headers", [])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                answered.set()

    async with manager.run():
        await manager.handle_request(scope, receive, send)
    return status, headers, b"".join(chunks)


@csrf_exempt
def mcp_endpoint(request: HttpRequest) -> HttpResponse:
    """The MCP endpoint: Bearer token (401 without one), then one JSON-RPC exchange. A
    database that cannot be used answers 503 naming the cause, as the REST API does."""
    try:
        return _answer(request)
    except DatabaseError as exc:
        special = special_error(exc)
        if special is None:
            raise
        status, body, headers = special
        error = body["error"]
        return _refused(status, error["code"], error["message"], headers, error.get("details"))


def _answer(request: HttpRequest) -> HttpResponse:
    try:
        authenticated = TokenAuthentication().authenticate(request)
    except exceptions.APIException as exc:
        headers = {"WWW-Authenticate": WWW_AUTHENTICATE}
        if isinstance(exc, exceptions.Throttled) and exc.wait:
            headers = {"Retry-After": str(int(exc.wait))}
        return _refused(exc.status_code, exc.get_codes(), str(exc.detail), headers)
    if authenticated is None:
        return _refused(
            401,
            "not_authenticated",
            "Authentication credentials were not provided: send Authorization: Bearer <token>.",
            {"WWW-Authenticate": WWW_AUTHENTICATE},
        )
    if request.method != "POST":
        return _refused(
            405,
            "method_not_allowed",
            "This MCP endpoint is stateless: POST one JSON-RPC message per request.",
            {"Allow": "POST"},
        )
    try:
        body = request.body
    except RequestDataTooBig as exc:
        return _refused(413, "request_too_large", str(exc))
    user, token = authenticated
    status, headers, content = async_to_sync(_serve)(
        _scope(request), body, Actor.of(user), _write_gate(request, user, token)
    )
    response = HttpResponse(content, status=status)
    for name, value in headers:
        name = name.decode("latin-1")
        if name.lower() != "content-length":
            response[name] = value.decode("latin-1")
    return response
