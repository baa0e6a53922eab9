"""Read the forms of an HTML page and fill them in as a browser would submit them."""

from __future__ import annotations

from html.parser import HTMLParser


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._textarea: str | None = None
        self._select_default: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = {
                "action": a.get("action", ""),
                "method": a.get("method", "get"),
                "fields": [],
            }
            self.forms.append(self._form)
        if self._form is None:
            return
        if tag == "input" and "name" in a and "disabled" not in a:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form["fields"].append((a["name"], a.get("value", "on")))
            elif kind not in ("submit", "button", "file"):
                self._form["fields"].append((a["name"], a.get("value", "")))
        elif tag == "select" and "name" in a:
            self._select, self._select_default = a["name"], None
            self._form["fields"].append((a["name"], None))
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            fields = self._form["fields"]
            index = max(i for i, (n, _) in enumerate(fields) if n == self._select)
            if "selected" in a or fields[index][1] is None:
                fields[index] = (self._select, value)
        elif tag == "textarea" and "name" in a:
            self._textarea = a["name"]
            self._form["fields"].append((a["name"], ""))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None and self._form is not None:
            fields = self._form["fields"]
            name, value = fields[-1]
            fields[-1] = (name, value + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            if self._textarea and self._form is not None:
                name, value = self._form["fields"][-1]
                # Browsers drop the one newline right after <textarea>.
                self._form["fields"][-1] = (name, value[1:] if value.startswith("\n") else value)
            self._textarea = None


def forms_of(html: str) -> list[dict]:
    """Every form of the page: {"action", "method", "fields": [(name, value), ...]}."""
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def form_with(html: str, field_name: str) -> list[tuple[str, str]]:
    """The fields of the first form that has a field called `field_name`."""
    for form in forms_of(html):
        if any(name == field_name for name, _ in form["fields"]):
            return [(n, v if v is not None else "") for n, v in form["fields"]]
    raise AssertionError(f"no form with a field {field_name!r}")


def replace(fields: list[tuple[str, str]], **values: str | list[str]) -> list[tuple[str, str]]:
    """`fields` with the named ones set (a list sets every value of a multi-value field);
    names use __ for - ("schedules__0__opens_at")."""
    wanted = {name.replace("__", "-"): value for name, value in values.items()}
    kept = [(n, v) for n, v in fields if n not in wanted]
    for name, value in wanted.items():
        kept += [(name, v) for v in value] if isinstance(value, list) else [(name, value)]
    return kept
