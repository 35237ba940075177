"""The exchange API under `/api/v1`: JSON for client systems, documented by an OpenAPI 3.1 document.

flask-smorest builds the document from the views' marshmallow schemas (it binds to the app with
`init_app` like every other extension here, keeps plain Flask blueprints, and writes OpenAPI 3.1
through apispec). Every view is guarded by a client's token (`web.api.auth.endpoint`), errors are
problems (`web.api.problems`), and each token is rate-limited (Flask-Limiter, in Redis when
`REDIS_URL` is set).
"""

from __future__ import annotations

from flask import Flask, g, request
from flask_limiter import Limiter
from flask_smorest import Api, Blueprint
from werkzeug.exceptions import HTTPException

from runtime import config
from runtime.errors import OperationRefused
from runtime.sharing.sight import flush_reads
from web import database
from web.api.auth import rate_key
from web.api.document import ProblemsPlugin, problem_responses
from web.api.problems import from_http_exception, from_refusal

#: The document's version of the API (the path's v1 changes only with a breaking change).
VERSION = "1.0.0"
PREFIX = "/api/v1"


class ExchangeApi(Api):
    """flask-smorest's Api, answering errors only under /api as problems (pages keep theirs)."""

    #: No generic "default" answer: each operation lists its own problems (ProblemSchema).
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self) -> None:
        """Leave the app's error pages alone: the API's blueprints handle their own errors."""

    def _register_pagination_header(self) -> None:
        """Leave out flask-smorest's page-number header: lists here page by cursor, in the body."""

    def _register_responses(self) -> None:
        """Name a response per error status, each a problem (the 422 of `arguments` refers to one)."""
        for name, response in problem_responses().items():
            self.spec.components.response(name, response, lazy=True)


#: What the document says of the API as a whole.
SPEC_KWARGS = {
    "info": {
        "description": (
            "一表通数据交换接口：对接系统（上游平台、部门业务系统）按令牌所属部门的授权读取台账，"
            "推送本部门权威数据项。所有错误均为 application/problem+json（RFC 9457），"
            "带稳定的 code 与中文说明。"
        )
    },
    "servers": [{"url": "/", "description": "本系统"}],
    "extra_plugins": (ProblemsPlugin(),),
}


def blueprint(name: str, url: str, description: str) -> Blueprint:
    """Return a blueprint of the API at PREFIX + url, with its errors answered as problems."""
    bp = Blueprint(
        name, __name__, url_prefix=PREFIX + url, description=description, template_folder="templates"
    )
    bp.register_error_handler(HTTPException, from_http_exception)
    bp.register_error_handler(OperationRefused, from_refusal)
    bp.after_request(_after)
    return bp


def _after(response):
    """Log clear reads of the request (via api) and keep responses out of shared caches."""
    caller = g.get("api_caller")
    if caller is not None and caller.viewer.grants.reads.counts and response.status_code < 400:
        flush_reads(
            database.session().connection(),
            None,
            caller.viewer.grants,
            via="api",
            path=request.path,
            client=caller.identity.client_name,
        )
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    """Bind the API, its document and its rate limits to the app, and register its blueprints."""
    from web.api import catalog, changes, jobs, meta, push, records, reports

    app.config.setdefault("API_TITLE", "一表通数据交换接口")
    app.config.setdefault("API_VERSION", VERSION)
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("API_RATE_LIMIT", config.api_rate_limit())
    app.config.setdefault("API_PUSH_MAX_BYTES", config.api_push_max_bytes())
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "components": {
                "securitySchemes": {
                    "bearerAuth": {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "管理员为对接系统签发的令牌（ybt_ 开头），放在 Bearer 之后",
                    }
                }
            },
            "security": [{"bearerAuth": []}],
        },
    )
    limiter = Limiter(
        rate_key,
        app=app,
        headers_enabled=True,
        storage_uri=app.config.get("REDIS_URL") or "memory://",
        # The deployment's queue name keeps two deployments on one Redis apart.
        storage_options={
            "key_prefix": f"{app.config.get('JOBS_QUEUE') or 'yibiaotong'}:api",
            "socket_timeout": 2,
        },
        # Redis out of reach: count in this process rather than refuse every call.
        in_memory_fallback_enabled=True,
    )
    api = ExchangeApi(app, spec_kwargs=SPEC_KWARGS)
    app.extensions["exchange_api"] = api
    csrf = app.extensions["csrf"]
    app.register_blueprint(meta.bp)
    for module in (catalog, records, changes, push, jobs, reports):
        limiter.limit(lambda: app.config["API_RATE_LIMIT"])(module.bp)
        csrf.exempt(module.bp)  # token-authenticated, no cookies: nothing for a forged form to ride on
        api.register_blueprint(module.bp)
