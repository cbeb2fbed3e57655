"""Page routes of the programs app (mounted at ``/programs/``)."""

from django.urls import path

from programs.views import programs_page

urlpatterns = [
    path("", programs_page, name="programs"),
]
