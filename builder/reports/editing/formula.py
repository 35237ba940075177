"""An aggregate cell's formula as the report editor holds it, and its `x-formula` spec.

A formula counts the records of a ledger (`{"count": ledger, "where": […]}`) or sums a numeric
element of one (`{"sum": element, "where": […]}`). The editor keeps the counted ledger, the summed
element and the conditions as typed, so a formula that is not finished yet stays on the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from builder.catalog.specs import Element
from builder.reports.editing.conditions import ConditionDraft, condition_drafts, conditions_document

#: Formula operation → Chinese label, in the order the editor offers them.
FORMULA_OPS = {"count": "计数", "sum": "求和"}
#: The field type a formula gives when the admin chose none.
FORMULA_KINDS = {"count": "integer", "sum": "number"}
#: Conditions a formula may have (`x-formula.where`, form_specs/meta/report.schema.json).
MAX_WHERE = 10


@dataclass(frozen=True)
class FormulaDraft:
    """A field's `x-formula` as typed: what is counted or summed, and under which conditions."""

    #: "count" or "sum".
    op: str = "count"
    #: The ledger counted (count; a sum's ledger is its element's, kept for switching back).
    ledger: str = ""
    #: The summed element's code (sum; kept when switching to count and back).
    element: str = ""
    where: tuple[ConditionDraft, ...] = ()


def group_of(code: str) -> str:
    """Return the catalog group (= ledger) an element code belongs to: `land.area` → `land`."""
    return code.partition(".")[0] if "." in code else ""


def formula_draft(rule: Mapping[str, Any]) -> FormulaDraft:
    """Return the editor draft of an `x-formula`."""
    where = condition_drafts(rule.get("where"))
    if "sum" in rule:
        element = str(rule["sum"] or "")
        return FormulaDraft(op="sum", ledger=group_of(element), element=element, where=where)
    return FormulaDraft(op="count", ledger=str(rule.get("count") or ""), where=where)


def formula_ledger(formula: FormulaDraft) -> str:
    """Return the ledger a formula counts or sums over (its conditions speak about this one)."""
    if formula.op == "sum" and formula.element:
        return group_of(formula.element)
    return formula.ledger


def formula_kind(formula: FormulaDraft) -> str:
    """Return the field kind a formula gives by default: count → integer, sum → number."""
    return FORMULA_KINDS.get(formula.op, "integer")


def formula_rule(
    formula: FormulaDraft, base: Any, elements: Mapping[str, Element], at: str
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Return the `x-formula` of a draft (None while what it counts is not chosen) and its problems.

    `at` is the formula's path (`properties/<name>/x-formula`); `base` the formula saved before,
    whose empty `where` list is kept so that a document comes back as it was.
    """
    problems: dict[str, str] = {}
    rule: dict[str, Any] = {}
    if formula.op not in FORMULA_OPS:
        problems[at] = "请选择统计方式：计数或求和"
    elif formula.op == "count":
        if formula.ledger:
            rule["count"] = formula.ledger
        else:
            problems[f"{at}/count"] = "请选择要计数的台账"
    elif formula.element:
        rule["sum"] = formula.element  # the summed element names its ledger
    else:
        problems[f"{at}/sum"] = "请选择要求和的数据项"
    where, found = conditions_document(formula.where, elements, f"{at}/where")
    problems.update(found)
    if len(formula.where) > MAX_WHERE:
        problems[f"{at}/where"] = f"每个统计字段最多 {MAX_WHERE} 个条件"
    if not rule:
        return None, problems
    if where or (isinstance(base, Mapping) and "where" in base):
        rule["where"] = where
    return rule, problems
