"""Aggregate reports (汇总报表): one row per org unit, each formula cell a count or sum over ledger records.

A task's rows are its own org unit (a township's task of a report by township, or any village's
task), or the villages of its township (a report by village). Every formula cell of every row
comes from ONE SQL query per task: conditional aggregates over the task's records of the ledgers
the formulas name, grouped by township or village, the conditions through
`ledger_store.condition` so SQLite and PostgreSQL read them alike.

The township only confirms or corrects: a correction is a draft over the computed value, kept
like any cell a filler types (`TaskRow` with status "unit", row_key the org unit's code, no
record), validated at submission and never written back (no ledger record is the row).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, case, func, select

from builder.catalog.specs import OrgUnit, SpecSet
from builder.reports.compute import computed_values
from builder.reports.spec import ReportField, ReportSpec
from builder.reports.validation import ReportRowValidator
from runtime.errors import ErrorCode
from runtime.ledgers.store import Scope, condition
from runtime.models import Record, Task
from runtime.reports.store import ReportError
from runtime.tasks.context import TaskContext
from runtime.tasks.drafts import SavedRow, check_open
from runtime.tasks.prefill import Cell, RowView
from runtime.tasks.rows import store
from runtime.tasks.rows.merge import merged_values
from runtime.tasks.rows.store import StaleRow

#: TaskRow.status of an org unit's row of an aggregate report.
UNIT_STATUS = store.UNIT
#: How a page addresses an org unit's row: "u" and the unit's code (see `RowView.ref`).
UNIT_PREFIX = "u"
#: Where a formula cell's value comes from, as the filler reads it.
SOURCE = "台账汇总"
#: Decimal places kept of a sum (float sums of 0.1 mu would show 0.30000000000000004).
SUM_PLACES = 6


def unit_ref(code: str) -> str:
    """Return how pages address an org unit's row."""
    return f"{UNIT_PREFIX}{code}"


def row_units(specs: SpecSet, spec: ReportSpec, task: Task) -> list[OrgUnit]:
    """Return the org units that are the task's rows: the task's own unit, or its township's villages."""
    unit = specs.org_units[task.org_unit_code]
    if spec.rows.unit == "village" and unit.level == "township":
        return specs.villages(unit.code)
    return [unit]


def _grouping(specs: SpecSet, spec: ReportSpec, task: Task) -> str:
    """Return the level the task's rows group records by: "village" or "township"."""
    level = specs.org_units[task.org_unit_code].level
    return "village" if level == "village" or spec.rows.unit == "village" else "township"


def formula_fields(spec: ReportSpec) -> list[ReportField]:
    """Return the fields the ledgers compute (`x-formula`), in column order."""
    return [f for f in spec.fields if f.formula is not None]


def formula_values(
    conn: Connection, specs: SpecSet, spec: ReportSpec, scope: Scope, group: str
) -> dict[str, dict[str, Any]]:
    """Return org unit code → formula field → value over the scope's records, in one query.

    `group` is "township" or "village"; units without any matching record are absent (their
    counts and sums are 0).
    """
    fields = formula_fields(spec)
    if not fields:
        return {}
    column = Record.village_code if group == "village" else Record.township_code
    exprs = [_aggregate(specs, f).label(f"f{i}") for i, f in enumerate(fields)]
    ledgers = sorted({f.formula.ledger for f in fields})
    stmt = select(column, *exprs).where(Record.ledger.in_(ledgers)).group_by(column)
    if scope.township:
        stmt = stmt.where(Record.township_code == scope.township)
    if scope.village:
        stmt = stmt.where(Record.village_code == scope.village)
    found: dict[str, dict[str, Any]] = {}
    for row in conn.execute(stmt):
        if row[0] is not None:
            found[row[0]] = {f.name: _number(specs, f, row[i + 1]) for i, f in enumerate(fields)}
    return found


def _aggregate(specs: SpecSet, f: ReportField) -> Any:
    """Return the SQL aggregate of one formula: a conditional COUNT or SUM over its ledger's records."""
    rule = f.formula
    ledger = specs.ledgers[rule.ledger]
    by_element = {lf.element.code: lf.name for lf in ledger.fields}
    where = and_(
        Record.ledger == ledger.code,
        *(condition(ledger, by_element[c.element], c.op, c.value) for c in rule.where),
    )
    if rule.op == "count":
        return func.count(case((where, 1)))
    return func.sum(case((where, Record.data[by_element[rule.element]].as_float())))


def _number(specs: SpecSet, f: ReportField, value: Any) -> int | float:
    """Return an aggregate as the field's type: a count or integer sum as int, else a rounded float."""
    if value is None:
        return 0
    if f.formula.op == "count" or specs.elements[f.formula.element].schema.get("type") == "integer":
        return int(round(float(value)))
    total = round(float(value), SUM_PLACES)
    return int(total) if f.schema.get("type") == "integer" else total


def task_values(ctx: TaskContext) -> dict[str, dict[str, Any]]:
    """Return org unit code → the computed formula values, for every row of the task (zeros included)."""
    specs, spec, task = ctx.specs, ctx.spec, ctx.task
    found = formula_values(ctx.conn, specs, spec, ctx.scope, _grouping(specs, spec, task))
    zeros = {f.name: 0 for f in formula_fields(spec)}
    return {u.code: found.get(u.code, zeros) for u in row_units(specs, spec, task)}


def unit_view(
    spec: ReportSpec, unit: OrgUnit, computed: Mapping[str, Any], draft: Any, *, today: date | None = None
) -> RowView:
    """Merge an org unit's computed values and the township's corrections into a row."""
    typed = draft.values if draft else {}
    errors = draft.errors if draft else {}
    cells: dict[str, Cell] = {}
    for f in spec.fields:
        if f.name in typed:
            cells[f.name] = Cell(typed[f.name], "edited", error=errors.get(f.name))
        elif f.formula is not None:
            cells[f.name] = Cell(computed.get(f.name, 0), "prefilled", source=SOURCE)
        else:
            cells[f.name] = Cell(None, "gap")
    computed_fields = [f for f in spec.fields if f.compute]
    if computed_fields:
        known = {name: c.value for name, c in cells.items() if c.value is not None}
        values = computed_values(spec, known, today=today or date.today())
        for f in computed_fields:
            if values.get(f.name) is not None and cells[f.name].state == "gap":
                cells[f.name] = Cell(values[f.name], "computed")
    return RowView(
        key=unit.code,
        record_id=None,
        cells=cells,
        status=UNIT_STATUS,
        draft_version=draft.version if draft else 0,
        township=unit.parent or unit.code,
        label=unit.name,
    )


def unit_rows(ctx: TaskContext, *, only: str | None = None, today: date | None = None) -> list[RowView]:
    """Return the task's rows (or the one of org unit `only`), computed and merged with the drafts."""
    values = task_values(ctx)
    drafts = store.unit_drafts(ctx.conn, ctx.task.id)
    return [
        unit_view(ctx.spec, u, values[u.code], drafts.get(u.code), today=today)
        for u in row_units(ctx.specs, ctx.spec, ctx.task)
        if only is None or u.code == only
    ]


def ensure_unit_total(ctx: TaskContext) -> int:
    """Keep the task's row count (its org units) for the task lists."""
    task = ctx.task
    total = len(row_units(ctx.specs, ctx.spec, task))
    if task.rows_total != total:
        store.set_total(ctx.conn, task, total)
    return total


def save_unit_cells(
    ctx: TaskContext,
    code: str,
    typed: Mapping[str, str],
    *,
    expected_version: int,
    today: date | None = None,
) -> SavedRow:
    """Save corrections typed into an org unit's row; a value equal to the computed one is no change.

    Emptying a formula cell drops the correction: the cell shows the computed value again.
    """
    conn, specs, spec, task = ctx.conn, ctx.specs, ctx.spec, ctx.task
    check_open(ctx)
    known = {f.name: f for f in spec.fields if not f.compute}
    unknown = [name for name in typed if name not in known]
    if unknown:
        raise ReportError(ErrorCode.UNKNOWN_FIELDS, fields="、".join(unknown))
    unit = next((u for u in row_units(specs, spec, task) if u.code == code), None)
    if unit is None:
        raise ReportError(ErrorCode.UNIT_NOT_IN_TASK)
    draft = store.draft_by_key(conn, task.id, code)
    if (draft.version if draft else 0) != expected_version:
        raise StaleRow(ErrorCode.STALE_ROW)
    computed = task_values(ctx)[code]
    validator = ReportRowValidator(spec, specs.elements)
    values = dict(draft.values) if draft else {}
    base = dict(draft.base) if draft else {}
    errors = dict(draft.errors) if draft else {}
    for name, text in typed.items():
        value, problem = validator.coerce(name, text)
        problem = problem or validator.cell_error(name, value)
        formula = known[name].formula is not None
        if formula and problem is None and (value in (None, "") or value == computed.get(name)):
            values.pop(name, None)  # back to the ledgers' figure
            errors.pop(name, None)
            continue
        values[name] = value
        if formula:
            base.setdefault(name, computed.get(name))
        if problem:
            errors[name] = problem
        else:
            errors.pop(name, None)
    stored = store.store_draft(
        conn, task, code, None, values, base, errors, draft, ctx.viewer.user_id, status=UNIT_STATUS, reason=""
    )
    row = unit_view(spec, unit, computed, stored, today=today)
    store.keep_complete(conn, task, stored.id, bool(stored.complete), row.complete)
    return SavedRow(row=row, errors={k: v for k, v in errors.items() if k in typed})


def merged_units(ctx: TaskContext, *, today: date) -> list[tuple[OrgUnit, dict[str, Any], int, int]]:
    """Return each row's (org unit, values in clear, cells computed, cells typed): what a submission holds."""
    spec = ctx.spec
    values = task_values(ctx)
    drafts = store.unit_drafts(ctx.conn, ctx.task.id)
    merged = []
    for unit in row_units(ctx.specs, spec, ctx.task):
        draft = drafts.get(unit.code)
        typed = {k: v for k, v in (draft.values if draft else {}).items() if v not in (None, "", [])}
        row = merged_values(spec, values[unit.code], draft.values if draft else {}, today=today)
        merged.append((unit, row, len(values[unit.code].keys() - typed.keys()), len(typed)))
    return merged


def unit_counts(ctx: TaskContext) -> tuple[int, int, int, int]:
    """Return the task's (rows, cells the ledgers filled, cells still to fill, complete rows)."""
    rows = unit_rows(ctx)
    prefilled = sum(c.state == "prefilled" for r in rows for c in r.cells.values())
    to_fill = sum(len(r.gaps) for r in rows)
    return len(rows), prefilled, to_fill, sum(r.complete for r in rows)


def units_of(specs: SpecSet, spec: ReportSpec, unit_codes: list[str]) -> list[OrgUnit]:
    """Return the org units that are rows of tasks of these units (in the order given, villages in order)."""
    found: list[OrgUnit] = []
    for code in unit_codes:
        unit = specs.org_units[code]
        found += specs.villages(code) if spec.rows.unit == "village" and unit.level == "township" else [unit]
    return found


def merged_tasks(
    conn: Connection, specs: SpecSet, spec: ReportSpec, tasks: list[Task], *, today: date
) -> list[tuple[Task, OrgUnit, dict[str, Any]]]:
    """Return (task, org unit, the row's values in clear) of many tasks: two queries, whatever their number.

    For summaries and exports of an aggregate report: the computed values (grouped over the whole
    district at once) with each township's corrections over them.
    """
    if not tasks:
        return []
    rows = [(task, unit) for task in tasks for unit in row_units(specs, spec, task)]
    computed = _district_values(conn, specs, spec, [unit for _task, unit in rows])
    zeros = {f.name: 0 for f in formula_fields(spec)}
    drafts = store.unit_values(conn, [t.id for t in tasks])
    merged = []
    for task, unit in rows:
        row = merged_values(
            spec, computed.get(unit.code, zeros), drafts.get((task.id, unit.code), {}), today=today
        )
        merged.append((task, unit, row))
    return merged


def _district_values(
    conn: Connection, specs: SpecSet, spec: ReportSpec, units: list[OrgUnit]
) -> dict[str, dict[str, Any]]:
    """Return the computed values of these org units over the whole district: one query per level needed."""
    computed: dict[str, dict[str, Any]] = {}
    for level in sorted({u.level for u in units}):
        computed.update(formula_values(conn, specs, spec, Scope(), level))
    return computed


def extracted_rows(
    conn: Connection, specs: SpecSet, spec: ReportSpec, unit_codes: list[str], *, today: date
) -> list[tuple[OrgUnit, dict[str, Any]]]:
    """Return (org unit, values) of the rows tasks of these units would hold unchanged: direct extraction."""
    units = units_of(specs, spec, unit_codes)
    computed = _district_values(conn, specs, spec, units)
    zeros = {f.name: 0 for f in formula_fields(spec)}
    rows = []
    for unit in units:
        rows.append((unit, merged_values(spec, computed.get(unit.code, zeros), {}, today=today)))
    return rows
