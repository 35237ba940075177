"""Analyze a report, given as a spec or as an Excel template: bindings, coverage, rules, decision.

This is the glue of the builder's pieces (template reader, matcher, spec loader, gatekeeping)
and the one place that produces the analysis shape the `analyze` command prints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from builder.admission.gatekeeping import Context, RuleSet, Verdict, assess
from builder.catalog.identity_cache import IdentityCache
from builder.catalog.specs import Element, SpecSet
from builder.reports.spec import ReportRefused, ReportSpec, blank_document, load_report
from builder.templates.matching.match import Column, FieldMatch, Matcher, MatchResult
from builder.templates.reader import Template

#: Custom-field schema by the value type inferred from sample cells.
_CUSTOM_TYPES = {
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "date": {"type": "string", "format": "date"},
    "boolean": {"type": "boolean"},
}


#: Department code of a template analyzed outside any department (the spec language needs one).
UNASSIGNED = "unassigned"


@dataclass
class Analysis:
    """The outcome of analyzing one report or template."""

    title: str
    fields: list[dict[str, Any]]
    document: dict[str, Any]
    verdict: Verdict | None
    spec: ReportSpec | None
    problems: list[str]

    def to_json(self) -> dict[str, Any]:
        """Return the analysis in the shape other tools depend on (see `yibiaotong analyze`)."""
        if self.verdict is not None:
            judged = self.verdict.to_json()
        else:
            data = [f for f in self.fields if f["kind"] == "data"]
            judged = {
                "coverage": {"data_fields": len(data), "bound": 0, "ratio": 0.0},
                "rules": [{"id": "spec_valid", "outcome": "block", "message": p} for p in self.problems],
                "overlaps": [],
                "decision": "reject",
            }
        return {
            "title": self.title,
            "fields": self.fields,
            "coverage": judged["coverage"],
            "rules": judged["rules"],
            "overlaps": judged["overlaps"],
            "decision": judged["decision"],
        }


def match_template(template: Template, matcher: Matcher, ledger: str | None = None) -> MatchResult:
    """Propose a binding for every column of a template."""
    columns = [Column(c.label, tuple(c.parents), tuple(c.samples)) for c in template.columns]
    result = matcher.match(columns, ledger=ledger)
    fields = []
    for column, found in zip(template.columns, result.fields, strict=True):
        if column.layout and found.kind != "layout":
            found = FieldMatch(
                label=found.label,
                parents=found.parents,
                element=None,
                confidence=1.0,
                reason="表格的版式列（序号、签字、审核意见等），不是数据",
                kind="layout",
                proposal=None,
                candidates=(),
                value_type=found.value_type,
                subject=None,
            )
        fields.append(found)
    return MatchResult(ledger=result.ledger, fields=fields)


def match_item(found: FieldMatch) -> dict[str, Any]:
    """Return one column's binding in the analysis shape."""
    return {
        "label": found.label,
        "parents": list(found.parents),
        "element": found.element,
        "confidence": found.confidence,
        "reason": found.reason,
        "kind": found.kind,
    }


@dataclass(frozen=True)
class DraftColumn:
    """A template column as the admin confirmed it: its header, kind, binding and value type."""

    label: str
    parents: tuple[str, ...] = ()
    kind: str = "data"
    element: str | None = None
    value_type: str | None = None


def draft_document(
    title: str,
    ledger: str | None,
    columns: Sequence[DraftColumn | FieldMatch],
    elements: Mapping[str, Element],
    *,
    code: str,
    department: str = "",
) -> dict[str, Any]:
    """Return a draft report spec from template columns (layout columns are left out)."""
    properties: dict[str, Any] = {}
    used: set[str] = set()
    for index, column in enumerate(columns):
        if column.kind == "layout":
            continue
        prop: dict[str, Any]
        if column.element and column.element in elements:
            name = _unique(_element_name(column.element, ledger), used)
            prop = {"x-element": column.element}
            if column.label != elements[column.element].name:
                prop["title"] = column.label
        else:
            name = _unique(f"c{index + 1}", used)
            prop = {
                "title": column.label,
                **_CUSTOM_TYPES.get(column.value_type or "", {"type": "string", "maxLength": 200}),
            }
        if column.parents:
            prop["x-parents"] = list(column.parents)
        properties[name] = prop
    return blank_document(code, title, department, ledger=ledger, properties=properties)


def spec_items(spec: ReportSpec) -> list[dict[str, Any]]:
    """Return a loaded spec's fields in the analysis shape (declared bindings are certain)."""
    items = []
    for f in spec.fields:
        reason = f"报表规格声明绑定数据元“{f.element}”" if f.element else "自定义字段，报表规格未绑定数据元"
        items.append(
            {
                "label": f.title,
                "parents": list(f.parents),
                "element": f.element,
                "confidence": 1.0 if f.element else 0.0,
                "reason": reason,
                "kind": "data",
            }
        )
    return items


def analyze_document(
    document: dict[str, Any],
    specs: SpecSet,
    context: Context,
    rules: RuleSet,
    fields: list[dict[str, Any]] | None = None,
) -> Analysis:
    """Check and judge a report spec document."""
    title = str(document.get("title") or "") if isinstance(document, dict) else ""
    try:
        spec = load_report(document, specs.elements, specs.ledgers, specs.org_units, meta=specs.report_meta)
    except ReportRefused as refused:
        return Analysis(
            title=title,
            fields=fields or [],
            document=document,
            verdict=None,
            spec=None,
            problems=[f.message for f in refused.findings],
        )
    return Analysis(
        title=spec.title,
        fields=fields if fields is not None else spec_items(spec),
        document=document,
        verdict=assess(spec, context, rules),
        spec=spec,
        problems=[],
    )


def analyze_template(
    template: Template,
    specs: SpecSet,
    matcher: Matcher,
    context: Context,
    rules: RuleSet,
    *,
    ledger: str | None = None,
    code: str = "template_draft",
    department: str = UNASSIGNED,
) -> Analysis:
    """Match a template's columns, make it a draft spec, and judge the draft."""
    matches = match_template(template, matcher, ledger)
    document = draft_document(
        template.title, matches.ledger, matches.fields, specs.elements, code=code, department=department
    )
    return analyze_document(document, specs, context, rules, [match_item(m) for m in matches.fields])


def _element_name(code: str, ledger: str | None) -> str:
    group, name = code.split(".", 1)
    return name if group == ledger or ledger is None else f"{group}_{name}"


def _unique(name: str, used: set[str]) -> str:
    candidate, n = name, 2
    while candidate in used:
        candidate, n = f"{name}_{n}", n + 1
    used.add(candidate)
    return candidate


_MATCHERS: IdentityCache[Mapping[str, Element], Matcher] = IdentityCache(Matcher, limit=16)


def matcher_for(elements: Mapping[str, Element]) -> Matcher:
    """Return a matcher over `elements`, built once per catalog object."""
    return _MATCHERS.get(elements)
