"""The Model Context Protocol server: agents call the kernel's loop as MCP tools.

- :mod:`kernel.mcp.tools`: the tools, over the same services and serializers as the REST API;
- :mod:`kernel.mcp.server`: the SDK's server, resources, prompt, refusals as tool errors;
- :mod:`kernel.mcp.http`: ``/mcp/`` (streamable HTTP, stateless JSON, Bearer tokens);
- ``manage.py mcp --agent NAME``: stdio, for an agent on the database's machine.
"""
