"""Server-rendered progress pages, mounted at ``/``.

The roadmap item page is routed here rather than in ``roadmap.urls`` because its view
lives in ``kernel`` (it shows attempts), and ``roadmap`` must not import ``kernel``.
"""

from django.urls import include, path

from kernel.views import item_detail
from roadmap.views import overview

urlpatterns = [
    path("", overview, name="overview"),
    path("roadmap/", include("roadmap.urls")),
    path("roadmap/<path:item_id>/", item_detail, name="roadmap-item"),
    path("programs/", include("programs.urls")),
]
