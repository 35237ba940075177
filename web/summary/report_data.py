"""The department's report data as files: the dispatched report's summary rows, or an extraction.

Both start a background job (progress page, then a download link); only the owning department
(or an admin) may start them. The buttons sit on the report overview (`_panel.html`).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from runtime.errors import ErrorCode
from runtime.models import Task
from runtime.permissions import Action
from runtime.reports.extraction import can_extract
from runtime.reports.file import FORMATS
from web import database
from web.auth.guard import requires
from web.i18n import gettext as _
from web.jobs import views as jobs
from web.reports.views import load_owned

bp = Blueprint("report_data", __name__, template_folder="templates", url_prefix="/report-data")


def _format() -> str:
    fmt = request.form.get("fmt", "xlsx")
    return fmt if fmt in FORMATS else "xlsx"


@bp.post("/<code>/export")
@requires(Action.SUMMARY)
def export(code: str):
    """Start writing a dispatched report's rows (submitted tasks, optionally the others' live rows)."""
    report = load_owned(code)
    dispatched = database.session().scalar(select(func.count()).where(Task.report_id == report.id))
    if not dispatched:
        flash(ErrorCode.NOT_DISPATCHED.format(), "error")
        return redirect(url_for("reports.overview", code=code))
    params = {
        "report_code": report.code,
        "user_id": current_user.id,
        "fmt": _format(),
        "include_open": request.form.get("include_open") == "1",
    }
    title = _("导出汇总数据：%(t)s", t=report.title[:180])
    job_id = jobs.submit("export", title, "runtime.reports.export:export_job", params)
    return redirect(url_for("jobs.show", job_id=job_id))


@bp.post("/<code>/extract")
@requires(Action.SUMMARY)
def extract(code: str):
    """Start answering an admitted report from the ledgers, without dispatching it."""
    report = load_owned(code)
    if not can_extract(report):
        flash(ErrorCode.EXTRACT_NOT_ADMITTED.format(), "error")
        return redirect(url_for("reports.overview", code=code))
    params = {"report_code": report.code, "user_id": current_user.id, "fmt": _format()}
    title = _("从台账提取：%(t)s", t=report.title[:180])
    job_id = jobs.submit("export", title, "runtime.reports.extraction:extract_job", params)
    return redirect(url_for("jobs.show", job_id=job_id))
