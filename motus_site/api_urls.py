"""Agent API routes: ``/api/v1/…``, the OpenAPI schema and its docs (served offline)."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from system.api.errors import not_found_view

app_name = "api"

# The kernel first: its claim/evidence/release routes are the agents' hot path.
v1 = [
    path("", include("kernel.api.urls")),
    path("", include("roadmap.api.urls")),
    path("", include("programs.api.urls")),
    path("", include("system.api.urls")),
]

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"^.*$", not_found_view),
]
