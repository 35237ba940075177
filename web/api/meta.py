"""The API's own document: the OpenAPI 3.1 JSON and the documentation page (no CDN, no token)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from werkzeug.exceptions import HTTPException

from web.api.problems import STATUS_PROBLEMS, from_http_exception
from web.api.reference import models, operations
from web.api.responses import json_response
from web.auth.guard import public

#: A plain blueprint: the document does not describe itself.
bp = Blueprint("api_meta", __name__, template_folder="templates", url_prefix="/api/v1")
bp.register_error_handler(HTTPException, from_http_exception)


def document() -> dict:
    """Return the OpenAPI document of the app's API."""
    return current_app.extensions["exchange_api"].spec.to_dict()


#: The units of a `limits` string, in Chinese.
UNITS = {"second": "秒", "minute": "分钟", "hour": "小时", "day": "天"}


def rate_in_chinese(limit: str) -> str:
    """Say a rate limit like "600 per minute" as "每分钟 600 次" (other forms as written)."""
    parts = limit.replace("/", " per ").split()
    if len(parts) == 3 and parts[0].isdigit() and parts[1] == "per" and parts[2].rstrip("s") in UNITS:
        return f"每{UNITS[parts[2].rstrip('s')]} {parts[0]} 次"
    return limit


@public
def openapi_json():
    """Return the OpenAPI 3.1 document."""
    return json_response(document())


@public
def docs():
    """Show the documentation page, rendered from the document."""
    doc = document()
    return render_template(
        "api/docs.html",
        doc=doc,
        operations=operations(doc, request.host_url),
        models=models(doc),
        problems=STATUS_PROBLEMS,
        rate_limit=rate_in_chinese(current_app.config["API_RATE_LIMIT"]),
        max_mb=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024),
    )


bp.add_url_rule("/openapi.json", view_func=openapi_json)
bp.add_url_rule("/docs", view_func=docs)
