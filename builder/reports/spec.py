"""The report spec language: one JSON Schema 2020-12 for a report row, plus `x-` keywords.

A report document looks like this (the full vocabulary is in `form_specs/meta/report.schema.json`
and `form_specs/README.md`)::

    {
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "title": "2026年度残疾人基本服务状况调查表",
      "type": "object",
      "x-report": "disability_survey_2026",      # code, [a-z0-9_]{3,60}
      "x-version": 1,
      "x-department": "canlian",                  # department code
      "x-purpose": "…", "x-basis": "《残疾人保障法》第…条",
      "x-rows": {"ledger": "person",             # or null: the townships add every row
                 "filter": [{"element": "person.disability_grade", "op": "present"}]},
      "x-frequency": "once",                      # once | monthly | quarterly | yearly
      "x-deadline": "2026-12-20",                 # ISO date or absent
      "x-targets": [],                            # org-unit codes; empty = all townships
      "x-justification": "…",                     # why sensitive elements are asked for
      "properties": {                             # display order = property order
        "name": {"x-element": "person.name"},
        "needs": {"title": "康复需求", "type": "string", "enum": ["…"],
                  "x-widget": "radio", "x-help": "…", "x-parents": ["服务需求"]}
      },
      "required": ["name"]
    }

A property bound to a data element takes the element's schema, then the property's own keywords
on top (as in ledger specs). `x-writeback` (default true for bound fields) says whether township
edits flow back to the ledger. A custom field with `x-compute` (age or year of a date field, sum of
number fields) is filled by the system, never by the township (`builder.reports.compute`).

An aggregate report (汇总报表) has one row per org unit instead of one per record:
`"x-rows": {"unit": "township"}` (or "village"), and its figures are custom fields with an
`x-formula` — a count of a ledger's records or a sum of a numeric element over them, with
conditions in the row filter's vocabulary — computed from the ledgers (`runtime.tasks.aggregate`)::

    "x-rows": {"unit": "township"},
    "properties": {
      "rented_area": {"title": "出租面积（亩）", "type": "number",
                      "x-formula": {"sum": "land.transfer_area_mu",
                                    "where": [{"element": "land.transfer_form", "op": "eq",
                                               "value": "出租"}]}},
      "rented_parcels": {"title": "出租地块数", "type": "integer",
                         "x-formula": {"count": "land", "where": [...]}}
    }
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from builder.catalog.safety import SpecFinding, check_safety, parse_document
from builder.catalog.specs import Element, Ledger, OrgUnit, SpecSet
from builder.reports.checks import check_references, default_widget, merged_schema, plain
from builder.reports.meta import check_meta

__all__ = [
    "FILTER_OPS",
    "FREQUENCIES",
    "ROW_UNITS",
    "WIDGETS",
    "Condition",
    "Formula",
    "ReportField",
    "ReportRefused",
    "ReportSpec",
    "RowSource",
    "SpecFinding",
    "check_report",
    "default_widget",
    "describe_condition",
    "describe_formula",
    "load_report",
    "load_reports",
]

#: Frequency code → Chinese label.
FREQUENCIES = {"once": "一次性", "monthly": "每月", "quarterly": "每季度", "yearly": "每年"}
#: Filter operators over elements of the row ledger → Chinese label.
FILTER_OPS = {
    "present": "不为空",
    "absent": "为空",
    "eq": "等于",
    "ne": "不等于",
    "in": "属于",
    "not_in": "不属于",
    "gt": "大于",
    "gte": "不小于",
    "lt": "小于",
    "lte": "不大于",
}
#: Org-unit levels an aggregate report's rows may be (`x-rows.unit`) → Chinese label.
ROW_UNITS = {"township": "镇街", "village": "村（社区）"}
#: Display widgets a property may ask for (`x-widget`).
WIDGETS = ("text", "textarea", "number", "date", "select", "radio", "checkboxes", "yesno")


def blank_document(
    code: str,
    title: str,
    department: str,
    *,
    ledger: str | None = None,
    properties: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the spec of a new draft report: one-off, all townships, metadata still to fill."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "type": "object",
        "x-report": code,
        "x-version": 1,
        "x-department": department,
        "x-purpose": "",
        "x-basis": "",
        "x-rows": {"ledger": ledger, "filter": []},
        "x-frequency": "once",
        "x-targets": [],
        "properties": properties or {},
        "required": [],
    }


@dataclass(frozen=True)
class Condition:
    """One condition of the row filter: an element of the row ledger, an operator, a value."""

    element: str
    op: str
    value: Any = None


@dataclass(frozen=True)
class RowSource:
    """Which ledger the report's rows come from, and which of its records (or: one row per org unit)."""

    ledger: str | None
    filter: tuple[Condition, ...] = ()
    #: An aggregate report's rows: "township" or "village" (one row per org unit), else None.
    unit: str | None = None


@dataclass(frozen=True)
class Formula:
    """An aggregate cell (`x-formula`): a count of a ledger's records, or a sum of one of its elements."""

    #: "count" or "sum".
    op: str
    #: The ledger counted or summed over.
    ledger: str
    #: The summed element's code (None for a count).
    element: str | None
    where: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class ReportField:
    """One column of the report."""

    #: Property name in the row schema.
    name: str
    title: str
    #: The property's schema with the element's merged in, `x-` keywords removed.
    schema: dict[str, Any]
    #: The bound catalog element's code, or None for a custom field.
    element: str | None = None
    required: bool = False
    #: Township edits of this field flow back to the ledger (bound fields only).
    writeback: bool = False
    widget: str | None = None
    help: str = ""
    #: Group captions above the column, outermost first.
    parents: tuple[str, ...] = ()
    #: `x-compute` of a computed field ({"op": "age", "from": …, "on": …} …), else None.
    compute: dict[str, Any] | None = None
    #: `x-formula` of an aggregate cell, else None.
    formula: Formula | None = None


@dataclass(frozen=True)
class ReportSpec:
    """A loaded, checked report spec."""

    code: str
    title: str
    version: int
    department: str
    purpose: str
    basis: str
    frequency: str
    deadline: date | None
    #: Org-unit codes the report goes to; empty means all townships.
    targets: tuple[str, ...]
    rows: RowSource
    fields: tuple[ReportField, ...]
    justification: str = ""
    description: str = ""
    document: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def aggregate(self) -> bool:
        """Tell whether each row is an org unit with cells computed from the ledgers."""
        return self.rows.unit is not None

    @property
    def elements(self) -> tuple[str, ...]:
        """Return the bound element codes in column order."""
        return tuple(f.element for f in self.fields if f.element)

    def row_schema(self) -> dict[str, Any]:
        """Return the self-contained JSON Schema of one report row."""
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {f.name: f.schema for f in self.fields},
            "required": [f.name for f in self.fields if f.required],
            "additionalProperties": False,
        }


class ReportRefused(Exception):
    """A report document that cannot be used, with every reason found."""

    def __init__(self, findings: list[SpecFinding], source: str = "") -> None:
        self.findings = list(findings)
        #: Where the document came from (a file name), when known.
        self.source = source
        super().__init__(str(self))

    def __str__(self) -> str:
        """Return the reasons joined into one line."""
        text = "；".join(str(f) for f in self.findings)
        return f"{self.source}：{text}" if self.source else text


def check_report(
    document: Any,
    elements: Mapping[str, Element],
    ledgers: Mapping[str, Ledger] | None = None,
    org_units: Mapping[str, OrgUnit] | None = None,
    *,
    meta: Mapping[str, Any] | None,
) -> list[SpecFinding]:
    """Return every problem of a report document (empty when it can be loaded).

    `document` is the parsed JSON or its text. The checks run in three stages, each only when
    the previous one passed: safety (remote references, dangerous regular expressions, absurd
    sizes), the meta-schema (`meta`: the spec folder's `meta/report.schema.json`, which
    `SpecSet.report_meta` holds), then what the document refers to (elements, the row ledger,
    org units when given).
    """
    if isinstance(document, str | bytes):
        document, found = parse_document(document)
    else:
        found = check_safety(document)
    if found:
        return found
    found = check_meta(document, meta)
    if found:
        return found
    return check_references(document, elements, ledgers, org_units)


def _field(name: str, prop: dict[str, Any], required: bool, elements: Mapping[str, Element]) -> ReportField:
    code = prop.get("x-element")
    if code:
        schema, writeback = merged_schema(elements[code], prop), prop.get("x-writeback", True)
    else:
        schema, writeback = dict(prop), False
    return ReportField(
        name=name,
        title=schema["title"],
        schema=plain(schema),
        element=code,
        required=required,
        writeback=writeback,
        widget=prop.get("x-widget"),
        help=prop.get("x-help", ""),
        parents=tuple(prop.get("x-parents", ())),
        compute=prop.get("x-compute"),
        formula=_formula(prop["x-formula"], elements) if "x-formula" in prop else None,
    )


def _conditions(items: Any) -> tuple[Condition, ...]:
    return tuple(Condition(c["element"], c["op"], c.get("value")) for c in items or ())


def _formula(rule: dict[str, Any], elements: Mapping[str, Element]) -> Formula:
    """Return a checked `x-formula` as a Formula (the summed element names its ledger)."""
    if "count" in rule:
        return Formula("count", rule["count"], None, _conditions(rule.get("where")))
    element = rule["sum"]
    return Formula("sum", elements[element].group, element, _conditions(rule.get("where")))


def load_report(
    document: Any,
    elements: Mapping[str, Element],
    ledgers: Mapping[str, Ledger] | None = None,
    org_units: Mapping[str, OrgUnit] | None = None,
    *,
    meta: Mapping[str, Any] | None,
) -> ReportSpec:
    """Check a report document and bind it to the catalog; raise ReportRefused when it is unusable."""
    if isinstance(document, str | bytes):
        document, found = parse_document(document)
        if found:
            raise ReportRefused(found)
    found = check_report(document, elements, ledgers, org_units, meta=meta)
    if found:
        raise ReportRefused(found)
    required = set(document.get("required", ()))
    rows = document.get("x-rows") or {"ledger": None}
    deadline = document.get("x-deadline")
    return ReportSpec(
        code=document["x-report"],
        title=document["title"],
        version=document["x-version"],
        department=document["x-department"],
        purpose=document["x-purpose"],
        basis=document["x-basis"],
        frequency=document.get("x-frequency", "once"),
        deadline=date.fromisoformat(deadline) if deadline else None,
        targets=tuple(document.get("x-targets", ())),
        rows=RowSource(
            ledger=rows.get("ledger"), filter=_conditions(rows.get("filter")), unit=rows.get("unit")
        ),
        fields=tuple(
            _field(name, prop, name in required, elements) for name, prop in document["properties"].items()
        ),
        justification=document.get("x-justification", ""),
        description=document.get("description", ""),
        document=document,
    )


def load_reports(root: Path, specs: SpecSet) -> dict[str, ReportSpec]:
    """Load every report of `root/reports/*.json` (root is a form_specs folder), keyed by code."""
    root = Path(root)
    meta_path = root / "meta" / "report.schema.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else specs.report_meta
    reports: dict[str, ReportSpec] = {}
    for path in sorted((root / "reports").glob("*.json")):
        source = f"reports/{path.name}"
        try:
            spec = load_report(path.read_bytes(), specs.elements, specs.ledgers, specs.org_units, meta=meta)
        except ReportRefused as exc:
            raise ReportRefused(exc.findings, source) from None
        if spec.code in reports:
            raise ReportRefused(
                [SpecFinding("duplicate_report", "x-report", f"报表编码 {spec.code} 与另一个文件重复")],
                source,
            )
        reports[spec.code] = spec
    return reports


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | tuple):
        return "、".join(_value_text(v) for v in value)
    return str(value)


def describe_formula(
    formula: Formula, elements: Mapping[str, Element], ledgers: Mapping[str, Ledger] | None = None
) -> str:
    """Return an aggregate cell's formula as a sentence, e.g. “…台账中 是否流转 等于 是 的记录数”."""
    ledger = ledgers.get(formula.ledger) if ledgers else None
    source = ledger.title if ledger else formula.ledger
    where = " 且 ".join(describe_condition(c, elements) for c in formula.where)
    records = f"{source}中 {where} 的记录" if where else f"{source}的全部记录"
    if formula.op == "count":
        return f"{records}数"
    element = elements.get(formula.element or "")
    return f"{records}的{element.name if element else formula.element}之和"


def describe_condition(condition: Condition, elements: Mapping[str, Element]) -> str:
    """Return a filter condition as a sentence, e.g. “残疾等级 不为空”."""
    element = elements.get(condition.element)
    name = element.name if element else condition.element
    op = FILTER_OPS.get(condition.op, condition.op)
    if condition.op in ("present", "absent"):
        return f"{name} {op}"
    return f"{name} {op} {_value_text(condition.value)}"
