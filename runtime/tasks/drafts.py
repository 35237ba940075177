"""Drafts of a task (填报草稿): what a township types, saved cell by cell, never lost, never overwritten.

A save names the row's draft version it started from; a save over a newer draft is refused (the
filler sees who changed the row and nothing of hers is lost), so two people working on one task
never overwrite each other silently. Values are kept as typed when they are invalid, with the
Chinese message next to the cell; a value equal to the ledger's is no change and is dropped.
A cell the filler sees masked may still be replaced by a whole new value (a new phone number
told at a visit): writing never reveals the old value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import orjson

from builder.reports.spec import ReportSpec
from builder.reports.validation import ReportRowValidator
from runtime.errors import ErrorCode
from runtime.ledgers.store import Query, get, histories, page, value_sources
from runtime.masking import completed, holder_id, replaceable
from runtime.models import utcnow
from runtime.org_scope import CellScope, cell_scope
from runtime.permissions import Action, may
from runtime.reports.store import ReportError
from runtime.tasks.bindings import Binding
from runtime.tasks.context import TaskContext
from runtime.tasks.dispatch import OPEN_STATES
from runtime.tasks.prefill import RowView, build_row, row_query
from runtime.tasks.rows import store
from runtime.tasks.rows.households import household_of, households_by_record
from runtime.tasks.rows.store import STALE, StaleRow

#: Rows per query when saving many rows at once (an IN list; SQLite binds at most 32,766 values).
ROWS_PER_QUERY = 1000
#: What a filler reads when a row she names is not (or no longer) one of the task's rows.
NOT_A_ROW = ErrorCode.ROW_NOT_IN_TASK.format()

#: Why a row may be marked as not applicable (the filler may also write her own reason).
NOT_APPLICABLE_REASONS = ("已迁出", "已死亡", "不符合条件", "查无此人", "重复登记")


@dataclass
class SavedRow:
    """The outcome of a save: the row as it now is, and the cells that were refused."""

    row: RowView
    errors: dict[str, str]


@dataclass
class RowSaved:
    """The outcome of one row of `save_rows`: its refused cells, or why nothing of it was saved."""

    record_id: int
    errors: dict[str, str] = field(default_factory=dict)
    #: None when saved; "stale" (saved by someone else since) or "unknown" (not one of the task's rows).
    refused: str | None = None
    message: str = ""


def check_open(ctx: TaskContext) -> None:
    """Refuse unless the task is open and within the viewer's org unit."""
    scope, viewer = ctx.scope, ctx.viewer
    if not viewer.sees(scope.township, scope.village) or not may(viewer.role, Action.TASK_FILL):
        raise ReportError(ErrorCode.TASK_NOT_YOURS)
    if viewer.scope.village and not scope.village:
        raise ReportError(ErrorCode.VILLAGE_ON_TOWNSHIP_TASK)
    if ctx.task.state not in OPEN_STATES:
        raise ReportError(ErrorCode.TASK_SUBMITTED)


def _record(ctx: TaskContext, record_id: int) -> dict[str, Any]:
    """Return the ledger record of one of the task's rows (by id: keys are masked), or refuse."""
    record = get(ctx.conn, ctx.specs.ledgers[ctx.spec.rows.ledger], record_id)
    query = row_query(ctx)
    rows = page(ctx.conn, _exact(query, record["_key"]), limit=1) if record else []
    if not rows:
        raise ReportError(ErrorCode.ROW_NOT_IN_TASK)
    return rows[0]


def _exact(query: Query, key: str) -> Query:
    return replace(query, search=key, search_match="exact")


def save_cells(
    ctx: TaskContext,
    record_id: int,
    typed: Mapping[str, str],
    *,
    expected_version: int,
    today: date | None = None,
) -> SavedRow:
    """Save cells the filler typed into one row; return the row and the cells' problems."""
    conn, specs, spec, task, viewer, plan = ctx.conn, ctx.specs, ctx.spec, ctx.task, ctx.viewer, ctx.plan
    check_open(ctx)
    _check_names(spec, typed)
    _check_replaceable(ctx, typed)
    record = _record(ctx, record_id)
    key = record["_key"]
    validator = ReportRowValidator(spec, specs.elements)
    draft = store.draft_by_key(conn, task.id, key)
    if (draft.version if draft else 0) != expected_version:
        raise StaleRow(ErrorCode.STALE_ROW)
    household = (
        household_of(conn, specs, spec.rows.ledger, record)
        if any(plan[name].via for name in typed if name in plan)
        else {}
    )
    org = cell_scope(plan, ctx.scope, specs.org_units)
    typed = _completed(ctx, record, typed)
    values, base, errors = merge_cells(validator, plan, record, household, draft, typed, org=org)
    stored = store.store_draft(
        conn,
        task,
        key,
        record["_id"],
        values,
        base,
        errors,
        draft,
        viewer.user_id,
        status=draft.status if draft else "active",
        reason=draft.reason if draft else "",
    )
    row = _view(ctx, record, stored, today)
    store.keep_complete(conn, task, stored.id, bool(stored.complete), row.complete)
    return SavedRow(row=row, errors={k: v for k, v in errors.items() if k in typed})


def merge_cells(
    validator: ReportRowValidator,
    plan: Mapping[str, Binding],
    record: Mapping[str, Any],
    household: Mapping[str, Any],
    draft: Any,
    typed: Mapping[str, str],
    *,
    org: CellScope | None = None,
) -> tuple[dict, dict, dict]:
    """Return the row's draft values, base and errors once the typed cells are put over its draft.

    `org`, when given, refuses org-unit values outside the task's scope (kept with the message).
    """
    values = dict(draft.values) if draft else {}
    base = dict(draft.base) if draft else {}
    errors = dict(draft.errors) if draft else {}
    for name, text in typed.items():
        value, problem = validator.coerce(name, text)
        problem = problem or validator.cell_error(name, value) or (org.problem(name, value) if org else None)
        binding = plan.get(name)
        ledger_value = (
            (household if binding.via else record).get(binding.ledger_field.name) if binding else None
        )
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
    return values, base, errors


def _check_names(spec: ReportSpec, typed: Mapping[str, str]) -> None:
    """Refuse cells of fields the report does not have (or that the system computes)."""
    known = {f.name for f in spec.fields if not f.compute}
    unknown = [name for name in typed if name not in known]
    if unknown:
        raise ReportError(ErrorCode.UNKNOWN_FIELDS, fields="、".join(unknown))


def _completed(ctx: TaskContext, record: Mapping[str, Any], typed: Mapping[str, str]) -> dict[str, str]:
    """Return the typed cells as kept: a certificate number's ID part is the record's own (`completed`)."""
    plan = ctx.plan
    holder = holder_id(ctx.specs.ledgers[ctx.spec.rows.ledger], record)
    return {
        name: completed(plan[name].ledger_field, text, holder, ctx.viewer)
        if name in plan and not plan[name].via and text
        else text
        for name, text in typed.items()
    }


def _check_replaceable(ctx: TaskContext, typed: Mapping[str, str]) -> None:
    """Refuse cells the viewer sees masked and may not replace (a birth date), whatever is typed.

    Such a value must agree with the ID number: accepting the right guess and refusing the others
    would tell the digits the mask hides.
    """
    plan = ctx.plan
    fixed = [
        f.title
        for f in ctx.spec.fields
        if f.name in typed and f.name in plan and not replaceable(plan[f.name].ledger_field, ctx.viewer)
    ]
    if fixed:
        raise ReportError(ErrorCode.MASKED_FIELDS_FIXED, fields="、".join(fixed))


@dataclass
class _Unsaved:
    """A draft as `build_row` reads it, before it is written."""

    values: dict[str, Any]
    errors: dict[str, str]
    status: str
    reason: str
    version: int


def save_rows(
    ctx: TaskContext,
    rows: Sequence[tuple[int, Mapping[str, str], int]],
    *,
    today: date | None = None,
) -> list[RowSaved]:
    """Save the typed cells of many rows (record id, cells, draft version read); return each row's outcome.

    Each row is saved as `save_cells` saves it, in a few queries per thousand rows instead of
    several per row: a row saved by someone else since its version was read is refused whole,
    a record that is not one of the task's rows is skipped. A record named twice is saved twice,
    in order, as two saves one after the other would be.
    """
    spec = ctx.spec
    check_open(ctx)
    for _record_id, typed, _version in rows:
        _check_names(spec, typed)
        _check_replaceable(ctx, typed)
    validator = ReportRowValidator(spec, ctx.specs.elements)
    outcomes: list[RowSaved] = []
    waiting = list(range(len(rows)))
    while waiting:  # a record named again waits for a later round, after its first save
        named, now, later = set(), [], []
        for at in waiting:
            (later if rows[at][0] in named else now).append(at)
            named.add(rows[at][0])
        for start in range(0, len(now), ROWS_PER_QUERY):
            chunk = now[start : start + ROWS_PER_QUERY]
            saved = _save_chunk(ctx, [rows[at] for at in chunk], validator, today)
            outcomes += zip(chunk, saved, strict=True)
        waiting = later
    return [saved for _at, saved in sorted(outcomes, key=lambda pair: pair[0])]


def _save_chunk(
    ctx: TaskContext,
    rows: list[tuple[int, Mapping[str, str], int]],
    validator: ReportRowValidator,
    today: date | None,
) -> list[RowSaved]:
    """Save rows of distinct records (at most ROWS_PER_QUERY) in a few queries; return their outcomes."""
    conn, specs, spec, task, viewer, plan = ctx.conn, ctx.specs, ctx.spec, ctx.task, ctx.viewer, ctx.plan
    query = replace(row_query(ctx), ids=tuple(record_id for record_id, _t, _v in rows))
    records = {r["_id"]: r for r in page(conn, query, limit=len(rows))}  # only the task's rows
    households = (
        households_by_record(conn, specs, spec.rows.ledger, list(records.values()))
        if any(b.via for b in plan.values())
        else {}
    )
    drafts = store.locked_drafts(conn, task, [r["_key"] for r in records.values()])
    org = cell_scope(plan, ctx.scope, specs.org_units)
    now = utcnow()
    outcomes, inserts, updates, was_complete = [], [], [], {}
    for record_id, typed, expected_version in rows:
        record = records.get(record_id)
        if record is None:
            outcomes.append(RowSaved(record_id, refused="unknown", message=NOT_A_ROW))
            continue
        key = record["_key"]
        draft = drafts.get(key)
        if (draft.version if draft else 0) != expected_version:
            outcomes.append(RowSaved(record_id, refused="stale", message=STALE))
            continue
        household = households.get(record_id, {})
        typed = _completed(ctx, record, typed)
        values, base, errors = merge_cells(validator, plan, record, household, draft, typed, org=org)
        status, reason = (draft.status, draft.reason) if draft else ("active", "")
        # The row as it will read back: values and errors through JSON, as the database returns them.
        unsaved = _Unsaved(
            orjson.loads(orjson.dumps(values)),
            orjson.loads(orjson.dumps(errors)),
            status,
            reason,
            expected_version + 1,
        )
        complete = build_row(
            spec, plan, record, household, unsaved, {}, viewer, today=today, sights=ctx.sights
        ).complete
        fields = {
            "values": values,
            "base": base,
            "errors": errors,
            "status": status,
            "reason": reason,
            "updated_by": viewer.user_id,
            "updated_at": now,
            "complete": complete,
        }
        if draft is None:
            inserts.append(
                {"task_id": task.id, "record_id": record["_id"], "row_key": key, "version": 1, **fields}
            )
        else:
            updates.append(
                (
                    key,
                    {
                        "row_id": draft.id,
                        "old_version": draft.version,
                        "version": draft.version + 1,
                        **fields,
                    },
                )
            )
        was_complete[key] = (bool(draft.complete) if draft else False, complete)
        outcomes.append(RowSaved(record_id, errors={k: v for k, v in errors.items() if k in typed}))
    written = set(store.write_drafts(conn, inserts, updates))
    for outcome in outcomes:
        if outcome.refused is None and records[outcome.record_id]["_key"] not in written:
            outcome.refused, outcome.message, outcome.errors = "stale", STALE, {}
    if written:
        store.count_saves(conn, task, [was_complete[key] for key in written], now)
    return outcomes


def mark_row(
    ctx: TaskContext,
    record_id: int,
    reason: str | None,
    *,
    expected_version: int,
    today: date | None = None,
) -> RowView:
    """Mark a row as not applicable with a reason (or, with None, applicable again)."""
    conn, task = ctx.conn, ctx.task
    check_open(ctx)
    if reason is not None and not reason.strip():
        raise ReportError(ErrorCode.NOT_APPLICABLE_REASON_REQUIRED)
    record = _record(ctx, record_id)
    key = record["_key"]
    draft = store.draft_by_key(conn, task.id, key)
    if (draft.version if draft else 0) != expected_version:
        raise StaleRow(ErrorCode.STALE_ROW_MARK)
    stored = store.store_draft(
        conn,
        task,
        key,
        record["_id"],
        dict(draft.values) if draft else {},
        dict(draft.base) if draft else {},
        dict(draft.errors) if draft else {},
        draft,
        ctx.viewer.user_id,
        status="not_applicable" if reason else "active",
        reason=(reason or "").strip()[:200],
    )
    row = _view(ctx, record, stored, today)
    store.keep_complete(conn, task, stored.id, bool(stored.complete), row.complete)
    return row


def _view(ctx: TaskContext, record: dict, stored: Any, today: date | None) -> RowView:
    """Return the row as the filler now sees it."""
    plan, conn = ctx.plan, ctx.conn
    linked = any(b.via for b in plan.values())
    household = household_of(conn, ctx.specs, ctx.spec.rows.ledger, record) if linked else {}
    sources = value_sources(histories(conn, [record["_id"]]).get(record["_id"], []))
    return build_row(ctx.spec, plan, record, household, stored, sources, ctx.viewer, today=today)
