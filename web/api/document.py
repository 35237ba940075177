"""What the OpenAPI document says of every operation's errors, so that it matches what the app answers.

Every error is a problem (`application/problem+json`, `ProblemSchema`). Some answers can come
from any operation, whatever its view says: 400 from the app's edge (a control character in the
query), 401 from the token guard, 429 from the rate limiter, 413 from the body size limit on an
operation that takes a body. `ProblemsPlugin` adds those to every operation of the document, and
`problem_responses` gives flask-smorest's named responses (the 422 that `@bp.arguments` adds)
the problem's schema and media type instead of its own JSON error.
"""

from __future__ import annotations

import http
from typing import Any

from apispec import BasePlugin

from web.api.problems import MEDIA_TYPE, STATUS_PROBLEMS

#: The answers any operation may give, besides those its view lists.
EVERY_OPERATION = (400, 401, 429)
#: The answers any operation that takes a request body may give.
WITH_BODY = (413,)

#: What a successful answer is called in the document.
SUCCESS = {200: "成功", 201: "已创建", 202: "已受理（作为后台任务运行）", 204: "成功，无内容"}

#: Headers that come with some problems.
HEADERS = {
    401: {
        "WWW-Authenticate": {
            "description": 'Bearer realm="yibiaotong"：须带令牌',
            "schema": {"type": "string"},
        }
    },
    429: {
        "Retry-After": {
            "description": "多少秒后可以再试",
            "schema": {"type": "integer"},
        }
    },
}


def problem_response(status: int) -> dict[str, Any]:
    """Return the OpenAPI response object of a problem answered with `status`."""
    _code, title = STATUS_PROBLEMS.get(status, ("error", http.HTTPStatus(status).phrase))
    response: dict[str, Any] = {
        "description": title,
        "content": {MEDIA_TYPE: {"schema": "Problem"}},
    }
    if status in HEADERS:
        response["headers"] = HEADERS[status]
    return response


def problem_responses() -> dict[str, dict[str, Any]]:
    """Return flask-smorest's named responses (one per error status) as problems."""
    return {status.name: problem_response(status) for status in http.HTTPStatus if status >= 400}


class ProblemsPlugin(BasePlugin):
    """Add the problems every operation may answer to each operation of the document."""

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        """Add 400, 401, 429 to every operation, and 413 to those that take a body."""
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            statuses = EVERY_OPERATION + (WITH_BODY if "requestBody" in operation else ())
            for status in statuses:
                if str(status) not in responses and status not in responses:
                    responses[str(status)] = http.HTTPStatus(status).name
            for status, response in responses.items():
                _in_chinese(int(status), response)


def _in_chinese(status: int, response: Any) -> None:
    """Replace the English phrase flask-smorest describes a response with by its Chinese title."""
    if isinstance(response, dict) and response.get("description") == http.HTTPStatus(status).phrase:
        response["description"] = (
            SUCCESS.get(status) or STATUS_PROBLEMS.get(status, ("", response["description"]))[1]
        )
