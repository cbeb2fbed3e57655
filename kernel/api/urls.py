from django.urls import path
from rest_framework.routers import SimpleRouter

from kernel.api import views

router = SimpleRouter()
router.register("attempts", views.AttemptViewSet, basename="attempt")
router.register("evidence", views.EvidenceViewSet, basename="evidence")
router.register("decisions", views.DecisionViewSet, basename="decision")
router.register("blockers", views.BlockerViewSet, basename="blocker")
router.register("leases", views.LeaseViewSet, basename="lease")
router.register("contracts", views.CompiledContractViewSet, basename="compiled-contract")
router.register("kernel-decisions", views.KernelDecisionViewSet, basename="kernel-decision")
router.register("kernel-evidence", views.KernelEvidenceViewSet, basename="kernel-evidence")
router.register("kernel-outcomes", views.KernelOutcomeViewSet, basename="kernel-outcome")

urlpatterns = [
    path("work/ready/", views.ReadyWorkView.as_view(), name="work-ready"),
    path("work/<str:pk>/claim/", views.ClaimView.as_view(), name="work-claim"),
    path("my-work/", views.MyWorkView.as_view(), name="my-work"),
    *router.urls,
]
