"""Who may read the server-rendered pages.

Reading them takes the read permission (:data:`system.policy.READ`, which every role
holds). An anonymous visitor is sent to the app's login page (``/login/``); a logged-in user
with no role that may read gets a 403 page saying so and whom to ask. An install that sets
``MOTUS_ANONYMOUS_READ`` (a single-user local install) lets everybody read them, logged in
or not. The setting is read on every request, so it can be switched without re-importing
views.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render

from system import policy


def read_access(view):
    """Let the view through for users who may read (or for everyone with anonymous read on);
    send anonymous visitors to the login page; refuse the others with a 403 page."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        user = request.user
        if settings.MOTUS_ANONYMOUS_READ or policy.user_can(user, policy.READ):
            return view(request, *args, **kwargs)
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return no_read_role(request)

    return guarded


def no_read_role(request):
    """The 403 page of a logged-in user whose roles do not include reading the pages."""
    return render(
        request,
        "403.html",
        {"missing_permission": policy.READ, "roles": policy.roles_of(request.user)},
        status=403,
    )
