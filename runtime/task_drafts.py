"""Drafts of a task (填报草稿): what a township types, saved cell by cell, never lost, never overwritten.

A save names the row's draft version it started from; a save over a newer draft is refused (the
filler sees who changed the row and nothing of hers is lost), so two people working on one task
never overwrite each other silently. Values are kept as typed when they are invalid, with the
Chinese message next to the cell; a value equal to the ledger's is no change and is dropped.
A cell the filler sees masked may still be replaced by a whole new value (a new phone number
told at a visit): writing never reveals the old value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import Connection, select, update

from builder.report_spec import ReportSpec
from builder.report_validation import ReportRowValidator
from builder.specs import SpecSet
from runtime.access import Viewer
from runtime.db import insert_new
from runtime.dispatch import OPEN_STATES
from runtime.ledger_store import Query, get, get_by_key, histories, page, value_sources
from runtime.models import Task, TaskRow, utcnow
from runtime.prefill import HOUSEHOLD_LINK, RowView, bindings, build_row, row_query, task_scope
from runtime.reports import ReportError

#: Why a row may be marked as not applicable (the filler may also write her own reason).
NOT_APPLICABLE_REASONS = ("已迁出", "已死亡", "不符合条件", "查无此人", "重复登记")


class StaleRow(ReportError):
    """The row was saved by someone else since this copy was read."""


@dataclass
class SavedRow:
    """The outcome of a save: the row as it now is, and the cells that were refused."""

    row: RowView
    errors: dict[str, str]


def check_open(task: Task, viewer: Viewer, specs: SpecSet) -> None:
    """Refuse unless the task is open and within the viewer's org unit."""
    scope = task_scope(specs, task)
    if not viewer.sees(scope.township, scope.village) or viewer.role not in ("township", "village", "admin"):
        raise ReportError("这项任务不属于您的辖区")
    if viewer.scope.village and not scope.village:
        raise ReportError("村（社区）账号不能填报镇街的任务")
    if task.state not in OPEN_STATES:
        raise ReportError("任务已提交，不能再修改；如需更正请联系下发部门退回")


def _record(conn: Connection, specs: SpecSet, spec: ReportSpec, task: Task, record_id: int) -> dict[str, Any]:
    """Return the ledger record of one of the task's rows (by id: keys are masked), or refuse."""
    record = get(conn, specs.ledgers[spec.rows.ledger], record_id)
    rows = page(conn, _exact(row_query(spec, specs, task), record["_key"]), limit=1) if record else []
    if not rows:
        raise ReportError("这一行不在本任务中（可能已不符合报表的筛选条件）")
    return rows[0]


def _exact(query: Query, key: str) -> Query:
    return replace(query, search=key, search_exact=True)


def _draft(conn: Connection, task_id: int, key: str) -> Any:
    return conn.execute(select(TaskRow).where(TaskRow.task_id == task_id, TaskRow.row_key == key)).first()


def save_cells(conn: Connection, specs: SpecSet, spec: ReportSpec, task: Task, viewer: Viewer,
               record_id: int, typed: Mapping[str, str], *, expected_version: int,
               today: date | None = None) -> SavedRow:
    """Save cells the filler typed into one row; return the row and the cells' problems."""
    check_open(task, viewer, specs)
    known = {f.name for f in spec.fields if not f.compute}
    unknown = [name for name in typed if name not in known]
    if unknown:
        raise ReportError(f"报表中没有这些字段：{'、'.join(unknown)}")
    record = _record(conn, specs, spec, task, record_id)
    key = record["_key"]
    plan = bindings(spec, specs)
    validator = ReportRowValidator(spec, specs.elements)
    draft = _draft(conn, task.id, key)
    if (draft.version if draft else 0) != expected_version:
        raise StaleRow("这一行刚被别人保存过，请看最新的内容后再改；您输入的内容还在输入框里")
    values = dict(draft.values) if draft else {}
    base = dict(draft.base) if draft else {}
    errors = dict(draft.errors) if draft else {}
    household = _household(conn, specs, spec, record) if any(
        plan[name].via for name in typed if name in plan) else {}
    for name, text in typed.items():
        value, problem = validator.coerce(name, text)
        problem = problem or validator.cell_error(name, value)
        binding = plan.get(name)
        ledger_value = ((household if binding.via else record).get(binding.ledger_field.name)
                        if binding else None)
        if problem is None and binding is not None and value == ledger_value:
            values.pop(name, None)  # the ledger's own value: no change
            errors.pop(name, None)
            continue
        values[name] = value
        base.setdefault(name, ledger_value)
        if problem:
            errors[name] = problem
        else:
            errors.pop(name, None)
    stored = _store(conn, task, key, record["_id"], values, base, errors, draft, viewer,
                    status=draft.status if draft else "active", reason=draft.reason if draft else "")
    row = _view(conn, specs, spec, task, record, stored, viewer, today)
    _mark_complete(conn, task, stored, row.complete)
    return SavedRow(row=row, errors={k: v for k, v in errors.items() if k in typed})


def mark_row(conn: Connection, specs: SpecSet, spec: ReportSpec, task: Task, viewer: Viewer,
             record_id: int, reason: str | None, *, expected_version: int,
             today: date | None = None) -> RowView:
    """Mark a row as not applicable with a reason (or, with None, applicable again)."""
    check_open(task, viewer, specs)
    if reason is not None and not reason.strip():
        raise ReportError("请写明不适用的原因，如已迁出、已死亡、不符合条件")
    record = _record(conn, specs, spec, task, record_id)
    key = record["_key"]
    draft = _draft(conn, task.id, key)
    if (draft.version if draft else 0) != expected_version:
        raise StaleRow("这一行刚被别人保存过，请看最新的内容后再改")
    stored = _store(conn, task, key, record["_id"], dict(draft.values) if draft else {},
                    dict(draft.base) if draft else {}, dict(draft.errors) if draft else {}, draft, viewer,
                    status="not_applicable" if reason else "active", reason=(reason or "").strip()[:200])
    row = _view(conn, specs, spec, task, record, stored, viewer, today)
    _mark_complete(conn, task, stored, row.complete)
    return row


def _store(conn: Connection, task: Task, key: str, record_id: int | None, values: dict, base: dict,
           errors: dict, draft: Any, viewer: Viewer, *, status: str, reason: str) -> Any:
    """Write the draft row, only if it still has the version read (insert: only if still absent)."""
    now = utcnow()
    fields = {"values": values, "base": base, "errors": errors, "status": status, "reason": reason,
              "updated_by": viewer.user_id, "updated_at": now}
    if draft is None:
        row = {"task_id": task.id, "record_id": record_id, "row_key": key, "version": 1, "complete": False}
        made = insert_new(conn, TaskRow.__table__, {**row, **fields}, ["task_id", "row_key"])
        if made is None:
            raise StaleRow("这一行刚被别人保存过，请看最新的内容后再改；您输入的内容还在输入框里")
    else:
        done = conn.execute(update(TaskRow).where(TaskRow.id == draft.id, TaskRow.version == draft.version)
                            .values(version=draft.version + 1, **fields))
        if done.rowcount != 1:
            raise StaleRow("这一行刚被别人保存过，请看最新的内容后再改；您输入的内容还在输入框里")
    if task.state == "new":
        conn.execute(update(Task).where(Task.id == task.id, Task.state == "new")
                     .values(state="in_progress", updated_at=now))
    return _draft(conn, task.id, key)


def _view(conn: Connection, specs: SpecSet, spec: ReportSpec, task: Task, record: dict, stored: Any,
          viewer: Viewer, today: date | None) -> RowView:
    """Return the row as the filler now sees it."""
    plan = bindings(spec, specs)
    household = _household(conn, specs, spec, record) if any(b.via for b in plan.values()) else {}
    sources = value_sources(histories(conn, [record["_id"]]).get(record["_id"], []))
    return build_row(spec, plan, record, household, stored, sources, viewer, today=today)


def _household(conn: Connection, specs: SpecSet, spec: ReportSpec, record: dict) -> dict[str, Any]:
    """Return the household record of a person row (empty when it has none)."""
    other, key_field = HOUSEHOLD_LINK[spec.rows.ledger]
    return get_by_key(conn, specs.ledgers[other], record.get(key_field) or "") or {}


def _mark_complete(conn: Connection, task: Task, stored: Any, complete: bool) -> None:
    """Keep the row's complete flag and the task's count of complete rows in step."""
    if bool(stored.complete) == complete:
        return
    conn.execute(update(TaskRow).where(TaskRow.id == stored.id).values(complete=complete))
    conn.execute(update(Task).where(Task.id == task.id)
                 .values(rows_complete=Task.rows_complete + (1 if complete else -1)))
