from rest_framework.routers import SimpleRouter

from programs.api import views

router = SimpleRouter()
router.register("programs", views.ProgramViewSet, basename="program")
router.register("products", views.ProductViewSet, basename="product")
router.register("features", views.FeatureViewSet, basename="feature")
router.register("releases", views.ReleaseViewSet, basename="release")
router.register("change-requests", views.ChangeRequestViewSet, basename="change-request")
router.register("bugs", views.BugViewSet, basename="bug")
router.register("standards", views.StandardViewSet, basename="standard")
router.register("charters", views.CharterViewSet, basename="charter")

urlpatterns = router.urls
