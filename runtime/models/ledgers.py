"""Ledger records, their versions, and the warning counts kept over them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from runtime.models.base import Base, BigId, CodeText, JSONDoc, utcnow


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
    __table_args__ = (
        Index("ix_record_versions_record", "record_id", "version"),
        # The changes cursor's order on PostgreSQL (see `txid`); SQLite reads by id alone.
        Index("ix_record_versions_txid", "txid", "id").ddl_if(dialect="postgresql"),
    )
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
    #: PostgreSQL: the writing transaction's id (`pg_current_xact_id()`, the column's default, so
    #: COPY and INSERT … SELECT fill it without being told). Ids from the sequence are not in
    #: commit order there, so the changes cursor reads (txid, id) below the oldest transaction
    #: still running (`runtime.exchange.changes`). NULL on SQLite: one writer at a time, ids are
    #: in commit order.
    txid: Mapped[int | None] = mapped_column(BigInteger)


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
