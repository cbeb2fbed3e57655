"""The Motus MCP server: the official SDK's low-level ``Server`` with the kernel's tools
(:mod:`kernel.mcp.tools`), two read-only resources and one prompt.

Who calls: each transport sets :data:`caller` (a function giving the calling
:class:`~system.identity.Actor`) before it serves: ``manage.py mcp --agent NAME`` (stdio)
once, the ``/mcp/`` view per HTTP request after checking the Bearer token. Tools read it
in the thread that runs them.

Threads and the database: the SDK is asynchronous, the services are synchronous Django
code (ORM, SQLite transactions). Every tool, resource and prompt runs its work through
``asgiref.sync_to_async(thread_sensitive=True)``, which sends it back to the thread that
entered the event loop through ``async_to_sync``: the HTTP request's own thread (with its
own database connection, cleaned up by Django at the end of the request, exactly as for
a REST call), or the management command's main thread. One thread does the database work
of a session, so a SQLite connection is never shared between threads, and the services'
``transaction.atomic()`` blocks mean what they mean under the REST API.

Refusals: a ``ServiceError``, a trigger's ``IntegrityError`` (``system.api.errors.as_refusal``),
invalid arguments (the request serializer's ``ValidationError``) or an unusable database
become a tool result with ``isError``: first a text block ``"<status> <code>: <message>"``
(e.g. ``409 kernel_rule: KERNEL: Work already has active attempt. Use handoff instead of new
claim.``), then the REST API's error body as JSON, ``next_actions`` as tool calls. Not a
protocol error: the model reads it and decides.
"""

from __future__ import annotations

import contextvars
import json
import logging
from collections.abc import Callable
from functools import cache
from importlib import metadata
from urllib.parse import unquote

import mcp_types as types
from asgiref.sync import sync_to_async
from mcp.server import Server
from mcp.shared.exceptions import MCPError
from rest_framework.exceptions import APIException, ErrorDetail, ValidationError

from kernel.mcp.actions import as_tool_calls
from kernel.mcp.tools import TOOLS, TOOLS_BY_NAME, item_detail
from roadmap.export import build_export, to_markdown
from system import policy
from system.api.errors import as_refusal, error_body, special_error
from system.api.permissions import CanRead
from system.errors import Forbidden, ServiceError
from system.identity import Actor

logger = logging.getLogger(__name__)

SERVER_NAME = "motus"

#: The calling actor, as a function run in the thread that does the database work (stdio
#: reads the agent's account again on every call, so a role taken away stops it at once).
caller: contextvars.ContextVar[Callable[[], Actor]] = contextvars.ContextVar("motus_mcp_caller")
#: Called before every tool that writes: raises ``Throttled`` when the caller is over its
#: write rate. HTTP sets the REST API's per-token throttle; stdio has none, like the
#: management commands.
write_gate: contextvars.ContextVar[Callable[[], None]] = contextvars.ContextVar(
    "motus_mcp_write_gate", default=lambda: None
)

INSTRUCTIONS = """\
Motus coordinates AI coding agents on one roadmap. The loop: ready_work → claim_work →
work_context → do the work, recording record_decision / record_evidence / record_outcome as
you go (heartbeat before the lease expires) → release_work with disposition completed. Stuck:
raise_blocker, then release_work with disposition blocked. Every result lists next_actions:
the tool calls that would be accepted now, with their ids. A refusal is a tool error whose
first line is '<status> <code>: <message>' (a 409 kernel_rule message is the database's own
rule: nothing was written). Resources: motus://roadmap, motus://items/{id}. Prompt:
work_cycle.
"""

# Refusals.


def refusal_body(exc: BaseException) -> dict | None:
    """The REST API's error body for a refusal, or None for an unexpected failure."""
    exc = as_refusal(exc)
    if isinstance(exc, ServiceError):
        details = {k: v for k, v in exc.details.items() if k != "fields"}
        return error_body(
            exc.status,
            exc.code,
            exc.message,
            fields=exc.details.get("fields"),
            details=details,
        )
    if isinstance(exc, ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return error_body(400, "validation_error", "Invalid input.", fields=detail)
    if isinstance(exc, APIException):  # e.g. Throttled: 429 with its wait, as REST says it
        code = exc.detail.code if isinstance(exc.detail, ErrorDetail) else None
        wait = getattr(exc, "wait", None)
        return error_body(
            exc.status_code,
            code or exc.default_code,
            str(exc.detail),
            details={"retry_after": wait} if wait else None,
        )
    special = special_error(exc)
    if special is not None:
        return special[1]
    return None


def error_result(body: dict) -> types.CallToolResult:
    error = as_tool_calls(body)["error"]
    return types.CallToolResult(
        content=[
            types.TextContent(
                type="text", text=f"{error['status']} {error['code']}: {error['message']}"
            ),
            types.TextContent(type="text", text=json.dumps({"error": error})),
        ],
        is_error=True,
    )


def _actor() -> Actor:
    try:
        return caller.get()()
    except LookupError:
        raise Forbidden("No caller: the MCP server was started without an identity.") from None


def _call_tool(name: str, arguments: dict) -> types.CallToolResult:
    tool = TOOLS_BY_NAME.get(name)
    if tool is None:
        return error_result(error_body(404, "not_found", f"No tool {name!r}."))
    try:
        data = tool.call(_actor(), arguments, before_write=write_gate.get())
    except Exception as exc:
        body = refusal_body(exc)
        if body is None:
            logger.exception("MCP tool %s failed", name)
            body = error_body(
                500, "server_error", "The server failed to answer this call; it has been logged."
            )
        return error_result(body)
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=json.dumps(data))],
        structured_content=data,
    )


# Resources (read-only) and the prompt.

ROADMAP_URI = "motus://roadmap"
ITEM_PREFIX = "motus://items/"


def _read_resource(uri: str) -> types.TextResourceContents:
    actor = _actor()
    if not policy.can(actor, policy.READ):
        raise Forbidden(CanRead.message)
    if uri == ROADMAP_URI:
        text = to_markdown(build_export())
        return types.TextResourceContents(uri=uri, mime_type="text/markdown", text=text)
    if uri.startswith(ITEM_PREFIX) and len(uri) > len(ITEM_PREFIX):
        data = as_tool_calls(item_detail(actor, unquote(uri[len(ITEM_PREFIX) :])))
        return types.TextResourceContents(
            uri=uri, mime_type="application/json", text=json.dumps(data, indent=2)
        )
    raise MCPError(code=types.INVALID_PARAMS, message=f"No resource {uri}.", data={"uri": uri})


WORK_CYCLE_PROMPT = """\
You are {identity}, an agent working on the Motus roadmap through its MCP tools. Do one work
cycle:

1. {start}
2. claim_work with that work_id (ttl_seconds if you need longer than 15 minutes). Keep
   attempt.id. A '409 kernel_rule' refusal means someone else got there first or the item is
   not ready: call ready_work again and pick another item. The error's details name unmet
   prerequisites and open blockers.
3. work_context with attempt_id. Read the contract (what done means: dependencies,
   required capabilities, standards), open blockers and review_feedback (why earlier work was
   rejected) before starting.
4. Record your plan: record_decision with decision_type plan_committed and a rationale.
5. Do the work. As you go: record_evidence (a test report, a diff; uri plus sha256, or the
   inline content), record_outcome for each deliverable, and heartbeat with attempt_id before
   the lease expires.
6. Finish with release_work, disposition completed (it needs evidence). If you cannot
   finish: raise_blocker with attempt_id (reason_code, title, needs), then release_work with
   disposition blocked. To give up: disposition failed, with notes.

Every result lists next_actions: the calls that would be accepted now, with their ids. A tool
error's first line is '<status> <code>: <message>'; nothing was written then. Report what you
did and the attempt id at the end.
"""


def _work_cycle(work_id: str | None) -> types.GetPromptResult:
    actor = _actor()
    if not policy.can(actor, policy.READ):
        raise Forbidden(CanRead.message)
    start = (
        f"The item is {work_id}: check it with roadmap_item (next_actions says whether you "
        "may claim it now)."
        if work_id
        else "ready_work: pick the first item whose claim is not null (items come in phase "
        "and rank order)."
    )
    text = WORK_CYCLE_PROMPT.format(identity=actor.identity, start=start)
    return types.GetPromptResult(
        description="One work cycle: ready → claim → context → evidence → release.",
        messages=[
            types.PromptMessage(role="user", content=types.TextContent(type="text", text=text))
        ],
    )


def _protocol_error(exc: BaseException) -> MCPError:
    """A refusal while reading a resource or a prompt: a protocol error (these have no
    error result), with the same first line as a tool error."""
    body = refusal_body(exc)
    if body is None:
        logger.exception("MCP read failed")
        return MCPError(code=types.INTERNAL_ERROR, message="The server failed to answer.")
    error = body["error"]
    return MCPError(
        code=types.INVALID_PARAMS if error["status"] == 404 else types.INVALID_REQUEST,
        message=f"{error['status']} {error['code']}: {error['message']}",
        data=error,
    )


# The server.


def _in_django(function):
    """Run ``function`` in the thread that does the database work (module docstring)."""
    return sync_to_async(function, thread_sensitive=True)


@cache
def tool_list() -> list[types.Tool]:
    return [
        types.Tool(
            name=tool.name,
            title=tool.title,
            description=tool.description,
            input_schema=tool.input_schema(),
            output_schema=tool.output_schema(),
            annotations=types.ToolAnnotations(
                title=tool.title,
                read_only_hint=tool.read_only,
                destructive_hint=tool.destructive,
                idempotent_hint=tool.idempotent,
                open_world_hint=False,
            ),
        )
        for tool in TOOLS
    ]


@cache
def _input_schemas() -> dict[str, dict]:
    return {tool.name: tool.input_schema() for tool in TOOLS}


def tool_input_schema(name: str) -> dict | None:
    """A tool's input schema, for the SDK's check of ``Mcp-Param-*`` headers on each
    2026-07-28 ``tools/call`` (without it the SDK would build the whole tool list per call).
    Pure Python (serializer fields), no database."""
    return _input_schemas().get(name)


async def on_list_tools(ctx, params) -> types.ListToolsResult:
    return types.ListToolsResult(tools=await _in_django(tool_list)())


async def on_call_tool(ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
    return await _in_django(_call_tool)(params.name, dict(params.arguments or {}))


async def on_list_resources(ctx, params) -> types.ListResourcesResult:
    return types.ListResourcesResult(
        resources=[
            types.Resource(
                name="roadmap",
                title="The roadmap",
                uri=ROADMAP_URI,
                description=(
                    "Every live item by phase with status, readiness, owner, dependencies and "
                    "progress, and each phase's counts (Markdown; what `manage.py "
                    "export_roadmap` prints)."
                ),
                mime_type="text/markdown",
            )
        ]
    )


async def on_list_resource_templates(ctx, params) -> types.ListResourceTemplatesResult:
    return types.ListResourceTemplatesResult(
        resource_templates=[
            types.ResourceTemplate(
                name="roadmap-item",
                title="A roadmap item",
                uri_template=ITEM_PREFIX + "{id}",
                description="One item as the roadmap_item tool returns it (JSON).",
                mime_type="application/json",
            )
        ]
    )


async def on_read_resource(ctx, params: types.ReadResourceRequestParams):
    try:
        contents = await _in_django(_read_resource)(str(params.uri))
    except MCPError:
        raise
    except Exception as exc:
        raise _protocol_error(exc) from exc
    return types.ReadResourceResult(contents=[contents])


async def on_list_prompts(ctx, params) -> types.ListPromptsResult:
    return types.ListPromptsResult(
        prompts=[
            types.Prompt(
                name="work_cycle",
                title="One work cycle",
                description=(
                    "Walks you through one cycle: ready_work → claim_work → work_context → "
                    "record_decision / record_evidence → release_work (or a blocker)."
                ),
                arguments=[
                    types.PromptArgument(
                        name="work_id",
                        description="An item to work on (default: the first ready item).",
                        required=False,
                    )
                ],
            )
        ]
    )


async def on_get_prompt(ctx, params: types.GetPromptRequestParams) -> types.GetPromptResult:
    if params.name != "work_cycle":
        raise MCPError(code=types.INVALID_PARAMS, message=f"No prompt {params.name!r}.")
    work_id = (params.arguments or {}).get("work_id") or None
    try:
        return await _in_django(_work_cycle)(work_id)
    except Exception as exc:
        raise _protocol_error(exc) from exc


@cache
def build_server() -> Server:
    """The server (one per process; it keeps no state between calls)."""
    try:
        version = metadata.version("motus-site")
    except metadata.PackageNotFoundError:
        version = ""
    return Server(
        SERVER_NAME,
        version=version,
        title="Motus coordination",
        instructions=INSTRUCTIONS,
        get_tool_input_schema=tool_input_schema,
        on_list_tools=on_list_tools,
        on_call_tool=on_call_tool,
        on_list_resources=on_list_resources,
        on_list_resource_templates=on_list_resource_templates,
        on_read_resource=on_read_resource,
        on_list_prompts=on_list_prompts,
        on_get_prompt=on_get_prompt,
    )
