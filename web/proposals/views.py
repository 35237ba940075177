"""The queue of changes proposed to the viewer's department (待审变更): read, accept, reject.

A department sees the proposals to its own elements, an administrator all of them (and those no
department owns). Values are shown as the viewer sees them on a ledger page (`present`). Every
view: parse → check access → call one runtime function → render, or redirect back with a message.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from runtime.errors import InvalidRequest
from runtime.ledgers.store import SOURCE_LABELS, StaleRecord
from runtime.permissions import Action
from runtime.sharing import queue
from runtime.sharing.owners import Decider
from runtime.sharing.proposals import PENDING, accept, reject
from web import database
from web.auth.guard import requires
from web.edge import int_arg, parse_id
from web.i18n import gettext as _
from web.ledgers.record_table import ordered
from web.proposals.present import owner_label, shown, source_label
from web.site import NavItem, add_nav

bp = Blueprint("proposals", __name__, template_folder="templates", url_prefix="/proposals")
PAGE_SIZE = 50
#: How each status is named on the page.
STATUS_LABELS = {
    "pending": "待审",
    "accepted": "已采纳",
    "rejected": "不予采纳",
    "superseded": "已被新的变更取代",
    "withdrawn": "已撤回",
}


def init_app(app) -> None:
    """Register the blueprint and its navigation entry, with the count of what waits for the viewer."""
    app.register_blueprint(bp)
    add_nav(app, NavItem("proposals.index", "待审变更", count=waiting))


def waiting() -> int:
    """Return how many proposals wait for the logged-in user's decision (the navigation's count).

    Read on a connection of its own: the navigation is drawn on error pages too, after the request's
    transaction may have failed.
    """
    with database.engine().connect() as conn:
        return queue.pending_count(conn, _decider())


def _decider() -> Decider:
    return Decider(current_user.id, current_user.role, current_user.department_id)


def _query(args) -> queue.QueueQuery:
    """Read the queue's filters from the query string; unknown values are dropped."""
    specs = database.specs()
    status = args.get("status", PENDING)
    ledger = args.get("ledger", "")
    ledger = ledger if ledger in specs.ledgers else ""
    element = args.get("element", "")
    element = element if element in specs.elements else ""
    source = args.get("source", "")
    owner = args.get("owner", "") if _decider().decides_all else ""
    return queue.QueueQuery(
        status=status if status in STATUS_LABELS else PENDING,
        ledger=ledger,
        source=source if source in SOURCE_LABELS else "",
        element=element,
        owner=owner if owner == queue.NO_OWNER or owner.isdigit() else "",
    )


def _line(row: dict[str, Any]) -> dict[str, Any] | None:
    """Return one proposal as the page lists it, its values as the viewer sees them on the ledger."""
    specs = database.specs()
    ledger = specs.ledgers.get(row["ledger"])
    if ledger is None or row["field"] not in ledger.by_name:
        return None
    viewer, units = current_user.viewer, specs.org_units
    record = row["record_data"]
    now, seen, new = record.get(row["field"]), row["old_value"], row["new_value"]
    current, proposed, was = shown(ledger, row["field"], record, viewer, units, [now, new, seen])
    [label] = shown(ledger, ledger.label, record, viewer, units, [record.get(ledger.label)])
    [key] = shown(ledger, ledger.key, record, viewer, units, [record.get(ledger.key)])
    unit = units.get(row["village_code"] or row["township_code"] or "")
    return {
        "row": row,
        "ledger": ledger,
        "field": ledger.by_name[row["field"]],
        "label": label,
        "key": key,
        "key_title": ledger.by_name[ledger.key].title,
        "unit": unit.name if unit else "",
        "current": current,
        "proposed": proposed,
        "seen": was,
        # The ledger no longer holds what the proposer saw: accepting overrides a newer value.
        "moved": now != seen and now != new,
        "source": source_label(row["source"]),
        "owner": owner_label(row["owner_name"]),
    }


def _page(
    args, status_code: int = 200, *, errors: dict[int, str] | None = None, typed: dict[int, str] | None = None
):
    """Render the queue as `args` filter it (`errors`, `typed`: a refused rejection's message, reason)."""
    conn = database.session().connection()
    specs = database.specs()
    decider = _decider()
    query = _query(args)
    page = int_arg("page", 1, values=args, maximum=10_000) or 1
    rows = queue.listing(conn, decider, query, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE + 1)
    lines = [line for line in (_line(r) for r in rows[:PAGE_SIZE]) if line is not None]
    facets = queue.facets(conn, decider, query.owner)
    counts: dict[tuple[str, str], int] = {}
    for (ledger, source, _element), n in facets.items():
        counts[(ledger, source)] = counts.get((ledger, source), 0) + n
    elements = sorted({e for (_l, _s, e) in facets} | ({query.element} if query.element else set()))
    chosen = _chosen(query)
    back = urlencode({**chosen, **({"page": page} if page > 1 else {})})
    return render_template(
        "proposals/index.html",
        lines=lines,
        query=query,
        back=back,
        counts=sorted(counts.items(), key=lambda item: (item[0][0], item[0][1])),
        total=sum(facets.values()),
        ledgers=ordered(specs.ledgers.values()),
        elements=[specs.elements[e] for e in elements if e in specs.elements],
        sources=SOURCE_LABELS,
        statuses=STATUS_LABELS,
        owners=queue.owners_with_pending(conn) if decider.decides_all else None,
        no_owner=queue.NO_OWNER,
        decides_all=decider.decides_all,
        department=current_user.viewer.department,
        pending=query.status == PENDING,
        next_url=url_for("proposals.index", **chosen, page=page + 1) if len(rows) > PAGE_SIZE else None,
        first_url=url_for("proposals.index", **chosen) if page > 1 else None,
        errors=errors or {},
        typed=typed or {},
    ), status_code


@bp.get("/")
@requires(Action.PROPOSALS)
def index():
    """List the proposals waiting for the viewer (or decided), with counts per ledger and source."""
    return _page(request.args)


def _chosen(query: queue.QueueQuery) -> dict[str, str]:
    """Return the filters of a query as its URL carries them (none for the defaults)."""
    return {k: v for k, v in vars(query).items() if v and not (k == "status" and v == PENDING)}


def _back_args() -> MultiDict:
    """Return the query string the queue was shown with, which its forms post back as `back`."""
    return MultiDict([(k, v[0]) for k, v in parse_qs(request.form.get("back", "")).items() if v])


def _back():
    """Redirect to the queue as the user left it: its filters and page."""
    args = _back_args()
    page = parse_id(args.get("page"))
    return redirect(
        url_for("proposals.index", **_chosen(_query(args)), **({"page": page} if page and page > 1 else {}))
    )


def _ids(name: str) -> list[int]:
    """Return the proposal ids a form posted under `name` (400 for anything but ids)."""
    ids = [parse_id(v) for v in request.form.getlist(name)]
    if any(i is None for i in ids):
        abort(400)
    return ids


@bp.post("/accept")
@requires(Action.PROPOSALS)
def accept_selected():
    """Accept the proposals posted (one, or those selected); those whose ledger value moved need `confirm`."""
    ids = _ids("ids")
    if not ids:
        flash(_("请先勾选要采纳的变更"), "error")
        return _back()
    session = database.session()
    try:
        done = accept(
            session.connection(), database.specs(), ids, user_id=current_user.id, confirmed=_ids("confirm")
        )
    except PermissionError:
        session.rollback()
        abort(403)
    except (InvalidRequest, StaleRecord) as refused:
        session.rollback()
        flash(str(refused), "error")
        return _back()
    if done.done:
        flash(_("已采纳 %(n)s 条变更，台账已更新", n=len(done.done)))
    if done.moved:
        flash(
            _(
                "%(n)s 条变更提出后台账的值已被改过，未采纳：请核对当前值，确需采纳的请逐条点“仍然采纳”",
                n=len(done.moved),
            ),
            "error",
        )
    for message in sorted(set(done.invalid.values())):
        flash(_("未采纳：%(m)s", m=message), "error")
    if done.gone:
        flash(_("%(n)s 条变更已被他人处理或已被取代", n=len(done.gone)), "error")
    return _back()


@bp.post("/<int:proposal_id>/reject")
@requires(Action.PROPOSALS)
def reject_one(proposal_id: int):
    """Reject one proposal with a reason; without one, the page says so next to the reason box."""
    reason = request.form.get("reason", "").strip()
    session = database.session()
    try:
        done = reject(session.connection(), database.specs(), [proposal_id], reason, user_id=current_user.id)
    except PermissionError:
        session.rollback()
        abort(403)
    except InvalidRequest as refused:
        session.rollback()
        if refused.code == "proposal_reason_required":
            return _page(_back_args(), 422, errors={proposal_id: str(refused)}, typed={proposal_id: reason})
        flash(str(refused), "error")
        return _back()
    if done.gone:
        flash(_("这条变更已被他人处理或已被取代"), "error")
    else:
        flash(_("已不予采纳，提出人会看到理由"))
    return _back()
