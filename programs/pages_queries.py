"""Read queries behind the programs page: a fixed number of queries for any data size."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Prefetch

from programs.models import (
    Feature,
    Product,
    Release,
    VBugsByVersion,
    VComplianceStatus,
    VOpenCrs,
    VProgramsSummary,
)


@dataclass(frozen=True)
class ProgramOverview:
    summary: VProgramsSummary
    products: list[Product]


def programs_overview() -> list[ProgramOverview]:
    """Live programs (``v_programs_summary``) with their live products, features and releases.

    Each release carries ``compliance``: its ``v_compliance_status`` row (None if its
    product row is missing, which the view leaves out).
    """
    summaries = list(VProgramsSummary.objects.order_by("name", "id"))
    compliance = {row.release_id: row for row in VComplianceStatus.objects.all()}
    products_by_program = defaultdict(list)
    for product in (
        Product.objects.live()
        .filter(program_id__in=[summary.id for summary in summaries])
        .prefetch_related(
            Prefetch("features", Feature.objects.live().order_by("name", "id")),
            Prefetch("releases", Release.objects.live().order_by("created_at", "id")),
        )
        .order_by("name", "id")
    ):
        for release in product.releases.all():
            release.compliance = compliance.get(release.id)
        products_by_program[product.program_id].append(product)
    return [ProgramOverview(summary, products_by_program[summary.id]) for summary in summaries]


def open_change_requests() -> list[VOpenCrs]:
    """Change requests not done, newest first."""
    return list(VOpenCrs.objects.all())


def bugs_by_version() -> list[VBugsByVersion]:
    """Live bugs, most severe first, then newest first."""
    return list(VBugsByVersion.objects.all())
