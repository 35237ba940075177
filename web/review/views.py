"""The reviewer's pages (准入审核): the queue, one request with its verdict, the decision."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from builder.reports.spec import FREQUENCIES, ROW_UNITS, ReportRefused, describe_condition, describe_formula
from runtime.models import AdmissionRequest, Department, Report, User
from runtime.permissions import Action
from runtime.reports.admission import DECISIONS, queue, requests_of
from runtime.reports.audit_trail import report_trail
from runtime.reports.specs import version_spec
from runtime.reports.store import ReportError, get_version, version_changes
from web import database
from web.auth.guard import requires
from web.auth.views import current_actor
from web.edge import int_arg

bp = Blueprint("review", __name__, template_folder="templates", url_prefix="/review")
#: Queue filter → request status.
STATUS_FILTERS = {
    "pending": "待审核",
    "admitted": "已准入",
    "returned": "已退回",
    "rejected": "不予准入",
    "": "全部",
}


@bp.get("/")
@requires(Action.REVIEW)
def index():
    """List admission requests, oldest first, with filters."""
    db = database.session()
    status = request.args.get("status", "pending")
    status = status if status in STATUS_FILTERS else "pending"
    department = int_arg("department")
    decision = request.args.get("decision") or None
    rows = queue(db, status=status or None, department_id=department, decision=decision)
    departments = list(db.scalars(select(Department).order_by(Department.id)))
    return render_template(
        "review/index.html",
        rows=rows,
        status=status,
        department=department,
        decision=decision,
        departments=departments,
        status_filters=STATUS_FILTERS,
    )


def _request(request_id: int) -> tuple[AdmissionRequest, Report]:
    db = database.session()
    filed = db.get(AdmissionRequest, request_id)
    if filed is None:
        abort(404)
    return filed, db.get(Report, filed.report_id)


@bp.get("/<int:request_id>")
@requires(Action.REVIEW)
def detail(request_id: int, errors: dict[str, str] | None = None, form=None):
    """Show one request: the report as filed, the verdict, changes since the last filing."""
    filed, report = _request(request_id)
    db = database.session()
    version = get_version(db, report, filed.version)
    try:
        spec = version_spec(db, database.specs(), version)
    except ReportRefused:
        spec = None
    earlier = [r for r in requests_of(db, report) if r.id < filed.id]
    changes = (
        version_changes(db, report, earlier[0].version, filed.version, database.specs().elements)
        if earlier and earlier[0].version != filed.version
        else None
    )
    names = dict(db.execute(select(User.id, User.display_name)).all())
    return render_template(
        "review/request.html",
        filed=filed,
        report=report,
        spec=spec,
        document=version.document,
        department=db.get(Department, filed.department_id),
        earlier=earlier,
        changes=changes,
        names=names,
        trail=report_trail(db, report.code),
        errors=errors or {},
        form=form or {},
        decisions=DECISIONS,
        frequencies=FREQUENCIES,
        describe=lambda c: describe_condition(c, database.specs().elements),
        row_units=ROW_UNITS,
        formula=lambda f: describe_formula(f, database.specs().elements, database.specs().ledgers),
    ), (422 if errors else 200)


@bp.post("/<int:request_id>/decide")
@requires(Action.REVIEW)
def decide(request_id: int):
    """Admit, reject or return the request, with the reviewer's reason."""
    from runtime.reports.admission import decide as decide_request

    filed, report = _request(request_id)
    action = request.form.get("action", "")
    reason = request.form.get("reason", "")
    if action not in DECISIONS:
        return detail(
            request_id, errors={"action": "请选择审核结论：准入、退回修改或不予准入"}, form=request.form
        )
    try:
        decide_request(database.session(), filed, current_actor(), action, reason)
    except ReportError as exc:
        field = "reason" if not reason.strip() else "action"
        return detail(request_id, errors={field: str(exc)}, form=request.form)
    flash(f"已{DECISIONS[action][3]}：{report.title}")
    return redirect(url_for("review.index"))
