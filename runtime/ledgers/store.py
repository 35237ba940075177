"""The ledger store: versioned records with provenance, bulk upserts and scoped reads.

Storage: one row per record in `records` with the record as a JSON document (`data`) and the
columns every hot query needs (ledger, natural key, label, township, village) copied out and
indexed; every change appends a row to `record_versions` with the old and new values of the
fields it touched. A record is never changed without a version.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, and_, false, func, not_, or_, select, text, tuple_

from builder.catalog.specs import Ledger
from runtime.db import is_postgres
from runtime.errors import ErrorCode, OperationRefused
from runtime.ledgers.bulk import db_time, dumps, execute_many, insert_rows, insert_with_ids
from runtime.models import OrgUnit, Record, RecordVersion, User, utcnow
from runtime.org_scope import DISTRICT, NOT_YOURS, OutOfScope, Scope, outside

RECORD_COLUMNS = ("ledger", "key", "label", "township_code", "village_code", "data", "version", "updated_at")
VERSION_COLUMNS = ("record_id", "version", "old", "new", "source", "source_ref", "actor_id", "at")
#: Optimistic update: it touches the row only while it still has the version read.
UPDATE_RECORD = (
    "UPDATE records SET data = ?, label = ?, township_code = ?, village_code = ?, "
    "version = ?, updated_at = ? WHERE id = ? AND version = ?"
)
CHUNK = 5000
#: The stored records of some keys of a ledger, as `_load` reads them (psycopg parses jsonb).
LOAD_PG = (
    "SELECT key, id, version, data, township_code, village_code FROM records "
    "WHERE ledger = %s AND key = ANY(%s::varchar[])"
)
LOAD_SQLITE = (
    "SELECT key, id, version, data, township_code, village_code FROM records "
    "WHERE ledger = ? AND key IN ({marks})"
)

#: Where a change came from, as users read it.
SOURCE_LABELS = {
    "seed": "演示数据生成",
    "import": "台账导入",
    "edit": "手工修改",
    "visit": "日常走访",
    "writeback": "报表回流",
    "conflict": "回流冲突",
    "sync": "系统同步",
    "api": "接口推送",
}


@dataclass(frozen=True)
class Provenance:
    """Who made a change, from which source, when."""

    source: str
    source_ref: str | None = None
    actor_id: int | None = None
    at: datetime = field(default_factory=utcnow)


@dataclass
class UpsertCounts:
    """What an upsert did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: UpsertCounts) -> None:
        """Add another chunk's counts to these."""
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged


class StaleRecord(OperationRefused):
    """The record changed since the caller read it."""


def _columns(ledger: Ledger, data: dict[str, Any]) -> tuple[str, str | None, str, str | None]:
    label = data.get(ledger.label)
    village = data.get(ledger.village_field) if ledger.village_field else None
    return str(data[ledger.key]), label, data.get(ledger.township_field), village


#: A record ready to store: (key, label, township, village, JSON document).
Prepared = tuple[str, str | None, str, str | None, str]


def prepare(ledger: Ledger, data: dict[str, Any]) -> Prepared:
    """Return a valid record as the columns and the JSON text the store writes."""
    key, label, township, village = _columns(ledger, data)
    return key, label, township, village, dumps(data)


def bulk_create(conn: Connection, ledger: Ledger, rows: Iterable[dict[str, Any]], prov: Provenance) -> int:
    """Insert records that do not exist yet, each with its creating version; return the count."""
    return insert_prepared(conn, ledger, [prepare(ledger, data) for data in rows], prov)


def insert_prepared(conn: Connection, ledger: Ledger, rows: list[Prepared], prov: Provenance) -> int:
    """Insert prepared new records, each with its creating version; return the count."""
    if not rows:
        return 0
    at = db_time(conn, prov.at)
    ids = insert_with_ids(
        conn,
        "records",
        RECORD_COLUMNS,
        [
            (ledger.code, key, label, township, village, doc, 1, at)
            for key, label, township, village, doc in rows
        ],
    )
    _add_creating_versions(conn, ids, prov)
    return len(rows)


def _add_creating_versions(conn: Connection, ids: list[int], prov: Provenance) -> None:
    """Give each new record its first version, copying its document inside the database.

    Sending every document a second time from Python costs as much as the records themselves
    (binding on SQLite, a second COPY stream on PostgreSQL); INSERT … SELECT does not.
    """
    params = {
        "source": prov.source,
        "ref": prov.source_ref,
        "actor": prov.actor_id,
        "at": db_time(conn, prov.at),
    }
    if conn.dialect.name == "postgresql":
        # Ids drawn from the sequence in one call may interleave with another session's.
        where, new = "id = ANY(:ids)", "data::json"
        params["ids"] = ids
    else:
        # insert_with_ids: on SQLite the new ids are one contiguous range.
        where, new = "id BETWEEN :first AND :last", "data"
        params.update(first=ids[0], last=ids[-1])
    conn.execute(
        text(
            "INSERT INTO record_versions (record_id, version, old, new, source, source_ref, "
            f"actor_id, at) SELECT id, 1, NULL, {new}, :source, :ref, :actor, :at "
            f"FROM records WHERE {where}"
        ),
        params,
    )


#: A stored record as an upsert reads it: (id, version, document, township, village).
Current = tuple[int, int, dict, str | None, str | None]


def load_current(conn: Connection, ledger: str, keys: list[str]) -> dict[str, Current]:
    """Return the stored records of some natural keys of a ledger (one query per 5,000 keys)."""
    return _load(conn, ledger, keys)


def _load(conn: Connection, ledger: str, keys: list[str]) -> dict[str, Current]:
    # The driver's cursor, not a Core select: an upsert of 100,000 rows reads up to as many
    # documents here, and SQLAlchemy's row and JSON processing cost as much as the query
    # (~1.4 s of a 100,000-row push on SQLite; documents are parsed with orjson either way).
    found = {}
    raw = conn.connection.driver_connection
    postgres = conn.dialect.name == "postgresql"
    for start in range(0, len(keys), CHUNK):
        part = keys[start : start + CHUNK]
        cursor = raw.cursor()
        try:
            if postgres:
                # One array parameter: PostgreSQL plans `= ANY($1)` at once, where an IN list of
                # 5,000 parameters costs ~60 ms to parse and plan per chunk.
                cursor.execute(LOAD_PG, (ledger, part))
                for key, rid, version, data, township, village in cursor.fetchall():
                    found[key] = (rid, version, data, township, village)
            else:
                cursor.execute(LOAD_SQLITE.format(marks=", ".join("?" * len(part))), (ledger, *part))
                for key, rid, version, data, township, village in cursor.fetchall():
                    found[key] = (rid, version, orjson.loads(data), township, village)
        finally:
            cursor.close()
    return found


def diff(old: dict[str, Any], changes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return (old values, new values) of the fields `changes` really changes; None clears."""
    before, after = {}, {}
    for name, value in changes.items():
        current = old.get(name)
        if value != current or type(value) is not type(current):
            if value is None and current is None:
                continue
            before[name], after[name] = current, value
    return before, after


def upsert(
    conn: Connection,
    ledger: Ledger,
    rows: Iterable[dict[str, Any]],
    prov: Provenance,
    progress: Callable[[int], None] | None = None,
    *,
    scope: Scope,
) -> UpsertCounts:
    """Create new records and version the changed ones; unchanged rows write nothing.

    A value absent from a row leaves the stored value alone (an import never clears a field
    by leaving a cell empty). Rows must already be valid; `rows` may be a generator. Rows of
    the same key are merged, the later values winning. A writer of a `scope` smaller than the
    district touches and makes only records within it (OutOfScope otherwise).
    """
    total = UpsertCounts()
    done = 0
    batch: dict[str, dict[str, Any]] = {}

    def flush() -> None:
        nonlocal done
        total.add(
            upsert_prepared(conn, ledger, [prepare(ledger, r) for r in batch.values()], prov, scope=scope)
        )
        done += len(batch)
        batch.clear()
        if progress:
            progress(done)

    for row in rows:
        key = str(row[ledger.key])
        batch[key] = {**batch[key], **row} if key in batch else row
        if len(batch) == CHUNK:
            flush()
    if batch:
        flush()
    return total


def upsert_prepared(
    conn: Connection,
    ledger: Ledger,
    rows: list[Prepared],
    prov: Provenance,
    *,
    scope: Scope,
    existing: dict[str, Current] | None = None,
) -> UpsertCounts:
    """Upsert one chunk of prepared records with distinct keys (see `upsert`).

    `existing` is what `load_current` returned for these keys, when the caller read it already.
    """
    by_key = {row[0]: row for row in rows}
    if existing is None:
        existing = _load(conn, ledger.code, list(by_key))
    else:
        existing = {key: existing[key] for key in by_key if key in existing}
    if scope.township:
        _check_scope(
            conn,
            ledger,
            scope,
            [(township, village) for _id, _v, _d, township, village in existing.values()],
            [{ledger.township_field: row[2], ledger.village_field: row[3]} for row in by_key.values()],
        )
    counts = UpsertCounts()
    counts.created = insert_prepared(
        conn, ledger, [row for key, row in by_key.items() if key not in existing], prov
    )
    at = db_time(conn, prov.at)
    updates, versions = [], []
    for key, (rid, version, data, _township, _village) in existing.items():
        before, after = diff(data, orjson.loads(by_key[key][4]))
        if not after:
            counts.unchanged += 1
            continue
        merged = _apply(data, after)
        _key, label, township, village = _columns(ledger, merged)
        updates.append((dumps(merged), label, township, village, version + 1, at, rid, version))
        versions.append(
            (rid, version + 1, dumps(before), dumps(after), prov.source, prov.source_ref, prov.actor_id, at)
        )
    if updates:
        touched = execute_many(conn, UPDATE_RECORD, updates)
        if touched != len(updates):
            raise StaleRecord(ErrorCode.RECORD_CHANGED_DURING_IMPORT)
        insert_rows(conn, "record_versions", VERSION_COLUMNS, versions)
        counts.updated = len(updates)
    return counts


def _apply(data: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    merged = dict(data)
    for name, value in after.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


def _check_scope(
    conn: Connection,
    ledger: Ledger,
    scope: Scope,
    old: Iterable[tuple[str | None, str | None]],
    new: Iterable[dict[str, Any]],
) -> None:
    """Refuse (OutOfScope) a write that touches a record outside `scope` or puts one outside it."""
    if not scope.township:
        return
    if not all(scope.holds(township, village) for township, village in old):
        raise OutOfScope({ledger.township_field: NOT_YOURS})
    new = list(new)
    villages = {str(v) for d in new if ledger.village_field and (v := d.get(ledger.village_field))}
    parents = (
        {
            code: parent
            for code, parent in conn.execute(
                select(OrgUnit.code, OrgUnit.parent_code).where(OrgUnit.code.in_(sorted(villages)))
            )
        }
        if villages and not scope.village
        else {}
    )
    for data in new:
        errors = outside(ledger, scope, data, parents)
        if errors:
            raise OutOfScope(errors)


@dataclass(frozen=True)
class Change:
    """New values for one record, decided against the record as read at `version`."""

    record_id: int
    version: int
    #: The record's document as read (the values the change was checked against).
    data: dict[str, Any]
    changes: dict[str, Any]


def apply_changes(
    conn: Connection, ledger: Ledger, changes: list[Change], prov: Provenance, *, scope: Scope
) -> tuple[int, list[int]]:
    """Write changes to records still at the version they were read at (compare-and-set).

    Return (records updated, ids of records changed by someone else since they were read:
    nothing is written to those, their changes must be decided again against what they hold
    now). Changes that change nothing write nothing.
    """
    plain = {c.record_id: {k: v for k, v in c.data.items() if not k.startswith("_")} for c in changes}
    _check_scope(
        conn,
        ledger,
        scope,
        [_columns(ledger, plain[c.record_id])[2:] for c in changes],
        [_apply(plain[c.record_id], c.changes) for c in changes],
    )
    at = db_time(conn, prov.at)
    updates, versions, docs = [], {}, {}
    for change in changes:
        data = plain[change.record_id]
        before, after = diff(data, change.changes)
        if not after:
            continue
        merged = _apply(data, after)
        _key, label, township, village = _columns(ledger, merged)
        docs[change.record_id] = dumps(merged)
        updates.append(
            (
                docs[change.record_id],
                label,
                township,
                village,
                change.version + 1,
                at,
                change.record_id,
                change.version,
            )
        )
        versions[change.record_id] = (
            change.record_id,
            change.version + 1,
            dumps(before),
            dumps(after),
            prov.source,
            prov.source_ref,
            prov.actor_id,
            at,
        )
    if not updates:
        return 0, []
    missed: list[int] = []
    if execute_many(conn, UPDATE_RECORD, updates) != len(updates):
        # Rare: find which records moved on. A record holding exactly what this write gave it, at
        # the next version, was written by it (or by someone writing the very same values).
        now = conn.execute(
            select(Record.id, Record.version, Record.data).where(Record.id.in_(list(versions)))
        )
        ours = {
            rid
            for rid, version, data in now
            if version == versions[rid][1] and data == orjson.loads(docs[rid])
        }
        missed = sorted(set(versions) - ours)
    insert_rows(
        conn, "record_versions", VERSION_COLUMNS, [row for rid, row in versions.items() if rid not in missed]
    )
    return len(versions) - len(missed), missed


def update_record(
    conn: Connection,
    ledger: Ledger,
    record_id: int,
    expected_version: int,
    changes: dict[str, Any],
    prov: Provenance,
    *,
    scope: Scope,
) -> int:
    """Apply validated `changes` to one record as a new version; return the record's version.

    Raises StaleRecord when someone else changed the record after `expected_version` was read,
    and OutOfScope when the record is, or would be moved, outside the writer's `scope`.
    """
    row = conn.execute(select(Record.version, Record.data).where(Record.id == record_id)).one()
    if row.version != expected_version:
        raise StaleRecord(ErrorCode.STALE_RECORD)
    written, missed = apply_changes(
        conn, ledger, [Change(record_id, row.version, row.data, changes)], prov, scope=scope
    )
    if missed:
        raise StaleRecord(ErrorCode.STALE_RECORD)
    return row.version + written


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """What a reader asks of one ledger: scope, equality filters and a search text."""

    ledger: Ledger
    scope: Scope = Scope()
    filters: tuple[tuple[str, Any], ...] = ()
    search: str = ""
    #: How the search text matches (the key when it starts with a digit, else the label): "prefix";
    #: "exact", the whole value; "suffix", its end; "none", nothing. `runtime.masking.searching`
    #: decides it for a viewer: never by more than the viewer sees of the value.
    search_match: str = "prefix"
    #: (field, operator, value) conditions of a report's row filter (see CONDITION_OPS).
    conditions: tuple[tuple[str, str, Any], ...] = ()
    #: Only these record ids (e.g. the rows of an uploaded file), when given.
    ids: tuple[int, ...] = ()
    #: Further SQL conditions over `records` of the caller's own (e.g. a task's rows with gaps).
    where: tuple[Any, ...] = ()
    #: Records that match whatever the `conditions` say (e.g. rows a task included by hand); the
    #: scope and every other part of the query still apply to them.
    also: Any = None


#: Operators of `Query.conditions`, the report spec language's filter operators.
CONDITION_OPS = ("present", "absent", "eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte")


def condition(ledger: Ledger, name: str, op: str, value: Any):
    """Return the SQL condition of one row-filter condition over a field of the JSON document."""
    kind = ledger.by_name[name].schema.get("type")
    text = Record.data[name].as_string()
    if op in ("present", "absent"):
        filled = and_(text.is_not(None), text != "")
        return filled if op == "present" else not_(filled)
    if kind == "boolean":
        ref, value = Record.data[name].as_boolean(), value
    elif kind in ("integer", "number"):
        ref = Record.data[name].as_float()
    else:
        ref = text
    if op == "eq":
        return ref == value
    if op == "ne":  # an empty value is "not equal" too
        return or_(ref.is_(None), ref != value)
    if op == "in":
        return ref.in_(list(value))
    if op == "not_in":
        return or_(ref.is_(None), ref.not_in(list(value)))
    return {"gt": ref > value, "gte": ref >= value, "lt": ref < value, "lte": ref <= value}[op]


def _where(query: Query, *, township_as_range: bool = False) -> list:
    ledger = query.ledger
    clauses = [Record.ledger == ledger.code]
    pinned = _pinned_township(query) if township_as_range else None
    if pinned:
        # See `page`: the same township as a range keeps it in PostgreSQL's ORDER BY.
        clauses += [Record.township_code >= pinned, Record.township_code <= pinned]
    elif query.scope.township:
        clauses.append(Record.township_code == query.scope.township)
    if query.scope.village:
        clauses.append(Record.village_code == query.scope.village)
    for name, value in query.filters:
        if name == ledger.township_field:
            if value != pinned:  # another township than the scope's: a contradiction, no rows
                clauses.append(Record.township_code == value)
        elif name == ledger.village_field:
            clauses.append(Record.village_code == value)
        elif isinstance(value, bool):
            clauses.append(Record.data[name].as_boolean() == value)
        else:
            clauses.append(Record.data[name].as_string() == str(value))
    matching = [condition(ledger, *c) for c in query.conditions]
    if matching and query.also is not None:
        clauses.append(or_(and_(*matching), query.also))
    else:
        clauses += matching
    if query.ids:
        clauses.append(Record.id.in_(list(query.ids)))
    clauses += list(query.where)
    text = query.search.strip()
    if text:
        # Prefix ranges use the (ledger, key) and (ledger, label) indexes on both engines.
        column = Record.key if text[0].isdigit() else Record.label
        if query.search_match == "exact":
            clauses.append(column == text)
        elif query.search_match == "suffix":
            clauses.append(column.endswith(text, autoescape=True))
        elif query.search_match == "none":
            clauses.append(false())
        else:
            clauses.append(column >= text)
            clauses.append(column < text + "\uffff")
    return clauses


def _row(rid: int, key: str, version: int, data: Any) -> dict[str, Any]:
    if isinstance(data, str):  # raw driver rows on SQLite
        data = json.loads(data)
    return {"_id": rid, "_key": key, "_version": version, **data}


def _pinned_township(query: Query) -> str | None:
    """Return the one township a query is limited to, if any."""
    if query.scope.township:
        return query.scope.township
    return next((v for n, v in query.filters if n == query.ledger.township_field), None)


def page(
    conn: Connection,
    query: Query,
    *,
    after: tuple[str, int] | None = None,
    before: tuple[str, int] | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Return one page of records in (township, id) order, after or before a position."""
    # Within one township on SQLite the position is just the id: SQLite plans
    # `(township, id) > (t, i)` next to `township = t` as a range over the township plus a sort
    # (~8x slower per page). PostgreSQL instead drops a column pinned by equality from the ORDER
    # BY and then walks the primary key, filtering until it reaches the township (0.2 s for the
    # first page of a large one, ids being clustered by township); pinned as a range, the
    # township stays in the order and the (ledger, township, id) index serves it directly.
    postgres = is_postgres(conn)
    one_township = _pinned_township(query) is not None and not postgres
    order = Record.id if one_township else tuple_(Record.township_code, Record.id)

    def position(at: tuple[str, int]):
        return at[1] if one_township else tuple_(*at)

    stmt = select(Record.id, Record.key, Record.version, Record.data, Record.township_code).where(
        *_where(query, township_as_range=postgres)
    )
    if before is not None:
        stmt = stmt.where(order < position(before)).order_by(Record.township_code.desc(), Record.id.desc())
    else:
        if after is not None:
            stmt = stmt.where(order > position(after))
        stmt = stmt.order_by(Record.township_code, Record.id)
    rows = [
        _row(r.id, r.key, r.version, r.data) | {"_township": r.township_code}
        for r in conn.execute(stmt.limit(limit))
    ]
    return rows[::-1] if before is not None else rows


def count(conn: Connection, query: Query, cap: int | None = None) -> int:
    """Count the records a query matches, stopping at `cap` when given."""
    inner = select(Record.id).where(*_where(query))
    if cap is not None:
        inner = inner.limit(cap)
    return conn.execute(select(func.count()).select_from(inner.subquery())).scalar_one()


def iter_rows(conn: Connection, query: Query, batch: int = 5000) -> Iterator[list[dict[str, Any]]]:
    """Yield every matching record in batches (for exports), in (township, id) order."""
    after = None
    while True:
        rows = page(conn, query, after=after, limit=batch)
        if not rows:
            return
        yield rows
        after = (rows[-1]["_township"], rows[-1]["_id"])


def read_all(conn: Connection, query: Query) -> list[dict[str, Any]]:
    """Return every matching record with all fields."""
    stmt = select(Record.id, Record.key, Record.version, Record.data).where(*_where(query))
    return [_row(*r) for r in conn.execute(stmt.order_by(Record.id))]


def get(conn: Connection, ledger: Ledger, record_id: int) -> dict[str, Any] | None:
    """Return one record of `ledger` by id, with its org-unit columns, or None."""
    row = conn.execute(
        select(
            Record.id,
            Record.key,
            Record.version,
            Record.data,
            Record.township_code,
            Record.village_code,
            Record.updated_at,
        ).where(Record.id == record_id, Record.ledger == ledger.code)
    ).first()
    if row is None:
        return None
    return _row(row.id, row.key, row.version, row.data) | {
        "_township": row.township_code,
        "_village": row.village_code,
        "_updated_at": row.updated_at,
    }


def get_by_keys(conn: Connection, ledger: Ledger, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Return records of `ledger` by natural key (one query); keys not found are left out."""
    keys = sorted({k for k in keys if k})
    if not keys:
        return {}
    stmt = select(Record.id, Record.key, Record.version, Record.data).where(
        Record.ledger == ledger.code, Record.key.in_(keys)
    )
    return {r.key: _row(r.id, r.key, r.version, r.data) for r in conn.execute(stmt)}


def get_by_key(conn: Connection, ledger: Ledger, key: str) -> dict[str, Any] | None:
    """Return one record of `ledger` by natural key, or None."""
    rid = conn.execute(select(Record.id).where(Record.ledger == ledger.code, Record.key == key)).scalar()
    return None if rid is None else get(conn, ledger, rid)


def history(conn: Connection, record_id: int) -> list[dict[str, Any]]:
    """Return a record's versions newest first, each with the actor's display name."""
    return histories(conn, [record_id]).get(record_id, [])


def histories(conn: Connection, record_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Return the versions of several records (one query), newest first per record."""
    if not record_ids:
        return {}
    stmt = (
        select(
            RecordVersion.record_id,
            RecordVersion.version,
            RecordVersion.old,
            RecordVersion.new,
            RecordVersion.source,
            RecordVersion.source_ref,
            RecordVersion.at,
            User.display_name.label("actor"),
        )
        .outerjoin(User, User.id == RecordVersion.actor_id)
        .where(RecordVersion.record_id.in_(record_ids))
        .order_by(RecordVersion.record_id, RecordVersion.version.desc())
    )
    found: dict[int, list[dict[str, Any]]] = {}
    for row in conn.execute(stmt):
        version = dict(row._mapping)
        found.setdefault(version.pop("record_id"), []).append(version)
    return found


def value_sources(versions: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Return, per field, the version (from `history`) that set its current value."""
    sources: dict[str, dict[str, Any]] = {}
    for version in versions:  # newest first: the first version naming a field set it last
        for name in version["new"]:
            sources.setdefault(name, version)
    return sources


def ledger_counts(conn: Connection, scope: Scope = DISTRICT) -> dict[str, int]:
    """Return the number of records per ledger within a scope."""
    stmt = select(Record.ledger, func.count()).group_by(Record.ledger)
    if scope.township:
        stmt = stmt.where(Record.township_code == scope.township)
    if scope.village:
        stmt = stmt.where(Record.village_code == scope.village)
    return {ledger: n for ledger, n in conn.execute(stmt)}
