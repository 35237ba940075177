"""The township's tasks (任务): the task list, the pre-filled task grid, cell saves, dispatch.

Rows are addressed by their ledger record id, never by their key: keys are ID numbers, which a
township user may only see masked.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_htmx import make_response
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from builder.catalog.specs import SpecSet
from builder.reports.form import FieldView, field_view, ledger_field_view
from builder.reports.spec import ReportSpec
from runtime.clock import local_today
from runtime.masking import replaceable, search_hint, searching
from runtime.models import Report, Task
from runtime.permissions import Action
from runtime.reports.admission import can_dispatch
from runtime.reports.store import ReportError
from runtime.tasks.added import AddRefused, add_form, add_row
from runtime.tasks.context import TaskContext
from runtime.tasks.dispatch import (
    OPEN_STATES,
    STATE_LABELS,
    TaskSummary,
    admitted_spec,
    dispatch,
    shown_state,
    target_units,
    task_list,
)
from runtime.tasks.drafts import NOT_APPLICABLE_REASONS
from runtime.tasks.prefill import RowView, TaskPage
from runtime.tasks.rows.kinds import NotThisKind, task_rows
from runtime.tasks.rows.store import StaleRow
from web import database
from web.auth.guard import requires
from web.auth.views import current_actor
from web.edge import int_arg, parse_id
from web.i18n import gettext as _
from web.tasks.blueprint import bp, load_task

#: Rows per page of the grid.
PAGE_SIZE = 50


@bp.app_context_processor
def _labels():
    return {"TASK_STATES": STATE_LABELS}


@bp.app_template_filter("cell_value")
def cell_value(value: Any) -> Any:
    """Show a whole float (a number field's 1200.0) as the whole number the filler typed."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _units() -> list[str]:
    """Return the org units whose tasks the user sees: every one for admins."""
    specs = database.specs()
    viewer = current_user.viewer
    if viewer.village:
        return [viewer.village]
    if viewer.township:
        return [
            u.code
            for u in specs.org_units.values()
            if u.code == viewer.township or u.parent == viewer.township
        ]
    return list(specs.org_units)


def _parse_after(text: str) -> tuple[str, int] | None:
    township, _sep, rid = text.partition(".")
    rid = parse_id(rid)
    return None if rid is None else (township, rid)


def _row_of(ctx: TaskContext, ref: str) -> RowView:
    """Return one row of the task as the viewer sees it now (404 if it is not in the task)."""
    row = task_rows(ctx.spec).find(ctx, ref)
    if row is None:
        abort(404)
    return row


def _typed() -> dict[str, str]:
    """Return the cells a request saves: field → the text typed (choices joined by 、)."""
    return {
        name: "、".join(v for v in request.form.getlist(name) if v.strip())
        for name in request.form.getlist("_field")
    }


@bp.get("/")
@requires(Action.TASK_FILL)
def index():
    """List the tasks of the user's org unit: state, progress, deadline."""
    return render_template("tasks/index.html", tasks=task_list(database.session(), _units()))


@bp.get("/<int:task_id>")
@requires(Action.TASK_FILL)
def grid(task_id: int):
    """Show a page of the task's pre-filled rows as a grid (one record at a time on phones)."""
    ctx, report = load_task(task_id)
    task, spec, rows = ctx.task, ctx.spec, task_rows(ctx.spec)
    search = request.args.get("q", "").strip()
    # Only by what the filler sees: a name, an ID number's last 4 (a whole one: admins only).
    ledger = ctx.specs.ledgers.get(spec.rows.ledger or "")
    notice = searching(ledger, search, ctx.viewer).notice if search and ledger else ""
    hint = search_hint(ledger, ctx.viewer) if ledger else ""
    if task.state in OPEN_STATES:
        rows.ensure_total(ctx)
    only = request.args.get("row") or request.args.get("record", "")
    after = _parse_after(request.args.get("after", ""))
    gaps_only = request.args.get("gaps") == "1"
    if only:  # one row, e.g. from the list of bad cells of a refused submission
        if rows.kind_of(only) is None and parse_id(only) is None:
            abort(404)  # neither a row of this task's kinds nor a record id
        found = rows.find(ctx, only)
        page = TaskPage(rows=[found] if found else [])
    else:
        page = rows.page(ctx, after=after, limit=PAGE_SIZE, search=search, gaps_only=gaps_only)
    cells = [c for row in page.rows for c in row.cells.values()]
    counts = {
        "rows": len(page.rows),
        "complete": sum(r.complete for r in page.rows),
        "prefilled": sum(c.state == "prefilled" for c in cells),
        "gaps": sum(c.state == "gap" or bool(c.error) for c in cells),
    }
    today = local_today()
    return render_template(
        "tasks/grid.html",
        task=task,
        report=report,
        spec=spec,
        page=page,
        counts=counts,
        q=request.args.get("q", ""),
        notice=notice,
        search_hint=hint,
        state=shown_state(task, today),
        days_left=(task.deadline - today).days if task.deadline else None,
        unit_name=ctx.specs.org_units[task.org_unit_code].name,
        **_grid_context(ctx),
        **_add_context(ctx),
    )


def _grid_context(ctx: TaskContext) -> dict[str, Any]:
    """Return what the row fragments need besides the row."""
    task, spec = ctx.task, ctx.spec
    views = {f.name: field_view(f) for f in spec.fields}
    # Masked values that must agree with the ID number: no 更正 box (see runtime.masking.replaceable).
    fixed = {name for name, b in ctx.plan.items() if not replaceable(b.ledger_field, ctx.viewer)}
    return {
        "fields": spec.fields,
        "views": views,
        "editable": task.state in OPEN_STATES,
        "fixed": fixed,
        "reasons": NOT_APPLICABLE_REASONS,
        "groups": _groups(spec),
        "key_name": ctx.key_name,
        "aggregate": task_rows(spec).by_org_unit,
    }


def _add_context(ctx: TaskContext, **state: Any) -> dict[str, Any]:
    """Return what the form to add a row needs: its fields, or None when rows cannot be added."""
    task, spec = ctx.task, ctx.spec
    adding = add_form(ctx) if task.state in OPEN_STATES else None
    if adding is None:
        return {"adding": None}
    ledger = adding.ledger
    # Only a new record needs these (a key the ledger holds includes its record): not required in
    # the browser, the server asks for them when it makes a record.
    extra_views = [dataclasses.replace(ledger_field_view(f), required=False) for f in adding.extras]
    if adding.villages:
        villages = tuple((v.code, v.name) for v in adding.villages)
        extra_views.insert(
            0,
            FieldView(
                name=ledger.village_field,
                title=_("所在村（社区）"),
                widget="select",
                required=False,
                options=villages,
            ),
        )
    return {
        "adding": adding,
        "add_views": [field_view(f) for f in adding.fields],
        "extra_views": extra_views,
        "typed": state.get("typed", {}),
        "extra": state.get("extra", {}),
        "add_errors": state.get("errors", {}),
        "add_message": state.get("message", ""),
        "add_open": state.get("open", False),
        "derived_titles": [f.title for f in spec.fields if f.name in adding.derived],
    }


def _groups(spec: ReportSpec) -> list[tuple[str, int]]:
    """Return the outermost group captions over the columns as (caption, span); none if ungrouped."""
    if not any(f.parents for f in spec.fields):
        return []
    groups: list[tuple[str, int]] = []
    for f in spec.fields:
        caption = f.parents[0] if f.parents else ""
        if groups and groups[-1][0] == caption:
            groups[-1] = (caption, groups[-1][1] + 1)
        else:
            groups.append((caption, 1))
    return groups


def _view() -> str:
    """Return which copy of the row the request came from: the grid ("g") or a phone card ("c")."""
    return "c" if request.form.get("_view") == "c" else "g"


def _render_row(ctx: TaskContext, row: RowView, message: str = "", *, status: int = 200):
    """Render one whole row (a grid row or a phone card) in place of the row the request came from."""
    view = _view()
    template = "tasks/_card.html" if view == "c" else "tasks/_row.html"
    html = render_template(
        template, task=ctx.task, spec=ctx.spec, row=row, message=message, **_grid_context(ctx)
    )
    response = make_response(html, retarget=f"#row-{view}{row.ref}", reswap="outerHTML")
    response.status_code = status
    return response


@bp.post("/<int:task_id>/rows/<ref>")
@requires(Action.TASK_FILL)
def save_row(task_id: int, ref: str):
    """Save the cells typed into one row; return them (each with its message) and the row's new version."""
    ctx, _report = load_task(task_id)
    kind = task_rows(ctx.spec).kind_of(ref)
    if kind is None:
        abort(404)
    typed = _typed()
    version = int_arg("_version", 0, values=request.form)
    try:
        saved = kind.save(ctx, ref, typed, expected_version=version)
    except StaleRow as exc:
        row = _row_of(ctx, ref)
        # Keep what the filler typed in its input, with the reason it was not saved next to it.
        row.cells.update(
            {
                name: dataclasses.replace(row.cells[name], value=text, state="unsaved", error=str(exc))
                for name, text in typed.items()
                if name in row.cells
            }
        )
        return _render_row(ctx, row, str(exc), status=409)
    except ReportError as exc:
        return _render_row(ctx, _row_of(ctx, ref), str(exc), status=409)
    return render_template(
        "tasks/_saved.html",
        task=ctx.task,
        spec=ctx.spec,
        row=saved.row,
        saved=typed,
        view=_view(),
        **_grid_context(ctx),
    )


@bp.post("/<int:task_id>/rows/<ref>/mark")
@requires(Action.TASK_FILL)
def mark(task_id: int, ref: str):
    """Mark a row as not applicable with a reason, or applicable again."""
    ctx, _report = load_task(task_id)
    kind = task_rows(ctx.spec).kind_of(ref)
    if kind is None:
        abort(404)
    reason: str | None = None
    if not request.form.get("restore"):
        reason = request.form.get("reason", "")
        if reason == "other":
            reason = request.form.get("other", "")
    try:
        row = kind.mark(ctx, ref, reason, expected_version=int_arg("_version", 0, values=request.form))
    except NotThisKind:
        abort(404)
    except ReportError as exc:
        return _render_row(ctx, _row_of(ctx, ref), str(exc), status=409)
    return _render_row(ctx, row)


@bp.post("/<int:task_id>/added")
@requires(Action.TASK_FILL)
def add(task_id: int):
    """Add a row for a record the ledger lacks; refused: the form again, with a message at each field."""
    ctx, _report = load_task(task_id)
    spec = ctx.spec
    typed = {
        f.name: "、".join(v for v in request.form.getlist(f.name) if v.strip())
        for f in spec.fields
        if f.name in request.form
    }
    extra = {name[2:]: value for name, value in request.form.items() if name.startswith("r:")}
    try:
        row = add_row(ctx, typed, extra)
    except AddRefused as refused:
        return _add_answer(
            ctx, None, 422, typed=typed, extra=extra, errors=refused.errors, message=str(refused)
        )
    except ReportError as exc:
        return _add_answer(ctx, None, 409, typed=typed, extra=extra, message=str(exc))
    if row.added_id is None:  # the key was of a record of the task's own org unit: included
        message = _(
            "本辖区台账中已有这个%(key)s，已把这条记录加入本表并从台账带出信息；请在表格最上面补全其余各项。",
            key=add_form(ctx).key.title,
        )
    else:
        message = _("已新增这一行；请在表格最上面补全其余各项，提交任务时写入台账。")
    return _add_answer(ctx, row, 200, message=message)


def _add_answer(ctx: TaskContext, row: RowView | None, status: int, **state: Any):
    """Answer an add: the form again (after an add, the new row at the top of the grid and the cards).

    Without htmx (no script), the grid page again, with the message and, after an add, the new row.
    """
    if not request.headers.get("HX-Request"):
        flash(state.get("message", ""), "error" if row is None else "info")
        return redirect(url_for("tasks.grid", task_id=ctx.task.id, row=row.ref if row else None))
    html = render_template(
        "tasks/_add.html",
        task=ctx.task,
        spec=ctx.spec,
        row=row,
        **_grid_context(ctx),
        **_add_context(ctx, open=True, **state),
    )
    return html, status


@bp.post("/<int:task_id>/rows/<ref>/remove")
@requires(Action.TASK_FILL)
def remove(task_id: int, ref: str):
    """Delete a row the township added (the grid row and the card both go)."""
    ctx, _report = load_task(task_id)
    kind = task_rows(ctx.spec).kind_of(ref)
    if kind is None:
        abort(404)
    try:
        kind.remove(ctx, ref, expected_version=int_arg("_version", 0, values=request.form))
    except NotThisKind:
        abort(404)
    except ReportError as exc:
        return _render_row(ctx, _row_of(ctx, ref), str(exc), status=409)
    return render_template("tasks/_removed.html", ref=ref)


def report_tasks(session: Session, report: Report) -> list[TaskSummary]:
    """Return the tasks of one report, one per org unit, in org-unit order."""
    units = list(session.scalars(select(Task.org_unit_code).where(Task.report_id == report.id)))
    tasks = [s for s in task_list(session, units) if s.report.id == report.id]
    return sorted(tasks, key=lambda s: s.task.org_unit_code)


def dispatch_panel(session: Session, specs: SpecSet, report: Report) -> dict[str, Any] | None:
    """Return what the report overview shows of dispatch: the form, the tasks; None before admission."""
    if not can_dispatch(report):
        return None
    tasks = report_tasks(session, report)
    have = {s.task.org_unit_code for s in tasks}
    units = [specs.org_units[c] for c in target_units(specs, admitted_spec(session, specs, report))]
    states = Counter(s.state for s in tasks)
    return {
        "tasks": tasks,
        "remaining": [u for u in units if u.code not in have],
        "states": [(state, states[state]) for state in STATE_LABELS if states[state]],
    }


@bp.post("/dispatch/<code>")
@requires(Action.DISPATCH)
def dispatch_report(code: str):
    """Dispatch an admitted report to all its org units, or to the chosen ones."""
    db = database.session()
    report = db.scalar(select(Report).where(Report.code == code))
    if report is None:
        abort(404)
    chosen = request.form.getlist("unit") if request.form.get("scope") == "chosen" else None
    if chosen is not None and not chosen:
        flash(_("请至少勾选一个镇街"), "error")
        return redirect(url_for("reports.overview", code=code))
    try:
        before = len(report_tasks(db, report))
        tasks = dispatch(db, database.specs(), report, current_actor(), chosen)
    except ReportError as exc:
        flash(str(exc), "error")
    else:
        flash(_("已下派到 %(n)s 个镇街（共 %(t)s 项任务）", n=len(tasks) - before, t=len(tasks)))
    return redirect(url_for("reports.overview", code=code))
