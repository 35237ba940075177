"""What the sample values under a template header look like, and whether an element can hold them.

A 出生日期 column whose samples are ID numbers is not a date column, whatever its label says;
a 家庭人口 column filled with names is not a count. Readers return text codes (phones, IDs)
as numbers, so long digit runs count as codes, not integers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from builder.catalog.specs import Element

_BOOLEAN = frozenset(
    {
        "是",
        "否",
        "√",
        "✓",
        "✔",
        "×",
        "✗",
        "✘",
        "有",
        "无",
        "y",
        "n",
        "yes",
        "no",
        "true",
        "false",
        "☑",
        "□",
        "■",
        "已",
        "未",
    }
)
_ID_NUMBER = re.compile(r"^\d{6}(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{3}[\dXx]$")
_ID_OLD = re.compile(r"^\d{15}$")
_PHONE = re.compile(r"^1[3-9]\d{9}$")
_INTEGER = re.compile(r"^[-+]?\d{1,3}(,\d{3})+$|^[-+]?(0|[1-9]\d{0,9})$")
_NUMBER = re.compile(r"^[-+]?(\d+|\d{1,3}(,\d{3})+)?\.\d+$|^[-+]?\d+\.$")
_UNIT_TAIL = re.compile(r"(亩|元|万元|平方米|平米|㎡|m2|人|岁|户|层|个|年)$")
_DATE = re.compile(
    r"^(19|20)\d{2}\s*[-./年]\s*(0?[1-9]|1[0-2])(\s*[-./月]\s*(0?[1-9]|[12]\d|3[01])\s*日?|\s*月?)$"
)
_DATE_DIGITS = re.compile(r"^(19|20)\d{2}(0[1-9]|1[0-2])((0[1-9]|[12]\d|3[01]))?$")

#: Sample shape → Chinese words for reasons.
SHAPE_WORDS = {
    "date": "日期",
    "id_number": "身份证号码",
    "phone": "手机号码",
    "code": "长数字编码",
    "integer": "整数",
    "number": "数值",
    "boolean": "是/否",
    "text": "文字",
}
KIND_WORDS = {
    "date": "日期",
    "id": "身份证号码",
    "integer": "整数",
    "number": "数值",
    "boolean": "是/否",
    "enum": "固定选项",
    "string": "文字",
}
#: (element kind, sample shape) → factor on the label score; missing pairs are 1.0.
_FACTORS: dict[tuple[str, str], float] = {
    ("date", "id_number"): 0.0,
    ("date", "phone"): 0.3,
    ("date", "code"): 0.4,
    ("date", "text"): 0.75,
    ("date", "number"): 0.6,
    ("date", "boolean"): 0.3,
    ("date", "integer"): 0.7,
    ("id", "date"): 0.3,
    ("id", "phone"): 0.4,
    ("id", "integer"): 0.6,
    ("id", "number"): 0.4,
    ("id", "boolean"): 0.2,
    ("id", "text"): 0.85,
    ("integer", "text"): 0.7,
    ("integer", "number"): 0.9,
    ("integer", "date"): 0.5,
    ("integer", "id_number"): 0.3,
    ("integer", "phone"): 0.4,
    ("integer", "code"): 0.5,
    ("integer", "boolean"): 0.6,
    ("number", "text"): 0.7,
    ("number", "date"): 0.5,
    ("number", "id_number"): 0.3,
    ("number", "phone"): 0.4,
    ("number", "code"): 0.5,
    ("number", "boolean"): 0.6,
    ("boolean", "text"): 0.75,
    ("boolean", "integer"): 0.85,
    ("boolean", "number"): 0.6,
    ("boolean", "date"): 0.4,
    ("boolean", "id_number"): 0.2,
    ("boolean", "phone"): 0.3,
    ("boolean", "code"): 0.3,
    ("enum", "date"): 0.6,
    ("enum", "id_number"): 0.4,
    ("enum", "phone"): 0.5,
    ("enum", "number"): 0.8,
    ("string", "date"): 0.85,
    ("string", "boolean"): 0.9,
}
#: Factors at or below this veto the element outright.
VETO = 0.3


def sample_shape(value: Any) -> str | None:
    """Return the shape of one sample cell, None when it is empty."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, int):
        return _digits_shape(str(abs(value))) or "integer"
    if isinstance(value, float):
        if value.is_integer():
            return _digits_shape(str(int(abs(value)))) or "integer"
        return "number"
    text = str(value).strip()
    if not text:
        return None
    low = text.lower()
    if low in _BOOLEAN:
        return "boolean"
    if text.isdigit():
        return _digits_shape(text) or ("code" if text.startswith("0") and len(text) > 1 else "integer")
    if _ID_NUMBER.match(text):
        return "id_number"
    if _DATE.match(text):
        return "date"
    number = _UNIT_TAIL.sub("", low).strip()
    if _INTEGER.match(number):
        return "integer"
    if _NUMBER.match(number):
        return "number"
    return "text"


def _digits_shape(digits: str) -> str | None:
    """Return the shape of a run of digits that is a code or a date rather than a count."""
    if _ID_NUMBER.match(digits) or _ID_OLD.match(digits):
        return "id_number"
    if _PHONE.match(digits):
        return "phone"
    if _DATE_DIGITS.match(digits):
        return "date"
    if len(digits) >= 11:
        return "code"
    return None


def column_shape(samples: Sequence[Any]) -> str | None:
    """Return the shape all non-empty samples share (integers among numbers count as numbers)."""
    shapes = {s for s in map(sample_shape, samples) if s is not None}
    if not shapes:
        return None
    if len(shapes) == 1:
        return next(iter(shapes))
    if shapes <= {"integer", "number"}:
        return "number"
    if shapes <= {"date", "integer"}:
        return "date" if "date" in shapes else "integer"
    if shapes <= {"phone", "code", "integer"}:
        return "code"
    return "text"


#: What a column's label says of its values when no sample says otherwise (a template's header
#: row has no data): the first pattern that matches decides. 发放金额（元）is a number, 是否低保 a
#: yes/no, 调查日期 a date, 家庭人口数 a count.
_LABEL_TYPES = (
    ("boolean", re.compile(r"^是否|是否[^\s]*$")),
    ("date", re.compile(r"(日期|时间|出生年月|年月日)([（(].*[)）])?$")),
    ("integer", re.compile(r"(年龄|人数|户数|个数|次数|天数|数量|人口数?|口数)([（(].*[)）])?$")),
    (
        "number",
        re.compile(
            r"金额|数额|面积|收入|[（(]\s*(万?元|亩|公顷|平方米|平米|㎡|m2|吨|公斤|千克|米|元/月|元/年)\s*[)）]"
            r"|(万?元|亩)$"
        ),
    ),
)


def label_type(label: str) -> str | None:
    """Return the value type a column's label states (金额, 元, 面积, 亩, 年龄, 日期, 是否 …), or None."""
    text = re.sub(r"\s+", "", label or "")
    return next((kind for kind, pattern in _LABEL_TYPES if pattern.search(text)), None)


def infer_type(samples: Sequence[Any], label: str = "") -> str | None:
    """Return the value type the samples suggest (string, integer, number, date, boolean), else what
    the label states, or None."""
    shape = column_shape(samples)
    if shape is None:
        return label_type(label)
    if shape in ("integer", "number", "date", "boolean"):
        return shape
    return "string"


def element_kind(element: Element) -> str:
    """Return the kind of value an element holds (date, id, integer, number, boolean, enum, string)."""
    schema = element.schema
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind in ("integer", "number", "boolean"):
        return kind
    if schema.get("format") in ("date", "date-time"):
        return "date"
    if schema.get("format") == "gb11643":
        return "id"
    if schema.get("enum"):
        return "enum"
    return "string"


def compatibility(element: Element, samples: Sequence[Any], shape: str | None) -> tuple[float, str]:
    """Return (factor, Chinese note) for how well the samples fit the element's kind."""
    if shape is None:
        return 1.0, ""
    kind = element_kind(element)
    if kind == "enum" and shape in ("text", "integer", "code"):
        allowed = {str(v) for v in element.schema.get("enum", ())} | set(element.codes)
        allowed |= set(element.schema.get("x-synonyms", {}))
        values = {str(v).strip() for v in samples if v is not None and str(v).strip()}
        if values <= allowed:
            return 1.03, f"样例值都在“{element.name}”的可选项内"
        return (0.9, f"样例值“{sorted(values - allowed)[0]}”不在“{element.name}”的可选项内")
    factor = _FACTORS.get((kind, shape), 1.0)
    if factor >= 1.0:
        return 1.0, ""
    verdict = "不予绑定" if factor <= VETO else "降低可信度"
    return factor, (
        f"样例值像{SHAPE_WORDS[shape]}，与“{element.name}”的{KIND_WORDS[kind]}类型不符，{verdict}"
    )
