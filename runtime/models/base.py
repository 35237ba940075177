"""The declarative base, column types shared by every model, and the constraint naming convention."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Integer,
    MetaData,
    String,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase

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
