from django.urls import path

from system.api.views import WhoAmIView

urlpatterns = [
    path("whoami/", WhoAmIView.as_view(), name="whoami"),
]
