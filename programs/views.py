"""The programs page: programs, products, features, releases, open CRs and bugs."""

from __future__ import annotations

from django.shortcuts import render

from programs import pages_queries as queries
from system.access import read_access
from system.terminology import display_names_by_domain


@read_access
def programs_page(request):
    return render(
        request,
        "pages/programs.html",
        {
            "programs": queries.programs_overview(),
            "open_crs": queries.open_change_requests(),
            "bugs": queries.bugs_by_version(),
            "names": display_names_by_domain("product_status", "feature_status", "release_status"),
        },
    )
