"""What the report editor's templates are given: field rows, catalog hits, findings by place, preview.

Plain shaping of builder results for `reports/_editor.html`, `_catalog.html` and `_preview.html`;
the views in `web.reports.editor` stay thin.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from builder.admission.analysis import matcher_for
from builder.admission.gatekeeping import Holding
from builder.catalog.specs import Element, SpecSet
from builder.reports.editing.draft import KINDS, FieldDraft, ReportDraft
from builder.reports.editing.formula import FORMULA_OPS, formula_ledger, group_of
from builder.reports.form import preview_fields, widgets_for
from builder.reports.spec import (
    FILTER_OPS,
    FREQUENCIES,
    ROW_UNITS,
    Condition,
    Formula,
    SpecFinding,
    describe_condition,
    describe_formula,
)
from builder.widgets import widget
from web.i18n import gettext as _
from web.ledgers.record_table import ordered
from web.site import local_time

#: Sensitivity level → Chinese label (form_specs/README.md).
SENSITIVITY_LABELS = {
    "public": "公开",
    "internal": "内部",
    "personal": "个人信息",
    "sensitive": "敏感个人信息",
    "secret": "机密",
}
#: Levels that need a stated justification.
SENSITIVE = frozenset({"sensitive", "secret"})
#: Metadata keys findings may point at; anything else goes to the top of the editor.
META_PLACES = (
    "title",
    "x-purpose",
    "x-basis",
    "description",
    "x-frequency",
    "x-deadline",
    "x-targets",
    "x-justification",
    "x-rows",
    "properties",
)
CATALOG_LIMIT = 20


def field_title(d: FieldDraft | None, elements: Mapping[str, Element]) -> str:
    """Return the title a field shows: its own, else its element's name, else its property name."""
    if d is None:
        return ""
    element = elements.get(d.element or "")
    return d.title.strip() or (element.name if element else "") or d.name


def ledger_title(specs: SpecSet, code: str) -> str:
    """Return a ledger's (or catalog group's) Chinese title."""
    ledger = specs.ledgers.get(code)
    return ledger.title if ledger else code


@dataclass
class Freshness:
    """Where the ledgers hold an element, how full and how fresh, as the editor shows it."""

    ledger: str = ""
    fill: str = ""
    updated: str = ""
    frequency: str = ""

    @classmethod
    def of(cls, specs: SpecSet, element: Element, holding: Holding | None) -> Freshness:
        """Describe the holding of `element` (frequency from the catalog when not held)."""
        if holding is None:
            return cls(frequency=element.update_frequency)
        return cls(
            ledger=ledger_title(specs, holding.ledger),
            fill=f"{holding.fill_rate:.0%}" if holding.fill_rate is not None else "",
            updated=local_time(holding.updated_at, "%Y-%m-%d") if holding.updated_at else "",
            frequency=holding.update_frequency or element.update_frequency,
        )


@dataclass
class FieldRow:
    """One field of the editor's list."""

    index: int
    draft: FieldDraft
    title: str
    element: Element | None
    fresh: Freshness | None
    widgets: list[tuple[str, str]]
    #: Input problems by setting (title, enum, minimum …): the draft cannot be saved.
    problems: dict[str, str] = field(default_factory=dict)
    #: Findings of the spec check about this field: the report cannot be filed yet.
    findings: list[str] = field(default_factory=list)
    #: The kind the schema is written with (a formula field's default when none is chosen).
    kind: str = ""
    #: A formula field's formula as a sentence, and the (code, title) fields its conditions may use.
    formula_text: str = ""
    formula_fields: list[tuple[str, str]] = field(default_factory=list)

    @property
    def sensitivity(self) -> str:
        """Return the bound element's sensitivity label."""
        return SENSITIVITY_LABELS.get(self.element.sensitivity, "") if self.element else ""


def place(path: str, names: Sequence[str]) -> str:
    """Return where a finding is shown: "field:<name>", "where:<name>:<i>", "filter:<i>", a key, or "top"."""
    parts = path.split("/")
    if parts[0] == "properties" and len(parts) > 1 and parts[1] in names:
        if parts[2:4] == ["x-formula", "where"] and len(parts) > 4 and parts[4].isdigit():
            return f"where:{parts[1]}:{parts[4]}"
        return f"field:{parts[1]}"
    if parts[0] == "x-rows" and len(parts) > 2 and parts[1] == "filter" and parts[2].isdigit():
        return f"filter:{parts[2]}"
    if parts[0] == "required":
        return "properties"
    return parts[0] if parts[0] in META_PLACES else "top"


def findings_by_place(findings: Sequence[SpecFinding], names: Sequence[str]) -> dict[str, list[str]]:
    """Group the spec check's findings by where the editor shows them."""
    out: dict[str, list[str]] = {}
    for finding in findings:
        out.setdefault(place(finding.path, names), []).append(finding.message)
    return out


def ledger_fields(specs: SpecSet, code: str) -> list[tuple[str, str]]:
    """Return the (element code, title) fields of a ledger, for condition pickers."""
    ledger = specs.ledgers.get(code)
    return [(f.element.code, f.title) for f in ledger.fields] if ledger else []


def formula_sentence(specs: SpecSet, rule: Any) -> str:
    """Return an `x-formula` as a sentence (“土地台账中 是否流转 等于 是 的记录数”), "" if unfinished."""
    if not isinstance(rule, Mapping):
        return ""
    where = tuple(
        Condition(c["element"], c.get("op", "present"), c.get("value"))
        for c in rule.get("where") or ()
        if isinstance(c, Mapping) and "element" in c
    )
    if rule.get("count"):
        formula = Formula("count", str(rule["count"]), None, where)
    elif rule.get("sum"):
        code = str(rule["sum"])
        element = specs.elements.get(code)
        formula = Formula("sum", element.group if element else group_of(code), code, where)
    else:
        return ""
    return describe_formula(formula, specs.elements, specs.ledgers)


def _field_rows(
    specs: SpecSet,
    draft: ReportDraft,
    document: Mapping[str, Any],
    holdings: Mapping[str, Holding],
    problems: Mapping[str, str],
    notes: Mapping[str, list[str]],
) -> list[FieldRow]:
    rows = []
    props = document.get("properties") if isinstance(document.get("properties"), Mapping) else {}
    for i, d in enumerate(draft.fields):
        element = specs.elements.get(d.element or "")
        prefix = f"properties/{d.name}/"
        kind = "" if d.element else d.effective_kind
        formula = d.formula if not d.element else None
        rule = (props.get(d.name) or {}).get("x-formula") if formula else None
        rows.append(
            FieldRow(
                index=i,
                draft=d,
                title=field_title(d, specs.elements),
                element=element,
                fresh=Freshness.of(specs, element, holdings.get(element.code)) if element else None,
                widgets=[
                    (w, widget(w).label) for w in widgets_for(kind, element.schema if element else None)
                ],
                problems={p[len(prefix) :]: m for p, m in problems.items() if p.startswith(prefix)},
                findings=notes.get(f"field:{d.name}", []),
                kind=kind,
                formula_text=formula_sentence(specs, rule),
                formula_fields=ledger_fields(specs, formula_ledger(formula)) if formula else [],
            )
        )
    return rows


def _formula_choices(specs: SpecSet, unit: str) -> dict[str, Any]:
    """Return the pickers of a formula: ledgers to count, numeric ledger elements to sum (by ledger)."""
    ledgers = ordered(specs.ledgers.values())
    counted = [
        (
            lg.code,
            lg.title
            + (
                _("（无所属村（社区），只能按镇街汇总）")
                if unit == "village" and not lg.village_field
                else ""
            ),
        )
        for lg in ledgers
    ]
    summed = [
        (
            lg.title,
            [
                (f.element.code, f.title)
                for f in lg.fields
                if f.element.schema.get("type") in ("number", "integer")
            ],
        )
        for lg in ledgers
    ]
    return {
        "formula_ops": FORMULA_OPS,
        "counted_ledgers": counted,
        "summed_elements": [(title, options) for title, options in summed if options],
        "summed_codes": {code for _title, options in summed for code, _name in options},
    }


def _conditions(specs: SpecSet, draft: ReportDraft, document: Mapping[str, Any]) -> list[str]:
    """Return the saved row filter as sentences (“残疾等级 不为空”)."""
    rows = document.get("x-rows") or {}
    return [
        describe_condition(Condition(c["element"], c["op"], c.get("value")), specs.elements)
        for c in rows.get("filter") or ()
        if c.get("element") in specs.elements
    ]


def editor_context(
    specs: SpecSet,
    draft: ReportDraft,
    document: Mapping[str, Any],
    findings: Sequence[SpecFinding],
    holdings: Mapping[str, Holding],
    problems: Mapping[str, str],
    query: str,
    have: Sequence[str],
) -> dict[str, Any]:
    """Return what `reports/_editor.html` needs besides the report itself."""
    names = [d.name for d in draft.fields]
    notes = findings_by_place(findings, names)
    sensitive = [
        specs.elements[d.element].name
        for d in draft.fields
        if d.element in specs.elements and specs.elements[d.element].sensitivity in SENSITIVE
    ]
    return {
        "draft": draft,
        "rows": _field_rows(specs, draft, document, holdings, problems, notes),
        "notes": notes,
        "problems": problems,
        "ledgers": [(lg.code, lg.title) for lg in ordered(specs.ledgers.values())],
        "ledger_fields": ledger_fields(specs, draft.ledger),
        "row_units": ROW_UNITS,
        "aggregate": bool(draft.unit),
        **_formula_choices(specs, draft.unit),
        "condition_texts": _conditions(specs, draft, document),
        "filter_problems": any(p.startswith("x-rows/") for p in problems),
        "townships": specs.townships(),
        "frequencies": FREQUENCIES,
        "filter_ops": FILTER_OPS,
        "kinds": KINDS,
        "sensitive": sensitive,
        "sensitivity_labels": SENSITIVITY_LABELS,
        "finding_count": len(findings),
        **catalog_context(specs, query, draft.ledger, holdings, have),
        **preview_context(specs, document),
    }


@dataclass
class CatalogHit:
    """One element in the catalog picker."""

    element: Element
    fresh: Freshness
    aliases: list[str]
    added: bool
    sensitivity: str


def _alias_hits(element: Element, query: str) -> list[str]:
    """Return up to three aliases the query met (none when it met the standard name)."""
    q = "".join(query.split()).lower()
    if not q or q in element.name.lower():
        return []
    return [a for a in element.aliases if q in a.lower() or a.lower() in q][:3]


def catalog_context(
    specs: SpecSet, query: str, ledger: str, holdings: Mapping[str, Holding], have: Sequence[str]
) -> dict[str, Any]:
    """Return the picker's hits grouped by the ledger that holds them (the row ledger first)."""
    query = query.strip()[:100]
    if query:
        codes = [c.element for c in matcher_for(specs.elements).search(query, limit=CATALOG_LIMIT)]
    elif ledger in specs.ledgers:  # nothing typed: browse the row ledger's fields
        codes = [f.element.code for f in specs.ledgers[ledger].fields]
    else:
        codes = []
    groups: dict[str, list[CatalogHit]] = {}
    for code in codes:
        element = specs.elements.get(code)
        if element is None:
            continue
        holding = holdings.get(code)
        key = holding.ledger if holding else element.group
        groups.setdefault(key, []).append(
            CatalogHit(
                element=element,
                fresh=Freshness.of(specs, element, holding),
                aliases=_alias_hits(element, query),
                added=code in have,
                sensitivity=SENSITIVITY_LABELS.get(element.sensitivity, element.sensitivity),
            )
        )
    order = sorted(groups, key=lambda k: (k != ledger, list(groups).index(k)))
    return {
        "query": query,
        "browse": not query and bool(codes),
        "catalog_groups": [(ledger_title(specs, k), groups[k]) for k in order],
    }


def preview_context(specs: SpecSet, document: Mapping[str, Any]) -> dict[str, Any]:
    """Return what `reports/_preview.html` shows: the form header and its fields."""
    rows = document.get("x-rows") or {}
    ledger = rows.get("ledger")
    props = document.get("properties") if isinstance(document.get("properties"), Mapping) else {}
    formulas = [
        (str(p.get("title") or name), formula_sentence(specs, p.get("x-formula")))
        for name, p in props.items()
        if isinstance(p, Mapping) and "x-formula" in p
    ]
    filters = [
        describe_condition(Condition(c["element"], c["op"], c.get("value")), specs.elements)
        for c in rows.get("filter") or ()
        if isinstance(c, Mapping) and "element" in c
    ]
    targets = document.get("x-targets") or []
    units = specs.org_units
    return {
        "pv_title": document.get("title") or _("（未命名报表）"),
        "pv_description": document.get("description", ""),
        "pv_deadline": document.get("x-deadline", ""),
        "pv_frequency": FREQUENCIES.get(document.get("x-frequency", "once"), ""),
        "pv_ledger": ledger_title(specs, ledger) if ledger else "",
        "pv_filters": filters,
        "pv_targets": [units[t].name if t in units else t for t in targets],
        "pv_fields": preview_fields(document, specs.elements),
        "pv_unit": ROW_UNITS.get(rows.get("unit") or "", ""),
        "pv_formulas": [(title, text) for title, text in formulas if text],
    }
