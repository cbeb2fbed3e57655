"""Terminology lookups for the ``*_key`` columns (RULES.md 1.5).

The columns have no foreign key (``internal_key`` is unique only within a domain), so the
app validates and displays them from the live ``terminology`` rows of their domain.
Display names are read fresh each time: renaming one in the admin shows up everywhere.
"""

from __future__ import annotations

from system.models import Terminology


def choices(domain: str, *, current: str | None = None) -> list[tuple[str, str]]:
    """(internal_key, display_name) of the domain's non-deprecated entries, in sort order.

    ``current`` keeps a row's existing value selectable even if it was deprecated since.
    """
    rows = list(
        Terminology.objects.live()
        .filter(domain=domain, deprecated_at__isnull=True)
        .order_by("sort_order", "id")
        .values_list("internal_key", "display_name")
    )
    if current and current not in {key for key, _ in rows}:
        label = display_names(domain).get(current, current)
        rows.append((current, label))
    return rows


def display_names(domain: str) -> dict[str, str]:
    """internal_key → display_name for every entry of the domain (deprecated ones too)."""
    return display_names_by_domain(domain)[domain]


def display_names_by_domain(*domains: str) -> dict[str, dict[str, str]]:
    """``display_names`` of several domains in one query (pages show several at once)."""
    names: dict[str, dict[str, str]] = {domain: {} for domain in domains}
    rows = Terminology.objects.filter(domain__in=domains).values_list(
        "domain", "internal_key", "display_name"
    )
    for domain, key, name in rows:
        names[domain][key] = name
    return names


def is_valid_key(domain: str, key: str) -> bool:
    return (
        Terminology.objects.live()
        .filter(domain=domain, internal_key=key, deprecated_at__isnull=True)
        .exists()
    )
