"""Template filters of the progress pages."""

from django import template
from django.utils.html import format_html

from roadmap.links import item_url as build_item_url

register = template.Library()


@register.filter
def display_name(key, names: dict):
    """``names[key]`` (a terminology display name), or the key itself when unknown."""
    return names.get(key) or key


@register.filter
def item_url(item_id: str) -> str:
    """The item's page (as ``{% url 'roadmap-item' id %}``, without a reverse per call)."""
    return build_item_url(item_id)


@register.filter
def timestamp(value, empty: str = "—"):
    """A ``<time>`` element for a datetime (UTC); ``empty`` when there is none."""
    if not value:
        return empty
    if not hasattr(value, "isoformat"):  # text the other tool wrote that is not a timestamp
        return value
    return format_html(
        '<time datetime="{}">{}</time>', value.isoformat(), value.strftime("%Y-%m-%d %H:%M:%S")
    )
