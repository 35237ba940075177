"""Reports as the database keeps them: create, save drafts (versioned), read versions and diffs.

A report's newest version is its draft until it is filed for admission; filing freezes it, and
the next edit (after a return) starts a new version, so every filed version stays as it was.
Functions take the session and the actor, change one thing, flush and return; the caller commits.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from builder.catalog.specs import Element
from builder.reports.diff import Change, diff_reports
from runtime.audit import record_event
from runtime.clock import local_today
from runtime.errors import ErrorCode, OperationRefused
from runtime.models import Department, Report, ReportVersion, utcnow
from runtime.permissions import Action, may

#: Status → what the department sees.
STATUS_LABELS = {
    "draft": "草稿",
    "submitted": "待审核",
    "returned": "退回修改",
    "rejected": "不予准入",
    "admitted": "已准入",
}
#: Statuses in which the department may still change the spec.
EDITABLE = frozenset({"draft", "returned"})
_CODE = re.compile(r"^[a-z][a-z0-9_]{2,59}$")


class ReportError(OperationRefused):
    """A report operation that cannot be done, with the Chinese reason."""


class StaleDraft(ReportError):
    """The draft was saved elsewhere since this copy was read."""


@dataclass(frozen=True)
class Actor:
    """Who acts: enough of a user for permissions and the audit trail."""

    user_id: int
    role: str
    department_id: int | None = None


def next_code(session: Session, prefix: str = "r") -> str:
    """Return an unused report code like r20261129_3."""
    stem = f"{prefix}{local_today():%Y%m%d}_"
    taken = set(session.scalars(select(Report.code).where(Report.code.like(stem + "%"))))
    n = len(taken) + 1
    while f"{stem}{n}" in taken:
        n += 1
    return f"{stem}{n}"


def create_report(session: Session, actor: Actor, document: dict[str, Any]) -> Report:
    """Store a new report with `document` as its first draft."""
    if actor.department_id is None:
        raise ReportError(ErrorCode.NOT_DEPARTMENT_ADMIN)
    code = document.get("x-report") or next_code(session)
    if not _CODE.match(code):
        raise ReportError(ErrorCode.BAD_REPORT_CODE, code=code)
    if session.scalar(select(Report.id).where(Report.code == code)):
        raise ReportError(ErrorCode.REPORT_CODE_TAKEN, code=code)
    department = session.get(Department, actor.department_id)
    document = {**document, "x-report": code, "x-department": department.code}
    report = Report(
        code=code,
        title=_title(document),
        department_id=actor.department_id,
        status="draft",
        version=1,
        ledger=_ledger(document),
        created_by=actor.user_id,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    session.add(report)
    session.flush()
    session.add(
        ReportVersion(
            report_id=report.id,
            version=1,
            document=document,
            edits=0,
            created_by=actor.user_id,
            created_at=utcnow(),
            updated_at=utcnow(),
        )
    )
    session.flush()
    record_event(session.connection(), actor.user_id, "report.create", code, {"title": report.title})
    return report


def latest_version(session: Session, report: Report) -> ReportVersion:
    """Return the report's newest version."""
    return session.scalar(
        select(ReportVersion).where(
            ReportVersion.report_id == report.id, ReportVersion.version == report.version
        )
    )


def get_version(session: Session, report: Report, version: int) -> ReportVersion | None:
    """Return one version of a report, or None."""
    return session.scalar(
        select(ReportVersion).where(ReportVersion.report_id == report.id, ReportVersion.version == version)
    )


def versions(session: Session, report: Report) -> list[ReportVersion]:
    """Return every version of the report, newest first."""
    return list(
        session.scalars(
            select(ReportVersion)
            .where(ReportVersion.report_id == report.id)
            .order_by(ReportVersion.version.desc())
        )
    )


def editable_version(session: Session, report: Report, actor: Actor) -> ReportVersion:
    """Return the draft version to edit, starting a new version after a filing."""
    check_owner(report, actor)
    if report.status not in EDITABLE:
        raise ReportError(ErrorCode.REPORT_NOT_EDITABLE, status=STATUS_LABELS[report.status])
    current = latest_version(session, report)
    if current.submitted_at is None:
        return current
    draft = ReportVersion(
        report_id=report.id,
        version=current.version + 1,
        document=_bumped(current.document, current.version + 1),
        edits=0,
        created_by=actor.user_id,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    session.add(draft)
    report.version = draft.version
    report.updated_at = utcnow()
    session.flush()
    record_event(
        session.connection(), actor.user_id, "report.revise", report.code, {"version": draft.version}
    )
    return draft


def save_draft(
    session: Session, report: Report, actor: Actor, document: dict[str, Any], *, version: int, edits: int
) -> ReportVersion:
    """Save `document` as the draft; `version`/`edits` say which state the editor started from."""
    before = report.version
    draft = editable_version(session, report, actor)
    started_new = draft.version != before
    if not started_new and (version, edits) != (draft.version, draft.edits):
        raise StaleDraft(ErrorCode.STALE_DRAFT)
    document = {
        **document,
        "x-report": report.code,
        "x-version": draft.version,
        "x-department": draft.document.get("x-department"),
    }
    draft.document = copy.deepcopy(document)
    # The ORM compares JSON values with ==, which ignores key order: a reorder alone must be written.
    flag_modified(draft, "document")
    draft.edits += 1
    draft.updated_at = utcnow()
    report.title = _title(document)
    report.ledger = _ledger(document)
    report.updated_at = draft.updated_at
    session.flush()
    return draft


def version_changes(
    session: Session, report: Report, old: int, new: int, elements: Mapping[str, Element] | None = None
) -> list[Change]:
    """Return what changed between two versions of the report (fields named by `elements`)."""
    before, after = get_version(session, report, old), get_version(session, report, new)
    if before is None or after is None:
        raise ReportError(ErrorCode.NO_SUCH_VERSION)
    return diff_reports(before.document, after.document, elements=elements)


def department_reports(session: Session, department_id: int) -> list[Report]:
    """Return a department's reports, most recently changed first."""
    return list(
        session.scalars(
            select(Report)
            .where(Report.department_id == department_id)
            .order_by(Report.updated_at.desc(), Report.id.desc())
        )
    )


def check_owner(report: Report, actor: Actor) -> None:
    """Refuse unless the actor is the report's department (or an admin)."""
    if not may(actor.role, Action.ANY_DEPARTMENT) and actor.department_id != report.department_id:
        raise ReportError(ErrorCode.NOT_REPORT_OWNER)


def _bumped(document: dict[str, Any], version: int) -> dict[str, Any]:
    return {**copy.deepcopy(document), "x-version": version}


def _title(document: dict[str, Any]) -> str:
    return (str(document.get("title") or "").strip() or "未命名报表")[:200]


def _ledger(document: dict[str, Any]) -> str | None:
    rows = document.get("x-rows")
    return rows.get("ledger") if isinstance(rows, dict) else None
