"""What the API's JSON looks like, for responses built from plain rows."""

from __future__ import annotations

from functools import cache

from django.urls import reverse

_PLACEHOLDER = "__pk__"


def iso_timestamp(value):
    """``YYYY-MM-DD HH:MM:SS`` (the database's UTC form) → ``YYYY-MM-DDTHH:MM:SSZ``, the
    form DRF gives model timestamps, so every timestamp of the API reads alike."""
    if isinstance(value, str) and len(value) == 19 and value[10] == " ":
        return f"{value[:10]}T{value[11:]}Z"
    return value


def present(value):
    """A row (or nested rows) as JSON: timestamp columns (``*_at``, ``last_heartbeat``) in
    ISO form; everything else unchanged."""
    if isinstance(value, dict):
        return {
            key: iso_timestamp(item)
            if key.endswith("_at") or key == "last_heartbeat"
            else present(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [present(item) for item in value]
    return value


@cache
def _url_template(url_name: str, with_pk: bool) -> str:
    kwargs = {"pk": _PLACEHOLDER} if with_pk else None
    return reverse(f"api:{url_name}", kwargs=kwargs)


def next_action(action: str, method: str, url_name: str, pk=None, note: str | None = None):
    """One entry of ``next_actions``: what the agent may call, and how."""
    href = _url_template(url_name, pk is not None)
    if pk is not None:
        href = href.replace(_PLACEHOLDER, str(pk))
    entry = {"action": action, "method": method, "href": href}
    if note:
        entry["note"] = note
    return entry
