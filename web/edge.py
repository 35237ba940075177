"""What the app accepts at its edge: ids within 64 bits, text without control characters.

Every integer a URL, query or form names is parsed here with bounds: the `int` URL converter is
replaced app-wide by one that stops at the largest id the databases hold (a longer number is no
page: 404), and views read integer parameters and ids inside cursors with `int_arg` / `parse_id`
(anything else: 400). A request whose path, query, form or JSON carries NUL or another control
character (tab, CR and LF allowed in form text) is refused before any view sees it (400), so no
database is ever handed one (PostgreSQL refuses NUL in text with an error). A view marked
`streams_body` reads its JSON body as a stream and checks it itself (parsing a 100,000-row push
whole here would hold it as Python objects and cost as much as the push's own reading).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import Flask, abort, current_app, request
from werkzeug.routing import IntegerConverter

#: The largest id a URL, query or form may name: PostgreSQL's bigint, SQLite's integer.
MAX_ID = 2**63 - 1
#: Control characters (C0, DEL, C1) and lone surrogates, which no text typed by a person holds.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
#: The same, but tab, CR and LF, which a form's multi-line text may hold.
_CONTROL_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_DIGITS = re.compile(r"[0-9]{1,19}")


class IdConverter(IntegerConverter):
    """Werkzeug's `int`, bounded to 64 bits: a longer number matches no route (404), never a 500."""

    def __init__(self, map, *args: Any, **kwargs: Any) -> None:
        """Take the rule's arguments as Werkzeug does; the maximum is at most MAX_ID."""
        super().__init__(map, *args, **kwargs)
        self.max = MAX_ID if self.max is None else min(self.max, MAX_ID)


def parse_id(text: str | None) -> int | None:
    """Return the id written in `text` (ASCII digits, at most MAX_ID), or None."""
    if not text or not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if value <= MAX_ID else None


def int_arg(
    name: str, default: int | None = None, *, values: Mapping[str, str] | None = None, maximum: int = MAX_ID
) -> int | None:
    """Return a whole-number parameter of the query (or of `values`, e.g. the form), 0 to `maximum`.

    Absent or empty: `default`. Anything else but such a number: 400.
    """
    text = (request.args if values is None else values).get(name, "")
    if text == "":
        return default
    value = parse_id(text)
    if value is None or value > maximum:
        abort(400)
    return value


def has_control(value: Any, pattern: re.Pattern[str] = _CONTROL) -> bool:
    """Tell whether a text, or any text inside a JSON value, holds a control character."""
    if isinstance(value, str):
        return bool(pattern.search(value))
    if isinstance(value, Mapping):
        return any(has_control(k, pattern) or has_control(v, pattern) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_control(v, pattern) for v in value)
    return False


def streams_body(view: Any) -> Any:
    """Mark a view that reads its JSON body as a stream and refuses control characters itself."""
    view.streams_body = True
    return view


def _streamed() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "streams_body", False)


def _refuse_control_characters() -> None:
    """Refuse (400) a request whose path, query, form or JSON holds a control character."""
    if has_control(request.path) or has_control(list(request.args.items(multi=True))):
        abort(400)
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        form = request.form
        if any(has_control(k) for k in form) or has_control(
            [v for _k, v in form.items(multi=True)], _CONTROL_IN_TEXT
        ):
            abort(400)
        if any(has_control(f.filename or "") for _k, f in request.files.items(multi=True)):
            abort(400)  # a file's name becomes a job's title, an error report's name …
        if request.is_json and not _streamed():
            try:
                refused = has_control(request.get_json(silent=True))
            except RecursionError:  # nested thousands of levels deep
                refused = True
            if refused:
                abort(400)


def init_app(app: Flask) -> None:
    """Bound the `int` converter (before any blueprint adds routes) and check every request."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(_refuse_control_characters)
