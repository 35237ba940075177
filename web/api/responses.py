"""JSON answers written straight with orjson (the views describe them to the document by schema)."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response

from web.api.schemas import ProblemSchema

#: The schema of every error answer, for `alt_response`.
PROBLEMS = ProblemSchema


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Return a JSON response (orjson: dates and datetimes as ISO 8601)."""
    return Response(orjson.dumps(body), status=status, mimetype="application/json", headers=headers)
