"""Who may read the server-rendered pages.

The pages need a logged-in user (redirect to the admin login) unless the install sets
``MOTUS_ANONYMOUS_READ``: a single-user local install then reads them without logging in.
The setting is read on every request, so it can be switched without re-importing views.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login


def read_access(view):
    """Let the view through for logged-in users, or for everyone with anonymous read on."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if request.user.is_authenticated or settings.MOTUS_ANONYMOUS_READ:
            return view(request, *args, **kwargs)
        return redirect_to_login(request.get_full_path())

    return guarded
