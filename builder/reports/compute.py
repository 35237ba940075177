"""Computed report fields (`x-compute`): values the system fills from other cells of the same row.

Three computations, each well defined on any row:

- `{"op": "age", "from": "birth_date", "on": "deadline" | "today"}` — age in whole years (周岁) on
  the report's deadline (today when the report has none) or on the day the row is shown. A person
  born on 29 February turns a year older on 1 March in common years.
- `{"op": "year_of", "from": "birth_date"}` — the year of a date field.
- `{"op": "sum", "of": ["wage", "pension"]}` — the sum of number fields; like Excel's SUM an empty
  cell counts as nothing, and the sum is empty only when every cell is.

A value that cannot be computed (an input empty or not a valid value, a birth date after the
reference day) is None: the input cell carries the error, the computed cell stays empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from builder.reports.checks import COMPUTE_OPS
from builder.reports.spec import ReportField, ReportSpec

__all__ = ["COMPUTE_OPS", "age_on", "compute_note", "compute_value", "computed_values", "reference_day"]


def _date(value: Any) -> date | None:
    if value.__class__ is not str or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def age_on(born: date, day: date) -> int | None:
    """Return the age in whole years on `day`, or None when `born` is after it."""
    if born > day:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _sum(values: list[Any], integer: bool) -> int | float | None:
    numbers = [v for v in values if v is not None]
    if not numbers or any(v.__class__ not in (int, float) for v in numbers):
        return None
    total = sum(numbers)
    if integer:
        return int(total) if float(total).is_integer() else None
    return total


def reference_day(spec: ReportSpec, rule: Mapping[str, Any], today: date) -> date:
    """Return the day an age is computed on: the report's deadline, or today."""
    if rule.get("on", "deadline") == "deadline" and spec.deadline is not None:
        return spec.deadline
    return today


def compute_value(spec: ReportSpec, f: ReportField, row: Mapping[str, Any], *, today: date) -> Any:
    """Return the value of one computed field on one row (None when it cannot be computed)."""
    rule = f.compute or {}
    op = rule.get("op")
    if op == "sum":
        return _sum([row.get(name) for name in rule["of"]], f.schema.get("type") == "integer")
    day = _date(row.get(rule.get("from", "")))
    if day is None:
        return None
    if op == "year_of":
        return day.year
    if op == "age":
        return age_on(day, reference_day(spec, rule, today))
    return None


def computed_values(spec: ReportSpec, row: Mapping[str, Any], *, today: date) -> dict[str, Any]:
    """Return computed field name → its value on `row`, for every computed field of the report."""
    return {f.name: compute_value(spec, f, row, today=today) for f in spec.fields if f.compute}


def compute_note(spec: ReportSpec, f: ReportField) -> str:
    """Return how a computed field is filled, in a sentence for the filler (empty for other fields)."""
    rule = f.compute
    if not rule:
        return ""
    titles = {g.name: g.title for g in spec.fields}
    if rule["op"] == "sum":
        return "由系统计算：" + " + ".join(titles.get(n, n) for n in rule["of"])
    source = titles.get(rule["from"], rule["from"])
    if rule["op"] == "year_of":
        return f"由系统按{source}计算年份"
    if rule.get("on", "deadline") == "deadline" and spec.deadline is not None:
        return f"由系统按{source}计算截至{spec.deadline.isoformat()}的周岁年龄"
    return f"由系统按{source}计算截至填报当天的周岁年龄"
