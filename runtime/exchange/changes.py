"""The changes cursor: the versions of a ledger after a position, for a client's incremental sync.

Order and cursor. SQLite has one writer at a time, so version ids are in commit order and the
position is the last id read. PostgreSQL hands out ids from a sequence before commit: a
transaction that drew its ids first may commit after one that drew later ones, so reading "id >
last" would skip it. There a version carries its writing transaction's id (`txid`, the column's
default), and the cursor reads (txid, id) after the position and below the oldest transaction
still running (`pg_snapshot_xmin`): every transaction below it has ended, so what is read there
never grows later, and nothing is missed or read twice. A long-open transaction holds the
cursor back until it ends (it never skips it).

Values are each version's `new` values as the client sees them at the record's township:
clear, masked, or left out when hidden; a version with nothing visible is passed over (the
cursor still moves past it).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, func, select, text, tuple_

from builder.catalog.specs import Ledger
from runtime.access import Viewer
from runtime.db import is_postgres
from runtime.errors import ErrorCode, InvalidRequest
from runtime.ledgers.store import SOURCE_LABELS
from runtime.masking import present, sights
from runtime.models import Record, RecordVersion
from runtime.sharing.sight import Sight

#: A position after every id (the head of a transaction not yet read past).
_LAST_ID = 2**63 - 1
#: A stand-in for an ID number the version did not change: its birth date is then masked as
#: beside an ID (the record has one; the version's values alone do not say so).
_SOME_ID = "0000"


@dataclass(frozen=True)
class Position:
    """Where a client's sync stands: after this version (txid None on SQLite)."""

    txid: int | None
    id: int

    def encode(self) -> str:
        """Return the position as an opaque cursor."""
        raw = orjson.dumps(["p", self.txid, self.id] if self.txid is not None else ["s", self.id])
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(conn: Connection, cursor: str) -> Position:
    """Return the position of a cursor this database's engine gave (InvalidRequest otherwise)."""
    try:
        parts = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise InvalidRequest(ErrorCode.CURSOR_INVALID, cursor=cursor[:40]) from None
    postgres = is_postgres(conn)
    shape = ("p", int, int) if postgres else ("s", int)
    if (
        not isinstance(parts, list)
        or len(parts) != len(shape)
        or parts[0] != shape[0]
        or not all(type(p) is int and 0 <= p <= _LAST_ID for p in parts[1:])
    ):
        raise InvalidRequest(ErrorCode.CURSOR_INVALID, cursor=cursor[:40])
    return Position(parts[1], parts[2]) if postgres else Position(None, parts[1])


def _xmin(conn: Connection) -> int:
    # Every transaction with a lower id has ended (committed or rolled back).
    return conn.execute(text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")).scalar_one()


def head(conn: Connection) -> Position:
    """Return the position now: reading from it gives only versions committed from now on.

    On PostgreSQL a version of a transaction still running now comes after it, even if that
    transaction commits before the records were read: a client that pulled every record and
    then follows on from here may get such a version once more (its `version` tells it so).
    """
    if is_postgres(conn):
        return Position(_xmin(conn) - 1, _LAST_ID)
    return Position(None, conn.execute(select(func.coalesce(func.max(RecordVersion.id), 0))).scalar_one())


@dataclass(frozen=True)
class ChangesPage:
    """Changes after a position, the position reached, and whether more wait."""

    changes: list[dict[str, Any]]
    next: Position
    more: bool


def read_changes(
    conn: Connection, ledger: Ledger, viewer: Viewer, after: Position | None, limit: int
) -> ChangesPage:
    """Return up to `limit` versions of `ledger` past `after` (None: from the start) as seen by `viewer`."""
    stmt = select(
        RecordVersion.id,
        RecordVersion.txid,
        RecordVersion.version,
        RecordVersion.new,
        RecordVersion.source,
        RecordVersion.at,
        Record.id.label("record_id"),
        Record.key,
        Record.township_code,
    ).join(Record, Record.id == RecordVersion.record_id)
    if is_postgres(conn):
        stmt = stmt.where(Record.ledger == ledger.code, RecordVersion.txid < _xmin(conn))
        if after is not None:
            stmt = stmt.where(tuple_(RecordVersion.txid, RecordVersion.id) > tuple_(after.txid, after.id))
        stmt = stmt.order_by(RecordVersion.txid, RecordVersion.id)
    else:
        # Not by the records' ledger index: SQLite would then read every record of the ledger
        # and sort their versions; walked by version id, it stops after `limit` of them.
        stmt = stmt.where(Record.ledger.concat("") == ledger.code)
        if after is not None:
            stmt = stmt.where(RecordVersion.id > after.id)
        stmt = stmt.order_by(RecordVersion.id)
    rows = conn.execute(stmt.limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    reached = (
        Position(rows[-1].txid, rows[-1].id)
        if rows
        else after or Position(0 if is_postgres(conn) else None, 0)
    )
    return ChangesPage(_shown(ledger, viewer, rows), reached, more)


def _shown(ledger: Ledger, viewer: Viewer, rows: list[Any]) -> list[dict[str, Any]]:
    """Return the versions' values as the viewer sees them; versions with nothing visible left out."""
    seen = sights(ledger, viewer)
    ids = [s.field.name for s in seen if s.field.element.mask == "id_number"]
    decided: dict[str | None, dict[str, Sight]] = {}
    news = [(row.new if isinstance(row.new, dict) else orjson.loads(row.new or "{}")) for row in rows]
    parts = [
        {name: _SOME_ID for name in ids} | {ledger.key: row.key} | new | {"_township": row.township_code}
        for row, new in zip(rows, news, strict=True)
    ]
    # Only the values a version set are handed on (and tallied as read in clear).
    names = frozenset(name for new in news for name in new)
    shown = present(ledger, parts, viewer, only=names | {ledger.key})
    changes = []
    for row, new, copy in zip(rows, news, shown, strict=True):
        township = row.township_code
        at = decided.get(township)
        if at is None:
            at = decided[township] = {s.field.name: s.at(township) for s in seen}
        values = {k: copy[k] for k in new if at.get(k, Sight.HIDDEN) is not Sight.HIDDEN}
        if not values:
            continue
        changes.append(
            {
                "id": row.record_id,
                "key": copy.get(ledger.key),
                "version": row.version,
                "township": township,
                "at": row.at.isoformat(),
                "source": SOURCE_LABELS.get(row.source, row.source),
                "values": values,
            }
        )
    return changes
