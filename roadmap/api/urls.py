from django.urls import path
from rest_framework.routers import SimpleRouter

from roadmap.api import views

router = SimpleRouter()
router.register("items", views.ItemViewSet, basename="item")
router.register("assignments", views.AssignmentViewSet, basename="assignment")
router.register("claims", views.ClaimViewSet, basename="claim")
router.register("deployments", views.DeploymentViewSet, basename="deployment")

urlpatterns = [
    path("views/blocked-items/", views.BlockedItemsView.as_view(), name="blocked-items"),
    path("views/roadmap-progress/", views.RoadmapProgressView.as_view(), name="roadmap-progress"),
    path("views/can-deploy/", views.CanDeployView.as_view(), name="can-deploy"),
    path("views/deploy-blockers/", views.DeployBlockersView.as_view(), name="deploy-blockers"),
    *router.urls,
]
