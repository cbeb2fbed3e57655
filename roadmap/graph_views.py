"""The dependency-graph pages of the roadmap: the whole graph page and the SVG pictures."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe

from roadmap.graph_svg import message_svg
from roadmap.graphs import neighbourhood_depth, neighbourhood_picture, roadmap_picture
from roadmap.models import RoadmapItem
from roadmap.page_forms import GraphFilterForm
from system.access import read_access


@read_access
def roadmap_graph(request):
    form = GraphFilterForm(request.GET or None)
    picture = roadmap_picture(**form.selection())
    return render(
        request,
        "pages/roadmap_graph.html",
        {
            "form": form,
            "picture": picture,
            # Our own SVG: every text in it is XML-escaped by graph_svg.
            "svg": mark_safe(picture.svg) if picture.svg else None,
            "svg_query": request.GET.urlencode(),
        },
    )


@read_access
def roadmap_graph_svg(request):
    form = GraphFilterForm(request.GET or None)
    return _svg_response(roadmap_picture(**form.selection()))


@read_access
def item_graph_svg(request, item_id: str):
    if not RoadmapItem.objects.filter(id=item_id).exists():
        raise Http404("No roadmap item with this id.")
    depth = neighbourhood_depth(request.GET.get("depth"))
    return _svg_response(neighbourhood_picture(item_id, depth))


def _svg_response(picture) -> HttpResponse:
    svg = picture.svg or message_svg(
        f"Too many items to draw ({picture.node_count}): choose a phase or hide completed items."
    )
    return HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
