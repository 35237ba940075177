"""Cell primitives shared by coercion and org-unit lookup: errors, key forms, dates."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

WHITESPACE = re.compile(r"\s+")
_YMD = re.compile(r"^(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}.*)?$")
_YM = re.compile(r"^(\d{4})\s*[-./年]\s*(\d{1,2})\s*月?$")
_EPOCH = dt.date(1899, 12, 30)


class CellError(ValueError):
    """A cell whose content cannot become a value of its field."""


def squeeze(text: str) -> str:
    """Return text with its key form for lookups: half width, no whitespace, lower case."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return WHITESPACE.sub("", text).lower()


def shown(value: Any) -> str:
    """Return a cell as the uploader would read it in a message."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _make_date(year: int, month: int, day: int, shown: str) -> str:
    """Return the ISO date or raise the invalid-date error."""
    if not 1800 <= year <= 2200:
        raise CellError(f"日期无效：{shown}")
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        raise CellError(f"日期无效：{shown}") from None


def parse_date(value: Any) -> str:
    """Return a cell as an ISO date (YYYY-MM-DD), reading every shape Chinese sheets use."""
    if value is True or value is False:
        raise CellError(f"日期格式无法识别：“{value}”")
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float):
        if 1 <= value < 80000:
            return (_EPOCH + dt.timedelta(days=int(value))).isoformat()
        if not float(value).is_integer():
            raise CellError(f"日期格式无法识别：“{value}”")
        value = str(int(value))
    text = str(value).strip()
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    shown = text
    text = text.replace(" ", "")
    if text.isdigit():
        if len(text) == 8:
            return _make_date(int(text[:4]), int(text[4:6]), int(text[6:]), shown)
        if len(text) == 6:
            return _make_date(int(text[:4]), int(text[4:]), 1, shown)
        if len(text) == 5:
            return parse_date(int(text))
    m = _YMD.match(text) or _YMD.match(shown)
    if m:
        return _make_date(int(m[1]), int(m[2]), int(m[3]), shown)
    m = _YM.match(text)
    if m:
        return _make_date(int(m[1]), int(m[2]), 1, shown)
    raise CellError(f"日期格式无法识别：“{shown}”，请写成 1990-01-02 这样的格式")
