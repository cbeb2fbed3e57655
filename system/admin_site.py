"""The Motus admin site: the index grouped by what a lead does, not by Django app.

``system.apps.MotusAdminConfig`` makes this class the default site, so ``admin.site`` and
every ``@admin.register`` use it; the URL namespace stays ``admin``.

The index (and the navigation side bar) shows four sections, in this order: **Roadmap**,
**Programs**, **Governance logs** and **System**, each with its daily tables first, and
every table under a name that says what it holds (``SECTIONS``). A table registered but
not named there is listed at the end of System, under its own name, so nothing disappears.
Each section has its own page (``/admin/sections/<slug>/``); an app's page
(``/admin/kernel/``) shows that app's tables in the same sections.
"""

from __future__ import annotations

import dataclasses

from django.apps import apps
from django.contrib import admin
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse


@dataclasses.dataclass(frozen=True)
class Section:
    """A group of the index: its title, its URL slug and its tables in order, each as
    (``app_label.model_name``, the name shown)."""

    name: str
    slug: str
    tables: tuple[tuple[str, str], ...]


SECTIONS = (
    Section(
        "Roadmap",
        "roadmap",
        (
            ("roadmap.roadmapitem", "Roadmap items"),
            ("kernel.blocker", "Blockers"),
            ("roadmap.roadmapassignment", "Assignments"),
            ("roadmap.claim", "Website claims (deploy gate)"),
            ("kernel.attempt", "Work attempts"),
            ("kernel.lease", "Leases"),
            ("roadmap.assignmentprerequisite", "Prerequisites surfaced by assignments"),
        ),
    ),
    Section(
        "Programs",
        "programs",
        (
            ("programs.program", "Programs"),
            ("programs.product", "Products"),
            ("programs.feature", "Features"),
            ("programs.release", "Releases"),
            ("programs.changerequest", "Change requests"),
            ("programs.bug", "Bugs"),
            ("programs.standard", "Standards"),
            ("programs.charterdoc", "Charter documents"),
        ),
    ),
    Section(
        "Governance logs",
        "governance-logs",
        (
            ("system.auditlog", "Audit log"),
            ("kernel.decision", "Work decisions (reviews, waivers, plans)"),
            ("kernel.evidence", "Work evidence"),
            ("programs.complianceresult", "Compliance results"),
            ("programs.entityversion", "Version snapshots"),
            ("roadmap.deploymentevent", "Deployments"),
            ("roadmap.planevent", "Inbound planning events"),
            ("kernel.event", "Lease events"),
            ("kernel.compiledcontract", "Compiled work contracts"),
            ("kernel.kerneldecision", "Legacy kernel decision log"),
            ("kernel.kernelevidence", "Legacy kernel evidence log"),
            ("kernel.kerneloutcome", "Legacy kernel outcome log"),
        ),
    ),
    Section(
        "System",
        "system",
        (
            ("auth.user", "Users"),
            ("auth.group", "Groups and roles"),
            ("system.apitoken", "API tokens"),
            ("system.terminology", "Terminology"),
            ("system.instanceconfig", "Instance settings"),
            ("system.healthcheckresult", "Health check results"),
            ("system.idempotencykey", "Idempotency keys"),
            ("system.metric", "Operation metrics (motus tool)"),
            ("system.circuitbreaker", "Circuit breakers (motus tool)"),
            ("system.resourcequota", "Resource quotas (motus tool)"),
            ("system.schemaversion", "Schema versions (motus tool)"),
            ("system.session", "CLI sessions (motus tool)"),
            ("system.groundrule", "Ground rules (motus tool memory)"),
            ("system.learnedpattern", "Learned patterns (motus tool memory)"),
            ("system.detectedpattern", "Detected patterns (motus tool memory)"),
            ("system.skill", "Skills (motus tool memory)"),
            ("system.preference", "Preferences (motus tool memory)"),
        ),
    ),
)
#: Where a table nobody placed goes.
FALLBACK_SECTION = "system"
#: ``app_label.model_name`` → the name shown for it.
TABLE_NAMES = {label: name for section in SECTIONS for label, name in section.tables}


def table_name(model) -> str:
    """The name the admin shows for ``model``'s table (the index, list titles, breadcrumbs):
    its entry in ``SECTIONS``, else its plural verbose name."""
    opts = model._meta
    return TABLE_NAMES.get(opts.label_lower) or str(opts.verbose_name_plural).capitalize()


def section_of(model) -> dict:
    """``{"name", "url"}`` of the index section that lists ``model``'s table."""
    label = model._meta.label_lower
    section = next(
        (s for s in SECTIONS if any(table == label for table, _ in s.tables)),
        next(s for s in SECTIONS if s.slug == FALLBACK_SECTION),
    )
    return {"name": section.name, "url": reverse("admin:section", args=[section.slug])}


class MotusAdminSite(admin.AdminSite):
    site_header = "Motus"
    site_title = "Motus"
    index_title = "Roadmap, programs and logs"

    def get_urls(self):
        section = path("sections/<slug:slug>/", self.admin_view(self.section_index), name="section")
        return [section, *super().get_urls()]

    def get_app_list(self, request, app_label=None):
        """The tables the user may see, in ``SECTIONS`` order; with ``app_label``, only that
        app's tables (still in their sections)."""
        tables = {
            model["model"]._meta.label_lower: model
            for app in self._build_app_dict(request, app_label).values()
            for model in app["models"]
        }
        placed = set(TABLE_NAMES)
        sections = []
        for section in SECTIONS:
            models = [
                {**tables[label], "name": name} for label, name in section.tables if label in tables
            ]
            if section.slug == FALLBACK_SECTION:
                strays = sorted(
                    (model for label, model in tables.items() if label not in placed),
                    key=lambda model: model["name"],
                )
                models += strays
            if models:
                sections.append(
                    {
                        "name": section.name,
                        "app_label": section.slug,
                        "app_url": reverse(
                            "admin:section", args=[section.slug], current_app=self.name
                        ),
                        "has_module_perms": True,
                        "models": models,
                    }
                )
        return sections

    def section_index(self, request, slug, extra_context=None):
        """One section of the index on its own page."""
        sections = [s for s in self.get_app_list(request) if s["app_label"] == slug]
        if not sections:
            raise Http404("No such section, or nothing in it you may see.")
        context = {
            **self.each_context(request),
            "title": sections[0]["name"],
            "subtitle": None,
            "app_list": sections,
            "app_label": slug,
            **(extra_context or {}),
        }
        request.current_app = self.name
        return TemplateResponse(request, "admin/app_index.html", context)

    def app_index(self, request, app_label, extra_context=None):
        """An app's tables (the breadcrumbs of a change page link here), in their sections."""
        title = f"{apps.get_app_config(app_label).verbose_name.capitalize()} tables"
        return super().app_index(request, app_label, {"title": title, **(extra_context or {})})
