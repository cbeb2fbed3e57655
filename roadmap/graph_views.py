"""The dependency-graph pages of the roadmap: the whole graph page and the SVG pictures."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe

from roadmap import graphs
from roadmap.graph_svg import message_svg
from roadmap.graphs import neighbourhood_depth, neighbourhood_picture, roadmap_picture
from roadmap.models import RoadmapItem
from roadmap.page_forms import GraphFilterForm
from system.access import read_access


@read_access
def roadmap_graph(request):
    """The picture with its legend and the side list of its items (HTML, so the legend
    stays in view while the picture scrolls)."""
    form = GraphFilterForm(request.GET or None)
    picture = roadmap_picture(**form.selection(), legend=False)
    return render(
        request,
        "pages/roadmap_graph.html",
        {
            "form": form,
            "picture": picture,
            # Our own SVG: every text in it is XML-escaped by graph_svg.
            "svg": mark_safe(picture.svg) if picture.svg else None,
            "svg_query": request.GET.urlencode(),
            "side_list": [(lane, _side_list_rows(lane)) for lane in picture.lanes],
            "max_nodes": graphs.MAX_GRAPH_NODES,
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


def _side_list_rows(lane) -> SafeString:
    """The ``<li>`` rows of a lane in the side list: an entry per item, its id linking to its
    box, its title to its page. Built here rather than in a template loop, which took 0.1 s
    for 500 items."""
    return format_html_join(
        "\n",
        '<li class="state-{}{}" data-id="{}"><a class="jump" href="#{}"'
        ' title="Show in the picture"><span class="swatch"></span>{}</a>'
        ' <a href="{}">{}</a> <span class="state">{}</span></li>',
        (
            (node.state or "other", " ghost" if node.ghost else "", node.id, node.anchor)
            + (node.id, node.url, node.title, node.state_label)
            for node in lane.nodes
        ),
    )


def _svg_response(picture) -> HttpResponse:
    svg = picture.svg or message_svg(
        f"Too many items to draw ({picture.node_count + picture.ghost_count}):"
        " choose a phase or hide completed items."
    )
    return HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
