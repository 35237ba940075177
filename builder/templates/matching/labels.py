"""Read a column label the way a person does: its comparable form, unit, whose data it is, layout.

Real templates put several persons in one row (申请人, 监护人, 父亲, 母亲, 户主 …). A column
about another person must never be filled from the row subject's element, so every label is
split into the person it is about (`role`, None for the row's subject) and what it asks of
that person (`rem`). The catalog's names and aliases go through the same split, so
“监护人联系电话” and “监护人的手机” meet on (“监护人”, “联系电话”/“手机”).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from builder.tabular.headers import normalize_label

#: Spelling → canonical role of a person other than the row's subject, longest spelling first.
ROLE_SPELLINGS: dict[str, str] = {
    "法定监护人": "监护人",
    "监护人": "监护人",
    "家长": "家长",
    "法定代理人": "法定代理人",
    "委托代理人": "代理人",
    "代理人": "代理人",
    "父母": "父母",
    "父亲": "父亲",
    "爸爸": "父亲",
    "父": "父亲",
    "母亲": "母亲",
    "妈妈": "母亲",
    "母": "母亲",
    "配偶": "配偶",
    "妻子": "妻子",
    "丈夫": "丈夫",
    "子女": "子女",
    "儿子": "儿子",
    "女儿": "女儿",
    "外祖父": "外祖父",
    "外祖母": "外祖母",
    "祖父": "祖父",
    "祖母": "祖母",
    "爷爷": "祖父",
    "奶奶": "祖母",
    "外公": "外祖父",
    "外婆": "外祖母",
    "紧急联系人": "紧急联系人",
    "紧急联系": "紧急联系人",
    "联系人": "联系人",
    "赡养人": "赡养人",
    "抚养人": "抚养人",
    "扶养人": "扶养人",
    "经办人": "经办人",
    "共同申请人": "共同申请人",
    "担保人": "担保人",
    "证明人": "证明人",
    "户主": "户主",
    # The person a land or house row is about: the contractor, the owner.
    "承包方代表": "承包方",
    "承包户主": "承包方",
    "承包方": "承包方",
    "承包户": "承包方",
    "承包人": "承包方",
    "承包农户": "承包方",
    "流出方": "承包方",
    "房屋所有权人": "产权人",
    "所有权人": "产权人",
    "产权人": "产权人",
    "房主": "产权人",
    "屋主": "产权人",
    "权利人": "产权人",
    "业主": "产权人",
    "法定代表人": "法定代表人",
    "法人代表": "法定代表人",
    # The other party of a land transfer.
    "流入方": "流入方",
    "受让方": "流入方",
    "承租方": "流入方",
    "转入方": "流入方",
}
_ROLE_AT_START = re.compile("|".join(map(re.escape, sorted(ROLE_SPELLINGS, key=len, reverse=True))))

#: Words naming the row's own subject; stripped before lookup (“申请人身份证号” → “身份证号”).
SUBJECT_WORDS = (
    "被监护人",
    "被救助人",
    "救助对象",
    "服务对象",
    "保障对象",
    "帮扶对象",
    "户籍人员",
    "家庭成员",
    "困难群众",
    "申请人",
    "申报人",
    "受助人",
    "参保人",
    "残疾人",
    "退役军人",
    "本人",
    "个人",
    "对象",
    "居民",
    "村民",
    "群众",
    "人员",
    "成员",
    "老人",
    "学生",
    "儿童",
    "患者",
)
_SUBJECT_AT_START = re.compile("|".join(map(re.escape, sorted(SUBJECT_WORDS, key=len, reverse=True))))

#: The row ledger whose subject a role names: such columns are the row's own person.
LEDGER_SUBJECT_ROLE = {"land": "承包方", "house": "产权人", "household": "户主"}

_NUMBERED = re.compile(r"^(?:[0-9]+|[一二三四五六七八九十]+)")
_LEADING_NO = re.compile(r"^(?:[0-9]{1,2}|[一二三四五六七八九十]{1,3})[、.．)）]")
_BRACKET_WORDS = re.compile(r"[(\[【〔{]([^()\[\]【】〔〕{}]*)[)\]】〕}]")
_BRACKET_CHARS = re.compile(r"[()\[\]【】〔〕{}]")
_NOISE = re.compile(r"[\s*※★☆]+")
_DE = re.compile(r"(?<![目标])的|之(?![前后间内外日])")
_CAPTION_SUFFIX = re.compile(
    r"(?:的)?(?:基本情况|基本信息|相关信息|身份信息|信息|情况|资料|概况|明细|栏|部分)$"
)
_SLASH_UNIT = re.compile(r"[/／]\s*(?:单位[:：]?)?([^/／]{1,5})$")

#: Unit spellings → (dimension, unit); two units of one dimension contradict each other.
UNITS: dict[str, tuple[str, str]] = {
    "亩": ("area", "亩"),
    "平方米": ("area", "平方米"),
    "平米": ("area", "平方米"),
    "m2": ("area", "平方米"),
    "m^2": ("area", "平方米"),
    "平方": ("area", "平方米"),
    "元": ("money", "元"),
    "万元": ("money", "万元"),
    "人": ("count", "人"),
    "户": ("count", "户"),
    "元/亩": ("price", "元/亩"),
    "元/亩·年": ("price", "元/亩"),
    "元/亩/年": ("price", "元/亩"),
}

_LAYOUT_EXACT = frozenset(
    {
        "序号",
        "序",
        "行号",
        "顺序号",
        "no",
        "no.",
        "操作",
        "审核",
        "审批",
        "复核",
        "审核人",
        "审批人",
        "复核人",
        "核实人",
        "核查人",
        "填表人",
        "填报人",
        "录入人",
        "走访人",
        "调查人",
        "统计人",
        "经办人",
    }
)
_LAYOUT_WORDS = ("签字", "签名", "签章", "盖章", "手印", "捺印", "指印")
_LAYOUT_TAIL = re.compile(r"(?:意见|(?:审核|审批|复核|核实|签字|签名|填表|填报|录入)(?:日期|时间))$")


@dataclass(frozen=True)
class Label:
    """A label taken apart: comparable forms, unit, the person it is about and what it asks."""

    text: str  # the label as written (caption role prepended when inherited)
    short: str  # comparable form without bracketed words
    full: str  # comparable form keeping bracketed words
    unit: tuple[str, str] | None
    role: str | None  # canonical role of another person; None for the row's subject
    role_word: str  # the role as spelled in the label ("" when none)
    rem: str  # what the label asks of that person (short form, no role word)
    stripped: str  # subject word removed from `rem` ("" when none)


def _comparable(text: str) -> str:
    """Drop 的/之 particles and unify the trailing 号/码/号码 spellings."""
    text = _DE.sub("", text) or text
    if text.endswith("号码"):
        return text[:-1]
    if text.endswith("码") and not text.endswith(("编码", "代码", "密码", "条码")):
        return text[:-1] + "号"
    return text


def _unit_of(words: Sequence[str]) -> tuple[str, str] | None:
    """Return the first unit named by the bracketed words or a trailing “/亩”."""
    for word in words:
        word = re.sub(r"^单位[:：]?", "", word.strip().lower())
        if word in UNITS:
            return UNITS[word]
    return None


def parse_label(text: Any) -> Label:
    """Take a column label apart (full/half width, spaces, brackets, units, 的/之, roles)."""
    raw = "" if text is None else str(text)
    nfkc = _NOISE.sub("", unicodedata.normalize("NFKC", raw))
    nfkc = _LEADING_NO.sub("", nfkc) or nfkc
    words = _BRACKET_WORDS.findall(nfkc)
    short = normalize_label(nfkc)
    full = _BRACKET_CHARS.sub("", nfkc).lower().rstrip(":：")
    slash = _SLASH_UNIT.search(short)
    if slash and slash.group(1).lower() in UNITS and slash.start() > 0:  # “面积/亩”
        words.append(slash.group(1))
        short, full = short[: slash.start()], _SLASH_UNIT.sub("", full) or full
    short, full = _comparable(short), _comparable(full)
    role, role_word, rem, stripped = split_role(short)
    if role is None:
        for word in words:  # “联系电话（监护人）”
            inner = _comparable(normalize_label(word))
            if inner in ROLE_SPELLINGS:
                role, role_word = ROLE_SPELLINGS[inner], inner
    return Label(raw.strip(), short, full, _unit_of(words), role, role_word, rem, stripped)


def split_role(short: str) -> tuple[str | None, str, str, str]:
    """Split a comparable label into (role, role word, remainder, stripped subject word)."""
    rem, stripped = short, ""
    subject = _SUBJECT_AT_START.match(rem)
    if subject and len(rem) > subject.end():
        word, tail = subject.group(), rem[subject.end() :]
        if _NUMBERED.match(tail):  # 成员1姓名: the first of several other persons
            return "家庭成员", word, _NUMBERED.sub("", tail) or "姓名", ""
        rem, stripped = tail, word
    role = _ROLE_AT_START.match(rem)
    if role:
        tail = _NUMBERED.sub("", rem[role.end() :])
        return ROLE_SPELLINGS[role.group()], role.group(), tail or "姓名", stripped
    return None, "", rem, stripped


@dataclass(frozen=True)
class Captions:
    """What the group captions above a column say about it."""

    role_word: str = ""  # “父亲” from “父亲信息”: the column is that person's
    role_caption: str = ""
    qualifier: str = ""  # “流转” from “流转情况”: prefixed to the leaf for a second lookup
    qualifier_caption: str = ""
    layout_caption: str = ""  # “村委会审核意见”: everything below is layout


def caption_context(parents: Sequence[str]) -> Captions:
    """Read the captions above a column, the innermost first.

    “父亲信息” over “姓名” makes the column the father's; “申请人基本情况” makes it the subject's
    (outer captions are then not asked); “流转情况” over “面积” qualifies it (“流转面积”).
    """
    qualifier, qualifier_caption = "", ""
    for caption in reversed(parents):
        short = _comparable(normalize_label(caption))
        if not short:
            continue
        if layout_label(short):
            return Captions(layout_caption=caption.strip())
        stem = _CAPTION_SUFFIX.sub("", short) or short
        if stem in ROLE_SPELLINGS:
            return Captions(stem, caption.strip(), qualifier, qualifier_caption)
        if stem in SUBJECT_WORDS or stem in ("基本", "本人"):
            break
        if not qualifier and len(stem) <= 8:
            qualifier, qualifier_caption = stem, caption.strip()
    return Captions(qualifier=qualifier, qualifier_caption=qualifier_caption)


def layout_label(short: str) -> bool:
    """Tell whether a comparable label is a layout column (row number, signature, approval)."""
    if short in _LAYOUT_EXACT:
        return True
    return any(word in short for word in _LAYOUT_WORDS) or bool(_LAYOUT_TAIL.search(short))


def is_layout(label: str) -> bool:
    """Tell whether a column label is layout (序号, 签字/盖章, 审核/审批意见), not data."""
    return layout_label(parse_label(label).short)
