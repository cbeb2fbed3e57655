"""The programs page: programs, products, features, releases, open CRs and bugs.

Every row has an ``id`` (its anchor, so a row can be shared as a link) and its name links
to the row's admin change page for a user who may change it there, or else to its anchor.
"""

from __future__ import annotations

from django.contrib.admin.utils import quote
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from programs import pages_queries as queries
from programs.pages_queries import ANCHORS, row_anchor
from system import policy
from system.access import read_access
from system.terminology import display_names_by_domain


class RowLinks:
    """Where the names on the page link for one user: the admin change page of a model the
    user may change there (staff with ``programs.change_<model>``), else the row's anchor."""

    def __init__(self, user):
        self.editable = {
            model_name
            for model_name in ANCHORS
            if user.is_staff and policy.user_can(user, f"programs.change_{model_name}")
        }

    def mark(self, row, model_name: str, pk: str) -> None:
        """Give ``row`` its ``anchor`` and its ``link`` (the URL its name points to)."""
        row.anchor = row_anchor(model_name, pk)
        row.link = self.admin_url(model_name, pk) or f"#{row.anchor}"

    def admin_url(self, model_name: str, pk: str) -> str | None:
        """The row's admin change page, if this user may change it there."""
        if model_name not in self.editable:
            return None
        try:
            return reverse(f"admin:programs_{model_name}_change", args=[quote(pk)])
        except NoReverseMatch:  # the model is not in the admin
            return None


def _fix_cr_link(bug, links: RowLinks, open_cr_ids: set[str]) -> str | None:
    """Where a bug's fix CR links: its admin page or, when it is open (on this page), its row."""
    if not bug.fix_cr_id:
        return None
    url = links.admin_url("changerequest", bug.fix_cr_id)
    if url is None and bug.fix_cr_id in open_cr_ids:
        url = f"#{row_anchor('changerequest', bug.fix_cr_id)}"
    return url


@read_access
def programs_page(request):
    links = RowLinks(request.user)
    programs = queries.programs_overview()
    for program in programs:
        links.mark(program.summary, "program", program.summary.id)
        for product in program.products:
            links.mark(product, "product", product.id)
            for feature in product.features.all():
                links.mark(feature, "feature", feature.id)
            for release in product.releases.all():
                links.mark(release, "release", release.id)
    open_crs = queries.open_change_requests()
    bugs = queries.bugs_by_version()
    items = queries.roadmap_items_by_cr(
        [cr.id for cr in open_crs] + [bug.fix_cr_id for bug in bugs if bug.fix_cr_id]
    )
    open_cr_ids = {cr.id for cr in open_crs}
    for cr in open_crs:
        links.mark(cr, "changerequest", cr.id)
        cr.items = items.get(cr.id, [])
    for bug in bugs:
        links.mark(bug, "bug", bug.id)
        bug.fix_cr_link = _fix_cr_link(bug, links, open_cr_ids)
        bug.items = items.get(bug.fix_cr_id, [])
    return render(
        request,
        "pages/programs.html",
        {
            "programs": programs,
            "open_crs": open_crs,
            "bugs": bugs,
            "names": display_names_by_domain("product_status", "feature_status", "release_status"),
        },
    )
