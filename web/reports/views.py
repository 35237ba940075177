"""The department's report pages: list, new, overview with the verdict, versions, submit.

The editor lives in `web.reports.editor`, template import and consolidation in
`web.reports.import_views`, the reviewer's side in `web.review.views`.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from builder.reports.spec import ReportRefused, blank_document, load_reports
from runtime.models import Department, Report
from runtime.permissions import Action, may
from runtime.reports.admission import (
    DECISION_LABELS,
    REQUEST_LABELS,
    SpecNotReady,
    check_report_now,
    requests_of,
    submit,
    verdict_record,
)
from runtime.reports.audit_trail import report_trail
from runtime.reports.specs import document_spec
from runtime.reports.store import (
    EDITABLE,
    STATUS_LABELS,
    ReportError,
    create_report,
    department_reports,
    latest_version,
    next_code,
    version_changes,
    versions,
)
from web import database
from web.auth.guard import requires
from web.auth.views import current_actor
from web.edge import int_arg
from web.i18n import gettext as _
from web.site import htmx
from web.tasks.views import dispatch_panel

bp = Blueprint("reports", __name__, template_folder="templates", url_prefix="/reports")


@bp.app_context_processor
def _labels():
    return {
        "STATUS_LABELS": STATUS_LABELS,
        "REQUEST_LABELS": REQUEST_LABELS,
        "DECISION_LABELS": DECISION_LABELS,
        "ledger_titles": {code: lg.title for code, lg in database.specs().ledgers.items()},
    }


def load_owned(code: str) -> Report:
    """Return the report if the user's department owns it (admins: any); 403 for another's."""
    report = database.session().scalar(select(Report).where(Report.code == code))
    if report is None:
        abort(404)
    if (
        not may(current_user.role, Action.ANY_DEPARTMENT)
        and report.department_id != current_user.department_id
    ):
        abort(403)
    return report


@bp.get("/")
@requires(Action.REPORT_AUTHOR)
def index():
    """List the department's reports (every report for admins)."""
    db = database.session()
    if may(current_user.role, Action.ANY_DEPARTMENT):
        reports = list(db.scalars(select(Report).order_by(Report.updated_at.desc())))
    else:
        reports = department_reports(db, current_user.department_id)
    return render_template("reports/index.html", reports=reports, editable=EDITABLE)


@bp.route("/new", methods=["GET", "POST"])
@requires(Action.REPORT_AUTHOR)
def new():
    """Create a report: blank, or starting from one of the standard sample reports."""
    specs = database.specs()
    samples = load_reports(specs.root, specs)
    errors: dict[str, str] = {}
    if request.method == "POST":
        title = request.form.get("title", "").strip()
        sample = request.form.get("sample", "")
        if not title:
            errors["title"] = _("请填写报表名称")
        elif current_user.department_id is None:
            errors["title"] = _("只有部门管理员可以新建报表；系统管理员请用部门账号登录")
        else:
            db = database.session()
            department = db.get(Department, current_user.department_id)
            code = next_code(db)
            if sample in samples:
                document = {**samples[sample].document, "title": title, "x-report": code, "x-version": 1}
            else:
                ledger = request.form.get("ledger") or None
                document = blank_document(
                    code, title, department.code, ledger=ledger if ledger in specs.ledgers else None
                )
            try:
                report = create_report(db, current_actor(), document)
            except ReportError as exc:
                errors["title"] = str(exc)
            else:
                flash(_("已新建报表“%(t)s”，请添加字段", t=report.title))
                return redirect(url_for("editor.edit", code=report.code))
    return render_template(
        "reports/new.html", samples=samples, ledgers=specs.ledgers, errors=errors, form=request.form
    )


@bp.get("/<code>/")
@requires(Action.REPORT_AUTHOR)
def overview(code: str):
    """Show a report: status, the reviewer's decision, the verdict, versions and the trail."""
    report = load_owned(code)
    db = database.session()
    draft = latest_version(db, report)
    filed = requests_of(db, report)
    latest = filed[0] if filed else None
    precheck, precheck_spec, problems = None, None, []
    if report.status in EDITABLE and draft.submitted_at is None:
        try:
            precheck_spec = document_spec(database.specs(), draft.document)
            precheck = check_report_now(db, database.specs(), database.rules(), report, draft.document)
        except ReportRefused as refused:
            problems = [f.message for f in refused.findings]
    return render_template(
        "reports/overview.html",
        report=report,
        draft=draft,
        requests=filed,
        latest=latest,
        precheck=precheck,
        precheck_json=verdict_record(precheck, precheck_spec) if precheck else None,
        problems=problems,
        versions=versions(db, report),
        trail=report_trail(db, report.code),
        editable=report.status in EDITABLE,
        dispatch=dispatch_panel(db, database.specs(), report),
    )


@bp.post("/<code>/submit")
@requires(Action.REPORT_AUTHOR)
def submit_report(code: str):
    """File the current version for admission."""
    report = load_owned(code)
    db = database.session()
    try:
        filed = submit(
            db, database.specs(), database.rules(), report, current_actor(), note=request.form.get("note", "")
        )
    except SpecNotReady as exc:
        flash(str(exc), "error")
        return redirect(url_for("reports.overview", code=code))
    except ReportError as exc:
        flash(str(exc), "error")
        return redirect(url_for("reports.overview", code=code))
    flash(
        _(
            "已提交准入审核（第 %(v)s 版），自动检查结论：%(d)s",
            v=filed.version,
            d=DECISION_LABELS[filed.verdict_decision],
        )
    )
    return redirect(url_for("reports.overview", code=code))


@bp.get("/<code>/diff")
@requires(Action.REPORT_AUTHOR)
def diff(code: str):
    """Show what changed between two versions."""
    report = load_owned(code)
    old = int_arg("from") or max(report.version - 1, 1)
    new = int_arg("to") or report.version
    try:
        changes = version_changes(database.session(), report, old, new, database.specs().elements)
    except ReportError:
        abort(404)
    template = "reports/_diff.html" if htmx and not htmx.history_restore_request else "reports/diff.html"
    return render_template(template, report=report, changes=changes, old=old, new=new)
