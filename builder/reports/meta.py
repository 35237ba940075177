"""Validate a report document against the report meta-schema, with Chinese messages.

jsonschema's own messages are English and name JSON paths; a department admin needs to read
which field is wrong and what to write instead. Subschemas of `form_specs/meta/report.schema.json`
may carry an `x-message` (an annotation validators ignore) saying what is expected there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator

from builder.catalog.safety import SpecFinding

#: Report keywords → what a department admin calls them.
LABELS = {
    "title": "名称",
    "description": "说明",
    "type": "类型",
    "x-report": "报表编码",
    "x-version": "版本号",
    "x-department": "所属部门",
    "x-purpose": "填报用途",
    "x-basis": "政策依据",
    "x-rows": "数据来源",
    "x-frequency": "填报频次",
    "x-deadline": "截止日期",
    "x-targets": "下发范围",
    "x-justification": "使用敏感信息的理由",
    "properties": "字段列表",
    "required": "必填字段列表",
    "x-element": "绑定的数据元",
    "x-writeback": "是否回流台账",
    "x-widget": "显示控件",
    "x-help": "填写说明",
    "x-parents": "上级表头",
    "format": "格式",
    "enum": "选项",
    "minimum": "最小值",
    "maximum": "最大值",
    "exclusiveMinimum": "下限（不含）",
    "exclusiveMaximum": "上限（不含）",
    "minLength": "最少字数",
    "maxLength": "最多字数",
    "pattern": "格式（正则表达式）",
    "items": "选项定义",
    "uniqueItems": "不可重复选择",
    "minItems": "最少选择项数",
    "maxItems": "最多选择项数",
    "ledger": "台账",
    "filter": "筛选条件",
    "element": "数据元",
    "op": "运算",
    "value": "取值",
    "additionalProperties": "additionalProperties",
    "unit": "汇总单位",
    "x-formula": "汇总公式",
    "x-compute": "计算方式",
    "count": "计数的台账",
    "sum": "求和的数据元",
    "where": "汇总条件",
}
TYPE_NAMES = {
    "string": "文字",
    "integer": "整数",
    "number": "数字",
    "boolean": "是/否（true 或 false）",
    "object": "对象（{…}）",
    "array": "列表（[…]）",
    "null": "null",
}


@lru_cache(maxsize=8)
def _validator_for(text: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(text))


def meta_validator(meta: Mapping[str, Any] | None) -> Draft202012Validator:
    """Return a validator of the report meta-schema (`meta/report.schema.json` of the spec folder)."""
    if meta is None:
        # An empty schema would accept anything: a spec folder without its meta-schema is broken.
        raise ValueError("规格目录缺少报表元模式 meta/report.schema.json，无法检查报表")
    return _validator_for(json.dumps(meta, sort_keys=True, ensure_ascii=False))


def label(key: Any) -> str:
    """Return the Chinese name of a report keyword (the key itself when it has none)."""
    return LABELS.get(key, str(key))


def field_caption(document: Any, name: str) -> str:
    """Return how a field is named in messages: its title, else its property name."""
    prop = document.get("properties", {}).get(name) if isinstance(document, dict) else None
    if isinstance(prop, dict) and isinstance(prop.get("title"), str) and prop["title"]:
        return f"字段“{prop['title']}”"
    return f"字段“{name}”"


def describe_path(parts: list[Any], document: Any) -> str:
    """Return a place in a report document as a department admin would say it."""
    if not parts:
        return "报表规格"
    head, rest = parts[0], parts[1:]
    if head == "properties" and rest:
        words = [field_caption(document, str(rest[0]))] + [
            label(p) for p in rest[1:] if not isinstance(p, int)
        ]
        return "的".join(words)
    if head == "x-rows" and len(rest) >= 2 and rest[0] == "filter" and isinstance(rest[1], int):
        words = [f"第 {rest[1] + 1} 个筛选条件"] + [label(p) for p in rest[2:] if not isinstance(p, int)]
        return "的".join(words)
    if head == "x-targets" and rest and isinstance(rest[0], int):
        return f"下发范围第 {rest[0] + 1} 项"
    return "的".join(label(p) for p in parts if not isinstance(p, int))


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:40] + "…"


def _translate(error: Any, document: Any) -> SpecFinding:
    parts = list(error.absolute_path)
    kind, expected, value = error.validator, error.validator_value, error.instance
    hint = error.schema.get("x-message", "") if isinstance(error.schema, dict) else ""
    if "propertyNames" in error.relative_schema_path:
        parts.append(value)
        return SpecFinding("meta_property_name", "/".join(map(str, parts)), f"字段名“{value}”不合规：{hint}")
    where = describe_path(parts, document)
    if kind == "required":
        missing = [k for k in expected if isinstance(value, dict) and k not in value] or list(expected)
        parts.append(missing[0])
        message = f"{where}缺少“{label(missing[0])}”（{missing[0]}）"
    elif kind == "additionalProperties":
        known = error.schema.get("properties", {})
        extra = "、".join(f"“{k}”" for k in value if k not in known)
        message = f"{where}中有不允许的关键字{extra}" + (f"。{hint}" if hint else "")
    elif kind == "type":
        types = expected if isinstance(expected, list) else [expected]
        message = f"{where}应为{'或'.join(TYPE_NAMES.get(t, t) for t in types)}，现在是 {_shown(value)}"
    elif kind in ("enum", "const", "pattern", "not", "minProperties") and hint:
        now = "" if kind in ("not", "minProperties") else f"（现在是 {_shown(value)}）"
        # A top-level keyword's hint names it already; deeper ones need the field or condition.
        message = f"{hint}{now}" if len(parts) == 1 else f"{where}：{hint}{now}"
    elif kind == "minLength":
        message = f"{where}不能为空" if expected == 1 else f"{where}至少需要 {expected} 个字符"
    elif kind == "maxLength":
        message = f"{where}超过 {expected} 个字符"
    elif kind in ("minimum", "exclusiveMinimum"):
        message = f"{where}不能小于{'或等于' if kind == 'exclusiveMinimum' else ''} {expected}"
    elif kind == "minItems":
        message = f"{where}至少需要 {expected} 项"
    elif kind == "maxItems":
        message = f"{where}最多 {expected} 项"
    elif kind == "uniqueItems":
        message = f"{where}中有重复的项"
    elif kind in ("enum", "const"):
        message = f"{where}的取值 {_shown(value)} 不在允许的范围内：{_shown(expected)}"
    else:
        message = f"{where}不符合要求" + (f"：{hint}" if hint else f"（{error.message}）")
    return SpecFinding(f"meta_{kind}", "/".join(map(str, parts)), message)


def check_meta(document: Any, meta: Mapping[str, Any] | None) -> list[SpecFinding]:
    """Return the meta-schema findings of a report document (empty when it conforms)."""
    errors = sorted(
        meta_validator(meta).iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path]
    )
    found: list[SpecFinding] = []
    for error in errors:
        finding = _translate(error, document)
        if finding not in found:
            found.append(finding)
    return found
