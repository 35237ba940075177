"""Compare two versions of a report document: what a reviewer needs to see when a report comes back.

The documents are compared as written (not loaded), so a draft that does not pass the checks yet
can still be compared. Each change is one Chinese sentence for the reviewer or the department.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from builder.catalog.specs import Element, OrgUnit
from builder.reports.checks import WIDGET_NAMES
from builder.reports.meta import label
from builder.reports.spec import FREQUENCIES, ROW_UNITS, Condition, describe_condition


@dataclass(frozen=True)
class Change:
    """One difference between two versions of a report."""

    #: "added", "removed", "changed", "moved" (fields) or "meta" (report metadata).
    kind: str
    #: The field's property name, or the metadata item: title, department, purpose, basis, rows,
    #: frequency, deadline, targets, justification, description (as on ReportSpec).
    target: str
    #: The Chinese name of the field or metadata item.
    label: str
    before: Any
    after: Any
    message: str


_TYPE_NAMES = {"string": "文本", "number": "数字", "integer": "整数", "boolean": "是/否", "array": "多选"}
#: Metadata item → (document key, Chinese name); long texts are summarised, not quoted.
_META = {
    "title": ("title", "报表名称"),
    "department": ("x-department", "所属部门"),
    "purpose": ("x-purpose", "填报用途"),
    "basis": ("x-basis", "政策依据"),
    "rows": ("x-rows", "数据来源"),
    "frequency": ("x-frequency", "填报频次"),
    "deadline": ("x-deadline", "截止日期"),
    "targets": ("x-targets", "下发范围"),
    "justification": ("x-justification", "使用敏感信息的理由"),
    "description": ("description", "报表说明"),
}
_QUOTE_LIMIT = 40
#: Field keywords compared one by one, in the order their changes are listed.
_SHOWN_KEYS = (
    "x-element",
    "title",
    "type",
    "format",
    "enum",
    "items",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "uniqueItems",
    "pattern",
    "x-writeback",
    "x-widget",
    "x-parents",
    "x-help",
    "description",
    "x-formula",
)
_DISPLAY_KEYS = ("x-element", "title", "x-widget", "x-parents", "x-help", "description")


class _Differ:
    def __init__(
        self,
        old: dict,
        new: dict,
        elements: Mapping[str, Element] | None,
        org_units: Mapping[str, OrgUnit] | None,
    ) -> None:
        self.old, self.new = old, new
        self.elements, self.org_units = elements or {}, org_units or {}
        self.changes: list[Change] = []

    def add(self, kind: str, target: str, name: str, before: Any, after: Any, message: str) -> None:
        self.changes.append(Change(kind, target, name, before, after, message))

    def caption(self, prop: Mapping[str, Any], name: str) -> str:
        if prop.get("title"):
            return prop["title"]
        element = self.elements.get(prop.get("x-element", ""))
        return element.name if element else name

    def run(self) -> list[Change]:
        for target, (key, name) in _META.items():
            before, after = self.old.get(key), self.new.get(key)
            if before != after and not (target == "targets" and not before and not after):
                self.meta(target, name, before, after)
        old_props, new_props = self.old.get("properties", {}), self.new.get("properties", {})
        for name, prop in old_props.items():
            if name not in new_props:
                caption = self.caption(prop, name)
                self.add("removed", name, caption, prop, None, f"删除字段“{caption}”")
        for name, prop in new_props.items():
            if name not in old_props:
                caption = self.caption(prop, name)
                self.add("added", name, caption, None, prop, f"新增字段“{caption}”")
        old_required, new_required = set(self.old.get("required", ())), set(self.new.get("required", ()))
        for name, prop in new_props.items():
            if name in old_props:
                self.field(name, old_props[name], prop, (name in old_required, name in new_required))
        self.moves(list(old_props), list(new_props))
        return self.changes

    def meta(self, target: str, name: str, before: Any, after: Any) -> None:
        if target == "rows":
            before_text, after_text = self.rows(before), self.rows(after)
        elif target == "frequency":
            before_text, after_text = (FREQUENCIES.get(v or "once", v) for v in (before, after))
        elif target == "targets":
            before_text, after_text = self.targets(before), self.targets(after)
        else:
            before_text, after_text = before or "", after or ""
        if target == "deadline" and not before:
            message = f"设定截止日期为 {after}"
        elif target == "deadline" and not after:
            message = f"取消截止日期（原为 {before}）"
        elif not before_text:
            message = f"填写了{name}：“{_short(after_text)}”"
        elif not after_text:
            message = f"清空了{name}（原为“{_short(before_text)}”）"
        elif len(before_text) > _QUOTE_LIMIT or len(after_text) > _QUOTE_LIMIT:
            message = f"{name}已修改"
        elif target in ("deadline", "frequency"):
            message = f"{name}由 {before_text} 改为 {after_text}"
        else:
            message = f"{name}由“{before_text}”改为“{after_text}”"
        self.add("meta", target, name, before, after, message)

    def rows(self, rows: Any) -> str:
        if isinstance(rows, dict) and rows.get("unit") in ROW_UNITS:
            return f"汇总报表，每个{ROW_UNITS[rows['unit']]}一行"
        if not isinstance(rows, dict) or not rows.get("ledger"):
            return "镇街逐行填写"
        conditions = [
            describe_condition(
                Condition(c.get("element", ""), c.get("op", ""), c.get("value")), self.elements
            )
            for c in rows.get("filter", ())
            if isinstance(c, dict)
        ]
        return f"{rows['ledger']} 台账" + (f"中{'且'.join(conditions)}的记录" if conditions else "的全部记录")

    def targets(self, codes: Any) -> str:
        if not codes:
            return "全部镇街"
        names = [self.org_units[c].name if c in self.org_units else str(c) for c in codes]
        return "、".join(names[:5]) + (f"等 {len(names)} 个单位" if len(names) > 5 else "")

    def field(self, name: str, old: Mapping[str, Any], new: Mapping[str, Any], required: tuple) -> None:
        caption = self.caption(new, name)

        def say(before: Any, after: Any, message: str) -> None:
            self.add("changed", name, caption, before, after, message)

        where = f"字段“{caption}”"
        if required[0] != required[1]:
            say(*required, f"{where}改为{'必填' if required[1] else '选填'}")
        # Binding or unbinding replaces the whole value schema: the binding sentence says it all.
        rebound = bool(old.get("x-element")) != bool(new.get("x-element"))
        for key in _SHOWN_KEYS:
            if rebound and key not in _DISPLAY_KEYS:
                continue
            before, after = old.get(key), new.get(key)
            if key == "x-writeback":
                before = before if before is not None else bool(old.get("x-element"))
                after = after if after is not None else bool(new.get("x-element"))
            if before == after:
                continue
            if key == "title":
                say(before, after, f"字段“{self.caption(old, name)}”改名为“{caption}”")
            elif key == "x-element":
                say(before, after, self.binding(where, before, after))
            elif key in ("enum", "items"):
                say(before, after, _options(where, old, new, key))
            elif key == "type":
                say(
                    before,
                    after,
                    f"{where}的类型由 {_TYPE_NAMES.get(before, before)} 改为 {_TYPE_NAMES.get(after, after)}",
                )
            elif key == "x-writeback":
                say(before, after, f"{where}改为{'回流台账' if after else '不回流台账'}")
            elif key == "x-widget":
                say(
                    before,
                    after,
                    f"{where}的显示控件由 {WIDGET_NAMES.get(before, '默认')} "
                    f"改为 {WIDGET_NAMES.get(after, '默认')}",
                )
            elif key == "x-parents":
                say(
                    before,
                    after,
                    f"{where}的上级表头由“{'/'.join(before or []) or '无'}”"
                    f"改为“{'/'.join(after or []) or '无'}”",
                )
            elif key in ("x-help", "description", "pattern", "x-formula"):
                say(before, after, f"{where}的{label(key)}已修改")
            elif before is None:
                say(before, after, f"{where}新设{label(key)} {after}")
            elif after is None:
                say(before, after, f"{where}取消{label(key)}（原为 {before}）")
            else:
                say(before, after, f"{where}的{label(key)}由 {before} 改为 {after}")

    def binding(self, where: str, before: str | None, after: str | None) -> str:
        named = {
            c: f"“{self.elements[c].name}”（{c}）" if c in self.elements else c for c in (before, after) if c
        }
        if not before:
            return f"{where}改为绑定数据元{named[after]}"
        if not after:
            return f"{where}不再绑定数据元{named[before]}，改为自定义字段"
        return f"{where}绑定的数据元由{named[before]}改为{named[after]}"

    def moves(self, old_order: list[str], new_order: list[str]) -> None:
        """Report the fields that moved, not the ones shifted by others moving, added or removed."""
        common = [n for n in new_order if n in old_order]
        stay = _longest_increasing([old_order.index(n) for n in common])
        props = self.new.get("properties", {})
        for i, name in enumerate(common):
            if i not in stay:
                before, after = old_order.index(name) + 1, new_order.index(name) + 1
                caption = self.caption(props[name], name)
                self.add(
                    "moved", name, caption, before, after, f"字段“{caption}”从第 {before} 列移到第 {after} 列"
                )


def _short(text: str) -> str:
    return text if len(text) <= _QUOTE_LIMIT else text[:_QUOTE_LIMIT] + "…"


def _options(where: str, old: Mapping[str, Any], new: Mapping[str, Any], key: str) -> str:
    def values(prop: Mapping[str, Any]) -> list:
        found = prop.get("items", {}).get("enum") if key == "items" else prop.get("enum")
        return list(found or [])

    before, after = values(old), values(new)
    added = [v for v in after if v not in before]
    removed = [v for v in before if v not in after]
    parts = ([f"新增“{'”“'.join(map(str, added))}”"] if added else []) + (
        [f"删除“{'”“'.join(map(str, removed))}”"] if removed else []
    )
    return f"{where}的选项：{'，'.join(parts)}" if parts else f"{where}的选项顺序已调整"


def _longest_increasing(values: list[int]) -> set[int]:
    """Return the positions of one longest increasing subsequence of `values`."""
    best: list[int] = [1] * len(values)
    back: list[int] = [-1] * len(values)
    for i, value in enumerate(values):
        for j in range(i):
            if values[j] < value and best[j] + 1 > best[i]:
                best[i], back[i] = best[j] + 1, j
    keep, i = set(), max(range(len(values)), key=best.__getitem__, default=-1)
    while i != -1:
        keep.add(i)
        i = back[i]
    return keep


def diff_reports(
    old: dict,
    new: dict,
    *,
    elements: Mapping[str, Element] | None = None,
    org_units: Mapping[str, OrgUnit] | None = None,
) -> list[Change]:
    """Return the changes from one version of a report document to the next.

    Metadata changes come first, then removed, added and changed fields, then moved ones. Pass
    `elements` (and `org_units`) to name bound fields, filters and targets as users know them.
    """
    return _Differ(old, new, elements, org_units).run()
