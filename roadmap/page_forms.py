"""GET filter forms of the roadmap pages (labelled fields, choices from terminology)."""

from __future__ import annotations

from django import forms

from roadmap.pages_queries import live_owners
from system.terminology import choices

ANY = [("", "Any")]


class RoadmapFilterForm(forms.Form):
    """Filters of ``/roadmap/``; an invalid value is dropped rather than failing the page."""

    q = forms.CharField(label="Text", required=False, max_length=200)
    status = forms.ChoiceField(label="Status", required=False)
    owner = forms.ChoiceField(label="Owner", required=False)
    item_type = forms.ChoiceField(label="Type", required=False)

    def __init__(self, data=None):
        super().__init__(data)
        self.fields["status"].choices = ANY + choices("roadmap_status")
        self.fields["owner"].choices = ANY + [(owner, owner) for owner in live_owners()]
        self.fields["item_type"].choices = ANY + choices("roadmap_item_type")

    def filters(self) -> dict[str, str]:
        """Keyword arguments for ``filtered_items``: the valid, non-empty values."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {
            "text": cleaned.get("q", "").strip(),
            "status": cleaned.get("status", ""),
            "owner": cleaned.get("owner", ""),
            "item_type": cleaned.get("item_type", ""),
        }


class GraphFilterForm(forms.Form):
    """Selection of ``/roadmap/graph/``: one phase or all, with or without completed items."""

    phase = forms.ChoiceField(label="Phase", required=False)
    hide_completed = forms.BooleanField(label="Hide completed items", required=False)

    def __init__(self, data=None):
        super().__init__(data)
        self.fields["phase"].choices = [("", "All phases")] + choices("roadmap_phase")

    def selection(self) -> dict:
        """Keyword arguments for ``roadmap_picture``."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {
            "phase_key": cleaned.get("phase", ""),
            "hide_completed": cleaned.get("hide_completed", False),
        }
