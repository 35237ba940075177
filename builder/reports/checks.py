"""Check what a report document refers to: catalog elements, the row ledger, org units, its own fields.

These checks run after the meta-schema passed, so the document's shape is known; what they add
is meaning: a bound field narrows its element and never widens it, a filter speaks about the
ledger the rows come from with values that ledger can hold, a widget can show the field's type.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from jsonschema import Draft202012Validator

from builder.catalog.safety import SpecFinding
from builder.catalog.specs import Element, Ledger, OrgUnit
from builder.reports.meta import TYPE_NAMES, field_caption, label
from builder.schema import choices
from builder.widgets import WIDGETS

#: Widget → Chinese name.
#: Widget name → Chinese label, from the widget table.
WIDGET_NAMES = {name: w.label for name, w in WIDGETS.items()}
_KIND_NAMES = {
    "array": "多选字段",
    "boolean": "是/否字段",
    "choice": "单选字段",
    "number": "数字字段",
    "date": "日期字段",
    "string": "文本字段",
}
_NUMERIC = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
_LENGTH = ("minLength", "maxLength")
_ARRAY = ("items", "uniqueItems", "minItems", "maxItems")
_ORDERED_OPS = ("gt", "gte", "lt", "lte")
#: Computation of a computed field (`x-compute.op`) → Chinese name.
COMPUTE_OPS = {"age": "周岁年龄", "year_of": "年份", "sum": "合计"}
_LOWER = ("minimum", "exclusiveMinimum", "minLength")


def plain(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Drop the x- keywords a validator need not see."""
    return {k: v for k, v in schema.items() if not k.startswith("x-")}


def field_kind(schema: Mapping[str, Any]) -> str:
    """Return what a field asks for: array, boolean, choice, number, date or string."""
    kind = schema.get("type")
    if kind in ("array", "boolean"):
        return kind
    if choices(schema):
        return "choice"
    if kind in ("number", "integer"):
        return "number"
    return "date" if schema.get("format") == "date" else "string"


#: Field kind → the widgets that can show it, the default first.
KIND_WIDGETS = {
    "array": ("checkboxes", "select"),
    "boolean": ("yesno", "radio", "select"),
    "choice": ("select", "radio"),
    "number": ("number",),
    "date": ("date",),
    "string": ("text", "textarea"),
}


def default_widget(schema: Mapping[str, Any]) -> str:
    """Return the widget a field shows with when the spec names none."""
    return KIND_WIDGETS[field_kind(schema)][0]


def merged_schema(element: Element, prop: Mapping[str, Any]) -> dict[str, Any]:
    """Return a bound field's schema: the element's, then the property's keywords on top."""
    schema = {"title": element.name, **element.schema}
    schema.update({k: v for k, v in prop.items() if k != "x-element"})
    return schema


def _fits(value: Any, kind: str | None) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return True


def _value_ok(value: Any, schema: Mapping[str, Any]) -> bool:
    """Tell whether a value is one the element can hold (types, enum, ranges; real dates)."""
    if not Draft202012Validator(plain(schema)).is_valid(value):
        return False
    if schema.get("format") == "date" and isinstance(value, str):
        try:
            date.fromisoformat(value)
        except ValueError:
            return False
    return True


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(_shown(v) for v in value)
    return str(value)


class _Checker:
    def __init__(
        self,
        document: dict[str, Any],
        elements: Mapping[str, Element],
        ledgers: Mapping[str, Ledger] | None,
        org_units: Mapping[str, OrgUnit] | None,
    ) -> None:
        self.doc, self.elements, self.ledgers, self.org_units = document, elements, ledgers, org_units
        self.found: list[SpecFinding] = []
        #: An aggregate report's row unit ("township", "village"), else None.
        self.unit = (document.get("x-rows") or {}).get("unit")

    def add(self, code: str, path: str, message: str) -> None:
        self.found.append(SpecFinding(code, path, message))

    def run(self) -> list[SpecFinding]:
        props = self.doc["properties"]
        bound: dict[str, str] = {}
        captions: dict[tuple, str] = {}
        for name, prop in props.items():
            code = prop.get("x-element")
            element = self.elements.get(code) if code is not None else None
            # A bound field without its own title is known by its element's standard name.
            where = field_caption(self.doc, name)
            if element and "title" not in prop:
                where = f"字段“{element.name}”"
            if code is not None and self.unit is not None:
                self.add(
                    "bound_in_aggregate",
                    f"properties/{name}/x-element",
                    f"{where}绑定了数据元，但汇总报表的每一行是一个镇街或村（社区），不是台账记录；"
                    "请改用汇总公式（x-formula）从台账计数或求和",
                )
                continue
            if code is not None:
                if element is None:
                    self.add(
                        "unknown_element",
                        f"properties/{name}/x-element",
                        f"{where}绑定的数据元 {code} 不在数据元目录中",
                    )
                    continue
                if code in bound:
                    self.add(
                        "duplicate_element",
                        f"properties/{name}/x-element",
                        f"{where}与字段 {bound[code]} 绑定了同一个数据元“{element.name}”，"
                        "同一数据元只能出现一次",
                    )
                bound.setdefault(code, name)
                self.narrowing(name, where, element, prop)
                schema = merged_schema(element, prop)
            else:
                self.custom(name, where, prop)
                if "x-compute" in prop:
                    self.compute(name, where, prop)
                if "x-formula" in prop:
                    self.formula(name, where, prop)
                schema = prop
            self.ranges(name, where, schema)
            self.widget(name, where, prop, schema)
            key = (tuple(prop.get("x-parents", ())), schema.get("title"))
            if key in captions:
                self.add(
                    "duplicate_title",
                    f"properties/{name}/title",
                    f"{where}与字段 {captions[key]} 的标题相同，镇街无法区分这两列；请改用不同的标题",
                )
            captions.setdefault(key, name)
        for i, name in enumerate(self.doc.get("required", [])):
            if name not in props:
                self.add("unknown_required", f"required/{i}", f"必填字段 {name} 不在字段列表中")
            elif "x-compute" in props[name]:
                self.add(
                    "computed_required",
                    f"required/{i}",
                    f"{field_caption(self.doc, name)}由系统计算，镇街不填写，不能设为必填",
                )
        self.rows()
        self.metadata()
        return self.found

    def narrowing(self, name: str, where: str, element: Element, prop: Mapping[str, Any]) -> None:
        """A bound field may narrow its element's values, never widen or retype them."""
        es, kind = element.schema, element.schema.get("type")
        path = f"properties/{name}"
        for key in prop:
            numeric, length = key in _NUMERIC, key in _LENGTH
            if (numeric and kind not in ("number", "integer")) or (length and kind != "string"):
                self.add(
                    "keyword_not_applicable",
                    f"{path}/{key}",
                    f"{where}：数据元“{element.name}”不是{'数字' if key in _NUMERIC else '文本'}，"
                    f"不能设置{label(key)}",
                )
        if "enum" in prop:
            if "enum" in es:
                extra = [v for v in prop["enum"] if v not in es["enum"]]
                if extra:
                    self.add(
                        "enum_outside_element",
                        f"{path}/enum",
                        f"{where}的选项 {_shown(extra)} 不在数据元“{element.name}”的值集"
                        f"（{_shown(es['enum'])}）中；绑定数据元的字段只能从中挑选选项",
                    )
            elif bad := [v for v in prop["enum"] if not _value_ok(v, es)]:
                self.add(
                    "enum_outside_element",
                    f"{path}/enum",
                    f"{where}的选项 {_shown(bad)} 不是数据元“{element.name}”可以取的值",
                )
        # Keywords the property repeats replace the element's; the element's others still apply.
        for key in (*_NUMERIC, *_LENGTH):
            if key not in prop or key not in es or any(f.path == f"{path}/{key}" for f in self.found):
                continue
            if prop[key] < es[key] if key in _LOWER else prop[key] > es[key]:
                self.add(
                    "widens_element",
                    f"{path}/{key}",
                    f"{where}的{label(key)} {prop[key]} 超出了数据元“{element.name}”允许的范围"
                    f"（{es[key]}）；绑定数据元的字段只能收窄取值范围",
                )

    def custom(self, name: str, where: str, prop: Mapping[str, Any]) -> None:
        """A custom field's keywords must suit its type."""
        kind, path = prop["type"], f"properties/{name}"
        rules = [
            (_NUMERIC, ("number", "integer"), "数字或整数"),
            ((*_LENGTH, "pattern", "format"), ("string",), "文本"),
            (_ARRAY, ("array",), "多选"),
        ]
        for keys, kinds, what in rules:
            for key in keys:
                if key in prop and kind not in kinds:
                    self.add(
                        "keyword_not_applicable",
                        f"{path}/{key}",
                        f"{where}的类型不是{what}，不能设置{label(key)}",
                    )
        if "enum" in prop:
            if kind in ("array", "boolean"):
                hint = "多选字段的选项写在 items.enum 中" if kind == "array" else "是/否字段不需要选项"
                self.add("keyword_not_applicable", f"{path}/enum", f"{where}：{hint}")
            elif bad := [v for v in prop["enum"] if not _fits(v, kind)]:
                self.add(
                    "enum_type_mismatch",
                    f"{path}/enum",
                    f"{where}的选项 {_shown(bad)} 与字段类型（{TYPE_NAMES.get(kind, kind)}）不符",
                )
        if kind == "array":
            options = prop.get("items", {}).get("enum")
            if not options:
                self.add(
                    "options_missing", f"{path}/items", f"{where}是多选字段，需要在 items.enum 中列出选项"
                )
            elif prop.get("minItems", 0) > len(options):
                self.add(
                    "empty_range",
                    f"{path}/minItems",
                    f"{where}要求至少选 {prop['minItems']} 项，但只有 {len(options)} 个选项",
                )

    def compute(self, name: str, where: str, prop: Mapping[str, Any]) -> None:
        """A computed field reads existing, non-computed fields of the right type and has a type that fits."""
        rule, path = prop["x-compute"], f"properties/{name}/x-compute"
        op, kind = rule["op"], prop["type"]
        if op in ("age", "year_of") and kind != "integer":
            self.add(
                "compute_type_mismatch",
                f"properties/{name}/type",
                f"{where}计算的是{COMPUTE_OPS[op]}，类型应为 integer（整数）",
            )
        elif op == "sum" and kind not in ("number", "integer"):
            self.add(
                "compute_type_mismatch",
                f"properties/{name}/type",
                f"{where}是合计，类型应为 number（数字）或 integer（整数）",
            )
        sources = (
            [("from", rule["from"])] if "from" in rule else [(f"of/{i}", n) for i, n in enumerate(rule["of"])]
        )
        props = self.doc["properties"]
        for key, ref in sources:
            other, at = props.get(ref), f"{path}/{key}"
            if other is None or ref == name:
                self.add(
                    "compute_unknown_field",
                    at,
                    f"{where}的计算引用了字段 {ref}，但报表中没有这个字段"
                    if other is None
                    else f"{where}的计算不能引用它自己",
                )
                continue
            caption = field_caption(self.doc, ref)
            if "x-compute" in other:
                self.add("compute_chain", at, f"{where}的计算不能引用另一个计算字段（{caption}）")
                continue
            element = self.elements.get(other.get("x-element") or "")
            if "x-element" in other and element is None:
                continue  # reported as unknown_element
            schema = merged_schema(element, other) if element else other
            if element and "title" not in other:
                caption = f"字段“{element.name}”"
            if op != "sum" and field_kind(schema) != "date":
                self.add(
                    "compute_source_type", at, f"{where}按{caption}计算{COMPUTE_OPS[op]}，但它不是日期字段"
                )
            elif op == "sum" and schema.get("type") not in ("number", "integer"):
                self.add("compute_source_type", at, f"{where}是合计，但{caption}不是数字字段")
            elif op == "sum" and kind == "integer" and schema.get("type") == "number":
                self.add(
                    "compute_source_type",
                    at,
                    f"{where}是整数合计，但{caption}可以有小数；请把{where}的类型改为 number（数字）",
                )

    def formula(self, name: str, where: str, prop: Mapping[str, Any]) -> None:
        """An aggregate cell counts a ledger's records or sums a numeric element, in a type that fits."""
        rule, path, kind = prop["x-formula"], f"properties/{name}/x-formula", prop["type"]
        if self.unit is None:
            self.add(
                "formula_without_units",
                path,
                f"{where}是汇总公式，只能用于每个镇街或村（社区）一行的汇总报表；请把数据来源写成 "
                '{"unit": "township"}（每个镇街一行）或 {"unit": "village"}（每个村（社区）一行）',
            )
            return
        if "count" in rule:
            code, element = rule["count"], None
            if self.ledgers is not None and code not in self.ledgers:
                self.add(
                    "unknown_ledger",
                    f"{path}/count",
                    f"{where}计数的台账 {code} 不存在；可选：{'、'.join(self.ledgers) or '（无）'}",
                )
                return
            if kind != "integer":
                self.add(
                    "formula_type_mismatch",
                    f"properties/{name}/type",
                    f"{where}是计数，类型应为 integer（整数）",
                )
        else:
            element = self.elements.get(rule["sum"])
            if element is None:
                self.add(
                    "unknown_element", f"{path}/sum", f"{where}求和的数据元 {rule['sum']} 不在数据元目录中"
                )
                return
            code = element.group
        ledger = self.ledgers.get(code) if self.ledgers is not None else None
        held = {f.element.code for f in ledger.fields} if ledger else None
        if element is not None:
            if self.ledgers is not None and (held is None or element.code not in held):
                self.add(
                    "formula_outside_ledger",
                    f"{path}/sum",
                    f"{where}求和的“{element.name}”（{element.code}）不是任何台账的字段，无法从台账求和",
                )
                return
            numeric = element.schema.get("type")
            if numeric not in ("number", "integer"):
                self.add(
                    "formula_not_numeric",
                    f"{path}/sum",
                    f"{where}只能对数字型数据元求和，“{element.name}”不是数字；要统计个数请用 count",
                )
                return
            if kind not in ("number", "integer"):
                self.add(
                    "formula_type_mismatch",
                    f"properties/{name}/type",
                    f"{where}是求和，类型应为 number（数字）或 integer（整数）",
                )
            elif kind == "integer" and numeric == "number":
                self.add(
                    "formula_type_mismatch",
                    f"properties/{name}/type",
                    f"{where}是整数，但“{element.name}”可以有小数；请把类型改为 number（数字）",
                )
        if self.unit == "village" and ledger is not None and not ledger.village_field:
            self.add(
                "formula_no_village",
                path,
                f"{where}汇总的台账 {code} 没有所属村（社区）字段，不能按村（社区）汇总",
            )
        for i, condition in enumerate(rule.get("where", [])):
            self.condition(
                i,
                condition,
                code,
                held,
                path=f"{path}/where/{i}",
                where=f"{where}的第 {i + 1} 个汇总条件",
                own=f"汇总条件只能使用所汇总台账（{code}）自己的字段",
            )

    def ranges(self, name: str, where: str, schema: Mapping[str, Any]) -> None:
        pairs = [
            ("minimum", "maximum"),
            ("exclusiveMinimum", "maximum"),
            ("minimum", "exclusiveMaximum"),
            ("exclusiveMinimum", "exclusiveMaximum"),
            ("minLength", "maxLength"),
            ("minItems", "maxItems"),
        ]
        for low, high in pairs:
            lo, hi = schema.get(low), schema.get(high)
            if isinstance(lo, int | float) and isinstance(hi, int | float):
                if lo > hi or (lo == hi and "exclusive" in low + high):
                    self.add(
                        "empty_range",
                        f"properties/{name}/{low}",
                        f"{where}的{label(low)} {lo} 大于{label(high)} {hi}，没有任何值能填",
                    )

    def widget(self, name: str, where: str, prop: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
        widget = prop.get("x-widget")
        if widget is None:
            return
        kind = field_kind(schema)
        if widget not in KIND_WIDGETS[kind]:
            usable = "、".join(f"{w}（{WIDGET_NAMES[w]}）" for w in KIND_WIDGETS[kind])
            self.add(
                "widget_mismatch",
                f"properties/{name}/x-widget",
                f"{where}是{_KIND_NAMES[kind]}，不能用“{WIDGET_NAMES.get(widget, widget)}”控件显示；"
                f"可用：{usable}",
            )

    def rows(self) -> None:
        rows = self.doc.get("x-rows") or {}
        code, conditions = rows.get("ledger"), rows.get("filter", [])
        ledger = None
        if code is not None and self.ledgers is not None:
            ledger = self.ledgers.get(code)
            if ledger is None:
                self.add(
                    "unknown_ledger",
                    "x-rows/ledger",
                    f"数据来源台账 {code} 不存在；可选：{'、'.join(self.ledgers) or '（无）'}",
                )
                return
        if conditions and code is None:
            self.add(
                "filter_without_ledger",
                "x-rows/filter",
                "数据来源没有指定台账（由镇街逐行填写），不能设置筛选条件",
            )
            return
        held = {f.element.code for f in ledger.fields} if ledger else None
        for i, condition in enumerate(conditions):
            self.condition(i, condition, code, held)

    def condition(
        self,
        i: int,
        condition: Mapping[str, Any],
        ledger: str,
        held: set[str] | None,
        *,
        path: str = "",
        where: str = "",
        own: str = "筛选条件只能使用数据来源台账自己的字段",
    ) -> None:
        path, where = path or f"x-rows/filter/{i}", where or f"第 {i + 1} 个筛选条件"
        element = self.elements.get(condition["element"])
        if element is None:
            self.add(
                "unknown_element",
                f"{path}/element",
                f"{where}使用的数据元 {condition['element']} 不在数据元目录中",
            )
            return
        if element.group != ledger or (held is not None and element.code not in held):
            self.add(
                "filter_outside_ledger",
                f"{path}/element",
                f"{where}使用的“{element.name}”（{element.code}）不是台账 {ledger} 的字段；{own}",
            )
            return
        op, schema = condition["op"], element.schema
        ordered = schema.get("type") in ("number", "integer") or schema.get("format") == "date"
        if op in _ORDERED_OPS and not ordered:
            self.add(
                "filter_op_mismatch", f"{path}/op", f"{where}：“{element.name}”不是数字或日期，不能比较大小"
            )
            return
        values = condition["value"] if op in ("in", "not_in") else [condition.get("value")]
        if op in ("present", "absent"):
            return
        bad = [v for v in values if not _value_ok(v, schema)]
        if bad:
            hint = f"，可选：{_shown(schema['enum'])}" if "enum" in schema else ""
            self.add(
                "filter_value_invalid",
                f"{path}/value",
                f"{where}的取值 {_shown(bad)} 不是“{element.name}”可以取的值{hint}",
            )

    def metadata(self) -> None:
        deadline = self.doc.get("x-deadline")
        if deadline is not None:
            try:
                date.fromisoformat(deadline)
            except ValueError:
                self.add("invalid_deadline", "x-deadline", f"截止日期 {deadline} 不是真实存在的日期")
        if self.org_units is None:
            return
        for i, code in enumerate(self.doc.get("x-targets", [])):
            unit = self.org_units.get(code)
            if unit is None:
                self.add("unknown_target", f"x-targets/{i}", f"下发范围中的单位代码 {code} 不存在")
            elif unit.level not in ("township", "village"):
                self.add(
                    "target_level",
                    f"x-targets/{i}",
                    f"下发范围只能是镇街或村（社区），{unit.name}（{code}）不是；下发全部镇街请留空",
                )


def check_references(
    document: dict[str, Any],
    elements: Mapping[str, Element],
    ledgers: Mapping[str, Ledger] | None = None,
    org_units: Mapping[str, OrgUnit] | None = None,
) -> list[SpecFinding]:
    """Return the findings about what a meta-schema-valid report document refers to."""
    return _Checker(document, elements, ledgers, org_units).run()
