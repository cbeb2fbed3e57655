"""Progress pages of the roadmap: overview, item list and exports (graphs: ``graph_views``).

The item page shows the item's attempts (kernel tables), so it lives in ``kernel.views``.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render

from roadmap import export
from roadmap import pages_queries as queries
from roadmap.page_forms import RoadmapFilterForm
from system.access import read_access

ITEMS_PER_PAGE = 100


@read_access
def overview(request):
    progress = queries.phase_progress()
    deploy, deploy_blockers = queries.deploy_readiness()
    return render(
        request,
        "pages/overview.html",
        {
            "progress": progress,
            "totals": queries.work_totals(progress),
            "deploy": deploy,
            "deploy_blockers": deploy_blockers,
            "activity": queries.recent_activity(),
        },
    )


@read_access
def roadmap_list(request):
    form = RoadmapFilterForm(request.GET or None)
    items = queries.filtered_items(**form.filters())
    page = Paginator(items, ITEMS_PER_PAGE).get_page(request.GET.get("page"))
    query_without_page = request.GET.copy()
    query_without_page.pop("page", None)
    return render(
        request,
        "pages/roadmap_list.html",
        {
            "form": form,
            "page": page,
            "groups": queries.phase_groups(list(page)),
            "query_without_page": query_without_page.urlencode(),
        },
    )


def _export(request, render_text, content_type):
    try:
        data = export.build_export(request.GET.get("phase") or None)
    except export.UnknownPhase as exc:
        raise Http404(str(exc)) from exc
    return HttpResponse(render_text(data), content_type=content_type)


@read_access
def roadmap_export_json(request):
    """The live items by phase as JSON (``?phase=`` a key or display name)."""
    return _export(request, export.to_json, "application/json; charset=utf-8")


@read_access
def roadmap_export_markdown(request):
    """The live items by phase as Markdown (``?phase=`` a key or display name)."""
    return _export(request, export.to_markdown, "text/markdown; charset=utf-8")
