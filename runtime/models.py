"""Database models: org units, departments, users, ledger records and their versions, jobs, audit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
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


class Record(Base):
    """The current state of one ledger record: a JSON document keyed by its natural key."""

    __tablename__ = "records"
    __table_args__ = (
        UniqueConstraint("ledger", "key"),
        Index("ix_records_scope", "ledger", "township_code", "id"),
        Index("ix_records_label", "ledger", "label"),
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
