"""数据对接 page (/feeds/): per client and ledger the last push and pull, and each element's freshness,
late first, so a keeper sees which source is late. Administrators and keepers see everything; a
department sees its own client systems and the elements it owns."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template, request
from flask_login import current_user

from runtime.exchange import feeds
from runtime.models import utcnow
from runtime.permissions import Action, Role
from web import database
from web.auth.guard import requires
from web.early_warnings.views import rules
from web.site import NavItem, add_nav

bp = Blueprint("feeds", __name__, template_folder="templates", url_prefix="/feeds")


@bp.get("/")
@requires(Action.FEEDS)
def index():
    """Show the feeds and the freshness table, filtered by `?ledger=` and `?state=`."""
    specs = database.specs()
    conn = database.session().connection()
    own = current_user.role == Role.DEPARTMENT
    department_id = current_user.department_id if own else None
    ledger = request.args.get("ledger", "")
    ledger = ledger if ledger in specs.ledgers else ""
    state = request.args.get("state", "")
    state = state if state in feeds.STATES else ""
    fresh = feeds.freshness(
        conn,
        specs,
        rules(),
        department=current_user.viewer.department if own else None,
        ledgers=[ledger] if ledger else None,
    )
    shown = [f for f in fresh if not state or f.state == state]
    return render_template(
        "feeds/index.html",
        client_feeds=[f for f in feeds.last_feeds(conn, department_id) if not ledger or f.ledger == ledger],
        clients=feeds.clients_of(conn, department_id),
        sources=feeds.by_source(fresh),
        freshness=shown,
        total=len(fresh),
        states=feeds.STATES,
        ledgers=specs.ledgers,
        ledger=ledger,
        state=state,
        own=own,
        now=utcnow(),
    )


def init_app(app: Flask) -> None:
    """Register the blueprint and its navigation entry (administrators, keepers, departments)."""
    app.register_blueprint(bp)
    add_nav(app, NavItem("feeds.index", "数据对接"))
