"""Server-rendered progress pages."""

urlpatterns = []
