"""The report editor's drafts: what the department admin typed, turned into a report spec and back.

The editor keeps the whole report as plain text drafts (`ReportDraft`, `FieldDraft`), so input
that is not yet valid (a maximum of “十”, a deadline half typed) stays on the page with its
message instead of being lost. `apply_draft` turns a draft into a spec document plus input
problems keyed by the same paths `check_report` uses; `draft_from_document` goes back. An
aggregate report's rows (`ReportDraft.unit`) and its fields' formulas (`FieldDraft.formula`,
`builder.reports.editing.formula`) are drafts too; conditions are in `builder.reports.editing.conditions`.
Adding, moving and removing fields and filter conditions are pure functions over the drafts.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from builder.catalog.specs import Element
from builder.reports.editing.conditions import (
    ConditionDraft,
    condition_drafts,
    conditions_document,
    option_list,
    parse_number,
    value_text,
)
from builder.reports.editing.formula import FormulaDraft, formula_draft, formula_kind, formula_rule
from builder.reports.form import widgets_for
from builder.reports.spec import FREQUENCIES

__all__ = [
    "KINDS",
    "ConditionDraft",
    "EditRefused",
    "FieldDraft",
    "FormulaDraft",
    "ReportDraft",
    "add_custom",
    "add_element",
    "apply_draft",
    "draft_from_document",
    "field_draft",
    "field_property",
    "kind_of",
    "move",
    "option_list",
    "parent_list",
    "remove",
    "unique_name",
]

#: Custom field kind → Chinese label, in the order the editor offers them.
KINDS = {
    "text": "文本",
    "number": "数字",
    "integer": "整数",
    "date": "日期",
    "choice": "单选",
    "multi": "多选",
    "yesno": "是/否",
}
#: Keywords the editor writes for a custom field (others, e.g. `pattern`, are kept as they were).
_CUSTOM_KEYWORDS = frozenset(
    {"type", "format", "enum", "items", "uniqueItems", "minimum", "maximum", "minLength", "maxLength"}
)
_DISPLAY_KEYWORDS = frozenset({"title", "x-widget", "x-help", "x-parents", "x-writeback"})
MAX_OPTIONS = 200
MAX_PARENTS = 3


class EditRefused(ValueError):
    """An editor action that cannot be done, with the Chinese reason."""


@dataclass(frozen=True)
class FieldDraft:
    """One report field as the editor shows it: every setting as the text typed."""

    name: str
    title: str = ""
    #: The bound catalog element, or None for a custom field.
    element: str | None = None
    #: A custom field's kind (a key of KINDS), "other" for a hand-written schema; "" when bound,
    #: and for a formula field whose type follows its formula (count → integer, sum → number).
    kind: str = ""
    required: bool = False
    writeback: bool = True
    help: str = ""
    #: "" means the kind's default widget.
    widget: str = ""
    #: Choices, one per line.
    options: str = ""
    minimum: str = ""
    maximum: str = ""
    min_length: str = ""
    max_length: str = ""
    #: Group captions above the column, outermost first, separated by “/”.
    parents: str = ""
    #: An aggregate cell's formula (`x-formula`), else None.
    formula: FormulaDraft | None = None

    @property
    def effective_kind(self) -> str:
        """Return the kind the field's schema is written with (a formula's default when none is set)."""
        return self.kind or (formula_kind(self.formula) if self.formula and not self.element else "")


@dataclass(frozen=True)
class ReportDraft:
    """The whole report as the editor holds it."""

    title: str = ""
    purpose: str = ""
    basis: str = ""
    description: str = ""
    frequency: str = "once"
    deadline: str = ""
    #: True: all townships; False: only `targets`.
    all_targets: bool = True
    targets: tuple[str, ...] = ()
    justification: str = ""
    ledger: str = ""
    conditions: tuple[ConditionDraft, ...] = ()
    fields: tuple[FieldDraft, ...] = ()
    #: An aggregate report's rows ("township" or "village": one row per org unit), else "".
    #: The ledger and its conditions are kept while it is set, so switching back loses nothing.
    unit: str = ""


# --- document → draft ------------------------------------------------------------------------


def kind_of(prop: Mapping[str, Any]) -> str:
    """Return the custom kind of an unbound property's schema ("other" if the editor has none)."""
    kind, fmt = prop.get("type"), prop.get("format")
    if kind == "boolean":
        return "yesno"
    if kind == "array":
        return "multi" if isinstance(prop.get("items"), Mapping) and "enum" in prop["items"] else "other"
    if kind == "string" and "enum" in prop:
        return "choice"
    if kind == "string" and fmt == "date":
        return "date"
    if kind == "string" and not fmt and "pattern" not in prop:
        return "text"
    if kind in ("number", "integer") and "enum" not in prop:
        return kind
    return "other"


def field_draft(name: str, prop: Mapping[str, Any], required: bool) -> FieldDraft:
    """Return the editor draft of one spec property."""
    element = prop.get("x-element")
    items = prop.get("items") if isinstance(prop.get("items"), Mapping) else {}
    options = prop.get("enum") if "enum" in prop else items.get("enum", [])
    parents = prop.get("x-parents") or []
    rule = prop.get("x-formula")
    formula = formula_draft(rule) if isinstance(rule, Mapping) and not element else None
    kind = "" if element else kind_of(prop)
    if formula and kind == formula_kind(formula):
        kind = ""  # the type follows the formula until the admin picks another
    return FieldDraft(
        name=name,
        title=str(prop.get("title", "")),
        element=element,
        kind=kind,
        required=required,
        writeback=bool(prop.get("x-writeback", True)) if element else False,
        help=str(prop.get("x-help", "")),
        widget=str(prop.get("x-widget", "")),
        options="\n".join(value_text(o) for o in options if o is not None) if not element else "",
        minimum=value_text(prop.get("minimum")),
        maximum=value_text(prop.get("maximum")),
        min_length=value_text(prop.get("minLength")),
        max_length=value_text(prop.get("maxLength")),
        parents=" / ".join(str(p) for p in parents if isinstance(parents, list)),
        formula=formula,
    )


def draft_from_document(document: Mapping[str, Any]) -> ReportDraft:
    """Return the editor draft of a report spec document."""
    rows = document.get("x-rows") if isinstance(document.get("x-rows"), Mapping) else {}
    required = set(document.get("required") or ())
    props = document.get("properties") if isinstance(document.get("properties"), Mapping) else {}
    targets = tuple(str(t) for t in document.get("x-targets") or ())
    return ReportDraft(
        title=str(document.get("title", "")),
        purpose=str(document.get("x-purpose", "")),
        basis=str(document.get("x-basis", "")),
        description=str(document.get("description", "")),
        frequency=str(document.get("x-frequency", "once")),
        deadline=str(document.get("x-deadline", "")),
        all_targets=not targets,
        targets=targets,
        justification=str(document.get("x-justification", "")),
        ledger=rows.get("ledger") or "",
        conditions=condition_drafts(rows.get("filter")),
        unit=str(rows.get("unit") or ""),
        fields=tuple(field_draft(n, p, n in required) for n, p in props.items() if isinstance(p, Mapping)),
    )


# --- draft → document ------------------------------------------------------------------------


def _length(text: str, label: str, least: int) -> tuple[int | None, str]:
    value, problem = parse_number(text, True, label)
    if value is not None and value < least:
        return None, f"“{label}”不能小于 {least}"
    return value, problem


def parent_list(text: str) -> list[str]:
    """Return the group captions typed as “外层 / 内层”."""
    return [p.strip() for p in re.split(r"[/／]", text) if p.strip()]


def _custom_schema(d: FieldDraft, at: str, problems: dict[str, str]) -> dict[str, Any]:
    """Return the type keywords of a custom field, noting input problems under `at`."""
    schema: dict[str, Any] = {}
    if d.kind in ("text", "date", "choice"):
        schema["type"] = "string"
    elif d.kind in ("number", "integer"):
        schema["type"] = d.kind
    elif d.kind == "yesno":
        schema["type"] = "boolean"
    if d.kind == "date":
        schema["format"] = "date"
    if d.kind in ("choice", "multi"):
        options = option_list(d.options)
        seen = [o for i, o in enumerate(options) if o in options[:i]]
        if len(options) < 2:
            problems[f"{at}/enum"] = "单选、多选字段至少要有两个选项，每行写一个"
        elif seen:
            problems[f"{at}/enum"] = f"选项“{seen[0]}”重复了"
        elif len(options) > MAX_OPTIONS:
            problems[f"{at}/enum"] = f"选项太多（{len(options)} 个），最多 {MAX_OPTIONS} 个"
        elif any(len(o) > 100 for o in options):
            problems[f"{at}/enum"] = "每个选项最长 100 个字"
        if d.kind == "choice":
            schema["enum"] = options
        else:
            schema.update(type="array", items={"type": "string", "enum": options}, uniqueItems=True)
    if d.kind in ("number", "integer"):
        low, p1 = parse_number(d.minimum, d.kind == "integer", "最小值")
        high, p2 = parse_number(d.maximum, d.kind == "integer", "最大值")
        for key, value, problem in (("minimum", low, p1), ("maximum", high, p2)):
            if problem:
                problems[f"{at}/{key}"] = problem
            elif value is not None:
                schema[key] = value
        if low is not None and high is not None and low > high:
            problems[f"{at}/maximum"] = "最大值不能小于最小值"
    if d.kind == "text":
        low, p1 = _length(d.min_length, "最少字数", 0)
        high, p2 = _length(d.max_length, "最多字数", 1)
        for key, value, problem in (("minLength", low, p1), ("maxLength", high, p2)):
            if problem:
                problems[f"{at}/{key}"] = problem
            elif value is not None:
                schema[key] = value
        if low is not None and high is not None and low > high:
            problems[f"{at}/maxLength"] = "最多字数不能小于最少字数"
    return schema


def field_property(
    d: FieldDraft, base: Mapping[str, Any] | None, elements: Mapping[str, Element]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Return the spec property of a field draft and its input problems (path → message).

    Keywords the editor does not show (a `pattern`, a `description`) are kept from `base`.
    """
    at = f"properties/{d.name}"
    problems: dict[str, str] = {}
    formula = d.formula if not d.element else None
    d = replace(d, kind=d.effective_kind)
    keep = (
        _DISPLAY_KEYWORDS
        | (_CUSTOM_KEYWORDS if d.kind in KINDS else frozenset())
        | ({"x-formula"} if formula else frozenset())
    )
    prop = {k: copy.deepcopy(v) for k, v in (base or {}).items() if k not in keep and k != "x-element"}
    title = d.title.strip()
    element = elements.get(d.element) if d.element else None
    if d.element:
        prop = {"x-element": d.element, **prop}
        if title and (element is None or title != element.name):
            prop["title"] = title
        if not d.writeback:
            prop["x-writeback"] = False
        schema = {**(element.schema if element else {}), **prop}
    else:
        if not title:
            problems[f"{at}/title"] = "请填写字段名称"
        prop["title"] = title
        schema = _custom_schema(d, at, problems) if d.kind in KINDS else {}
        prop.update(schema)
        schema = prop
    if len(title) > 100:
        problems[f"{at}/title"] = "字段名称最长 100 个字"
    allowed = widgets_for(d.kind if not d.element else "", schema)
    if d.widget and d.widget in allowed and d.widget != allowed[0]:
        prop["x-widget"] = d.widget
    if d.help.strip():
        prop["x-help"] = d.help.strip()
    parents = parent_list(d.parents)
    if parents:
        prop["x-parents"] = parents
        if len(parents) > MAX_PARENTS:
            problems[f"{at}/x-parents"] = f"分组标题最多 {MAX_PARENTS} 层"
        elif any(len(p) > 100 for p in parents):
            problems[f"{at}/x-parents"] = "每层分组标题最长 100 个字"
    if formula:
        rule, found = formula_rule(formula, (base or {}).get("x-formula"), elements, f"{at}/x-formula")
        problems.update(found)
        if rule is not None:
            prop["x-formula"] = rule
    return prop, problems


def apply_draft(
    document: Mapping[str, Any], draft: ReportDraft, elements: Mapping[str, Element]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Return `document` with the draft applied, and the input problems (path → message).

    The document is complete even when there are problems (unparsable values are left out), so
    the preview and the checks can still show it; a draft with problems should not be saved.
    """
    problems: dict[str, str] = {}
    doc = copy.deepcopy(dict(document))
    title = draft.title.strip()
    if not title:
        problems["title"] = "请填写报表名称"
    elif len(title) > 100:
        problems["title"] = "报表名称最长 100 个字"
    doc["title"] = title
    for key, value in (
        ("x-purpose", draft.purpose),
        ("x-basis", draft.basis),
        ("x-justification", draft.justification),
        ("description", draft.description),
    ):
        if value.strip() or key in ("x-purpose", "x-basis") or doc.get(key) == "":
            doc[key] = value.strip()  # a key the document holds empty stays, so it comes back as it was
        else:
            doc.pop(key, None)
    doc["x-frequency"] = draft.frequency if draft.frequency in FREQUENCIES else "once"
    deadline = draft.deadline.strip()
    try:
        if deadline:
            doc["x-deadline"] = date.fromisoformat(deadline).isoformat()
        else:
            doc.pop("x-deadline", None)
    except ValueError:
        doc.pop("x-deadline", None)
        problems["x-deadline"] = "截止日期应写成 YYYY-MM-DD，如 2026-12-20"
    doc["x-targets"] = [] if draft.all_targets else list(dict.fromkeys(draft.targets))
    if not draft.all_targets and not draft.targets:
        problems["x-targets"] = "请至少选择一个镇街，或选“全部镇街”"
    if draft.unit:  # an aggregate report: one row per org unit, its figures in the fields' formulas
        doc["x-rows"] = {"unit": draft.unit}
    else:
        conditions, found = conditions_document(
            draft.conditions if draft.ledger else (), elements, "x-rows/filter"
        )
        problems.update(found)
        doc["x-rows"] = {"ledger": draft.ledger or None, "filter": conditions}
    old = doc.get("properties") if isinstance(doc.get("properties"), Mapping) else {}
    properties: dict[str, Any] = {}
    for d in draft.fields:
        prop, found = field_property(d, old.get(d.name), elements)
        properties[d.name] = prop
        problems.update(found)
    doc["properties"] = properties
    doc["required"] = [d.name for d in draft.fields if d.required]
    return doc, problems


# --- editing the field list ------------------------------------------------------------------


def unique_name(base: str, used: Sequence[str] | set[str]) -> str:
    """Return `base`, or `base_2`, `base_3` … whichever is not in `used`."""
    candidate, n = base, 2
    while candidate in used:
        candidate, n = f"{base}_{n}", n + 1
    return candidate


def element_property_name(code: str, ledger: str | None) -> str:
    """Return the property name for an element: its own name on the row ledger, else group_name."""
    group, _sep, name = code.partition(".")
    return name if group == ledger else f"{group}_{name}"


def add_element(fields: Sequence[FieldDraft], element: Element, ledger: str | None) -> list[FieldDraft]:
    """Return the fields with `element` appended as a bound field under a unique property name."""
    if any(f.element == element.code for f in fields):
        raise EditRefused(f"“{element.name}”已在报表中，同一数据项不必重复添加")
    name = unique_name(element_property_name(element.code, ledger), {f.name for f in fields})
    return [*fields, FieldDraft(name=name, element=element.code, writeback=True)]


def add_custom(
    fields: Sequence[FieldDraft], new: FieldDraft, elements: Mapping[str, Element]
) -> tuple[list[FieldDraft], dict[str, str]]:
    """Return the fields with a custom field appended, or the unchanged fields and its problems.

    The problems of `new` are keyed by the setting (``title``, ``enum``, ``maximum`` …). A field
    with a formula takes its type from the formula and, unless a minimum was typed, minimum 0.
    """
    if new.formula is not None:
        new = replace(
            new,
            kind="",
            options="",
            min_length="",
            max_length="",
            minimum=new.minimum if new.minimum.strip() else "0",
        )
    elif new.kind not in KINDS:
        return list(fields), {"kind": "请选择字段类型"}
    used = {f.name for f in fields}
    n = len(fields) + 1
    while f"c{n}" in used:
        n += 1
    draft = replace(new, name=f"c{n}", element=None, writeback=False)
    _prop, problems = field_property(draft, None, elements)
    if problems:
        return list(fields), {path.rsplit("/", 1)[1]: message for path, message in problems.items()}
    return [*fields, draft], {}


def move(items: Sequence[Any], index: int, delta: int) -> list[Any]:
    """Return `items` with the one at `index` moved by `delta` places (kept inside the list)."""
    items = list(items)
    if not 0 <= index < len(items):
        raise EditRefused("要移动的项目不存在，请刷新页面")
    target = max(0, min(len(items) - 1, index + delta))
    items.insert(target, items.pop(index))
    return items


def remove(items: Sequence[Any], index: int) -> list[Any]:
    """Return `items` without the one at `index`."""
    if not 0 <= index < len(items):
        raise EditRefused("要删除的项目不存在，请刷新页面")
    return [item for i, item in enumerate(items) if i != index]
