"""``/mcp/``, and ``/mcp`` as well: MCP clients are configured with either, and a POST cannot
follow the redirect ``APPEND_SLASH`` would answer."""

from django.urls import re_path

from kernel.mcp.http import mcp_endpoint

urlpatterns = [re_path(r"^mcp/?$", mcp_endpoint, name="mcp")]
