"""Tasks of dispatched reports, their rows, and the write-back conflicts settled before 0012."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from runtime.models.base import Base, BigId, CodeText, utcnow


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

    Kept for the record of conflicts the ledger keeper settled before migration 0012: since then a
    write-back conflict is a change proposed to the element's owner (`ProposedChange`, source
    `conflict`), and nothing writes this table.
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
    #: open, kept_ledger, took_township, withdrawn (a later submission of the task no longer asks for
    #: it), or queued (moved into the owners' queue of proposed changes by migration 0012).
    status: Mapped[str] = mapped_column(String(16), default="open")
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
