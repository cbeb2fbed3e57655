"""Root URLs: the admin, the agent API (``/api/``), the progress pages (``/``) and the
health endpoints for load balancers (``/healthz``, ``/readyz``: no login)."""

from django.contrib import admin
from django.urls import include, path

from system.views import healthz, readyz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("api/", include("motus_site.api_urls")),
    path("", include("kernel.mcp.urls")),  # /mcp/ (and /mcp): the MCP server, Bearer tokens
    path("", include("motus_site.page_urls")),
]
