"""The roadmap item page.

It lives in ``kernel`` rather than ``roadmap`` because it shows the item's attempts,
evidence, decisions, blockers and outcomes (kernel tables), and an app imports only from
the apps to its left (system ← programs ← roadmap ← kernel).
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404, render
from django.utils.safestring import mark_safe

from kernel.timeline import attempt_timeline
from roadmap import pages_queries as queries
from roadmap.graphs import neighbourhood_depth, neighbourhood_picture
from roadmap.models import RoadmapItem
from roadmap.queries import unmet_prerequisites, workers_on
from system.access import read_access
from system.terminology import display_names_by_domain


@read_access
def item_detail(request, item_id: str):
    item = get_object_or_404(RoadmapItem, id=item_id)
    depth = neighbourhood_depth(request.GET.get("depth"))
    picture = neighbourhood_picture(item.id, depth)
    readiness = queries.readiness([item.id]).get(item.id)
    timeline = attempt_timeline(item)
    latest_review = timeline.latest_review
    return render(
        request,
        "pages/item_detail.html",
        {
            "item": item,
            "readiness": readiness,
            "readiness_label": queries.READINESS_LABELS.get(readiness, ""),
            # Who holds a ready item (its active attempt or a `motus` tool lease).
            "holders": workers_on(item.id) if readiness == "held" else [],
            # The reasons of the last review, when it sent the work back.
            "rejection": (
                latest_review.decision
                if latest_review and latest_review.rejected and item.status_key != "completed"
                else None
            ),
            "dependencies": queries.dependencies_of(item),
            "dependents": queries.dependents_of(item),
            "prerequisites": unmet_prerequisites(item.id),
            "assignments": queries.assignments_of(item),
            "timeline": timeline,
            "depth": depth,
            "picture": picture,
            # Our own SVG: every text in it is XML-escaped by graph_svg.
            "svg": mark_safe(picture.svg) if picture.svg else None,
            "names": display_names_by_domain(
                "roadmap_phase", "roadmap_status", "roadmap_item_type"
            ),
        },
    )
