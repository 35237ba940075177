"""Database models: org units, departments, users and their login sessions, ledger records and their
versions, jobs, audit, warning counts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: JSON documents: JSONB on PostgreSQL, JSON text on SQLite.
JSONDoc = JSON().with_variant(JSONB(), "postgresql")


#: Text compared byte-wise on PostgreSQL whatever the database's locale: btree comparisons are
#: memcmp instead of strcoll (faster bulk loads), and prefix ranges (key >= 'x', < 'x\uffff')
#: stay exact under zh_CN and other collations. SQLite compares byte-wise already.
def CodeText(length: int) -> String:  # noqa: N802 - reads as a type
    """Return a String type with C collation on PostgreSQL."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


#: 64-bit ids on PostgreSQL, SQLite's rowid alias elsewhere.
BigId = BigInteger().with_variant(Integer(), "sqlite")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Return the current UTC time without tzinfo (stored the same on both engines)."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    """Declarative base with stable constraint names for migrations."""

    metadata = MetaData(naming_convention=NAMING)


class OrgUnit(Base):
    """A district, township (镇街) or village/community (村/社区)."""

    __tablename__ = "org_units"
    #: Administrative code: 6 digits district, 9 township, 12 village.
    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    #: district, township or village.
    level: Mapped[str] = mapped_column(String(10))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("org_units.code"), index=True)
    #: 街道, 镇, 社区, 村.
    kind: Mapped[str] = mapped_column(String(10), default="")


class Department(Base):
    """A district department (区民政局, 区残联 …) that owns reports and data elements."""

    __tablename__ = "departments"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(60))


class User(Base):
    """A person who logs in, with one role, bound to an org unit or a department."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(60))
    password_hash: Mapped[str] = mapped_column(String(255))
    #: admin, keeper, department, reviewer, township, village, leader.
    role: Mapped[str] = mapped_column(String(20))
    org_unit_code: Mapped[str | None] = mapped_column(ForeignKey("org_units.code"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class LoginSession(Base):
    """One login of a user in one browser: live until logged out, revoked, idle or too old.

    The browser holds a random token in its signed session cookie; the row is keyed by the token's
    SHA-256, so reading this table gives no token that could be replayed.
    """

    __tablename__ = "login_sessions"
    #: SHA-256 (hex) of the token in the session cookie.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: Last request seen, kept to the minute (a write at most once a minute per session).
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: Set by logout, a password change or an administrator; the session is dead from then on.
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: Client address and browser at login, for the audit of who was logged in from where.
    address: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")


class Record(Base):
    """The current state of one ledger record: a JSON document keyed by its natural key."""

    __tablename__ = "records"
    __table_args__ = (
        UniqueConstraint("ledger", "key"),
        Index("ix_records_scope", "ledger", "township_code", "id"),
        Index("ix_records_label", "ledger", "label"),
        Index("ix_records_updated", "ledger", "updated_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ledger: Mapped[str] = mapped_column(CodeText(40))
    #: The natural key (ID number, parcel code, USCC …), copied out of `data` for the index.
    key: Mapped[str] = mapped_column(CodeText(64))
    #: The display label (a person's name …), copied out of `data` for search.
    label: Mapped[str | None] = mapped_column(CodeText(200))
    township_code: Mapped[str] = mapped_column(CodeText(12))
    village_code: Mapped[str | None] = mapped_column(CodeText(12))
    #: Field name → current value.
    data: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    #: Number of the latest version; every change increments it.
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class RecordVersion(Base):
    """One change of a record: old and new values of the fields it touched, and where it came from."""

    __tablename__ = "record_versions"
    __table_args__ = (Index("ix_record_versions_record", "record_id", "version"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    #: Field → previous value, NULL for the version that created the record. Plain JSON (not
    #: JSONB) on PostgreSQL: history is read whole, never queried inside, and JSON text is
    #: stored without building a JSONB tree, which halves the cost of bulk loads.
    old: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: Field → new value.
    new: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: seed, import, edit, visit, writeback, sync.
    source: Mapped[str] = mapped_column(String(20))
    #: What exactly: a file name, a report, a job id.
    source_ref: Mapped[str | None] = mapped_column(String(200))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Job(Base):
    """Long work (imports, exports, seeding) with progress a page can poll."""

    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200), default="")
    #: queued, running, done, failed.
    status: Mapped[str] = mapped_column(String(10), default="queued")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)


class AuditEntry(Base):
    """Who did what, when: logins, edits, imports, exports, unmasked reads."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


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


class Task(Base):
    """One dispatched report for one org unit (任务): its deadline, state and progress."""

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("report_id", "org_unit_code"),
        Index("ix_tasks_unit", "org_unit_code", "state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    #: The admitted report version the task was dispatched with.
    version: Mapped[int] = mapped_column(Integer)
    org_unit_code: Mapped[str] = mapped_column(ForeignKey("org_units.code"))
    deadline: Mapped[date | None] = mapped_column(Date)
    #: new, in_progress, submitted, returned.
    state: Mapped[str] = mapped_column(String(12), default="new")
    dispatched_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    dispatched_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    returned_reason: Mapped[str] = mapped_column(Text, default="")
    #: Rows and complete rows as of the last save, for task lists (no ledger read needed).
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_complete: Mapped[int] = mapped_column(Integer, default=0)
    #: At the last submission: cells the ledgers filled, and cells the township typed (burden figures).
    cells_prefilled: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cells_typed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: At the last submission: the rows' totals as submitted (builder.reports.totals.Totals as JSON).
    totals: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class TaskRow(Base):
    """What a township typed for one row of a task: a draft over the pre-filled ledger values."""

    __tablename__ = "task_rows"
    __table_args__ = (
        UniqueConstraint("task_id", "row_key"),
        Index("ix_task_rows_record_task", "record_id", "task_id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    #: The ledger record the row shows; None for a row the township added.
    record_id: Mapped[int | None] = mapped_column(BigId)
    #: The record's natural key (an added row: the key the filler typed).
    row_key: Mapped[str] = mapped_column(CodeText(64))
    #: Field → value the filler entered, kept even when invalid (nothing typed is lost).
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: Field → the ledger value the filler saw when changing it (conflicts at write-back).
    base: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: Field → Chinese message of the last validation.
    errors: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: active, added (a row the township added), not_applicable.
    status: Mapped[str] = mapped_column(String(16), default="active")
    #: An added row: the ledger fields of the record to create that the report does not ask
    #: for (village, household number …), as the filler gave them.
    record: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: The row stays in the task whether or not its record matches the report's filter: a ledger
    #: record the township included by hand, or the record made from a row it added.
    included: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: Every cell the report asks for has a valid value (ledger or typed), or the row does not apply.
    complete: Mapped[bool] = mapped_column(default=False)
    #: Why the row does not apply (已迁出, 已死亡, 不符合条件 …).
    reason: Mapped[str] = mapped_column(String(200), default="")
    #: Saves so far; a save names the count it started from (two fillers never overwrite).
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class WritebackConflict(Base):
    """A value a township submitted for a ledger field that changed after it was pre-filled.

    The write-back does not overwrite the newer ledger value; the ledger keeper decides.
    """

    __tablename__ = "writeback_conflicts"
    __table_args__ = (Index("ix_writeback_conflicts_open", "status", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    record_id: Mapped[int] = mapped_column(BigId)
    ledger: Mapped[str] = mapped_column(String(40))
    #: The ledger field (property name) in conflict.
    field: Mapped[str] = mapped_column(String(60))
    #: The value the township saw when it changed the cell.
    base_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    #: The ledger's value at write-back (set by someone else meanwhile).
    ledger_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    #: The value the township submitted.
    township_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    #: open, kept_ledger, took_township, or withdrawn (a later submission of the task no longer asks for it).
    status: Mapped[str] = mapped_column(String(16), default="open")
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class WarningCount(Base):
    """One warning rule's counts per township and village, kept for every process to read.

    Current while `fingerprint` matches the rule and `mark` the ledger's latest update
    (see `runtime.early_warnings.counts`); a recount replaces the row.
    """

    __tablename__ = "warning_counts"
    #: The rule's code (`form_specs/warnings/rules.json`).
    rule: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: Digest of what the counts depend on besides the records: the rule's kind, ledger and
    #: parameters, the ledger's fields as the rules read them.
    fingerprint: Mapped[str] = mapped_column(String(64))
    ledger: Mapped[str] = mapped_column(String(40))
    #: [[township code, village code or null, count], …] of the org units with hits.
    counts: Mapped[list[Any]] = mapped_column(JSON)
    #: The ledger's max(records.updated_at) when counted; null when it had no records.
    mark: Mapped[datetime | None] = mapped_column(DateTime)
    #: When the counts were computed.
    computed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
