"""The Chinese reasons a department admin reads next to each proposed binding."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from builder.catalog.specs import Element
from builder.templates.matching.index import Hit
from builder.templates.matching.labels import LEDGER_SUBJECT_ROLE, parse_label

#: Catalog group → the ledger's Chinese title (the ledger code equals the group).
GROUP_TITLES = {
    "person": "人口台账",
    "household": "家庭台账",
    "house": "房屋台账",
    "land": "土地承包与流转台账",
    "enterprise": "市场主体台账",
}
_ROW_NUMBERS = frozenset({"序号", "序", "行号", "顺序号", "no", "no."})
_SIGNATURES = ("签字", "签名", "签章", "盖章", "手印", "捺印", "指印")


def _target(hit: Hit, element: Element) -> str:
    """Name the standard name, or the alias of it, that the hit is on."""
    if hit.key.is_name or hit.key.text == element.name:
        return f"标准名称“{element.name}”"
    return f"标准名称“{element.name}”的别名“{hit.key.text}”"


def hit_reason(hit: Hit, element: Element, *, caption: str = "") -> str:
    """Say how a label met an element."""
    target = _target(hit, element)
    if hit.how == "fuzzy":
        text = f"与{target}相似度 {hit.similarity:.2f}"
    elif hit.how == "suffix":
        text = f"以{target}结尾，前面的字只是限定（相似度 {hit.similarity:.2f}）"
    elif hit.how == "contains":
        text = f"{target}包含所查文字"
    elif hit.how == "code":
        text = f"数据元编码“{element.code}”与所查文字相符"
    else:
        prefix = {
            "short": "忽略括号内的说明后，",
            "subject": f"去掉表示本人的“{hit.note}”后，",
            "role": f"本列是{hit.key.label.role}的信息，",
            "caption": f"结合上级表头“{hit.note}”，",
            "ledger": f"本表每行对应一位{LEDGER_SUBJECT_ROLE.get(hit.note, '')}"
            f"（{GROUP_TITLES.get(hit.note, hit.note)}），",
        }.get(hit.how, "")
        text = f"{prefix}与{target}一致"
    if caption:
        text = f"按上级表头“{caption}”，{text}"
    return text


def ambiguity_note(rival: Element) -> str:
    """Say that another element fits as well."""
    group = GROUP_TITLES.get(rival.group, rival.group)
    return f"同样接近“{rival.name}”（{group}），无法自动确定，仅作建议"


def duplicate_reason(first_index: int, first_label: str, element: Element) -> str:
    """Say that an earlier column already holds the element."""
    n = first_index + 1
    return (
        f"与第{n}列“{first_label}”同为“{element.name}”，该数据元已绑定给第{n}列；"
        "两列不能绑定同一数据元，请确认本列是否是其他人的信息或重复列"
    )


def inherited_reason(before: Any, first: Any, element: Element, role: str, rem: str) -> str:
    """Say why a bare column is read as the previous column's person."""
    return (
        f"紧跟在第{before.index + 1}列“{before.column.label}”之后，且本人的“{element.name}”"
        f"已由第{first.index + 1}列“{first.column.label}”填写，判断为{role}的{rem}"
    )


def other_person_reason(role: str, rem: str, own: Element | None, caption: str) -> str:
    """Say that a column is about another person and cannot take the subject's element."""
    prefix = f"上级表头“{caption}”表明" if caption else ""
    text = f"{prefix}该列是{role}的{rem}，不是本行对象的，不能绑定到本人的数据元"
    if own is not None:
        return f"{text}“{own.name}”"
    return f"{text}；目录中没有{role}的“{rem}”数据元，可作为自定义字段"


def layout_reason(label: str, caption: str) -> str:
    """Say why a column is layout, not data."""
    if caption:
        return f"位于“{caption}”栏下，是审核、签字等栏目，不是数据"
    short = parse_label(label).short
    if short in _ROW_NUMBERS:
        return f"“{label}”是表格的行号，不是数据"
    if any(word in short for word in _SIGNATURES):
        return f"“{label}”是签字、盖章栏，不是数据"
    return f"“{label}”是审核、审批栏，不是数据"


def unmatched_reason(label: str, best: Any, elements: Mapping[str, Element]) -> str:
    """Say that nothing in the catalog is close enough."""
    if not parse_label(label).short:
        return "表头为空，无法匹配数据元"
    if best is not None:
        name = elements[best.hit.element].name
        return f"目录中没有足够接近的数据元（最接近的是“{name}”，可信度 {best.final:.2f}），可作为自定义字段"
    return f"目录中没有与“{label}”相近的数据元，可作为自定义字段"
