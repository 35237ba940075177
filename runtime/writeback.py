"""Write-back (回流): what a township filled or corrected goes into the ledger with provenance.

Fields whose spec says `x-writeback` flow back: into the row's own record, or, for fields bound
to the household of a person row, into the household record. A value the ledger already holds
writes nothing (submitting again writes no versions). A ledger value that changed after the
township saw it is not overwritten: the conflict is recorded for the ledger keeper, as is a
household value two members' rows disagree on. Rows the township added become new ledger
records, linked to their rows. The caller owns the transaction: one submission, one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, and_, bindparam, insert, select, update

from builder.report_spec import ReportSpec
from builder.specs import Ledger, SpecSet
from runtime.ledger_store import Provenance, get_by_keys, upsert
from runtime.models import Record, Report, Task, TaskRow, WritebackConflict, utcnow
from runtime.prefill import HOUSEHOLD_LINK, bindings
from runtime.task_added import added_drafts, new_record

#: Drafts read per query during a write-back.
BATCH = 2000


@dataclass
class WritebackResult:
    """What a write-back did."""

    records: int = 0
    unchanged: int = 0
    conflicts: int = 0
    #: New ledger records made from rows the township added.
    created: int = 0
    #: Household records updated from person rows.
    households: int = 0


@dataclass
class _Pending:
    """Changes and conflicts of one ledger, gathered before they are written."""

    ledger: Ledger
    task_id: int
    known: set[tuple[int, str]]
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    conflicts: list[dict[str, Any]] = field(default_factory=list)

    def offer(self, record: dict[str, Any], target: str, value: Any, base: Any) -> None:
        """Take a value for a record's field, or record why it cannot be taken."""
        key = record["_key"]
        now = record.get(target)
        pending = self.changes.get(key, {})
        if target in pending:
            if pending[target] != value:  # another row of the task said otherwise
                self.conflict(record, target, base, pending[target], value)
            return
        if now == value:
            return
        if now != base:
            self.conflict(record, target, base, now, value)
            return
        self.changes.setdefault(key, {self.ledger.key: key})[target] = value

    def conflict(self, record: dict[str, Any], target: str, base: Any, ledger_value: Any,
                 value: Any) -> None:
        """Record a conflict for the ledger keeper (once per record and field)."""
        if (record["_id"], target) in self.known:
            return
        self.known.add((record["_id"], target))
        self.conflicts.append({
            "task_id": self.task_id, "record_id": record["_id"], "ledger": self.ledger.code,
            "field": target, "base_value": base, "ledger_value": ledger_value,
            "township_value": value, "status": "open", "created_at": utcnow()})


def source_ref(report_code: str, task: Task) -> str:
    """Return the provenance reference of a task's write-back: report and task."""
    return f"{report_code}#task-{task.id}"


def write_back(conn: Connection, specs: SpecSet, spec: ReportSpec, task: Task, actor_id: int | None,
               report_code: str) -> WritebackResult:
    """Write the task's filled values into the ledgers; record conflicts instead of overwriting."""
    result = WritebackResult()
    if not spec.rows.ledger:
        return result
    ledger = specs.ledgers[spec.rows.ledger]
    plan = bindings(spec, specs)
    flowing = {name: b for name, b in plan.items() if b.report_field.writeback}
    # The key names the record: a different key is another record, never a correction of this one.
    own = {name: b.ledger_field.name for name, b in flowing.items()
           if b.via is None and b.ledger_field.name != ledger.key}
    linked = {name: b.ledger_field.name for name, b in flowing.items() if b.via}
    link = HOUSEHOLD_LINK.get(ledger.code)
    known = _open_conflicts(conn, task.id)
    rows = _Pending(ledger, task.id, known)
    households = _Pending(specs.ledgers[link[0]], task.id, known) if link and linked else None
    for drafts in _drafts(conn, task.id):
        current = _records(conn, [d.record_id for d in drafts])
        homes = _households(conn, households, link, current.values()) if households else {}
        for draft in drafts:
            record = current.get(draft.record_id)
            if record is None:
                continue
            for name, value in _filled(draft, own):
                rows.offer(record, own[name], value, draft.base.get(name))
            home = homes.get(record.get(link[1])) if households else None
            if home is not None:
                for name, value in _filled(draft, linked):
                    households.offer(home, linked[name], value, draft.base.get(name))
    prov = Provenance("writeback", source_ref(report_code, task), actor_id)
    if rows.changes:
        counts = upsert(conn, ledger, rows.changes.values(), prov)
        result.records, result.unchanged = counts.updated, counts.unchanged
    result.created = _create_added(conn, specs, spec, task, prov, households, linked, link)
    if households is not None and households.changes:
        result.households = upsert(conn, households.ledger, households.changes.values(), prov).updated
    conflicts = rows.conflicts + (households.conflicts if households else [])
    if conflicts:
        conn.execute(insert(WritebackConflict), conflicts)
    result.conflicts = len(conflicts)
    return result


def _filled(draft: Any, targets: dict[str, str]) -> Iterator[tuple[str, Any]]:
    """Yield the draft's valid, non-empty values of the fields that flow back."""
    errors = draft.errors or {}
    for name, value in draft.values.items():
        if name in targets and name not in errors and value not in (None, "", []):
            yield name, value


def _households(conn: Connection, pending: _Pending, link: tuple[str, str],
                records: Any) -> dict[str, dict[str, Any]]:
    """Return the households of some person records by household number (one query)."""
    return get_by_keys(conn, pending.ledger, (r.get(link[1]) for r in records))


def _create_added(conn: Connection, specs: SpecSet, spec: ReportSpec, task: Task, prov: Provenance,
                  households: _Pending | None, linked: dict[str, str], link: Any) -> int:
    """Make ledger records of the rows the township added and link each row to its record.

    A key the ledger gained since the row was added (an import) is not duplicated: the row's
    values go into that record like a correction seen against an empty ledger value.
    """
    drafts = added_drafts(conn, task)
    if not drafts:
        return 0
    ledger = specs.ledgers[spec.rows.ledger]
    existing = get_by_keys(conn, ledger, (d.row_key for d in drafts))
    pending = _Pending(ledger, task.id, set())
    created = []
    for draft in drafts:
        data = new_record(spec, specs, task, draft)
        if draft.row_key in existing:
            record = existing[draft.row_key]
            for target, value in data.items():
                pending.offer(record, target, value, None)
        else:
            created.append(data)
    counts = upsert(conn, ledger, [*created, *pending.changes.values()], prov)
    if pending.conflicts:
        conn.execute(insert(WritebackConflict), pending.conflicts)
    ids = {key: r["_id"] for key, r in get_by_keys(conn, ledger, (d.row_key for d in drafts)).items()}
    plan = bindings(spec, specs)
    # From now on the row is a row of its record, kept in the task whatever the report's filter
    # says of the record; its base is what the record was given.
    conn.execute(update(TaskRow).where(TaskRow.id == bindparam("row_id")).values(
        record_id=bindparam("rid"), included=True,
        base=bindparam("given", type_=TaskRow.__table__.c.base.type)), [
        {"row_id": d.id, "rid": ids[d.row_key],
         "given": {name: v for name, v in d.values.items() if name in plan and not plan[name].via}}
        for d in drafts])
    if households is not None:
        homes = _households(conn, households, link, [new_record(spec, specs, task, d) for d in drafts])
        for draft in drafts:
            home = homes.get(new_record(spec, specs, task, draft).get(link[1]))
            if home is not None:
                for name, value in _filled(draft, linked):
                    households.offer(home, linked[name], value, None)
    return counts.created


def _drafts(conn: Connection, task_id: int) -> Iterator[list[Any]]:
    """Yield the task's drafts of ledger rows that apply, in batches (keyset on id)."""
    after = 0
    while True:
        stmt = (select(TaskRow.id, TaskRow.record_id, TaskRow.values, TaskRow.base, TaskRow.errors)
                .where(TaskRow.task_id == task_id, TaskRow.id > after, TaskRow.record_id.is_not(None),
                       TaskRow.status != "not_applicable")
                .order_by(TaskRow.id).limit(BATCH))
        rows = list(conn.execute(stmt))
        if not rows:
            return
        yield rows
        after = rows[-1].id


def _records(conn: Connection, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Return the current data of some records, with their id and key."""
    found = {}
    for rid, key, data in conn.execute(select(Record.id, Record.key, Record.data).where(Record.id.in_(ids))):
        data = orjson.loads(data) if isinstance(data, str | bytes) else data
        found[rid] = {**data, "_id": rid, "_key": key}
    return found


def _open_conflicts(conn: Connection, task_id: int) -> set[tuple[int, str]]:
    """Return (record, field) pairs of the task that already have an open conflict."""
    stmt = select(WritebackConflict.record_id, WritebackConflict.field).where(and_(
        WritebackConflict.task_id == task_id, WritebackConflict.status == "open"))
    return {(rid, name) for rid, name in conn.execute(stmt)}


def open_conflicts(conn: Connection, ledger: str | None = None, limit: int = 200) -> list[Any]:
    """Return open conflicts for the ledger keeper, oldest first."""
    stmt = select(WritebackConflict).where(WritebackConflict.status == "open")
    if ledger:
        stmt = stmt.where(WritebackConflict.ledger == ledger)
    return list(conn.execute(stmt.order_by(WritebackConflict.id).limit(limit)))


def resolve_conflict(conn: Connection, specs: SpecSet, conflict_id: int, actor_id: int, take: bool) -> str:
    """Settle an open conflict: take the township's value into the ledger, or keep the ledger's."""
    conflict = conn.execute(select(WritebackConflict).where(WritebackConflict.id == conflict_id)).first()
    if conflict is None or conflict.status != "open":
        raise ValueError("这条冲突不存在或已处理")
    status = "kept_ledger"
    if take:
        ledger = specs.ledgers[conflict.ledger]
        task = conn.execute(select(Task).where(Task.id == conflict.task_id)).one()
        code = conn.execute(select(Report.code).where(Report.id == task.report_id)).scalar_one()
        record = conn.execute(select(Record.key).where(Record.id == conflict.record_id)).scalar_one()
        upsert(conn, ledger, [{ledger.key: record, conflict.field: conflict.township_value}],
               Provenance("writeback", source_ref(code, task), actor_id))
        status = "took_township"
    conn.execute(update(WritebackConflict).where(WritebackConflict.id == conflict_id).values(
        status=status, resolved_by=actor_id, resolved_at=utcnow()))
    return status
