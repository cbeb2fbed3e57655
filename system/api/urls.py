from django.urls import path
from rest_framework.routers import SimpleRouter

from system.api.views import AuditLogViewSet, WhoAmIView

router = SimpleRouter()
router.register("audit-log", AuditLogViewSet, basename="audit-log")

urlpatterns = [
    path("whoami/", WhoAmIView.as_view(), name="whoami"),
    *router.urls,
]
