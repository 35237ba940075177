"""Errors of the exchange API as `application/problem+json` (RFC 9457): a stable code, a Chinese message."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response, request
from werkzeug.exceptions import HTTPException

from runtime.errors import NotAllowed, NotFound, OperationRefused

#: Every path of the API starts with this; errors under it are answered as problems, not pages.
API_PREFIX = "/api/"
MEDIA_TYPE = "application/problem+json"

#: HTTP status → (stable code, Chinese title) of the problems the API answers without a finer code.
STATUS_PROBLEMS = {
    400: ("bad_request", "请求无效"),
    401: ("unauthorized", "缺少有效的接口令牌"),
    403: ("forbidden", "无权访问"),
    404: ("not_found", "资源不存在"),
    405: ("method_not_allowed", "该地址不支持这种请求方法"),
    406: ("not_acceptable", "无法按要求的格式应答"),
    409: ("conflict", "请求与当前状态冲突"),
    413: ("payload_too_large", "请求体太大"),
    415: ("unsupported_media_type", "不支持的请求体格式"),
    422: ("validation_failed", "请求参数不符合要求"),
    429: ("rate_limited", "请求过于频繁"),
    500: ("server_error", "系统出错"),
}
#: What each status means to the client, as `detail` when nothing finer is known.
DETAILS = {
    400: "请求中的参数无效，请按接口文档检查。",
    401: "请在请求头 Authorization 中带上有效的令牌：Bearer ybt_…（令牌可能已过期或已被吊销）。",
    403: "令牌所属部门无权进行这项操作。",
    404: "要找的资源不存在，或不在令牌所属部门可见的范围内。",
    405: "该地址不支持这种请求方法，请按接口文档调用。",
    406: "请在 Accept 中接受 application/json。",
    409: "请求与当前状态冲突。",
    413: "请求体超过上限，请分批推送。",
    415: "请求体应为 application/json 或 text/csv。",
    422: "请求参数不符合要求，见 errors。",
    429: "请求过于频繁，请按 Retry-After 给出的秒数稍后再试。",
    500: "处理请求时出现了错误，请求没有生效。请稍后重试；如果一再出现，请把时间和请求编号告诉系统管理员。",
}


def is_api_request() -> bool:
    """Tell whether this request is one of the API's (its errors are problems, not pages)."""
    return request.path.startswith(API_PREFIX)


def problem(status: int, code: str | None = None, detail: str | None = None, **extra: Any) -> Response:
    """Return a problem response: status, stable code, Chinese title and detail, and any members."""
    default_code, title = STATUS_PROBLEMS.get(status, ("error", "请求未能完成"))
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "code": code or default_code,
        "detail": detail or DETAILS.get(status, title),
        "instance": request.path,
        **extra,
    }
    response = Response(orjson.dumps(body), status=status, mimetype=MEDIA_TYPE)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="yibiaotong"'
    return response


def from_http_exception(exc: HTTPException) -> Response:
    """Return the problem for an HTTP error (webargs' validation errors listed as `errors`)."""
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    extra: dict[str, Any] = {}
    errors = data.get("errors") or data.get("messages")
    if errors:
        extra["errors"] = errors
    response = problem(status, data.get("code"), data.get("message"), **extra)
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    return response


def from_refusal(exc: OperationRefused) -> Response:
    """Return the problem for an operation the runtime refused, with its own code and message."""
    status = 404 if isinstance(exc, NotFound) else 403 if isinstance(exc, NotAllowed) else 422
    return problem(status, exc.code, str(exc))
