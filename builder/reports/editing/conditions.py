"""Conditions as the report editor holds them: the row filter and the `where` of a formula.

A condition is typed as three texts (element, operator, value). The same drafts and the same
reading serve the row filter (`x-rows.filter`) and an aggregate cell's `x-formula.where`, so
both speak one vocabulary and report problems under the paths `check_report` uses.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from builder.catalog.specs import Element
from builder.reports.spec import FILTER_OPS

#: Filter operators that take no value, and those that take a list.
NO_VALUE_OPS = frozenset({"present", "absent"})
LIST_OPS = frozenset({"in", "not_in"})
_SPLIT = re.compile(r"[、,，;；]")


@dataclass(frozen=True)
class ConditionDraft:
    """One condition (of the row filter or of a formula) as typed."""

    element: str = ""
    op: str = "present"
    value: str = ""


def value_text(value: Any) -> str:
    """Return a spec value as the editor shows it (是/否, lists joined by 、, 3.0 as 3)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return "、".join(value_text(v) for v in value)
    return str(value)


def parse_number(text: str, integer: bool, label: str) -> tuple[int | float | None, str]:
    """Return the number typed (None when blank) and the problem, if the text is not one."""
    text = text.strip().replace("，", "").replace(",", "")
    if not text:
        return None, ""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):  # float() also reads “nan” and “inf”, which JSON cannot hold
        return None, f"“{label}”应填数字，现在是“{text}”"
    if integer and not value.is_integer():
        return None, f"“{label}”应填整数，现在是“{text}”"
    return (int(value) if value.is_integer() else value), ""


def option_list(text: str) -> list[str]:
    """Return the choices typed one per line (a single line may use 、 or commas instead)."""
    lines = [line.strip() for line in text.replace("\r", "").split("\n") if line.strip()]
    if len(lines) == 1:
        lines = [p.strip() for p in _SPLIT.split(lines[0]) if p.strip()]
    return lines


def condition_drafts(items: Any) -> tuple[ConditionDraft, ...]:
    """Return the drafts of a spec's conditions (`x-rows.filter` or `x-formula.where`)."""
    if not isinstance(items, Iterable) or isinstance(items, str | bytes | Mapping):
        return ()
    return tuple(
        ConditionDraft(
            element=str(c.get("element", "")),
            op=str(c.get("op", "present")),
            value=value_text(c.get("value")),
        )
        for c in items
        if isinstance(c, Mapping)
    )


def condition_value(c: ConditionDraft, element: Element | None) -> tuple[Any, str]:
    """Return the value a condition compares with, typed as its element holds it, and any problem."""
    if c.op in NO_VALUE_OPS:
        return None, ""
    parts = option_list(c.value) if c.op in LIST_OPS else [c.value.strip()]
    parts = [p for p in parts if p]
    if not parts:
        return None, "请填写比较的值" + ("（多个值用顿号分隔）" if c.op in LIST_OPS else "")
    kind = (element.schema.get("type") if element else None) or "string"
    values: list[Any] = []
    for part in parts:
        if kind in ("integer", "number"):
            value, problem = parse_number(part, kind == "integer", "比较的值")
            if problem:
                return None, problem
            values.append(value)
        elif kind == "boolean":
            if part not in ("是", "否"):
                return None, "这一项只能比较“是”或“否”"
            values.append(part == "是")
        else:
            values.append(part)
    return (values if c.op in LIST_OPS else values[0]), ""


def conditions_document(
    drafts: Sequence[ConditionDraft], elements: Mapping[str, Element], at: str
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Return the spec conditions of the drafts and their input problems under `at` (path → message).

    A condition with a problem is left out of the list, so the rest can still be checked.
    """
    conditions: list[dict[str, Any]] = []
    problems: dict[str, str] = {}
    for i, c in enumerate(drafts):
        if not c.element:
            problems[f"{at}/{i}/element"] = "请选择筛选的数据项"
            continue
        op = c.op if c.op in FILTER_OPS else "present"
        value, problem = condition_value(c, elements.get(c.element))
        if problem:
            problems[f"{at}/{i}/value"] = problem
            continue
        conditions.append({"element": c.element, "op": op} | ({} if op in NO_VALUE_OPS else {"value": value}))
    return conditions, problems
