"""Links to roadmap item pages without one ``reverse()`` per item.

A list page shows a hundred items and a graph up to several hundred; ``reverse()`` costs
tens of microseconds each. The URL pattern is reversed once per URLconf and script prefix
with a placeholder, and each id is quoted the way ``reverse()`` quotes a ``<path:>``
argument.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.http import RFC3986_SUBDELIMS

_PLACEHOLDER = "ITEM-ID"


def item_url(item_id: str) -> str:
    """Same as ``reverse("roadmap-item", args=[item_id])``."""
    pattern = _item_url_pattern(get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())
    return pattern.replace(_PLACEHOLDER, quote(item_id, safe=RFC3986_SUBDELIMS + "/~:@"))


@lru_cache(maxsize=8)
def _item_url_pattern(urlconf: str, script_prefix: str) -> str:
    return reverse("roadmap-item", urlconf=urlconf, args=[_PLACEHOLDER])
