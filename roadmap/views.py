"""Progress pages of the roadmap: the item list and exports (graphs: ``graph_views``), and
how the progress pages update themselves (:func:`render_live`).

The overview and the item page show kernel tables (attempts, blockers, activity), so they
live in ``kernel.views``.
"""

from __future__ import annotations

import hashlib
import time

from django.http import Http404, HttpResponse, HttpResponseNotModified, QueryDict
from django.shortcuts import render
from django.utils.http import parse_etags

from roadmap import export
from roadmap import pages_queries as queries
from roadmap.page_forms import RoadmapFilterForm
from system.access import read_access

#: The query parameter that asks a live page for its fragment (``?live=1``).
LIVE_PARAM = "live"
#: How often a live page asks whether its data changed (``data-live-interval``, ms).
LIVE_INTERVAL_MS = 4000
#: A live page's fragment is sent again at least this often, whatever the data version says.
LIVE_MAX_AGE_SECONDS = 60


def live_etag(version: str) -> str:
    """The ETag of a live fragment: the data version, and the current minute (so a change
    the version cannot see shows within :data:`LIVE_MAX_AGE_SECONDS`)."""
    period = int(time.time() // LIVE_MAX_AGE_SECONDS)
    return '"' + hashlib.sha256(f"{version}|{period}".encode()).hexdigest()[:24] + '"'


def query_without(query: QueryDict, *names: str) -> QueryDict:
    """A mutable copy of ``query`` without the parameters ``names``."""
    copy = query.copy()
    for name in names:
        copy.pop(name, None)
    return copy


def render_live(request, template: str, fragment: str, context):
    """A live page: ``template`` with ``context()``, or, for ``?live=1`` (what
    ``pages/live.js`` polls), only ``fragment``, the page's parts that change.

    Both carry the ETag of the data version (:func:`live_etag`); a fragment request whose
    ``If-None-Match`` holds it is answered 304 after that one query, without building the
    page. ``context`` is called with ``fragment=True`` for a fragment, so a view can skip
    what only the whole page shows.
    """
    etag = live_etag(queries.data_version())
    if request.GET.get(LIVE_PARAM):
        if etag in parse_etags(request.headers.get("If-None-Match", "")):
            response = HttpResponseNotModified()
        else:
            response = render(request, fragment, context(fragment=True))
        response["ETag"] = etag
        response["Cache-Control"] = "no-cache"
        return response
    page_query = query_without(request.GET, LIVE_PARAM)
    page_query[LIVE_PARAM] = "1"
    return render(
        request,
        template,
        {
            **context(fragment=False),
            "live": {
                "src": f"{request.path}?{page_query.urlencode()}",
                "version": etag,
                "interval": LIVE_INTERVAL_MS,
            },
        },
    )


def _page_urls(query: QueryDict, page: queries.GroupPage) -> dict[str, str]:
    """Links to the previous and next page of one part of a phase, other filters and
    pages kept."""
    urls = {}
    for name, number in (("previous", page.number - 1), ("next", page.number + 1)):
        if 1 <= number <= page.num_pages:
            linked = query.copy()
            linked[page.param] = str(number)
            urls[name] = f"?{linked.urlencode()}"
    return urls


@read_access
def roadmap_list(request):
    form = RoadmapFilterForm(request.GET or None)
    filters = form.filters()
    query = query_without(request.GET, LIVE_PARAM)

    def context(fragment: bool) -> dict:
        groups = queries.phase_groups(filters, request.GET)
        for group in groups:
            group.open_links = _page_urls(query, group.open_page)
            group.done_links = _page_urls(query, group.done_page)
        return {
            "form": form,
            "filters": filters,
            "ignored": form.ignored(),
            "groups": groups,
            "total": sum(group.count for group in groups),
            "readiness": queries.READINESS,
        }

    return render_live(request, "pages/roadmap_list.html", "pages/_roadmap_live.html", context)


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
