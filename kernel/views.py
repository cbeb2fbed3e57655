"""The overview and the roadmap item page.

They live in ``kernel`` rather than ``roadmap`` because they show kernel tables (attempts,
evidence, decisions, blockers, outcomes, leases), and an app imports only from the apps to
its left (system ← programs ← roadmap ← kernel). Both update themselves while agents work
(``roadmap.views.render_live``).
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.safestring import mark_safe

from kernel.activity import recent_activity
from kernel.timeline import attempt_timeline, current_holders
from roadmap import pages_queries as queries
from roadmap.graphs import neighbourhood_depth, neighbourhood_picture
from roadmap.models import RoadmapItem
from roadmap.queries import unmet_prerequisites
from roadmap.views import render_live
from system import policy
from system.access import read_access
from system.identity import Actor
from system.terminology import display_names_by_domain


@read_access
def overview(request):
    def context(fragment: bool) -> dict:
        counts = queries.readiness_counts()
        deploy, deploy_blockers = queries.deploy_readiness()
        return {
            "progress": queries.phase_progress(counts),
            "totals": queries.WorkTotals.of(counts),
            "readiness": queries.READINESS,
            "deploy": deploy,
            "deploy_blockers": deploy_blockers,
            "activity": recent_activity(user=request.user),
        }

    return render_live(request, "pages/overview.html", "pages/_overview_live.html", context)


def may_edit_items(user) -> bool:
    """Whether the user may edit roadmap items in the admin (staff, and the permission
    ``system.policy.MANAGE_ROADMAP`` through a role or a grant)."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    return policy.can(Actor.of(user), policy.MANAGE_ROADMAP)


def open_reviewers(assignments) -> list:
    """The open (assigned or active) reviewer assignments among ``assignments``."""
    return [
        a
        for a in assignments
        if a.role == "reviewer" and a.status in queries.OPEN_ASSIGNMENT_STATUSES
    ]


def why(item: RoadmapItem) -> dict:
    """What the item page's status banner and sections show: its readiness, who holds it,
    its open blockers, unfinished prerequisites, reviewers and last rejection, with the
    records they come from."""
    readiness = queries.readiness([item.id]).get(item.id)
    timeline = attempt_timeline(item)
    latest_review = timeline.latest_review
    assignments = queries.assignments_of(item)
    dependencies, dependents = queries.edges_of(item.id)
    prerequisites = unmet_prerequisites(item.id)
    return {
        "readiness": queries.READINESS.get(readiness),
        "legend": queries.READINESS,
        "holders": current_holders(item, timeline),
        "open_blockers": timeline.open_blockers,
        # What v_blocked_items counts: direct blocking prerequisites not completed,
        # deleted ones included (they still block).
        "direct_prerequisites": [
            edge
            for edge in dependencies
            if edge.kind == "blocks" and edge.status_key != "completed"
        ],
        "deeper_prerequisites": [p for p in prerequisites if p["depth"] > 1],
        "reviewers": open_reviewers(assignments),
        # The reasons of the last review, when it sent the work back.
        "rejection": (
            latest_review.decision
            if latest_review and latest_review.rejected and item.status_key != "completed"
            else None
        ),
        "dependencies": dependencies,
        "dependents": dependents,
        "prerequisites": prerequisites,
        "assignments": assignments,
        "timeline": timeline,
    }


@read_access
def item_detail(request, item_id: str):
    item = get_object_or_404(RoadmapItem, id=item_id)
    depth = neighbourhood_depth(request.GET.get("depth"))

    def context(fragment: bool) -> dict:
        context = {
            "item": item,
            **why(item),
            "names": display_names_by_domain(
                "roadmap_phase", "roadmap_status", "roadmap_item_type"
            ),
        }
        if fragment:  # the live parts only: the picture is drawn once, with the page
            return context
        picture = neighbourhood_picture(item.id, depth)
        return context | {
            "depth": depth,
            "picture": picture,
            # Our own SVG: every text in it is XML-escaped by graph_svg.
            "svg": mark_safe(picture.svg) if picture.svg else None,
            "admin_url": (
                reverse("admin:roadmap_roadmapitem_change", args=[item.id])
                if may_edit_items(request.user)
                else None
            ),
        }

    return render_live(request, "pages/item_detail.html", "pages/_item_live.html", context)
