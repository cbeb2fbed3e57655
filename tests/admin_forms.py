"""What a browser would submit from an admin change form, read from the rendered HTML.

Tests GET a change page, take the values the form shows, change a few and POST them back,
exactly as a user would (including inline management forms and hidden keys). Also the admin
URLs and a changelist action, as the admin tests drive them.
"""

from __future__ import annotations

from html.parser import HTMLParser

from django.urls import reverse


class _FormValues(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.values: dict[str, list[str]] = {}
        self._in_form = False
        self._select: str | None = None
        self._select_options: list[tuple[str, bool]] = []
        self._option_value: str | None = None
        self._option_selected = False
        self._option_text = ""
        self._textarea: str | None = None
        self._textarea_text = ""

    def _add(self, name, value):
        if name and "__prefix__" not in name:
            self.values.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("id") or "").endswith("_form"):
            self._in_form = True
        if not self._in_form or "disabled" in attrs:
            return
        if tag == "input":
            kind = (attrs.get("type") or "text").lower()
            if kind in {"submit", "button", "file", "image", "reset"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in attrs:
                return
            self._add(attrs.get("name"), attrs.get("value", "on" if kind == "checkbox" else ""))
        elif tag == "select":
            self._select = attrs.get("name")
            self._select_options = []
        elif tag == "option" and self._select is not None:
            self._option_value = attrs.get("value")
            self._option_selected = "selected" in attrs
            self._option_text = ""
        elif tag == "textarea":
            self._textarea = attrs.get("name")
            self._textarea_text = ""

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea_text += data
        if self._option_value is None and self._select is not None:
            self._option_text += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "option" and self._select is not None:
            value = self._option_value if self._option_value is not None else self._option_text
            self._select_options.append((value, self._option_selected))
            self._option_value = None
        elif tag == "select" and self._select is not None:
            chosen = [value for value, selected in self._select_options if selected]
            if not chosen and self._select_options:
                chosen = [self._select_options[0][0]]
            for value in chosen:
                self._add(self._select, value)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            # Browsers drop the newline that follows <textarea>.
            self._add(self._textarea, self._textarea_text.removeprefix("\n"))
            self._textarea = None


def form_values(html: str) -> dict[str, str | list[str]]:
    """Name → submitted value(s) of the admin change form in ``html``."""
    parser = _FormValues()
    parser.feed(html)
    return {name: vals[0] if len(vals) == 1 else vals for name, vals in parser.values.items()}


def change_url(model, pk) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk])


def add_url(model) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_add")


def changelist_url(model) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")


def submit(client, url, **changes):
    """GET the form at ``url``, apply ``changes`` to what it shows, POST it back."""
    page = client.get(url)
    assert page.status_code == 200
    data = form_values(page.content.decode())
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    data["_save"] = "Save"
    return client.post(url, data)


def add_inline_row(data_changes: dict, prefix: str, total: int, **fields) -> dict:
    """Form changes that append one new inline row (``total`` rows already on the page)."""
    data_changes[f"{prefix}-TOTAL_FORMS"] = str(total + 1)
    for name, value in fields.items():
        data_changes[f"{prefix}-{total}-{name}"] = value
    return data_changes


def action(client, model, name, pks, query="", **extra):
    """Run a changelist action on ``pks`` from the changelist filtered by ``query``."""
    data = {"action": name, "_selected_action": [str(pk) for pk in pks], "index": 0, **extra}
    return client.post(changelist_url(model) + query, data)
