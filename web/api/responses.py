"""JSON answers written straight with orjson (the views describe them to the document by schema)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from flask import Response
from flask_smorest import Blueprint

from web.api.problems import MEDIA_TYPE
from web.api.schemas import ProblemSchema

#: The schema of every error answer, for `alt_response`.
PROBLEMS = ProblemSchema


def problems(bp: Blueprint, *statuses: int) -> Callable[[Any], Any]:
    """Document the problems a view may answer besides 400, 401 and 429, which every operation has."""

    def decorator(view: Any) -> Any:
        for status in statuses:
            view = bp.alt_response(status, schema=PROBLEMS, content_type=MEDIA_TYPE)(view)
        return view

    return decorator


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Return a JSON response (orjson: dates and datetimes as ISO 8601)."""
    return Response(orjson.dumps(body), status=status, mimetype="application/json", headers=headers)
