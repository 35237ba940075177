"""The cross-township summary (汇总) of a dispatched report: totals by township and by a choice.

A submitted task keeps the totals of its rows as submitted (taken in the same pass that checks
them, see `runtime.tasks.submission`), so the summary of submitted tasks adds up 23 small documents
instead of reading a million rows again, and stays what the townships submitted when the ledgers
change later. On request the live state of the other tasks is included, marked as such: those
are read by one aggregate SQL query over their records, each joined to its draft, grouped by
township (and by the values of the chosen choice field); rows marked not applicable are left out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Connection,
    Float,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
)

from builder.catalog.specs import SpecSet
from builder.reports.spec import ReportField, ReportSpec
from builder.reports.totals import (
    EMPTY,
    Measure,
    Part,
    Totals,
    choice_fields,
    field_schema,
    is_multi,
    labels,
    measures,
    options,
)
from runtime.clock import local_today
from runtime.ledgers.store import condition
from runtime.models import Record, Report, Task
from runtime.tasks.aggregate import merged_tasks
from runtime.tasks.bindings import bindings
from runtime.tasks.rows import store
from runtime.tasks.rows.kinds import task_rows

__all__ = ["EMPTY", "Line", "Summary", "summarize", "summarize_extraction", "summary_fields"]


@dataclass
class Line:
    """One line of a summary table: a township or a choice value, its row count and sums."""

    code: str
    label: str
    rows: int = 0
    sums: dict[str, float] = field(default_factory=dict)
    #: For township lines: the task's state; "submitted" lines are final, others are live.
    state: str = ""


@dataclass
class Summary:
    """A report's summary: lines by township, an optional pivot by a choice field, and totals."""

    measures: list[Measure]
    choices: list[ReportField]
    by_unit: list[Line]
    total: Line
    #: The choice field pivoted by, and its lines (empty without one).
    pivot_field: ReportField | None = None
    pivot: list[Line] = field(default_factory=list)
    submitted: int = 0
    tasks: int = 0
    live: bool = False
    #: The pivot field is a multiple choice: a row counts under each option it holds, so the
    #: pivot's lines add up to more than the total.
    pivot_multi: bool = False


def summary_fields(spec: ReportSpec, specs: SpecSet) -> tuple[list[Measure], list[ReportField]]:
    """Return the fields a summary sums and breaks down by (household-bound fields left out)."""
    linked = [name for name, b in bindings(spec, specs).items() if b.via]
    return measures(spec, specs.elements, linked), choice_fields(spec, specs.elements, linked)


def summarize(
    conn: Connection,
    specs: SpecSet,
    spec: ReportSpec,
    report: Report,
    *,
    live: bool = False,
    by: str | None = None,
    unit: str | None = None,
) -> Summary:
    """Return the summary of a dispatched report over its submitted tasks (and, if `live`, the rest).

    `by` names a choice field to pivot by; `unit` narrows everything to one org unit's task.
    """
    tasks = list(
        conn.execute(
            select(Task.id, Task.org_unit_code, Task.state, Task.totals)
            .where(Task.report_id == report.id)
            .order_by(Task.org_unit_code)
        )
    )
    shown = [t for t in tasks if (live or t.state == "submitted") and unit in (None, t.org_unit_code)]
    sums, choices = summary_fields(spec, specs)
    pivot_field = next((f for f in choices if f.name == by), None)
    summary = Summary(
        measures=sums,
        choices=choices,
        by_unit=[],
        total=Line("", "合计"),
        pivot_field=pivot_field,
        submitted=sum(t.state == "submitted" for t in tasks),
        tasks=len(tasks),
        live=live,
    )
    if not shown:
        return summary
    kept = {t.id: Totals.from_json(t.totals) for t in shown if t.state == "submitted" and t.totals}
    # Tasks without kept totals (not submitted) are read from their ledger rows and drafts.
    read = [t for t in shown if t.id not in kept]
    if not read:
        units, pivot = {}, {}
    elif task_rows(spec).by_org_unit:
        units, pivot = _read_units(conn, specs, spec, read, sums, pivot_field)
    else:
        units, pivot = _read_live(conn, specs, spec, read, sums, pivot_field)
    for t in shown:
        part = kept[t.id].whole if t.id in kept else units.get(t.org_unit_code, Part())
        summary.by_unit.append(
            _line(t.org_unit_code, specs.org_units[t.org_unit_code].name, part, sums, t.state)
        )
        if pivot_field is not None and t.id in kept:
            for value, kept_part in kept[t.id].by.get(pivot_field.name, {}).items():
                pivot.setdefault(value, Part()).add(kept_part)
    return _finish(summary, pivot, specs)


@dataclass(frozen=True)
class _Unit:
    """An org unit read without a task (an extraction): no drafts, no state."""

    org_unit_code: str
    id: int | None = None
    state: str = "extract"


def summarize_extraction(
    conn: Connection, specs: SpecSet, spec: ReportSpec, units: list[str], *, by: str | None = None
) -> Summary:
    """Return the summary of a report answered from the ledgers: its units' records, nothing typed."""
    sums, choices = summary_fields(spec, specs)
    pivot_field = next((f for f in choices if f.name == by), None)
    summary = Summary(
        measures=sums, choices=choices, by_unit=[], total=Line("", "合计"), pivot_field=pivot_field
    )
    if not units or not spec.rows.ledger:
        return summary
    found, pivot = _read_live(conn, specs, spec, [_Unit(code) for code in units], sums, pivot_field)
    summary.by_unit = [
        _line(code, specs.org_units[code].name, found.get(code, Part()), sums, "extract") for code in units
    ]
    return _finish(summary, pivot, specs)


def _finish(summary: Summary, pivot: dict[str, Part], specs: SpecSet) -> Summary:
    """Add the total of the township lines and the pivot's lines in the field's option order."""
    whole = Part()
    for line in summary.by_unit:
        whole.add(Part(line.rows, dict(line.sums)))
    summary.total = _line("", "合计", whole, summary.measures)
    if summary.pivot_field is not None:
        summary.pivot_multi = is_multi(summary.pivot_field, specs.elements)
        summary.pivot = sorted(
            (_line(v, v, part, summary.measures) for v, part in pivot.items()),
            key=lambda line: _order(summary.pivot_field, specs, line.code),
        )
    return summary


def _line(code: str, name: str, part: Part, sums: list[Measure], state: str = "") -> Line:
    return Line(
        code=code,
        label=name,
        rows=part.rows,
        state=state,
        sums={m.name: part.sums.get(m.name, 0.0) for m in sums},
    )


def _order(f: ReportField, specs: SpecSet, value: str) -> tuple[int, str]:
    """Order pivot lines as the field's options are listed, the empty line last."""
    listed = options(f, specs.elements)
    if value == EMPTY:
        return (len(listed) + 1, value)
    return (listed.index(value) if value in listed else len(listed), value)


def _read_units(
    conn: Connection,
    specs: SpecSet,
    spec: ReportSpec,
    tasks: list[Any],
    sums: list[Measure],
    pivot_field: ReportField | None,
) -> tuple[dict[str, Part], dict[str, Part]]:
    """Read the current totals of an aggregate report's tasks: their org-unit rows, corrections over."""
    choices = [pivot_field] if pivot_field is not None else []
    units: dict[str, Totals] = {}
    for task, _unit, row in merged_tasks(conn, specs, spec, tasks, today=local_today()):
        units.setdefault(task.org_unit_code, Totals()).add_row(row, sums, choices)
    pivot: dict[str, Part] = {}
    for totals in units.values():
        for value, part in totals.by.get(pivot_field.name, {}).items() if pivot_field else ():
            pivot.setdefault(value, Part()).add(part)
    return {code: totals.whole for code, totals in units.items()}, pivot


def _read_live(
    conn: Connection,
    specs: SpecSet,
    spec: ReportSpec,
    tasks: list[Any],
    sums: list[Measure],
    pivot_field: ReportField | None,
) -> tuple[dict[str, Part], dict[str, Part]]:
    """Read the current totals of some tasks by org unit, from their records and drafts.

    One query for the townships' tasks, one for the villages' (a record can be in both, each with
    its own draft). With a pivot a query groups by org unit and choice value together, and both
    tables are added up from its lines: the records are read once, not once per table. Rows a
    township added, not in the ledger yet, are added from their drafts.
    """
    units: dict[str, Part] = {}
    pivot: dict[str, Part] = {}
    multi = pivot_field is not None and is_multi(pivot_field, specs.elements)
    for level, column in (("township", Record.township_code), ("village", Record.village_code)):
        chosen = [t for t in tasks if specs.org_units[t.org_unit_code].level == level]
        if not chosen:
            continue
        grouped = _grouped(conn, specs, spec, chosen, column, sums, pivot_field)
        for code, value, n, *found in conn.execute(grouped):
            part = Part(n, _sums(sums, found))
            units.setdefault(code, Part()).add(part)
            for shown in _labels(value, multi) if pivot_field is not None else ():
                pivot.setdefault(shown, Part()).add(part)
    _add_added(conn, tasks, sums, pivot_field, units, pivot)
    return units, pivot


def _grouped(
    conn: Connection,
    specs: SpecSet,
    spec: ReportSpec,
    tasks: list[Any],
    column: Any,
    sums: list[Measure],
    pivot_field: ReportField | None,
) -> Select:
    """Return the query of (org unit, choice value, rows, sums…) over some tasks' rows.

    Each row's values are computed once in an inner query, then grouped. On SQLite the inner
    query is materialized when grouping by a choice value: grouped over the records directly,
    SQLite reads each JSON value again for the sort and the output, twice the time.
    """
    rows_of, draft = _rows(specs, spec, tasks)
    values = _values(conn, specs, spec, draft, sums, pivot_field)
    choice = values[pivot_field.name] if pivot_field is not None else null()
    measured = (values[m.name].label(f"m{i}") for i, m in enumerate(sums))
    inner = rows_of.add_columns(column.label("unit"), choice.label("choice"), *measured)
    if pivot_field is not None and conn.dialect.name == "sqlite":
        rows = inner.cte("live_rows").prefix_with("MATERIALIZED")
    else:
        rows = inner.subquery("live_rows")
    groups = [rows.c.unit, rows.c.choice] if pivot_field is not None else [rows.c.unit]
    return select(
        rows.c.unit,
        rows.c.choice if pivot_field is not None else null(),
        func.count(),
        *(func.sum(rows.c[f"m{i}"]) for i in range(len(sums))),
    ).group_by(*groups)


def _labels(value: Any, multi: bool) -> list[str]:
    """Return the pivot lines a grouped value counts in (a multiple choice arrives as JSON text)."""
    if multi and isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:  # typed text kept as a draft: its own line
            pass
    return labels(value)


def _add_added(
    conn: Connection,
    tasks: list[Any],
    sums: list[Measure],
    pivot_field: ReportField | None,
    units: dict[str, Part],
    pivot: dict[str, Part],
) -> None:
    """Add the rows the tasks' townships added (not in the ledger yet) to the live totals."""
    unit_of = {t.id: t.org_unit_code for t in tasks if t.id is not None}
    if not unit_of:
        return
    choices = [pivot_field] if pivot_field is not None else []
    for task_id, typed, _errors in store.added_values(conn, list(unit_of)):
        row = Totals()
        row.add_row(typed, sums, choices)
        units.setdefault(unit_of[task_id], Part()).add(row.whole)
        for value, part in row.by.get(pivot_field.name, {}).items() if pivot_field else ():
            pivot.setdefault(value, Part()).add(part)


def _sums(sums: list[Measure], found: list[Any]) -> dict[str, float]:
    return {m.name: float(v) if v is not None else 0.0 for m, v in zip(sums, found, strict=True)}


def _rows(specs: SpecSet, spec: ReportSpec, tasks: list[Any]) -> tuple[Select, Any]:
    """Return a select (no columns yet) of these tasks' rows (records joined to drafts), and the drafts.

    The tasks are all of townships or all of villages, which do not overlap, so a record has at
    most one draft among them: the one of the task of its org unit, found with one index lookup
    (a list of task ids would cost a lookup per task and record). Rows the township marked not
    applicable are left out; records it included by hand are in.
    """
    ledger = specs.ledgers[spec.rows.ledger]
    villages = specs.org_units[tasks[0].org_unit_code].level == "village"
    column = Record.village_code if villages else Record.township_code
    by_element = {f.element.code: f.name for f in ledger.fields}
    task_of = {t.org_unit_code: t.id for t in tasks if t.id is not None}
    joined, draft = store.joined_drafts(Record.__table__, task_of, column)
    matching = [condition(ledger, by_element[c.element], c.op, c.value) for c in spec.rows.filter]
    if matching and task_of:  # rows a task included by hand stay in it whatever the filter says
        matching = [or_(and_(*matching), draft.included.is_(True))]
    return (
        select()
        .select_from(joined)
        .where(
            Record.ledger == ledger.code,
            column.in_([t.org_unit_code for t in tasks]),
            *matching,
            or_(draft.status.is_(None), draft.status != "not_applicable"),
        )
    ), draft


def _values(
    conn: Connection,
    specs: SpecSet,
    spec: ReportSpec,
    draft: Any,
    sums: list[Measure],
    pivot_field: ReportField | None,
) -> dict[str, Any]:
    """Return field → its SQL value in a row (the township's draft over the record's ledger value).

    Only the fields summed or pivoted by: each JSON member read is a parse of the document.
    """
    plan = bindings(spec, specs)
    numeric = {m.name for m in sums}
    wanted = numeric | ({pivot_field.name} if pivot_field else set())
    postgres = conn.dialect.name == "postgresql"
    found = {}
    for f in spec.fields:
        if f.name not in wanted:
            continue
        binding = plan.get(f.name)
        boolean = field_schema(f, specs.elements).get("type") == "boolean"
        reader = _number if f.name in numeric else (_yes_no if boolean else _text)
        typed = reader(draft.values, f.name, postgres, jsonb=False)
        if binding is None or binding.via:
            found[f.name] = typed
        else:
            found[f.name] = func.coalesce(
                typed, reader(Record.data, binding.ledger_field.name, postgres, jsonb=True)
            )
    return found


def _number(column: Any, key: str, postgres: bool, *, jsonb: bool) -> Any:
    """Return a JSON member of a column as a number; NULL when it is none (text kept as typed)."""
    if postgres:
        member = column.op("->")(literal(key))
        kind = func.jsonb_typeof(member) if jsonb else func.json_typeof(member)
        return case((kind == "number", cast(column.op("->>")(literal(key)), Float)), else_=None)
    path = f'$."{key}"'
    return case(
        (func.json_type(column, path).in_(("integer", "real")), func.json_extract(column, path)), else_=None
    )


def _text(column: Any, key: str, postgres: bool, *, jsonb: bool) -> Any:
    """Return a JSON member of a column as text."""
    if postgres:
        return column.op("->>")(literal(key))
    return func.json_extract(column, f'$."{key}"')


def _yes_no(column: Any, key: str, postgres: bool, *, jsonb: bool) -> Any:
    """Return a yes/no JSON member as the text true or false."""
    if postgres:
        return column.op("->>")(literal(key))
    path = f'$."{key}"'
    kind = func.json_type(column, path)
    return case((kind.in_(("true", "false")), kind), else_=None)
