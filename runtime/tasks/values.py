"""A whole task's values as the filler sees them, a column at a time: the fast path for files.

The values are those `prefill.build_row` gives a page's cells — the township's draft over the
ledger value, household values for household-bound fields, masked where the viewer may not see
them, computed fields filled from the other values — without a cell object per value. A
50,000-row task has ~1.4 M cells, so the work is done per column with list comprehensions
rather than per cell, and the queries are per task or per batch of records, never per row.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from itertools import repeat
from typing import Any

from sqlalchemy import Connection

from builder.catalog.specs import Field, SpecSet
from builder.reports.compute import compute_value
from builder.reports.spec import ReportSpec
from runtime.errors import ErrorCode
from runtime.ledgers.store import iter_rows
from runtime.masking import shown
from runtime.reports.store import ReportError
from runtime.sharing.sight import Sight
from runtime.tasks.bindings import Binding
from runtime.tasks.context import TaskContext
from runtime.tasks.prefill import row_query
from runtime.tasks.rows import store
from runtime.tasks.rows.households import households_by_record
from runtime.tasks.rows.kinds import task_rows

#: Record ids per query when reading given rows (an IN list; SQLite binds at most 32,766).
IDS_PER_QUERY = 1000


@dataclass
class ColumnBatch:
    """Some rows of a task as columns: their record ids, and per report field its values."""

    ids: list[int]
    #: One list per field of the report, in the report's order, each as long as `ids`.
    columns: list[list[Any]]
    #: Per field, the positions of the rows whose cell is shown masked.
    masked: list[set[int]]
    #: Per row, the version of the township's draft (0: no draft yet), as a save expects it.
    versions: list[int]


def iter_task_columns(
    ctx: TaskContext,
    *,
    ids: Sequence[int] | None = None,
    today: date | None = None,
    batch: int = 5000,
) -> Iterator[ColumnBatch]:
    """Yield the ledger rows of a task (all, or those of some record ids) as batches of columns.

    Reads the task's drafts in one query (given ids: only theirs, a thousand ids a query), then
    each batch of records and (only when the report binds household fields) their households in
    one query. Every row comes in (township, id) order; given ids come a thousand at a time, each
    thousand in that order.
    """
    conn, specs, spec, plan = ctx.conn, ctx.specs, ctx.spec, ctx.plan
    if task_rows(spec).by_org_unit:
        raise ReportError(ErrorCode.AGGREGATE_ROWS_ARE_UNITS)
    masks = ctx.sights
    # Typed values are the filler's own, in clear to it (a birth date beside a masked ID aside);
    # to anyone else they are masked (or not shown) as the ledger's are.
    hidden = {
        at: (plan[f.name].ledger_field, ctx.typed_sight(plan[f.name].ledger_field, id_masked=True))
        for at, f in enumerate(spec.fields)
        if f.name in plan and ctx.typed_masked(plan[f.name].ledger_field, id_masked=True)
    }
    ledger = specs.ledgers[spec.rows.ledger]
    linked = any(b.via for b in plan.values())
    # Given ids (a page of a large task): only their drafts, not the whole task's each time.
    drafts = (
        store.record_drafts(conn, ctx.task.id)
        if ids is None
        else {
            record_id: (row.values or {}, row.version)
            for at in range(0, len(ids), IDS_PER_QUERY)
            for record_id, row in store.drafts_of_records(
                conn, ctx.task.id, list(ids[at : at + IDS_PER_QUERY])
            ).items()
        }
    )
    day = today or date.today()
    query = row_query(ctx)
    queries = (
        [query]
        if ids is None
        else [
            replace(query, ids=tuple(ids[at : at + IDS_PER_QUERY]))
            for at in range(0, len(ids), IDS_PER_QUERY)
        ]
    )
    for one in queries:
        for records in iter_rows(conn, one, batch=batch):
            households = _households(conn, specs, ledger.code, records) if linked else []
            batch_columns = _columns(spec, plan, masks, records, households, drafts, day, hidden)
            _tally(ctx, batch_columns, [r["_key"] for r in records])
            yield batch_columns


def _tally(ctx: TaskContext, batch: ColumnBatch, keys: list[str]) -> None:
    """Count the values of a batch read in clear only through a grant (for the audit log)."""
    for at, f in enumerate(ctx.spec.fields):
        if f.name in ctx.by_grant:
            for row, value in enumerate(batch.columns[at]):
                if value not in (None, ""):
                    ctx.tally(f.name, ctx.plan[f.name].ledger_field, keys[row])


def _columns(
    spec: ReportSpec,
    plan: Mapping[str, Binding],
    masks: Mapping[str, Sight],
    records: list[dict[str, Any]],
    households: list[Mapping[str, Any]],
    drafts: Mapping[int, tuple[dict[str, Any], int]],
    day: date,
    hidden: Mapping[int, tuple[Field, Sight]],
) -> ColumnBatch:
    """Merge one batch of records, their households and drafts into columns, then compute."""
    ids = [r["_id"] for r in records]
    size = len(ids)
    #: Per field what the computations may read: masked ledger values count as unknown.
    known: list[list[Any]] = []
    columns: list[list[Any]] = []
    masked: list[set[int]] = []
    for f in spec.fields:
        binding = plan.get(f.name)
        if binding is None:
            values = [None] * size
        else:
            name = binding.ledger_field.name
            values = [h.get(name) for h in (households if binding.via else records)]
        if binding is not None and masks[f.name] is not Sight.CLEAR:
            field, seen = binding.ledger_field, masks[f.name]
            known.append([v if v is None or v == "" else None for v in values])
            masked.append({at for at, v in enumerate(values) if v is not None and v != ""})
            values = [shown(field, v, seen) for v in values]
        else:
            known.append(values)
            masked.append(set())
        columns.append(values)
    versions = _put_drafts(spec, ids, drafts, columns, known, masked, hidden)
    _put_computed(spec, columns, known, day)
    return ColumnBatch(ids, columns, masked, versions)


def _put_drafts(
    spec: ReportSpec,
    ids: list[int],
    drafts: Mapping[int, tuple[dict[str, Any], int]],
    columns: list[list[Any]],
    known: list[list[Any]],
    masked: list[set[int]],
    hidden: Mapping[int, tuple[Field, Sight]],
) -> list[int]:
    """Put what the township typed over the ledger values (in clear, but for the columns in `hidden`).

    Return each row's draft version.
    """
    versions = [0] * len(ids)
    if not drafts:
        return versions
    index = {f.name: i for i, f in enumerate(spec.fields)}
    for at, record_id in enumerate(ids):
        draft = drafts.get(record_id)
        if draft is None:
            continue
        typed, versions[at] = draft
        for name, value in typed.items():
            i = index.get(name)
            if i is None:
                continue
            if i in hidden and value not in (None, ""):
                field, seen = hidden[i]
                columns[i][at], known[i][at] = shown(field, value, seen), None
                masked[i].add(at)
            else:
                columns[i][at] = known[i][at] = value
                masked[i].discard(at)
    return versions


def _put_computed(spec: ReportSpec, columns: list[list[Any]], known: list[list[Any]], day: date) -> None:
    """Fill the empty cells of computed fields from the row's known values."""
    names = [f.name for f in spec.fields]
    for i, f in enumerate(spec.fields):
        if not f.compute:
            continue
        # Give the computation only the fields its rule names: a row of 28 values per cell costs
        # more than the computation itself.
        reads = [j for j, name in enumerate(names) if name in _named(f.compute)]
        inputs = [names[j] for j in reads]
        column = columns[i]
        rows = zip(*(known[j] for j in reads), strict=True) if reads else repeat((), len(column))
        for at, values in enumerate(rows):
            if column[at] is None:
                column[at] = compute_value(spec, f, dict(zip(inputs, values, strict=True)), today=day)


def _named(rule: Mapping[str, Any]) -> set[str]:
    """Return the texts a computation rule holds: the names of the fields it reads are among them."""
    found: set[str] = set()
    for value in rule.values():
        found.update(v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str))
    return found


def _households(
    conn: Connection, specs: SpecSet, ledger: str, records: list[dict[str, Any]]
) -> list[Mapping[str, Any]]:
    """Return each record's household record ({} when none), in the records' order (one query)."""
    found = households_by_record(conn, specs, ledger, records)
    return [found.get(r["_id"], {}) for r in records]
