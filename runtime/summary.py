"""The cross-township summary (汇总) of a dispatched report: totals and pivots, straight from SQL.

A report's rows are ledger records of its tasks' org units matching its row filter, with what
each township typed (its draft) over the ledger values; rows marked not applicable are left out.
Nothing is copied: one aggregate query reads the records, each joined to its draft, and groups
them by township (and, for a pivot, by the values of one choice field), so a summary over a
million rows is one pass in the database rather than a million rows in Python. By default only
submitted tasks count; on request the live state of the others is included, marked as such.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Float, Select, and_, case, cast, func, literal, literal_column, or_, select
from sqlalchemy.orm import aliased

from builder.report_spec import ReportField, ReportSpec
from builder.specs import SpecSet
from runtime.ledger_store import condition
from runtime.models import Record, Report, Task, TaskRow
from runtime.prefill import bindings

#: Shown for a choice cell nobody filled.
EMPTY = "（未填）"


@dataclass(frozen=True)
class Measure:
    """A numeric field summed over rows."""

    name: str
    title: str


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


def measures(spec: ReportSpec, specs: SpecSet) -> list[Measure]:
    """Return the report's numeric fields that can be summed (typed or held by the row's record)."""
    plan = bindings(spec, specs)
    found = []
    for f in spec.fields:
        if f.compute or (f.name in plan and plan[f.name].via):
            continue
        if _type(f, specs) in ("integer", "number"):
            found.append(Measure(f.name, f.title))
    return found


def choice_fields(spec: ReportSpec, specs: SpecSet) -> list[ReportField]:
    """Return the single-choice and yes/no fields a summary can pivot by."""
    plan = bindings(spec, specs)
    return [f for f in spec.fields
            if not f.compute and not (f.name in plan and plan[f.name].via)
            and (_type(f, specs) == "boolean" or "enum" in _schema(f, specs))]


def summarize(conn: Connection, specs: SpecSet, spec: ReportSpec, report: Report, *, live: bool = False,
              by: str | None = None, unit: str | None = None) -> Summary:
    """Return the summary of a dispatched report over its submitted tasks (and, if `live`, the rest).

    `by` names a choice field to pivot by; `unit` narrows everything to one org unit's task.
    """
    tasks = list(conn.execute(select(Task.id, Task.org_unit_code, Task.state)
                              .where(Task.report_id == report.id).order_by(Task.org_unit_code)))
    shown = [t for t in tasks if (live or t.state == "submitted") and unit in (None, t.org_unit_code)]
    sums = measures(spec, specs)
    choices = choice_fields(spec, specs)
    pivot_field = next((f for f in choices if f.name == by), None)
    summary = Summary(measures=sums, choices=choices, by_unit=[], total=Line("", "合计"),
                      pivot_field=pivot_field, submitted=sum(t.state == "submitted" for t in tasks),
                      tasks=len(tasks), live=live)
    if not shown or not spec.rows.ledger:
        return summary
    draft = aliased(TaskRow, name="draft")
    values = _values(conn, specs, spec, draft)
    rows = _rows(specs, spec, shown, draft)
    sums_sql = [func.sum(values[m.name]) for m in sums]
    group = Record.township_code
    found = {code: (n, tuple(s)) for code, n, *s in conn.execute(rows.add_columns(
        group, func.count(), *sums_sql).group_by(group))}
    for t in shown:
        n, line_sums = found.get(t.org_unit_code, (0, (None,) * len(sums)))
        name = specs.org_units[t.org_unit_code].name
        summary.by_unit.append(_line(t.org_unit_code, name, n, line_sums, sums, t.state))
    summary.total = _total(summary.by_unit, sums)
    if pivot_field is not None:
        # Grouped by the output column's name: an expression with bound parameters (the JSON key)
        # would not match itself between SELECT and GROUP BY on PostgreSQL.
        choice = values[pivot_field.name].label("pivot_value")
        lines = conn.execute(rows.add_columns(choice, func.count(), *sums_sql)
                             .group_by(literal_column("pivot_value")))
        summary.pivot = sorted((_line(_label(v), _label(v), n, s, sums) for v, n, *s in lines),
                               key=lambda line: _order(pivot_field, specs, line.code))
    return summary


def _rows(specs: SpecSet, spec: ReportSpec, tasks: list[Any], draft: Any) -> Select:
    """Return a select (no columns yet) of records joined to their drafts: the rows of these tasks.

    Rows the township marked not applicable are left out.
    """
    ledger = specs.ledgers[spec.rows.ledger]
    townships = [t.org_unit_code for t in tasks if specs.org_units[t.org_unit_code].level != "village"]
    villages = [t.org_unit_code for t in tasks if specs.org_units[t.org_unit_code].level == "village"]
    by_element = {f.element.code: f.name for f in ledger.fields}
    joined = Record.__table__.outerjoin(draft, and_(draft.record_id == Record.id,
                                                    draft.task_id.in_([t.id for t in tasks])))
    return select().select_from(joined).where(
        Record.ledger == ledger.code,
        or_(Record.township_code.in_(townships), Record.village_code.in_(villages)),
        *(condition(ledger, by_element[c.element], c.op, c.value) for c in spec.rows.filter),
        or_(draft.status.is_(None), draft.status != "not_applicable"))


def _values(conn: Connection, specs: SpecSet, spec: ReportSpec, draft: Any) -> dict[str, Any]:
    """Return field → its SQL value in a row: the township's draft over the record's ledger value."""
    plan = bindings(spec, specs)
    numeric = {m.name for m in measures(spec, specs)}
    postgres = conn.dialect.name == "postgresql"
    found = {}
    for f in spec.fields:
        binding = plan.get(f.name)
        reader = _number if f.name in numeric else _text
        typed = reader(draft.values, f.name, postgres, jsonb=False)
        if binding is None or binding.via:
            found[f.name] = typed
        else:
            found[f.name] = func.coalesce(typed, reader(Record.data, binding.ledger_field.name, postgres,
                                                         jsonb=True))
    return found


def _number(column: Any, key: str, postgres: bool, *, jsonb: bool) -> Any:
    """Return a JSON member of a column as a number; NULL when it is none (text kept as typed)."""
    if postgres:
        member = column.op("->")(literal(key))
        kind = func.jsonb_typeof(member) if jsonb else func.json_typeof(member)
        return case((kind == "number", cast(column.op("->>")(literal(key)), Float)), else_=None)
    path = f'$."{key}"'
    return case((func.json_type(column, path).in_(("integer", "real")), func.json_extract(column, path)),
                else_=None)


def _text(column: Any, key: str, postgres: bool, *, jsonb: bool) -> Any:
    """Return a JSON member of a column as text (yes/no values as true/false)."""
    if postgres:
        return column.op("->>")(literal(key))
    path = f'$."{key}"'
    kind = func.json_type(column, path)
    return case((kind == "true", literal("true")), (kind == "false", literal("false")),
                else_=func.json_extract(column, path))


def _line(code: str, label: str, rows: int, found: tuple, sums: list[Measure], state: str = "") -> Line:
    return Line(code=code, label=label, rows=rows, state=state,
                sums={m.name: float(v) if v is not None else 0.0 for m, v in zip(sums, found, strict=True)})


def _total(lines: list[Line], sums: list[Measure]) -> Line:
    total = Line("", "合计", rows=sum(line.rows for line in lines))
    total.sums = {m.name: sum(line.sums[m.name] for line in lines) for m in sums}
    return total


def _label(value: Any) -> str:
    if value is None or value == "":
        return EMPTY
    return {"true": "是", "false": "否", True: "是", False: "否"}.get(value, str(value))


def _order(f: ReportField, specs: SpecSet, label: str) -> tuple[int, str]:
    """Order pivot lines as the field's options are listed, the empty line last."""
    options = [str(v) for v in _schema(f, specs).get("enum", [])] or ["是", "否"]
    if label == EMPTY:
        return (len(options) + 1, label)
    return (options.index(label) if label in options else len(options), label)


def _schema(f: ReportField, specs: SpecSet) -> dict[str, Any]:
    """Return a field's schema with its element's (a bound field's type and options come from it)."""
    element = specs.elements.get(f.element or "")
    return {**(element.schema if element else {}), **f.schema}


def _type(f: ReportField, specs: SpecSet) -> str | None:
    kind = _schema(f, specs).get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return kind
