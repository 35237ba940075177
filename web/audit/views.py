"""The audit log (审计日志): who did what, when, filtered, a page at a time; exported as .csv or .xlsx.

Which entries a reader may read is decided in `runtime.audit.reading` from the logged-in user, on
the page and again in the export job: a filter, a crafted URL or a form field only narrows it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_htmx import make_response
from flask_login import current_user

from runtime.audit.actions import ACTION_LABELS, Kind
from runtime.audit.export import FORMATS
from runtime.audit.reading import AuditFilter, AuditReader, actors, audit_reader, count_entries, entry_page
from runtime.models import utcnow
from runtime.permissions import Action
from web import database
from web.auth.guard import requires
from web.edge import int_arg, parse_id
from web.i18n import gettext as _
from web.jobs import views as jobs
from web.site import COUNT_CAP, htmx, local_time

bp = Blueprint("audit", __name__, template_folder="templates", url_prefix="/audit")


def _fragment() -> bool:
    """Tell whether to answer with the fragment only (an htmx request, not a history restore)."""
    return bool(htmx) and not htmx.history_restore_request


def _reader() -> AuditReader:
    """Return the logged-in user as a reader of the log."""
    viewer = current_user.viewer
    return audit_reader(current_user.id, current_user.role, viewer.department, database.specs().departments)


@dataclass
class FilterForm:
    """The filter as typed (to show again) and as understood, with a message per refused field."""

    typed: dict[str, str]
    filter: AuditFilter
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def query(self) -> dict[str, str]:
        """Return the understood filter as query-string values (links and the export form)."""
        params = self.filter.as_params()
        return {k: str(v) for k, v in params.items() if v not in (None, "")}


def _day(typed: str) -> date | None:
    """Return the date typed as YYYY-MM-DD, or None (empty or not a date)."""
    try:
        return date.fromisoformat(typed) if typed else None
    except ValueError:
        return None


def read_filter(args: Mapping[str, str], reader: AuditReader, people: dict[int, str]) -> FilterForm:
    """Read the filter from the query (or form); drop values not offered, refuse bad dates."""
    specs = database.specs()
    typed = {
        k: args.get(k, "").strip()[:40] for k in ("start", "end", "action", "actor", "ledger", "element")
    }
    errors = {}
    days = {k: _day(typed[k]) for k in ("start", "end")}
    for key in ("start", "end"):
        if typed[key] and days[key] is None:
            errors[key] = _("请输入有效的日期，如 2026-11-01")
    if days["start"] and days["end"] and days["end"] < days["start"]:
        errors["end"] = _("结束日期不能早于开始日期")
    offered = {k.code for k in reader.kinds} | {a for k in reader.kinds for a in k.actions}
    actor = parse_id(typed["actor"])
    flt = AuditFilter(
        start=days["start"],
        end=days["end"],
        action=typed["action"] if typed["action"] in offered else "",
        actor=actor if actor in people else None,
        ledger=typed["ledger"] if typed["ledger"] in specs.ledgers else "",
        element=typed["element"] if typed["element"] in specs.elements else "",
    )
    return FilterForm(typed, flt, errors)


def _action_options(reader: AuditReader) -> list[tuple[Kind, list[str]]]:
    """Return the kinds of action the reader may filter by, each with its actions (one per label)."""
    options = []
    for kind in reader.kinds:
        seen: dict[str, str] = {}
        for action in kind.actions:
            seen.setdefault(ACTION_LABELS[action], action)
        options.append((kind, list(seen.values())))
    return options


@bp.get("/")
@requires(Action.AUDIT)
def index():
    """List the entries the reader may read, newest first, filtered; htmx gets the entries fragment."""
    specs = database.specs()
    conn = database.session().connection()
    reader = _reader()
    people = dict(actors(conn, reader))
    form = read_filter(request.args, reader, people)
    after = int_arg("after")
    page = total = None
    if not form.errors:
        page = entry_page(conn, specs, reader, form.filter, after=after)
        total = count_entries(conn, specs, reader, form.filter, cap=COUNT_CAP)
    context = {"form": form, "page": page, "total": total, "after": after, "cap": COUNT_CAP}
    if _fragment():
        # Push a clean address (no empty fields) for the back button and for sharing.
        kept = {k: v for k, v in form.typed.items() if v} | ({"after": after} if after else {})
        return make_response(
            render_template("audit/_entries.html", oob_errors=True, **context),
            push_url=url_for("audit.index", **kept),
        )
    return render_template(
        "audit/index.html",
        **context,
        kinds=_action_options(reader),
        labels=ACTION_LABELS,
        people=people,
        ledgers=list(specs.ledgers.values()),
        everything=reader.everything,
        department=current_user.viewer.department,
    )


@bp.post("/export")
@requires(Action.AUDIT)
def export():
    """Export the filtered entries the reader may read, as .csv or .xlsx, in a job with progress."""
    fmt = request.form.get("fmt", "csv")
    if fmt not in FORMATS:
        abort(400)
    reader = _reader()
    form = read_filter(request.form, reader, dict(actors(database.session().connection(), reader)))
    if form.errors:
        abort(400)
    params = {
        "fmt": fmt,
        "target": f"audit-{uuid.uuid4().hex}.{fmt}",
        "filename": f"审计日志-{local_time(utcnow(), '%Y%m%d%H%M')}.{fmt}",
        "user_id": current_user.id,
        "filters": form.filter.as_params(),
    }
    title = _("导出审计日志（%(fmt)s）", fmt=fmt.upper())
    job_id = jobs.submit("export", title, "runtime.jobs.work:export_audit", params)
    return redirect(url_for("jobs.show", job_id=job_id))
