"""Check characters of GB 11643 (citizen ID numbers) and GB 32100 (unified social credit codes)."""

from __future__ import annotations

import re
from operator import mul

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")
_ID_OFFSET = 48 * sum(_ID_WEIGHTS)

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

DISABILITY_CATEGORY_DIGITS = {
    "1": "视力",
    "2": "听力",
    "3": "言语",
    "4": "肢体",
    "5": "智力",
    "6": "精神",
    "7": "多重",
}
DISABILITY_GRADE_DIGITS = {"1": "一级", "2": "二级", "3": "三级", "4": "四级"}


def id_check_char(first17: str) -> str:
    """Return the GB 11643 check character for the first 17 digits."""
    # Bytes of ASCII digits are their code points: subtract 48 from each, i.e. 48·Σw at once.
    total = sum(map(mul, first17.encode("ascii"), _ID_WEIGHTS)) - _ID_OFFSET
    return _ID_CHECK[total % 11]


def id_problem(value: str) -> str | None:
    """Return why `value` is not a valid citizen ID number, or None when it is valid."""
    if len(value) != 18:
        return f"公民身份号码应为18位，实际为{len(value)}位"
    if not _ID_SHAPE.match(value):
        return "公民身份号码前17位应为数字，末位为数字或X"
    month, day = int(value[10:12]), int(value[12:14])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return "公民身份号码中的出生日期无效"
    if id_check_char(value[:17]) != value[17]:
        return "公民身份号码校验位错误"
    return None


def uscc_check_char(first17: str) -> str:
    """Return the GB 32100 check character for the first 17 characters."""
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_problem(value: str) -> str | None:
    """Return why `value` is not a valid unified social credit code, or None when it is valid."""
    if len(value) != 18:
        return f"统一社会信用代码应为18位，实际为{len(value)}位"
    bad = [c for c in value if c not in _USCC_VALUE]
    if bad:
        return f"统一社会信用代码含有非法字符“{bad[0]}”（不使用 I、O、S、V、Z）"
    if uscc_check_char(value[:17]) != value[17]:
        return "统一社会信用代码校验位错误"
    return None


def disability_cert_problem(value: str) -> str | None:
    """Return why `value` is not a valid disability certificate number, or None."""
    if len(value) != 20:
        return f"残疾人证号应为20位（身份证号+类别+等级），实际为{len(value)}位"
    problem = id_problem(value[:18])
    if problem:
        return "残疾人证号前18位不是有效的公民身份号码：" + problem
    if value[18] not in DISABILITY_CATEGORY_DIGITS:
        return "残疾人证号第19位应为残疾类别代码1–7"
    if value[19] not in DISABILITY_GRADE_DIGITS:
        return "残疾人证号第20位应为残疾等级代码1–4"
    return None
