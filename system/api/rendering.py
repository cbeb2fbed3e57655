"""Links the API sends: ``next_actions`` entries and their ``href``.

A path is ``reverse()``'s, with the id quoted the way ``reverse()`` quotes a path argument
(``A#1`` → ``A%231``; a ``/`` inside an id stays inside its segment as ``%2F``). The
pattern is reversed once per URL name, URLconf and script prefix with a placeholder:
``reverse()`` costs tens of microseconds, and a claim's response carries eight links.

Response bodies themselves are serializers' output (``*/api/serializers.py``), so that
the OpenAPI document describes exactly what is sent.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import quote

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.http import RFC3986_SUBDELIMS

_PLACEHOLDER = "PK-PLACEHOLDER"
#: What ``reverse()`` leaves unquoted in a path, less ``/`` (an id is one path segment).
_SAFE_IN_SEGMENT = RFC3986_SUBDELIMS + "~:@"
#: Text that ``quote()`` returns unchanged (RFC 3986's unreserved characters).
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]+").fullmatch


@lru_cache(maxsize=256)
def _path_pattern(url_name: str, with_pk: bool, urlconf: str, script_prefix: str) -> str:
    kwargs = {"pk": _PLACEHOLDER} if with_pk else None
    return reverse(f"api:{url_name}", urlconf=urlconf, kwargs=kwargs)


def _patterns():
    """The current URLconf and script prefix (per request), as ``_path_pattern`` keys them."""
    return get_urlconf() or settings.ROOT_URLCONF, get_script_prefix()


def _quoted(pk) -> str:
    """The id as one path segment (most ids need no quoting: letters, digits, ``-_.~``)."""
    text = str(pk)
    return text if _UNRESERVED(text) else quote(text, safe=_SAFE_IN_SEGMENT)


def api_path(url_name: str, pk=None) -> str:
    """``reverse("api:<url_name>", kwargs={"pk": pk})``, the id quoted."""
    pattern = _path_pattern(url_name, pk is not None, *_patterns())
    if pk is None:
        return pattern
    return pattern.replace(_PLACEHOLDER, _quoted(pk))


def next_action(action: str, method: str, url_name: str, pk=None, note: str | None = None):
    """One entry of ``next_actions``: a call the caller may make now, and how."""
    return _entry(action, method, api_path(url_name, pk), note)


def next_actions_on(pk, calls) -> list[dict]:
    """:func:`next_action` for several ``(action, method, url_name, note)`` calls on one id,
    which is quoted, and the URLconf looked up, once (an attempt offers eight calls)."""
    context = _patterns()
    quoted = _quoted(pk)
    return [
        _entry(
            action,
            method,
            _path_pattern(url_name, True, *context).replace(_PLACEHOLDER, quoted),
            note,
        )
        for action, method, url_name, note in calls
    ]


def _entry(action: str, method: str, href: str, note: str | None) -> dict:
    entry = {"action": action, "method": method, "href": href}
    if note:
        entry["note"] = note
    return entry


class Merged:
    """An object whose attributes come from ``extra`` first, then from ``base``: a model
    instance plus the computed parts of its detail, for one serializer to render."""

    def __init__(self, base, extra: dict):
        self._base = base
        self._extra = extra

    def __getattr__(self, name):
        extra = self.__dict__["_extra"]
        if name in extra:
            return extra[name]
        return getattr(self.__dict__["_base"], name)
