"""The Flask application: one blueprint per audience, Jinja2 templates, htmx fragments.

Rule: only `web` touches HTTP, sessions and templates; it calls `runtime` (and `builder`)
for everything else. Static assets are served locally (deployments have no internet).
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from runtime import config


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create the app: defaults, then the environment, then `test_config`."""
    app = Flask(__name__, instance_path=str(config.instance_path()))
    app.config.from_mapping(
        DATABASE_URL=config.database_url(),
        SPECS_PATH=str(config.specs_path()),
        MAX_CONTENT_LENGTH=config.max_upload_bytes() + 1024 * 1024,
        MAX_UPLOAD_BYTES=config.max_upload_bytes(),
        JOBS_IN_BACKGROUND=True,
        REDIS_URL=config.redis_url(),
        JOBS_QUEUE=config.jobs_queue(),
    )
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config.secret_key()

    from web import api, database, security
    from web import site as views
    from web.audit import views as audit
    from web.auth import guard
    from web.auth import views as auth
    from web.catalog import views as catalog
    from web.clients import views as clients
    from web.dashboard import views as dashboard
    from web.early_warnings import views as warnings
    from web.feeds import views as feed_views
    from web.grants import views as grants
    from web.jobs import views as jobs
    from web.ledgers import views as ledgers
    from web.proposals import views as proposals
    from web.reports import editor as report_editor
    from web.reports import import_views as report_import
    from web.reports import views as reports
    from web.review import views as review
    from web.summary import report_data
    from web.summary import views as summary
    from web.tasks import actions as task_actions  # noqa: F401 - its routes join the tasks blueprint
    from web.tasks import blueprint as tasks
    from web.tasks import views as task_views  # noqa: F401 - its routes join the tasks blueprint

    database.init_app(app)
    security.init_app(app)
    auth.init_app(app)
    views.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(ledgers.bp)
    app.register_blueprint(jobs.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(report_import.bp)
    app.register_blueprint(review.bp)
    app.register_blueprint(report_editor.bp)
    app.register_blueprint(tasks.bp)
    app.register_blueprint(summary.bp)
    app.register_blueprint(report_data.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(warnings.bp)
    app.register_blueprint(catalog.bp)
    app.register_blueprint(audit.bp)
    grants.init_app(app)
    api.init_app(app)
    proposals.init_app(app)
    clients.init_app(app)
    feed_views.init_app(app)
    guard.init_app(app)
    return app
