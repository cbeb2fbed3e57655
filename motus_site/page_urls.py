"""Server-rendered progress pages, mounted at ``/``, and the pages' own login and logout.

The overview and the roadmap item page are routed here rather than in ``roadmap.urls``
because their views live in ``kernel`` (they show attempts, blockers and activity), and
``roadmap`` must not import ``kernel``.

``/login/`` is Django's ``LoginView`` with the pages' look (``registration/login.html``):
any active account may log in there, staff or not (the admin's login refuses non-staff),
and comes to the overview unless ``?next=`` says where.
``/logout/`` takes a POST (the header's button) and comes back to the login page.
"""

from django.contrib.auth.views import LoginView, LogoutView
from django.urls import include, path

from kernel.views import item_detail, overview

urlpatterns = [
    path("", overview, name="overview"),
    path("login/", LoginView.as_view(next_page="overview"), name="login"),
    path("logout/", LogoutView.as_view(next_page="login"), name="logout"),
    path("roadmap/", include("roadmap.urls")),
    path("roadmap/<path:item_id>/", item_detail, name="roadmap-item"),
    path("programs/", include("programs.urls")),
]
