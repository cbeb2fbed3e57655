"""``manage.py mcp --agent NAME``: the MCP server over stdio, acting as ``agent:NAME``.

For an agent on the machine that holds the database file: its MCP client starts this
command and talks JSON-RPC over the command's stdin/stdout (nothing else may be printed
there; Django's and the SDK's logs go to stderr). No token: whoever may run the command may
open the database file anyway. The agent must exist (``manage.py create_agent NAME``) and
be active; its account is read again on every call, so taking its role away (or
deactivating it) stops it at once. Everything else is the HTTP endpoint's: the same tools,
services, authority, audit rows and errors (``kernel.mcp``).
"""

from __future__ import annotations

import logging
import sys

from asgiref.sync import async_to_sync
from django.core.management.base import BaseCommand, CommandError
from mcp.server.stdio import stdio_server

from kernel.mcp.server import build_server, caller
from system.errors import Forbidden
from system.identity import Actor, user_of


def agent_actor(name: str) -> Actor:
    """``agent:NAME`` as it stands now; refused if the account is gone or inactive."""
    user = user_of(f"agent:{name}")
    if user is None:
        raise Forbidden(f"agent:{name} is no longer an active agent account.")
    return Actor.of(user)


class Command(BaseCommand):
    help = "Serve the MCP tools over stdio as agent:NAME (for an MCP client on this machine)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--agent",
            required=True,
            help="The agent to act as (created with create_agent); its identity is agent:NAME.",
        )

    def handle(self, *args, agent, **options):
        if user_of(f"agent:{agent}") is None:
            raise CommandError(
                f"No active agent {agent!r}: create it with `manage.py create_agent {agent}`."
            )
        # stdout carries the protocol: every log line goes to stderr.
        logging.basicConfig(stream=sys.stderr, level=logging.WARNING)

        async def serve() -> None:
            caller.set(lambda: agent_actor(agent))
            server = build_server()
            async with stdio_server() as (read_stream, write_stream):
                await server.run(read_stream, write_stream, server.create_initialization_options())

        # The event loop runs in a helper thread; the tools' database work comes back to
        # this thread (sync_to_async(thread_sensitive=True)), the one with the connection.
        async_to_sync(serve)()
