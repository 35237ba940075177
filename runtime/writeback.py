"""Write-back (回流): what a township filled or corrected goes into the ledger with provenance.

Only fields bound to an element of the row's own record, whose spec says `x-writeback`, flow
back. A value the ledger already holds writes nothing (submitting again writes no versions). A
ledger value that changed after the township saw it is not overwritten: the conflict is recorded
for the ledger keeper. The caller owns the transaction: one submission, one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, and_, insert, select, update

from builder.report_spec import ReportSpec
from builder.specs import SpecSet
from runtime.ledger_store import Provenance, upsert
from runtime.models import Record, Report, Task, TaskRow, WritebackConflict, utcnow
from runtime.prefill import bindings

#: Drafts read per query during a write-back.
BATCH = 2000


@dataclass
class WritebackResult:
    """What a write-back did."""

    records: int = 0
    unchanged: int = 0
    conflicts: int = 0


def source_ref(report_code: str, task: Task) -> str:
    """Return the provenance reference of a task's write-back: report and task."""
    return f"{report_code}#task-{task.id}"


def write_back(conn: Connection, specs: SpecSet, spec: ReportSpec, task: Task, actor_id: int | None,
               report_code: str) -> WritebackResult:
    """Write the task's filled values into the ledger; record conflicts instead of overwriting."""
    if not spec.rows.ledger:
        return WritebackResult()
    ledger = specs.ledgers[spec.rows.ledger]
    targets = {name: b.ledger_field.name for name, b in bindings(spec, specs).items()
               if b.via is None and b.report_field.writeback}
    result = WritebackResult()
    if not targets:
        return result
    prov = Provenance("writeback", source_ref(report_code, task), actor_id)
    open_conflicts = _open_conflicts(conn, task.id)
    changes, conflicts = [], []
    for drafts in _drafts(conn, task.id):
        current = _records(conn, [d.record_id for d in drafts])
        for draft in drafts:
            record = current.get(draft.record_id)
            if record is None:
                continue
            change = {}
            for name, value in draft.values.items():
                target = targets.get(name)
                if target is None or name in (draft.errors or {}) or value in (None, "", []):
                    continue
                now = record.get(target)
                if now == value:
                    continue
                if now != draft.base.get(name):
                    if (draft.record_id, target) not in open_conflicts:
                        conflicts.append({
                            "task_id": task.id, "record_id": draft.record_id, "ledger": ledger.code,
                            "field": target, "base_value": draft.base.get(name), "ledger_value": now,
                            "township_value": value, "status": "open", "created_at": utcnow()})
                    continue
                change[target] = value
            if change:
                changes.append({ledger.key: record[ledger.key], **change})
    if changes:
        counts = upsert(conn, ledger, changes, prov)
        result.records, result.unchanged = counts.updated, counts.unchanged
    if conflicts:
        conn.execute(insert(WritebackConflict), conflicts)
    result.conflicts = len(conflicts)
    return result


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
    """Return the current data of some records."""
    found = {}
    for rid, data in conn.execute(select(Record.id, Record.data).where(Record.id.in_(ids))):
        found[rid] = orjson.loads(data) if isinstance(data, str | bytes) else data
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
