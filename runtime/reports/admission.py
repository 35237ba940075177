"""The admission workflow (准入): file a report version, run the gatekeeping, decide, keep it all.

Filing freezes the version, runs every admission rule against the ledgers and the other live
reports, and stores the verdict with the request, so a reviewer sees what the department saw.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, distinct, func, select
from sqlalchemy.orm import Session

from builder.admission.gatekeeping import Context, LiveReport, RuleSet, Verdict, assess
from builder.catalog.specs import Field, SpecSet
from builder.reports.spec import ReportRefused, ReportSpec
from builder.tabular.headers import normalize_label
from runtime.access import Viewer, grants_of
from runtime.audit import record_event
from runtime.clock import local_month_start, local_today
from runtime.errors import ErrorCode
from runtime.ledgers.holdings import ledger_holdings
from runtime.masking import field_sight
from runtime.models import AdmissionRequest, Department, Report, ReportVersion, utcnow
from runtime.permissions import Action, Role, may
from runtime.reports.specs import document_spec, version_spec
from runtime.reports.store import Actor, ReportError, check_owner, latest_version
from runtime.sharing.sight import Sight

#: Reviewer actions → (request status, report status, audit action, Chinese verb).
DECISIONS = {
    "admit": ("admitted", "admitted", "admission.admit", "准入"),
    "reject": ("rejected", "rejected", "admission.reject", "不予准入"),
    "return": ("returned", "returned", "admission.return", "退回修改"),
}
#: Request status → Chinese.
REQUEST_LABELS = {"pending": "待审核", "admitted": "已准入", "rejected": "不予准入", "returned": "已退回"}
#: Automatic decision → Chinese.
DECISION_LABELS = {
    "admit": "建议准入",
    "review": "需人工研判",
    "reject": "建议不予准入",
    "extract": "建议直接从台账提取",
}
#: Report statuses that make a report live for the overlap rule.
LIVE = ("submitted", "admitted")


class SpecNotReady(ReportError):
    """The draft cannot be filed: its spec has problems; `findings` lists them."""

    def __init__(self, refused: ReportRefused):
        """Keep the findings of the refused spec."""
        super().__init__(ErrorCode.SPEC_NOT_READY, findings="；".join(f.message for f in refused.findings))
        self.findings = refused.findings


def live_reports(session: Session, specs: SpecSet, *, exclude: int | None, today: date) -> list[LiveReport]:
    """Return the other reports under review or admitted whose deadline has not passed."""
    stmt = (
        select(Report, ReportVersion, Department.name)
        .join(
            ReportVersion, (ReportVersion.report_id == Report.id) & (ReportVersion.version == Report.version)
        )
        .join(Department, Department.id == Report.department_id)
        .where(Report.status.in_(LIVE))
    )
    if exclude is not None:
        stmt = stmt.where(Report.id != exclude)
    live = []
    for report, version, department in session.execute(stmt):
        try:
            spec = version_spec(session, specs, version)
        except ReportRefused:
            continue
        if spec.deadline is not None and spec.deadline < today:
            continue
        start = (version.submitted_at or report.created_at).date()
        live.append(
            LiveReport(
                code=spec.code,
                title=spec.title,
                department=department,
                ledger=spec.rows.ledger,
                frequency=spec.frequency,
                start=start,
                end=spec.deadline,
                elements=frozenset(spec.elements),
                labels=frozenset(normalize_label(f.title) for f in spec.fields if not f.element),
            )
        )
    return live


def reports_this_month(session: Session, department_id: int, *, exclude: int | None, today: date) -> int:
    """Return how many other reports the department filed for admission this month."""
    stmt = select(func.count(distinct(AdmissionRequest.report_id))).where(
        AdmissionRequest.department_id == department_id,
        AdmissionRequest.submitted_at >= local_month_start(today),
    )
    if exclude is not None:
        stmt = stmt.where(AdmissionRequest.report_id != exclude)
    return session.scalar(stmt) or 0


def gatekeeping_context(
    session: Session,
    specs: SpecSet,
    *,
    department_id: int | None,
    report_id: int | None,
    today: date,
    remit: frozenset[str] | None = None,
) -> Context:
    """Gather what the admission rules look at: holdings, live reports, the month's filings."""
    return Context(
        today=today,
        elements=specs.elements,
        holdings=ledger_holdings(session.connection(), specs),
        live_reports=live_reports(session, specs, exclude=report_id, today=today),
        department_reports_this_month=(
            reports_this_month(session, department_id, exclude=report_id, today=today)
            if department_id is not None
            else 0
        ),
        remit=remit,
        readable=readable_by(session.connection(), specs, department_id, today),
    )


def readable_by(
    conn: Connection, specs: SpecSet, department_id: int | None, today: date
) -> dict[str, str] | None:
    """Return element code → how a department reads it (clear, partial, masked or hidden), grants included.

    None for a report without a department (an administrator's): nothing to check.
    """
    if department_id is None:
        return None
    name = conn.scalar(select(Department.name).where(Department.id == department_id))
    viewer = Viewer(None, Role.DEPARTMENT, department=name, grants=grants_of(conn, department_id, today))
    out = {}
    for code, element in specs.elements.items():
        seen = field_sight(Field(code, element, element.schema, False), viewer)
        # What it owns it never applies for, even where it sees it masked (beside a masked ID).
        anywhere = Sight.CLEAR if viewer.owns(element) else seen.at(None)
        out[code] = (
            anywhere.value if anywhere is not Sight.HIDDEN else "partial" if seen.anywhere else "hidden"
        )
    return out


def check_report_now(
    session: Session, specs: SpecSet, rules: RuleSet, report: Report, document: dict[str, Any]
) -> Verdict:
    """Run the gatekeeping on a draft without filing it (the builder's preview of the verdict)."""
    spec = document_spec(specs, document)
    context = gatekeeping_context(
        session,
        specs,
        department_id=report.department_id,
        report_id=report.id,
        today=local_today(),
        remit=rules_remit(rules),
    )
    return assess(spec, context, rules)


def submit(
    session: Session,
    specs: SpecSet,
    rules: RuleSet,
    report: Report,
    actor: Actor,
    note: str = "",
    today: date | None = None,
) -> AdmissionRequest:
    """File the report's current version for admission with the automatic verdict."""
    check_owner(report, actor)
    if report.status not in ("draft", "returned"):
        raise ReportError(ErrorCode.ALREADY_FILED)
    version = latest_version(session, report)
    if version.submitted_at is not None:
        raise ReportError(ErrorCode.RESUBMIT_UNCHANGED)
    try:
        spec = document_spec(specs, version.document)
    except ReportRefused as refused:
        raise SpecNotReady(refused) from refused
    today = today or local_today()
    context = gatekeeping_context(
        session,
        specs,
        department_id=report.department_id,
        report_id=report.id,
        today=today,
        remit=rules_remit(rules),
    )
    verdict = assess(spec, context, rules)
    now = utcnow()
    version.submitted_at = now
    request = AdmissionRequest(
        report_id=report.id,
        version=version.version,
        department_id=report.department_id,
        submitted_by=actor.user_id,
        submitted_at=now,
        status="pending",
        verdict_decision=verdict.decision,
        verdict=verdict_record(verdict, spec),
        note=note.strip(),
    )
    session.add(request)
    report.status = "submitted"
    report.updated_at = now
    session.flush()
    record_event(
        session.connection(),
        actor.user_id,
        "admission.submit",
        report.code,
        {"version": version.version, "request": request.id, "decision": verdict.decision},
    )
    return request


def decide(
    session: Session, request: AdmissionRequest, actor: Actor, action: str, reason: str
) -> AdmissionRequest:
    """Admit, reject or return a pending request; a reason is required for each."""
    if not may(actor.role, Action.REVIEW):
        raise ReportError(ErrorCode.NOT_A_REVIEWER)
    if action not in DECISIONS:
        raise ReportError(ErrorCode.UNKNOWN_VERDICT)
    reason = (reason or "").strip()
    if not reason:
        raise ReportError(ErrorCode.VERDICT_REASON_REQUIRED)
    if request.status != "pending":
        raise ReportError(ErrorCode.ALREADY_DECIDED, status=REQUEST_LABELS[request.status])
    blocks = [r for r in request.verdict.get("rules", ()) if r.get("outcome") == "block"]
    if action == "admit" and blocks:
        raise ReportError(ErrorCode.ADMISSION_BLOCKED, blocks="；".join(r["message"] for r in blocks))
    status, report_status, audit_action, _verb = DECISIONS[action]
    report = session.get(Report, request.report_id)
    now = utcnow()
    request.status, request.reviewer_id, request.decided_at, request.reason = (
        status,
        actor.user_id,
        now,
        reason,
    )
    report.status = report_status
    report.updated_at = now
    if action == "admit":
        report.mode = "extract" if request.verdict_decision == "extract" else "dispatch"
    session.flush()
    record_event(
        session.connection(),
        actor.user_id,
        audit_action,
        report.code,
        {"request": request.id, "version": request.version, "reason": reason},
    )
    return request


def can_dispatch(report: Report) -> bool:
    """Tell whether the report may be sent to townships (admitted, not answered by extraction)."""
    return report.status == "admitted" and report.mode == "dispatch"


def queue(
    session: Session,
    *,
    status: str | None = "pending",
    department_id: int | None = None,
    decision: str | None = None,
) -> list[tuple[AdmissionRequest, Report, str]]:
    """Return (request, report, department name) to review, oldest first."""
    stmt = (
        select(AdmissionRequest, Report, Department.name)
        .join(Report, Report.id == AdmissionRequest.report_id)
        .join(Department, Department.id == AdmissionRequest.department_id)
        .order_by(AdmissionRequest.submitted_at, AdmissionRequest.id)
    )
    if status:
        stmt = stmt.where(AdmissionRequest.status == status)
    if department_id:
        stmt = stmt.where(AdmissionRequest.department_id == department_id)
    if decision:
        stmt = stmt.where(AdmissionRequest.verdict_decision == decision)
    return [tuple(row) for row in session.execute(stmt)]


def requests_of(session: Session, report: Report) -> list[AdmissionRequest]:
    """Return every filing of a report, newest first."""
    return list(
        session.scalars(
            select(AdmissionRequest)
            .where(AdmissionRequest.report_id == report.id)
            .order_by(AdmissionRequest.id.desc())
        )
    )


def rules_remit(rules: RuleSet) -> frozenset[str] | None:
    """Return the remit list the rule set configures, if any."""
    return getattr(rules, "remit", None)


def verdict_record(verdict: Verdict, spec: ReportSpec | None = None) -> dict[str, Any]:
    """Return the verdict as storable JSON: the CLI shape plus per-column coverage and rule details."""
    record = verdict.to_json()
    record["rules"] = [_plain(dataclasses.asdict(r)) for r in verdict.rules]
    parents = {f.name: list(f.parents) for f in spec.fields} if spec else {}
    record["coverage"]["columns"] = [
        {**_plain(dataclasses.asdict(c)), "parents": parents.get(c.field, [])}
        for c in verdict.coverage.columns
    ]
    record["overlaps"] = [_plain(dataclasses.asdict(o)) for o in verdict.overlaps]
    return record


def _plain(value: Any) -> Any:
    """Return `value` with dates as ISO text and tuples as lists (JSON-ready)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
