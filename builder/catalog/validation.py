"""Validate ledger records: a compiled JSON Schema validator plus coded cross-field checks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any

import jsonschema_rs

from builder.catalog.specs import Ledger
from builder.checkdigits import (
    DISABILITY_CATEGORY_DIGITS,
    DISABILITY_GRADE_DIGITS,
    disability_cert_problem,
    id_problem,
    uscc_problem,
)


def _is_date(value: str) -> bool:
    try:
        return len(value) == 10 and bool(date.fromisoformat(value))
    except ValueError:
        return False


def _date_problem(value: str) -> str | None:
    return None if _is_date(value) else f"日期无效：“{value}”，应为 YYYY-MM-DD 格式的真实日期"


#: Custom formats of the spec language: format name → function returning a problem or None.
FORMAT_PROBLEMS: dict[str, Callable[[str], str | None]] = {
    "gb11643": id_problem,
    "gb32100": uscc_problem,
    "disability-cert": disability_cert_problem,
    "date": _date_problem,
}

#: Custom formats for jsonschema-rs. "date" is checked by jsonschema-rs itself (a real calendar
#: date); only our own formats call back into Python, which costs a function call per value.
FORMATS = {name: (lambda v, f=fn: f(v) is None) for name, fn in FORMAT_PROBLEMS.items() if name != "date"}

_TYPE_NAMES = {
    "string": "文本",
    "integer": "整数",
    "number": "数字",
    "boolean": "是/否",
    "object": "对象",
    "array": "列表",
    "null": "空值",
}


def _options(values: Iterable[Any], limit: int = 8) -> str:
    values = [str(v) for v in values]
    text = "、".join(values[:limit])
    return text + ("等" if len(values) > limit else "")


def error_message(error: Any, schema: Mapping[str, Any], title: str | None = None) -> str:
    """Translate one jsonschema-rs error into a Chinese sentence for the person who must fix it.

    With a `title` the sentence names the field (「性别」的值…), for lists of a record's errors;
    without, it is the short message shown next to the cell itself (必须是0到150之间的整数).
    """
    name = type(error.kind).__name__
    value = error.instance
    prefix = f"「{title}」" if title else ""
    if name == "Enum":
        options = _options(schema.get("enum", ()))
        if title:
            return f"「{title}」的值“{value}”不在可选范围内：{options}"
        return f"“{value}”不在可选范围内，请从{options}中选择"
    if name == "Type":
        return f"{prefix}应为{_TYPE_NAMES.get(schema.get('type'), schema.get('type'))}"
    if name == "Format":
        problem = FORMAT_PROBLEMS.get(schema.get("format"), lambda v: None)(value)
        return problem or f"{prefix}格式不正确"
    if name == "Pattern":
        return f"{prefix}格式不正确：“{value}”"
    if name == "MaxLength":
        return f"{prefix}最多{schema['maxLength']}个字"
    if name == "MinLength":
        return f"{prefix}至少{schema['minLength']}个字"
    if name in ("Minimum", "Maximum", "ExclusiveMinimum", "ExclusiveMaximum"):
        return _range_message(schema, prefix)
    if name == "MinItems":
        return f"{prefix}至少选{schema['minItems']}项"
    if name == "MaxItems":
        return f"{prefix}最多选{schema['maxItems']}项"
    if name == "UniqueItems":
        return f"{prefix}选项不能重复"
    return f"{prefix}不符合要求：{error.message}"


def _range_message(schema: Mapping[str, Any], prefix: str) -> str:
    noun = "整数" if schema.get("type") == "integer" else "数"
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if low is not None and high is not None:
        return f"{prefix}必须是{low}到{high}之间的{noun}"
    if low is not None:
        word = "大于" if "exclusiveMinimum" in schema else "不小于"
        return f"{prefix}必须{word}{low}"
    word = "小于" if "exclusiveMaximum" in schema else "不大于"
    return f"{prefix}必须{word}{high}"


def _check_birth_date(row: dict[str, Any], found: dict[str, str]) -> dict[str, str]:
    id_number, birth = row.get("id_number"), row.get("birth_date")
    if not (id_number and birth) or "id_number" in found or "birth_date" in found:
        return {}
    if id_number[6:14] != birth.replace("-", ""):
        # The ID number's own digits are never quoted: the reader may see the number masked.
        return {"birth_date": f"出生日期{birth}与公民身份号码中的出生日期不一致"}
    return {}


def _check_gender(row: dict[str, Any], found: dict[str, str]) -> dict[str, str]:
    id_number, gender = row.get("id_number"), row.get("gender")
    if not (id_number and gender in ("男", "女")) or "id_number" in found:
        return {}
    expected = "男" if int(id_number[16]) % 2 else "女"
    if gender != expected:
        return {"gender": f"性别“{gender}”与公民身份号码第17位（{expected}）不一致"}
    return {}


def _check_disability_cert(row: dict[str, Any], found: dict[str, str]) -> dict[str, str]:
    cert = row.get("disability_cert_no")
    if not cert or "disability_cert_no" in found:
        return {}
    if row.get("id_number") and cert[:18] != row["id_number"]:
        return {"disability_cert_no": "残疾人证号前18位与本人公民身份号码不一致"}
    category = DISABILITY_CATEGORY_DIGITS[cert[18]]
    if row.get("disability_category") and row["disability_category"] != category:
        return {"disability_category": f"残疾类别与残疾人证号第19位（{category}）不一致"}
    grade = DISABILITY_GRADE_DIGITS[cert[19]]
    if row.get("disability_grade") and row["disability_grade"] != grade:
        return {"disability_grade": f"残疾等级与残疾人证号第20位（{grade}）不一致"}
    return {}


#: Cross-field checks a ledger spec names in `x-row-checks`; each sees the errors found so far
#: and skips fields already in error (their values cannot be compared).
ROW_CHECKS: dict[str, Callable[[dict[str, Any], dict[str, str]], dict[str, str]]] = {
    "id_matches_birth_date": _check_birth_date,
    "id_matches_gender": _check_gender,
    "disability_cert_matches_id": _check_disability_cert,
}


class RowValidator:
    """A compiled validator of one ledger's records, reporting every error of every row."""

    def __init__(self, ledger: Ledger, *, partial: bool = False):
        """Compile the ledger's row schema once; `partial` checks the values given, none required.

        A partial row updates some fields of an existing record (a department pushing its own
        elements): whether a new record has its required fields is decided where it is known
        to be new.
        """
        self.ledger = ledger
        schema = ledger.row_schema()
        if partial:
            schema["required"] = []
        self._validator = jsonschema_rs.validator_for(schema, formats=FORMATS, validate_formats=True)
        self._checks = [ROW_CHECKS[name] for name in ledger.row_checks]

    def errors(self, row: dict[str, Any]) -> dict[str, str]:
        """Return field name → Chinese message for every problem of `row` (empty when valid)."""
        found: dict[str, str] = {}
        if not self._validator.is_valid(row):
            for error in self._validator.iter_errors(row):
                self._add(found, error)
        for check in self._checks:
            for name, message in check(row, found).items():
                found.setdefault(name, message)
        return found

    def _add(self, found: dict[str, str], error: Any) -> None:
        kind = type(error.kind).__name__
        by_name = self.ledger.by_name
        if kind == "Required":
            name = error.kind.property
            found.setdefault(name, f"「{by_name[name].title}」必须填写")
        elif kind == "AdditionalProperties":
            for name in error.kind.unexpected:
                found.setdefault(name, f"台账中没有字段“{name}”")
        else:
            name = str(error.instance_path[0]) if error.instance_path else ""
            field = by_name.get(name)
            if field is None:
                found.setdefault(name, error.message)
            else:
                found.setdefault(name, error_message(error, field.schema, field.title))
