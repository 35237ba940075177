"""The department's summary (汇总) of a dispatched report: totals, pivots, charts, drill-down.

The summary page reads one aggregate query (runtime.tasks.summary); a township's rows and one row are
the task's own pages read-only, as the department may see them (masked where it may not).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request
from flask_login import current_user
from sqlalchemy import select

from runtime.audit import record_event
from runtime.models import Report, Task
from runtime.permissions import Action
from runtime.reports.extraction import can_extract, extraction_units
from runtime.reports.specs import report_spec
from runtime.tasks.added import added_rows
from runtime.tasks.context import TaskContext
from runtime.tasks.dispatch import STATE_LABELS, admitted_spec
from runtime.tasks.prefill import TaskPage, task_page
from runtime.tasks.rows.kinds import LEDGER_ROWS
from runtime.tasks.summary import Summary, summarize, summarize_extraction, summary_fields
from web import database
from web.auth.guard import requires
from web.edge import parse_id
from web.reports.views import load_owned
from web.site import htmx

bp = Blueprint("summary", __name__, template_folder="templates", url_prefix="/reports")
#: Rows per page of a township's drill-down.
PAGE_SIZE = 50


def _spec_of(report: Report):
    """Return the spec of the version the report was dispatched with (None: not dispatched)."""
    db = database.session()
    version = db.scalar(select(Task.version).where(Task.report_id == report.id).limit(1))
    if version is None:
        return None
    return report_spec(db, database.specs(), report.id, version)


def _pivot(spec, specs) -> str | None:
    """Return the choice field to break down by: the one asked for, else the first (none if "by" is empty)."""
    if "by" in request.args:
        return request.args["by"] or None
    choices = summary_fields(spec, specs)[1]
    return choices[0].name if choices else None


def _extracted(report: Report):
    """Show the summary of a report answered from the ledgers instead of the townships."""
    if not can_extract(report):
        abort(404)
    db = database.session()
    specs = database.specs()
    spec = admitted_spec(db, specs, report)
    units = extraction_units(specs, spec, current_user.viewer)
    # Pending: no units read, only the fields the options offer.
    summary = summarize_extraction(
        db.connection(), specs, spec, [] if _pending() else units, by=_pivot(spec, specs)
    )
    if _pending():
        return _render(report, spec, summary, live=False, extracted=True, pending=True)
    record_event(
        db.connection(),
        current_user.id,
        "report.extract",
        report.code,
        {"mode": "summary", "rows": summary.total.rows, "units": units},
    )
    return _render(report, spec, summary, live=False, extracted=True)


@bp.get("/<code>/summary")
@requires(Action.SUMMARY)
def show(code: str):
    """Show the summary by township, a pivot by a choice field, and charts."""
    report = load_owned(code)
    spec = _spec_of(report)
    if spec is None:
        return _extracted(report)
    live = request.args.get("live") == "1"
    conn = database.session().connection()
    specs = database.specs()
    if live and _pending():  # the submitted tasks' kept totals only: the page comes at once
        return _render(
            report,
            spec,
            summarize(conn, specs, spec, report, by=_pivot(spec, specs)),
            live=True,
            pending=True,
        )
    summary = summarize(conn, specs, spec, report, live=live, by=_pivot(spec, specs))
    record_event(
        conn,
        current_user.id,
        "summary.open",
        report.code,
        {"complete": summary.submitted == summary.tasks, "live": live},
    )
    return _render(report, spec, summary, live=live)


def _pending() -> bool:
    """Return whether to answer with the page alone, its figures loaded after by htmx.

    For summaries that read every row (live, or straight from the ledgers): at district scale
    that takes seconds, and the page should say so at once. Without script, `now=1` waits.
    """
    return not htmx and request.args.get("now") != "1"


def _render(
    report: Report, spec: Any, summary: Summary, *, live: bool, extracted: bool = False, pending: bool = False
):
    """Render the summary page, or only its figures for htmx."""
    measure = next(
        (m for m in summary.measures if m.name == request.args.get("measure")),
        summary.measures[0] if summary.measures else None,
    )
    context = {
        "report": report,
        "spec": spec,
        "summary": summary,
        "live": live,
        "extracted": extracted,
        "pending": pending,
        "measure": measure,
        "chart": _chart_data(summary, measure),
        "states": STATE_LABELS,
    }
    if htmx and not htmx.history_restore_request:
        return render_template("summary/_results.html", **context)
    return render_template("summary/show.html", **context)


def _chart_data(summary: Summary, measure: Any) -> dict[str, Any]:
    """Return what the charts draw: rows (and a measure's sums) per township, shares per choice."""
    return {
        "units": [line.label for line in summary.by_unit],
        "rows": [line.rows for line in summary.by_unit],
        "measure": measure.title if measure else None,
        "sums": [line.sums.get(measure.name, 0) for line in summary.by_unit] if measure else [],
        "pivot": summary.pivot_field.title if summary.pivot_field else None,
        "labels": [line.label for line in summary.pivot],
        "shares": [line.rows for line in summary.pivot],
        # A multiple choice's lines overlap: bars of rows per option, not shares of a whole.
        "multi": summary.pivot_multi,
    }


def _task(report: Report, unit: str) -> Task:
    task = database.session().scalar(
        select(Task).where(Task.report_id == report.id, Task.org_unit_code == unit)
    )
    if task is None:
        abort(404)
    return task


@bp.get("/<code>/summary/<unit>")
@requires(Action.SUMMARY)
def unit_rows(code: str, unit: str):
    """Show one township's line and its rows, as the department may see them."""
    report = load_owned(code)
    spec = _spec_of(report) or abort(404)
    task = _task(report, unit)
    conn = database.session().connection()
    specs = database.specs()
    summary = summarize(conn, specs, spec, report, live=True, unit=unit)
    township, _sep, rid = request.args.get("after", "").partition(".")
    rid = parse_id(rid)
    position = None if rid is None else (township, rid)
    ctx = TaskContext(conn, specs, spec, task, current_user.viewer)
    page = task_page(ctx, after=position, limit=PAGE_SIZE)
    if position is None:
        page.rows[:0] = added_rows(ctx)
    return render_template(
        "summary/unit.html",
        report=report,
        spec=spec,
        task=task,
        summary=summary,
        page=page,
        unit_name=specs.org_units[unit].name,
        states=STATE_LABELS,
    )


@bp.get("/<code>/summary/<unit>/rows/<ref>")
@requires(Action.SUMMARY)
def row(code: str, unit: str, ref: str):
    """Show one row of a township's task, field by field."""
    report = load_owned(code)
    spec = _spec_of(report) or abort(404)
    task = _task(report, unit)
    ctx = TaskContext(database.session().connection(), database.specs(), spec, task, current_user.viewer)
    # A department reads a township's ledger and added rows here (an aggregate report has no such page).
    kind = LEDGER_ROWS.kind_of(ref)
    found = kind.find(ctx, ref) if kind is not None else None
    if found is None:
        abort(404)
    return render_template(
        "summary/row.html",
        report=report,
        spec=spec,
        task=task,
        row=found,
        page=TaskPage(rows=[found]),
        unit_name=ctx.specs.org_units[unit].name,
        states=STATE_LABELS,
    )
