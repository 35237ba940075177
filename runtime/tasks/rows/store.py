"""Every query and write on a task's rows (`TaskRow`, the drafts), and the task counters they move.

Other modules read and write drafts only through these functions, so the locking order, the
expected-version checks and the ON CONFLICT inserts live in one place.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, and_, bindparam, case, delete, false, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from runtime.db import insert_new
from runtime.errors import ErrorCode
from runtime.models import Task, TaskRow, utcnow
from runtime.reports.store import ReportError

#: What a filler reads when her save comes after someone else's.
STALE = ErrorCode.STALE_ROW.format()
#: TaskRow.status of a row the township added (no ledger record yet, or the record it made).
ADDED = "added"
#: TaskRow.status of an org unit's row of an aggregate report.
UNIT = "unit"
#: TaskRow.status of a row marked as not applicable.
NOT_APPLICABLE = "not_applicable"


class StaleRow(ReportError):
    """The row was saved by someone else since this copy was read."""


# --- SQL pieces other queries are built from -------------------------------------------------


def included_ids(task_id: int | None) -> Any:
    """Return the SQL of the record ids a task holds whatever the report's filter says.

    Those the township included by hand, and the records made from rows it added.
    """
    return select(TaskRow.record_id).where(
        TaskRow.task_id == task_id, TaskRow.included, TaskRow.record_id.is_not(None)
    )


def complete_ids(task_id: int | None) -> Any:
    """Return the SQL of the record ids of a task whose drafts are complete."""
    return select(TaskRow.record_id).where(
        TaskRow.task_id == task_id, TaskRow.complete, TaskRow.record_id.is_not(None)
    )


def joined_drafts(records: Any, task_of: Mapping[str, int], column: Any) -> tuple[Any, Any]:
    """Return (records outer-joined to their drafts of these tasks, the drafts' alias).

    `task_of` maps org unit code → task id and `column` is the records' org-unit column: a record
    has at most one draft among tasks of one level, found with one index lookup.
    """
    draft = aliased(TaskRow, name="draft")
    if not task_of:  # an extraction: nothing typed
        return records.outerjoin(draft, false()), draft
    if len(task_of) == 1:
        on = and_(draft.record_id == records.c.id, draft.task_id == next(iter(task_of.values())))
    else:
        on = and_(draft.record_id == records.c.id, draft.task_id == case(dict(task_of), value=column))
    return records.outerjoin(draft, on), draft


# --- reads ---------------------------------------------------------------------------------------


def draft_by_key(conn: Connection, task_id: int, key: str) -> Any:
    """Return the draft of one row of a task by its row key (None when nothing was saved yet)."""
    return conn.execute(select(TaskRow).where(TaskRow.task_id == task_id, TaskRow.row_key == key)).first()


def key_taken(conn: Connection, task_id: int, key: str) -> bool:
    """Tell whether the task already holds a row with this key."""
    found = conn.execute(select(TaskRow.id).where(TaskRow.task_id == task_id, TaskRow.row_key == key))
    return found.first() is not None


def drafts_of_records(conn: Connection, task_id: int, record_ids: list[int]) -> dict[int, Any]:
    """Return record id → draft (values, errors, status, reason, version) of some records of a task."""
    if not record_ids:
        return {}
    stmt = select(
        TaskRow.record_id, TaskRow.values, TaskRow.errors, TaskRow.status, TaskRow.reason, TaskRow.version
    ).where(TaskRow.task_id == task_id, TaskRow.record_id.in_(record_ids))
    return {row.record_id: row for row in conn.execute(stmt)}


def record_drafts(conn: Connection, task_id: int | None) -> dict[int, tuple[dict[str, Any], int]]:
    """Return record id → (typed values, version) of every draft of a task's ledger rows (one query)."""
    stmt = select(TaskRow.record_id, TaskRow.values, TaskRow.version).where(
        TaskRow.task_id == task_id, TaskRow.record_id.is_not(None)
    )
    return {record_id: (values or {}, version) for record_id, values, version in conn.execute(stmt)}


def merge_drafts(conn: Connection, task_id: int) -> dict[int | None, Any]:
    """Return record id → draft (values, status) of every row of a task, as a submission merges them."""
    stmt = select(TaskRow.record_id, TaskRow.values, TaskRow.status).where(TaskRow.task_id == task_id)
    return {row.record_id: row for row in conn.execute(stmt)}


def locked_drafts(conn: Connection, task: Task, keys: list[str]) -> dict[str, Any]:
    """Return row key → draft of some rows of a task, locked until the transaction ends (one query).

    PostgreSQL locks the drafts read (FOR UPDATE); SQLite, which has one writer at a time, is
    made to take its write lock first. Either way nobody saves these rows between the read and
    the writes, so each row's version check is decided by the read.
    """
    if not keys:
        return {}
    if conn.dialect.name == "sqlite":  # reads before a transaction's first write see later commits
        conn.execute(update(Task).where(Task.id == task.id).values(state=Task.state))
    stmt = (
        select(
            TaskRow.id,
            TaskRow.row_key,
            TaskRow.values,
            TaskRow.base,
            TaskRow.errors,
            TaskRow.status,
            TaskRow.reason,
            TaskRow.version,
            TaskRow.complete,
        )
        .where(TaskRow.task_id == task.id, TaskRow.row_key.in_(keys))
        .order_by(TaskRow.id)
        .with_for_update()
    )  # locked in one order by every upload
    return {row.row_key: row for row in conn.execute(stmt)}


def applying_drafts(conn: Connection, task_id: int, batch: int) -> Iterator[list[Any]]:
    """Yield a task's drafts of ledger rows that apply, in batches (keyset on id), for a write-back."""
    after = 0
    while True:
        stmt = (
            select(TaskRow.id, TaskRow.record_id, TaskRow.values, TaskRow.base, TaskRow.errors)
            .where(
                TaskRow.task_id == task_id,
                TaskRow.id > after,
                TaskRow.record_id.is_not(None),
                TaskRow.status != NOT_APPLICABLE,
            )
            .order_by(TaskRow.id)
            .limit(batch)
        )
        rows = list(conn.execute(stmt))
        if not rows:
            return
        yield rows
        after = rows[-1].id


def not_applicable(conn: Connection, task_ids: list[int]) -> dict[int, frozenset[int]]:
    """Return task id → the record ids its township marked not applicable (one query)."""
    if not task_ids:
        return {}
    found: dict[int, set[int]] = {}
    stmt = select(TaskRow.task_id, TaskRow.record_id).where(
        TaskRow.task_id.in_(task_ids), TaskRow.status == NOT_APPLICABLE, TaskRow.record_id.is_not(None)
    )
    for task_id, record_id in conn.execute(stmt):
        found.setdefault(task_id, set()).add(record_id)
    return {task_id: frozenset(ids) for task_id, ids in found.items()}


def _added(task_ids: Sequence[int | None]) -> Any:
    return and_(TaskRow.task_id.in_(task_ids), TaskRow.status == ADDED, TaskRow.record_id.is_(None))


def added_count(conn: Connection, task_ids: Sequence[int | None]) -> int:
    """Return how many rows the tasks' townships added that are not in the ledger yet (one query)."""
    if not task_ids:
        return 0
    return conn.execute(select(func.count()).where(_added(task_ids))).scalar_one()


def added_drafts(conn: Connection, task_id: int | None) -> list[Any]:
    """Return the task's added rows not yet in the ledger, in the order they were added."""
    return list(conn.execute(select(TaskRow).where(_added([task_id])).order_by(TaskRow.id)))


def added_draft(conn: Connection, task_id: int, added_id: int) -> Any:
    """Return one added row of a task not yet in the ledger, or None."""
    return conn.execute(select(TaskRow).where(TaskRow.id == added_id, _added([task_id]))).first()


def added_values(conn: Connection, task_ids: Sequence[int | None]) -> list[Any]:
    """Return (task id, values, errors) of the rows these tasks added, not in the ledger yet."""
    stmt = select(TaskRow.task_id, TaskRow.values, TaskRow.errors).where(_added(task_ids))
    return list(conn.execute(stmt))


def unit_drafts(conn: Connection, task_id: int) -> dict[str, Any]:
    """Return org unit code → the township's draft of that row of an aggregate report (one query)."""
    stmt = select(TaskRow).where(TaskRow.task_id == task_id, TaskRow.status == UNIT)
    return {row.row_key: row for row in conn.execute(stmt)}


def unit_values(conn: Connection, task_ids: list[int]) -> dict[tuple[int, str], dict[str, Any]]:
    """Return (task id, org unit code) → the corrections typed into aggregate rows of many tasks."""
    stmt = select(TaskRow.task_id, TaskRow.row_key, TaskRow.values).where(
        TaskRow.task_id.in_(task_ids), TaskRow.status == UNIT
    )
    return {(task_id, key): values or {} for task_id, key, values in conn.execute(stmt)}


# --- writes --------------------------------------------------------------------------------------


def store_draft(
    conn: Connection,
    task: Task,
    key: str,
    record_id: int | None,
    values: dict,
    base: dict,
    errors: dict,
    draft: Any,
    user_id: int | None,
    *,
    status: str,
    reason: str,
) -> Any:
    """Write the draft row, only if it still has the version read (insert: only if still absent)."""
    now = utcnow()
    fields = {
        "values": values,
        "base": base,
        "errors": errors,
        "status": status,
        "reason": reason,
        "updated_by": user_id,
        "updated_at": now,
    }
    if draft is None:
        row = {"task_id": task.id, "record_id": record_id, "row_key": key, "version": 1, "complete": False}
        made = insert_new(conn, TaskRow.__table__, {**row, **fields}, ["task_id", "row_key"])
        if made is None:
            raise StaleRow(ErrorCode.STALE_ROW)
    else:
        done = conn.execute(
            update(TaskRow)
            .where(TaskRow.id == draft.id, TaskRow.version == draft.version)
            .values(version=draft.version + 1, **fields)
        )
        if done.rowcount != 1:
            raise StaleRow(ErrorCode.STALE_ROW)
    start(conn, task, now)
    return draft_by_key(conn, task.id, key)


def write_drafts(conn: Connection, inserts: list[dict], updates: list[tuple[str, dict]]) -> list[str]:
    """Insert new drafts unless present and update read ones (row key, columns); return the keys written."""
    table = TaskRow.__table__
    written = []
    if inserts:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        stmt = (
            dialect.insert(table)
            .on_conflict_do_nothing(index_elements=["task_id", "row_key"])
            .returning(table.c.row_key)
        )
        written += conn.execute(stmt, inserts).scalars().all()  # a conflict: saved by someone else
    if updates:
        stmt = update(table).where(
            table.c.id == bindparam("row_id"), table.c.version == bindparam("old_version")
        )
        if conn.execute(stmt, [columns for _key, columns in updates]).rowcount != len(updates):
            raise StaleRow(ErrorCode.STALE_ROW)  # cannot happen: the drafts were locked when read
        written += [key for key, _columns in updates]
    return written


def insert_row(conn: Connection, row: dict[str, Any]) -> int | None:
    """Insert a new task row unless the task holds its key already (ON CONFLICT); return its id or None."""
    return insert_new(conn, TaskRow.__table__, row, ["task_id", "row_key"])


def include(conn: Connection, task: Task, key: str, record_id: int, user_id: int | None) -> tuple[int, bool]:
    """Keep a ledger record in the task whatever the report's filter says; return (row id, was complete)."""
    draft = conn.execute(
        select(TaskRow.id, TaskRow.complete).where(TaskRow.task_id == task.id, TaskRow.row_key == key)
    ).first()
    if draft is not None:  # a draft kept from when the record still matched the filter
        conn.execute(update(TaskRow).where(TaskRow.id == draft.id).values(included=True))
        return draft.id, bool(draft.complete)
    made = insert_row(
        conn,
        {
            "task_id": task.id,
            "record_id": record_id,
            "row_key": key,
            "values": {},
            "base": {},
            "errors": {},
            "status": "active",
            "record": None,
            "included": True,
            "complete": False,
            "reason": "",
            "version": 1,
            "updated_by": user_id,
            "updated_at": utcnow(),
        },
    )
    return made, False


def save_added_values(
    conn: Connection, draft: Any, values: dict[str, Any], errors: dict[str, str], user_id: int | None
) -> None:
    """Write an added row's values while it still has the version read, or refuse (StaleRow)."""
    done = conn.execute(
        update(TaskRow)
        .where(TaskRow.id == draft.id, TaskRow.version == draft.version)
        .values(
            values=values, errors=errors, version=draft.version + 1, updated_by=user_id, updated_at=utcnow()
        )
    )
    if done.rowcount != 1:
        raise StaleRow(ErrorCode.STALE_ROW)


def delete_row(conn: Connection, row_id: int, expected_version: int) -> bool:
    """Delete a task row while it still has the version read; tell whether it was deleted."""
    done = conn.execute(delete(TaskRow).where(TaskRow.id == row_id, TaskRow.version == expected_version))
    return done.rowcount == 1


def set_bases(conn: Connection, bases: Mapping[int, dict[str, Any]]) -> None:
    """Give rows new bases (row id → base), one statement."""
    if bases:
        conn.execute(
            update(TaskRow)
            .where(TaskRow.id == bindparam("row_id"))
            .values(base=bindparam("given", type_=TaskRow.__table__.c.base.type)),
            [{"row_id": row_id, "given": base} for row_id, base in bases.items()],
        )


def link_records(conn: Connection, links: list[dict[str, Any]]) -> None:
    """Link added rows to the ledger records made from them (row_id, rid, given base), one statement."""
    conn.execute(
        update(TaskRow)
        .where(TaskRow.id == bindparam("row_id"))
        .values(
            record_id=bindparam("rid"),
            included=True,
            base=bindparam("given", type_=TaskRow.__table__.c.base.type),
        ),
        links,
    )


# --- the task's counters, kept in step with its rows ---------------------------------------------


def start(conn: Connection, task: Task, now: Any) -> None:
    """Start the task on its first save."""
    if task.state == "new":
        conn.execute(
            update(Task)
            .where(Task.id == task.id, Task.state == "new")
            .values(state="in_progress", updated_at=now)
        )


def keep_complete(conn: Connection, task: Task, row_id: int, was: bool, now: bool) -> None:
    """Keep a row's complete flag and the task's count of complete rows in step."""
    if was == now:
        return
    conn.execute(update(TaskRow).where(TaskRow.id == row_id).values(complete=now))
    conn.execute(
        update(Task).where(Task.id == task.id).values(rows_complete=Task.rows_complete + (1 if now else -1))
    )


def count_saves(conn: Connection, task: Task, complete: list[tuple[bool, bool]], now: Any) -> None:
    """Start the task on its first save and count the rows that became (or ceased to be) complete."""
    start(conn, task, now)
    change = sum(after - before for before, after in complete)
    if change:
        conn.execute(update(Task).where(Task.id == task.id).values(rows_complete=Task.rows_complete + change))


def count_new_row(conn: Connection, task: Task) -> None:
    """Count one more row in the task (rows_total stays 0, not counted yet, until first opened)."""
    conn.execute(
        update(Task)
        .where(Task.id == task.id)
        .values(
            rows_total=case((Task.rows_total > 0, Task.rows_total + 1), else_=0),
            updated_at=utcnow(),
            state=case((Task.state == "new", "in_progress"), else_=Task.state),
        )
    )


def count_removed_row(conn: Connection, task: Task, was_complete: bool) -> None:
    """Count one row less in the task (and one complete row less if it was)."""
    conn.execute(
        update(Task)
        .where(Task.id == task.id)
        .values(
            rows_total=case((Task.rows_total > 0, Task.rows_total - 1), else_=0),
            rows_complete=Task.rows_complete - (1 if was_complete else 0),
            updated_at=utcnow(),
        )
    )


def set_total(conn: Connection, task: Task, total: int) -> None:
    """Keep the task's row count for the task lists."""
    conn.execute(update(Task).where(Task.id == task.id).values(rows_total=total))
