"""Whole-task actions: submit (every row checked, then written back), the pre-filled .xlsx to
fill offline and its upload, and the department's return. Routes of the `tasks` blueprint."""

from __future__ import annotations

import uuid

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from builder.problems import ImportRefused
from runtime.early_warnings.flags import REFRESH_JOB
from runtime.ledgers.store import OutOfScope, StaleRecord
from runtime.models import Record, Report, Task
from runtime.permissions import Action
from runtime.reports.store import ReportError
from runtime.tasks.bindings import HOUSEHOLD_LINK
from runtime.tasks.rows.kinds import task_counts
from runtime.tasks.submission import TaskInvalid, return_task, submit_task
from runtime.tasks.workbook import read_task_xlsx
from runtime.tasks.writeback import WritebackResult
from web import database
from web.auth.guard import requires
from web.auth.views import current_actor
from web.i18n import gettext as _
from web.jobs import views as jobs
from web.tasks.blueprint import bp, load_task


@bp.post("/<int:task_id>/submit")
@requires(Action.TASK_FILL)
def submit(task_id: int):
    """Submit the task: refused with every bad cell listed, else written back to the ledgers."""
    ctx, report = load_task(task_id)
    task, spec, conn = ctx.task, ctx.spec, ctx.conn
    try:
        result = submit_task(ctx, report)
    except TaskInvalid as refused:
        labels = dict(
            conn.execute(
                select(Record.id, Record.label).where(
                    Record.id.in_({p.record_id for p in refused.problems if p.record_id})
                )
            ).all()
        )
        return render_template(
            "tasks/refused.html", task=task, report=report, refused=refused, labels=labels
        ), 422
    except (ReportError, OutOfScope, StaleRecord) as exc:
        database.session().rollback()  # nothing of a refused submission stays, not even part of it
        flash(str(exc), "error")
        return redirect(url_for("tasks.grid", task_id=task_id))
    changed = _written_ledgers(spec, result.written)
    if changed:  # count their warnings ahead of the page, once the write-back is committed
        database.session().commit()
        jobs.submit("warnings", _("重新统计预警"), REFRESH_JOB, {"ledgers": changed})
    message = _(
        "已提交：%(rows)s 行；%(n)s 条台账记录已更新",
        rows=f"{result.rows:,}",
        n=f"{result.written.records:,}",
    )
    if result.written.proposed:
        message += _("；%(p)s 处修改须经数据所有者部门审核，已提交审核", p=result.written.proposed)
    if result.written.conflicts:
        message += _("；%(c)s 处与台账的新值不一致，已交数据所有者部门核定", c=result.written.conflicts)
    flash(message)
    return redirect(url_for("tasks.index"))


def _written_ledgers(spec, written: WritebackResult) -> list[str]:
    """Return the ledgers a write-back changed: the report's, and the household's through its persons."""
    changed = [spec.rows.ledger] if written.records or written.created else []
    return changed + ([HOUSEHOLD_LINK[spec.rows.ledger][0]] if written.households else [])


@bp.post("/<int:task_id>/download")
@requires(Action.TASK_FILL)
def download(task_id: int):
    """Write the task as a pre-filled .xlsx in the background, with progress and a download link."""
    ctx, report = load_task(task_id)
    task = ctx.task
    unit = database.specs().org_units[task.org_unit_code].name
    params = {
        "task_id": task.id,
        "target": f"task-{task.id}-{uuid.uuid4().hex}.xlsx",
        "filename": f"{report.title}-{unit}.xlsx",
        "user_id": current_user.id,
    }
    job_id = jobs.submit(
        "export", _("下载预填表格：%(t)s", t=report.title), "runtime.jobs.work:task_workbook", params
    )
    return redirect(url_for("jobs.show", job_id=job_id))


@bp.post("/<int:task_id>/upload")
@requires(Action.TASK_FILL)
def upload(task_id: int):
    """Read a filled task workbook back: changed cells saved as drafts, a row-by-row outcome."""
    ctx, report = load_task(task_id)
    task, spec = ctx.task, ctx.spec
    file = request.files.get("file")
    if file is None or not file.filename:
        flash(_("请选择填好的预填表格"), "error")
        return redirect(url_for("tasks.grid", task_id=task_id))
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    try:
        result = read_task_xlsx(ctx, file.read(limit + 1), file.filename, max_bytes=limit)
    except (ReportError, ImportRefused) as exc:
        flash(getattr(exc, "message", None) or str(exc), "error")
        return redirect(url_for("tasks.grid", task_id=task_id))
    titles = {f.name: f.title for f in spec.fields}
    return render_template(
        "tasks/uploaded.html", task=task, report=report, result=result, titles=titles, filename=file.filename
    )


@bp.post("/<int:task_id>/return")
@requires(Action.DISPATCH)
def return_to_township(task_id: int):
    """Return a submitted task to its township with the department's reason."""
    db = database.session()
    task = db.get(Task, task_id)
    if task is None:
        abort(404)
    report = db.get(Report, task.report_id)
    try:
        return_task(db.connection(), task, report, current_actor(), request.form.get("reason", ""))
    except ReportError as exc:
        flash(str(exc), "error")
    else:
        flash(_("已退回%(u)s", u=database.specs().org_units[task.org_unit_code].name))
    return redirect(url_for("reports.overview", code=report.code))


@bp.get("/<int:task_id>/counts")
@requires(Action.TASK_FILL)
def counts(task_id: int):
    """Return the whole task's counters (a fragment the grid loads after it shows)."""
    ctx, _report = load_task(task_id)
    totals = task_counts(ctx)
    return render_template("tasks/_counts.html", totals=totals)
