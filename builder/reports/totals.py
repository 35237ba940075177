"""A report's totals: rows, sums of its numeric fields, and both by the values of each choice field.

Totals are what a summary shows. A task's totals are taken once, when it is submitted, from the
rows exactly as submitted, and kept with it; a summary then adds up the totals of the submitted
tasks instead of reading a million rows again. Pure: rows in, numbers out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from builder.catalog.specs import Element
from builder.reports.spec import ReportField, ReportSpec

#: Shown for a choice cell nobody filled.
EMPTY = "（未填）"


@dataclass(frozen=True)
class Measure:
    """A numeric field summed over rows."""

    name: str
    title: str


def field_schema(f: ReportField, elements: Mapping[str, Element]) -> dict[str, Any]:
    """Return a field's schema over its element's (a bound field's type and options come from it)."""
    element = elements.get(f.element or "")
    return {**(element.schema if element else {}), **f.schema}


def _type(f: ReportField, elements: Mapping[str, Element]) -> str | None:
    kind = field_schema(f, elements).get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return kind


def measures(spec: ReportSpec, elements: Mapping[str, Element], skip: Iterable[str] = ()) -> list[Measure]:
    """Return the report's numeric fields that are summed (computed ones and `skip` left out)."""
    skipped = set(skip)
    return [
        Measure(f.name, f.title)
        for f in spec.fields
        if not f.compute and f.name not in skipped and _type(f, elements) in ("integer", "number")
    ]


def is_multi(f: ReportField, elements: Mapping[str, Element]) -> bool:
    """Return whether a field is a multiple choice (a list of options)."""
    schema = field_schema(f, elements)
    return _type(f, elements) == "array" and "enum" in (schema.get("items") or {})


def options(f: ReportField, elements: Mapping[str, Element]) -> list[str]:
    """Return a choice field's options as shown (a yes/no field's are 是 and 否)."""
    schema = field_schema(f, elements)
    listed = schema.get("enum") or (schema.get("items") or {}).get("enum") or []
    return [label(v) for v in listed] or ["是", "否"]


def choice_fields(
    spec: ReportSpec, elements: Mapping[str, Element], skip: Iterable[str] = ()
) -> list[ReportField]:
    """Return the single-choice, multiple-choice and yes/no fields totals are broken down by."""
    skipped = set(skip)
    return [
        f
        for f in spec.fields
        if not f.compute
        and f.name not in skipped
        and (_type(f, elements) == "boolean" or "enum" in field_schema(f, elements) or is_multi(f, elements))
    ]


def labels(value: Any) -> list[str]:
    """Return the groups a choice value counts in: one, or each option of a multiple choice.

    A multiple choice counts its row once under every option it holds (“（未填）” when none).
    """
    if isinstance(value, list):
        return list(dict.fromkeys(label(v) for v in value if v not in (None, ""))) or [EMPTY]
    return [label(value)]


def label(value: Any) -> str:
    """Return how a choice value is shown and grouped: yes/no in Chinese, empty as “（未填）”."""
    if value is None or value == "":
        return EMPTY
    if value is True or value == "true":
        return "是"
    if value is False or value == "false":
        return "否"
    return str(value)


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


@dataclass
class Part:
    """Rows and sums of one group (a whole task, or one value of a choice field)."""

    rows: int = 0
    sums: dict[str, float] = field(default_factory=dict)

    def add(self, other: Part) -> None:
        """Add another group's rows and sums to these."""
        self.rows += other.rows
        for name, value in other.sums.items():
            self.sums[name] = self.sums.get(name, 0.0) + value


@dataclass
class Totals:
    """Totals of some rows: the whole, and per choice field per value."""

    whole: Part = field(default_factory=Part)
    #: Choice field → value label → its part.
    by: dict[str, dict[str, Part]] = field(default_factory=dict)

    def add_row(self, values: Mapping[str, Any], sums: list[Measure], choices: list[ReportField]) -> None:
        """Count one row with its values (merged: the township's over the ledger's)."""
        numbers = {m.name: _number(values.get(m.name)) for m in sums}
        self._count(self.whole, numbers)
        for f in choices:
            for value in labels(values.get(f.name)):
                self._count(self.by.setdefault(f.name, {}).setdefault(value, Part()), numbers)

    @staticmethod
    def _count(part: Part, numbers: Mapping[str, float]) -> None:
        part.rows += 1
        for name, value in numbers.items():
            part.sums[name] = part.sums.get(name, 0.0) + value

    def add(self, other: Totals) -> None:
        """Add another set of totals (another task's) to these."""
        self.whole.add(other.whole)
        for name, parts in other.by.items():
            mine = self.by.setdefault(name, {})
            for value, part in parts.items():
                mine.setdefault(value, Part()).add(part)

    def to_json(self) -> dict[str, Any]:
        """Return the totals as JSON to keep with a task."""

        def part(p: Part) -> dict[str, Any]:
            return {"rows": p.rows, "sums": p.sums}

        return {
            "whole": part(self.whole),
            "by": {name: {value: part(p) for value, p in parts.items()} for name, parts in self.by.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Totals:
        """Return totals kept with a task."""

        def part(d: Mapping[str, Any]) -> Part:
            sums = {k: float(v) for k, v in (d.get("sums") or {}).items()}
            return Part(rows=int(d.get("rows", 0)), sums=sums)

        return cls(
            whole=part(data.get("whole") or {}),
            by={
                name: {value: part(p) for value, p in parts.items()}
                for name, parts in (data.get("by") or {}).items()
            },
        )
