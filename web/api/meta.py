"""The API's own document: the OpenAPI 3.1 JSON and the documentation page (no CDN, no token)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from werkzeug.exceptions import HTTPException

from web.api.problems import from_http_exception
from web.api.responses import json_response
from web.auth.guard import public

#: A plain blueprint: the document does not describe itself.
bp = Blueprint("api_meta", __name__, template_folder="templates", url_prefix="/api/v1")
bp.register_error_handler(HTTPException, from_http_exception)


def document() -> dict:
    """Return the OpenAPI document of the app's API."""
    return current_app.extensions["exchange_api"].spec.to_dict()


@public
def openapi_json():
    """Return the OpenAPI 3.1 document."""
    return json_response(document())


@public
def docs():
    """Show the documentation page, rendered from the document."""
    return render_template("api/docs.html", doc=document())


bp.add_url_rule("/openapi.json", view_func=openapi_json)
bp.add_url_rule("/docs", view_func=docs)
