"""Read queries behind the programs page: a fixed number of queries for any data size."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import F, Prefetch
from django.utils.text import slugify

from programs.models import (
    ChangeRequest,
    Feature,
    Product,
    Release,
    VBugsByVersion,
    VComplianceStatus,
    VOpenCrs,
    VProgramsSummary,
)
from system.sql import bytewise

#: Row anchor prefix of each model the programs page lists (``model_name`` → prefix).
ANCHORS = {
    "program": "program",
    "product": "product",
    "feature": "feature",
    "release": "release",
    "changerequest": "cr",
    "bug": "bug",
}


def row_anchor(model_name: str, pk: str) -> str:
    """The ``id`` of a row on the programs page (``cr-cr-12`` for change request ``CR-12``):
    what links to it from elsewhere use."""
    return f"{ANCHORS[model_name]}-{slugify(pk)}"


@dataclass(frozen=True)
class ProgramOverview:
    summary: VProgramsSummary
    products: list[Product]


def programs_overview() -> list[ProgramOverview]:
    """Live programs (``v_programs_summary``) with their live products, features and releases.

    Each release carries ``compliance``: its ``v_compliance_status`` row (None if its
    product row is missing, which the view leaves out), and ``compliance_label``: what the
    page says of it, ``compliance_key`` its kind (:func:`compliance_verdict`).
    """
    summaries = list(VProgramsSummary.objects.order_by(bytewise("name"), bytewise("id")))
    compliance = {row.release_id: row for row in VComplianceStatus.objects.all()}
    products_by_program = defaultdict(list)
    for product in (
        Product.objects.live()
        .filter(program_id__in=[summary.id for summary in summaries])
        .prefetch_related(
            Prefetch("features", Feature.objects.live().order_by(bytewise("name"), bytewise("id"))),
            Prefetch("releases", Release.objects.live().order_by("created_at", bytewise("id"))),
        )
        .order_by(bytewise("name"), bytewise("id"))
    ):
        for release in product.releases.all():
            release.compliance = compliance.get(release.id)
            release.compliance_key, release.compliance_label = compliance_verdict(
                release.compliance
            )
        products_by_program[product.program_id].append(product)
    return [ProgramOverview(summary, products_by_program[summary.id]) for summary in summaries]


def open_change_requests() -> list[VOpenCrs]:
    """Change requests not done, newest first."""
    return list(VOpenCrs.objects.all())


def bugs_by_version() -> list[VBugsByVersion]:
    """Live bugs, most severe first, then newest first."""
    return list(VBugsByVersion.objects.all())


#: What the page says of a release nobody has checked yet. ``v_compliance_status`` calls it
#: ``clear`` (no failed blocking check), which reads as "passed" on a page.
NO_CHECKS = "no checks yet"


def compliance_verdict(row: VComplianceStatus | None) -> tuple[str, str]:
    """(key, label) the page shows for a release's ``v_compliance_status`` row: the view's
    status for both, except ``("none", NO_CHECKS)`` for a release with zero results, and
    ``("", "—")`` when the view has no row for it."""
    if row is None:
        return "", "—"
    if not row.total_checks:
        return "none", NO_CHECKS
    return row.status or "", row.status or "—"


@dataclass(frozen=True)
class LinkedItem:
    """A live roadmap item that works on a change request (``roadmap_items.cr_id``)."""

    id: str
    title: str


def roadmap_items_by_cr(cr_ids) -> dict[str, list[LinkedItem]]:
    """Live roadmap items of each change request (``cr_id``), by rank (unranked last), then
    id; one query.

    Read through the ``roadmap_items`` reverse relation of :class:`ChangeRequest`, so this
    app imports nothing from ``roadmap`` (which stands to its right).
    """
    items: dict[str, list[LinkedItem]] = defaultdict(list)
    rows = (
        ChangeRequest.objects.filter(
            pk__in=set(cr_ids),
            roadmap_items__id__isnull=False,
            roadmap_items__deleted_at__isnull=True,
        )
        .order_by(
            bytewise("pk"),
            F("roadmap_items__rank").asc(nulls_last=True),
            bytewise("roadmap_items__id"),
        )
        .values_list("pk", "roadmap_items__id", "roadmap_items__title")
    )
    for cr_id, item_id, title in rows:
        items[cr_id].append(LinkedItem(item_id, title))
    return items
