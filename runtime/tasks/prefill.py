"""Pre-fill (预填): a task's rows, read from the ledgers of its org unit when the task is opened.

Each row is a ledger record of the task's org unit that matches the report's row filter. Each
bound cell carries the ledger value (masked where the filler may not see it) with its source and
date; what the township typed (its draft, `TaskRow.values`) goes over it; a cell that neither
holds is a gap. Nothing is copied at dispatch: a page reads one page of records, their drafts,
their households and their versions, in four queries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, or_

from builder.reports.compute import computed_values
from builder.reports.spec import ReportSpec
from runtime.access import Viewer
from runtime.ledgers.store import (
    SOURCE_LABELS,
    Query,
    condition,
    count,
    histories,
    iter_rows,
    page,
    value_sources,
)
from runtime.masking import Search, searching, shown, sight, typed_masked
from runtime.models import Record
from runtime.sharing.sight import Sight
from runtime.tasks.bindings import Binding
from runtime.tasks.context import TaskContext
from runtime.tasks.rows import store
from runtime.tasks.rows.households import households_by_record


@dataclass(slots=True)
class Cell:
    """One cell of a task row as the filler sees it."""

    value: Any
    #: prefilled, edited, gap, computed.
    state: str
    masked: bool = False
    source: str | None = None
    at: datetime | None = None
    error: str | None = None


@dataclass
class RowView:
    """One row of a task: its key, its cells, and the filler's draft state."""

    key: str
    record_id: int | None
    cells: dict[str, Cell]
    status: str = "active"
    reason: str = ""
    draft_version: int = 0
    township: str | None = None
    #: The draft's id, for a row the township added (it has no ledger record yet).
    added_id: int | None = None
    #: The row's caption where no field names it (an aggregate report's org unit).
    label: str = ""

    @property
    def ref(self) -> str:
        """Return how pages address the row: a record id, "n" + an added row's draft id, "u" + an org unit."""
        if self.status == "unit":
            return f"u{self.key}"
        return f"n{self.added_id}" if self.record_id is None else str(self.record_id)

    @property
    def gaps(self) -> list[str]:
        """Return the fields still to fill."""
        return [name for name, cell in self.cells.items() if cell.state == "gap" or cell.error]

    @property
    def complete(self) -> bool:
        """Tell whether nothing is left to fill (or the row does not apply)."""
        return self.status == "not_applicable" or not self.gaps


@dataclass
class TaskPage:
    """One page of a task's rows and where the next page starts."""

    rows: list[RowView] = field(default_factory=list)
    next_after: tuple[str, int] | None = None


def row_query(ctx: TaskContext, *, search: Search | None = None, gaps_only: bool = False) -> Query:
    """Return the ledger query of a task's rows: its org unit, the report's filter, a search.

    The search is as `runtime.masking.searching` allows the viewer: never by more than they see
    (an ID number by its last 4 characters, in full only by those who may reveal it).
    """
    spec, task = ctx.spec, ctx.task
    ledger = ctx.specs.ledgers[spec.rows.ledger]
    by_element = {f.element.code: f.name for f in ledger.fields}
    conditions = tuple((by_element[c.element], c.op, c.value) for c in spec.rows.filter)
    search = search or Search("")
    return Query(
        ledger,
        ctx.scope,
        conditions=conditions,
        search=search.text,
        search_match=search.match,
        where=(gaps_clause(ctx),) if gaps_only else (),
        also=Record.id.in_(store.included_ids(task.id)) if conditions else None,
    )


def gaps_clause(ctx: TaskContext) -> Any:
    """Return the SQL condition "this row still has something to fill" of a task's records.

    A row whose draft is complete has nothing left; otherwise a report with fields no ledger
    holds leaves every row something to fill, and one without leaves the rows whose own record
    lacks a bound value.
    """
    spec, plan = ctx.spec, ctx.plan
    open_row = Record.id.not_in(store.complete_ids(ctx.task.id))
    unfillable = [f for f in spec.fields if not f.compute and (f.name not in plan or plan[f.name].via)]
    if unfillable:
        return open_row
    ledger = ctx.specs.ledgers[spec.rows.ledger]
    absent = [condition(ledger, b.ledger_field.name, "absent", None) for b in plan.values()]
    return and_(open_row, or_(*absent)) if absent else open_row


def row_view(ctx: TaskContext, record_id: int, *, today: date | None = None) -> RowView | None:
    """Return one row of a task by record id, or None when the record is not one of its rows."""
    records = page(ctx.conn, replace(row_query(ctx), ids=(record_id,)), limit=1)
    rows = rows_of(ctx, records, today=today)
    return rows[0] if rows else None


def ledger_rows_total(ctx: TaskContext) -> int:
    """Count a task's ledger and added rows and keep the count for the task lists."""
    conn, task = ctx.conn, ctx.task
    total = count(conn, row_query(ctx)) + store.added_count(conn, [task.id])
    store.set_total(conn, task, total)
    return total


def task_page(
    ctx: TaskContext,
    *,
    after: tuple[str, int] | None = None,
    limit: int = 50,
    search: str = "",
    gaps_only: bool = False,
    today: date | None = None,
) -> TaskPage:
    """Return one page of a task's rows, pre-filled and merged with the township's drafts."""
    searched = searching(ctx.specs.ledgers[ctx.spec.rows.ledger], search, ctx.viewer)
    query = row_query(ctx, search=searched, gaps_only=gaps_only)
    records = page(ctx.conn, query, after=after, limit=limit)
    rows = rows_of(ctx, records, today=today)
    next_after = (records[-1]["_township"], records[-1]["_id"]) if len(records) == limit else None
    return TaskPage(rows=rows, next_after=next_after)


def rows_of(
    ctx: TaskContext,
    records: list[dict[str, Any]],
    *,
    today: date | None = None,
    sources: bool = True,
) -> list[RowView]:
    """Return the rows of some of a task's records: drafts, households and sources read in bulk."""
    conn, spec, viewer, plan = ctx.conn, ctx.spec, ctx.viewer, ctx.plan
    ids = [r["_id"] for r in records]
    drafts = store.drafts_of_records(conn, ctx.task.id, ids)
    linked = households_by_record(conn, ctx.specs, spec.rows.ledger, records)
    origins = (
        {rid: value_sources(versions) for rid, versions in histories(conn, ids).items()} if sources else {}
    )
    typed = {name: ctx.typed_sight(b.ledger_field, id_masked=True) for name, b in plan.items()}
    for name in ctx.by_grant:
        field = plan[name].ledger_field
        for record in records:
            if (linked.get(record["_id"], {}) if plan[name].via else record).get(field.name) not in (
                None,
                "",
            ):
                ctx.tally(name, field, record["_key"])
    return [
        build_row(
            spec,
            plan,
            record,
            linked.get(record["_id"], {}),
            drafts.get(record["_id"]),
            origins.get(record["_id"], {}),
            viewer,
            today=today,
            sights=ctx.sights,
            typed_sights=typed,
        )
        for record in records
    ]


def build_row(
    spec: ReportSpec,
    plan: Mapping[str, Binding],
    record: Mapping[str, Any],
    household: Mapping[str, Any],
    draft: Any,
    sources: Mapping[str, Mapping],
    viewer: Viewer,
    *,
    today: date | None = None,
    sights: Mapping[str, Sight] | None = None,
    typed_sights: Mapping[str, Sight] | None = None,
) -> RowView:
    """Merge one record, its household, the filler's draft and computed values into a row.

    `sights` and `typed_sights` say, per bound field, how the viewer sees its ledger value and a
    value typed for it (`TaskContext.sights`, `TaskContext.typed_sight`); the filler's rules when
    not given.
    """
    typed = draft.values if draft else {}
    errors = draft.errors if draft else {}
    cells: dict[str, Cell] = {}
    for f in spec.fields:
        binding = plan.get(f.name)
        if f.name in typed:
            value = typed[f.name]
            # The row is a person with an ID number (its key): a typed birth date beside it is masked too.
            seen = (
                Sight.CLEAR
                if binding is None
                else typed_sights[f.name]
                if typed_sights is not None
                else Sight.MASKED
                if typed_masked(binding.ledger_field, viewer, id_masked=True)
                else Sight.CLEAR
            )
            cells[f.name] = Cell(
                shown(binding.ledger_field, value, seen) if binding is not None else value,
                "edited",
                masked=seen is not Sight.CLEAR and bool(value),
                error=errors.get(f.name),
            )
            continue
        if binding is None:
            cells[f.name] = Cell(None, "gap")
            continue
        source = household if binding.via else record
        value = source.get(binding.ledger_field.name)
        if value in (None, ""):
            cells[f.name] = Cell(None, "gap")
            continue
        seen = sights[f.name] if sights is not None else sight(binding.ledger_field, viewer)
        origin = sources.get(binding.ledger_field.name) if not binding.via else None
        cells[f.name] = Cell(
            shown(binding.ledger_field, value, seen),
            "prefilled",
            masked=seen is not Sight.CLEAR,
            source=SOURCE_LABELS.get(origin["source"]) if origin else None,
            at=origin["at"] if origin else None,
        )
    _add_computed(spec, cells, today)
    return RowView(
        key=record["_key"],
        record_id=record["_id"],
        cells=cells,
        status=draft.status if draft else "active",
        reason=draft.reason if draft else "",
        draft_version=draft.version if draft else 0,
        township=record.get("_township"),
    )


@dataclass(frozen=True)
class TaskCounts:
    """The whole task's counters: rows, cells the ledgers filled, cells still to fill, rows done."""

    rows: int
    prefilled: int
    to_fill: int
    complete: int


def ledger_counts(ctx: TaskContext) -> TaskCounts:
    """Count a whole task's cells and rows of ledger and added rows (one pass over records and drafts)."""
    conn, specs, spec, task, plan = ctx.conn, ctx.specs, ctx.spec, ctx.task, ctx.plan
    columns = [(f.name, plan.get(f.name)) for f in spec.fields if not f.compute]
    rows = prefilled = to_fill = complete = 0
    for records in iter_rows(conn, row_query(ctx)):
        drafts = store.drafts_of_records(conn, task.id, [r["_id"] for r in records])
        linked = households_by_record(conn, specs, spec.rows.ledger, records)
        for record in records:
            rows += 1
            draft = drafts.get(record["_id"])
            if draft is not None and draft.status == "not_applicable":
                complete += 1
                continue
            typed, errors = (draft.values, draft.errors) if draft else ({}, {})
            gaps = 0
            for name, binding in columns:
                if name in typed:
                    gaps += name in errors or typed[name] in (None, "", [])
                    continue
                source = linked.get(record["_id"], {}) if binding and binding.via else record
                if binding is not None and source.get(binding.ledger_field.name) not in (None, ""):
                    prefilled += 1
                else:
                    gaps += 1
            to_fill += gaps
            complete += gaps == 0
    # Rows the township added: nothing of them is pre-filled.
    for _task_id, typed, errors in store.added_values(conn, [task.id]):
        rows += 1
        gaps = sum(name in (errors or {}) or typed.get(name) in (None, "", []) for name, _b in columns)
        to_fill += gaps
        complete += gaps == 0
    return TaskCounts(rows=rows, prefilled=prefilled, to_fill=to_fill, complete=complete)


def _add_computed(spec: ReportSpec, cells: dict[str, Cell], today: date | None) -> None:
    """Fill the spec's computed fields from the row's other values (masked inputs count as unknown).

    A computed cell is never a gap, even empty: nobody fills it (an age from a masked birth date).
    """
    computed = [f for f in spec.fields if f.compute]
    if not computed:
        return
    known = {name: c.value for name, c in cells.items() if not c.masked and c.value is not None}
    values = computed_values(spec, known, today=today or date.today())
    for f in computed:
        if cells[f.name].state == "gap":
            cells[f.name] = Cell(values.get(f.name), "computed")
