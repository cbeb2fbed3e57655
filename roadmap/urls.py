"""Page routes of the roadmap app (mounted at ``/roadmap/``).

The item page itself (``/roadmap/<id>/``) is routed in ``motus_site.page_urls`` to
``kernel.views``; the fixed paths here come first, so an item whose id is literally
``graph`` or ``graph.svg`` has no page.
"""

from django.urls import path

from roadmap import graph_views, views

urlpatterns = [
    path("", views.roadmap_list, name="roadmap-list"),
    path("graph/", graph_views.roadmap_graph, name="roadmap-graph"),
    path("graph.svg", graph_views.roadmap_graph_svg, name="roadmap-graph-svg"),
    path("export.json", views.roadmap_export_json, name="roadmap-export-json"),
    path("export.md", views.roadmap_export_markdown, name="roadmap-export-markdown"),
    path("<path:item_id>/graph.svg", graph_views.item_graph_svg, name="roadmap-item-graph-svg"),
]
