"""Reports, their versions, and admission requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from runtime.models.base import Base, utcnow


class Report(Base):
    """A temporary report (临时报表) a department designs, files for admission and dispatches."""

    __tablename__ = "reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The spec's `x-report` code, unique.
    code: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    #: draft, submitted, returned, rejected, admitted.
    status: Mapped[str] = mapped_column(String(12), default="draft")
    #: The newest version number (the draft being edited, or the one last submitted).
    version: Mapped[int] = mapped_column(Integer, default=1)
    #: The row ledger, copied out of the spec for the overlap queries.
    ledger: Mapped[str | None] = mapped_column(String(40))
    #: How an admitted report is answered: dispatch (to townships) or extract (from the ledgers).
    mode: Mapped[str | None] = mapped_column(String(10))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ReportVersion(Base):
    """One version of a report's spec; frozen once submitted, edited in place until then."""

    __tablename__ = "report_versions"
    __table_args__ = (UniqueConstraint("report_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    #: The report spec document (JSON Schema + x- keywords).
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: Saves of this version so far; a save must name the count it started from (no lost edits).
    edits: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: Set when the version is filed for admission; it can no longer change.
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)


class AdmissionRequest(Base):
    """One filing of one report version for admission (准入申请), with the checks and the decision."""

    __tablename__ = "admission_requests"
    __table_args__ = (Index("ix_admission_requests_status", "status", "submitted_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: pending, admitted, rejected, returned.
    status: Mapped[str] = mapped_column(String(10), default="pending")
    #: The automatic verdict at filing: admit, review, reject or extract.
    verdict_decision: Mapped[str] = mapped_column(String(10))
    #: Rule results, coverage and overlaps as computed at filing.
    verdict: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: What the department wrote when filing (e.g. answers to warnings).
    note: Mapped[str] = mapped_column(Text, default="")
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: The reviewer's reason (required for every decision).
    reason: Mapped[str] = mapped_column(Text, default="")
