"""Root URLs: the admin, the agent API (``/api/``) and the progress pages (``/``)."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("motus_site.api_urls")),
    path("", include("motus_site.page_urls")),
]
