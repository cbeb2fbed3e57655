"""What a browser would submit from an admin change form, read from the rendered HTML.

Tests GET a change page, take the values the form shows, change a few and POST them back,
exactly as a user would (including inline management forms and hidden keys).
"""

from __future__ import annotations

from html.parser import HTMLParser


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
