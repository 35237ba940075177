"""Read a template file into sheets of cells with their merged ranges, and clean cell text.

Workbooks (.xlsx/.xlsm/.xlsb/.xls/.ods) are read with calamine, which also reports merged
ranges for .xlsx and .xls (an .ods reads as unmerged); delimited text goes through
`builder.tabular.reading.read_table` (encoding detection) and has no merges. Refusals are the same
`ImportRefused` findings the ledger import uses.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import PurePath
from typing import Any

from python_calamine import CalamineWorkbook, PasswordError, SheetTypeEnum, SheetVisibleEnum

from builder.problems import FileProblem, ImportRefused
from builder.tabular import reading as tabular
from builder.tabular.limits import TEMPLATE_LIMITS, ReadLimits, measure, one_large_parse

#: A merged range as calamine gives it: ((top, left), (bottom, right)), 0-based and inclusive.
Merge = tuple[tuple[int, int], tuple[int, int]]

_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_LINE_BREAKS = re.compile(r"\s*[\r\n\u2028\u2029]+\s*")
_SPACES = re.compile(r"[ \t\u3000\xa0]+")
_CJK = r"\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef"
_PADDING = re.compile(rf"(?<=[{_CJK}]) (?=[{_CJK}])")
_WORD = re.compile(r"[0-9A-Za-z]")
#: Excel keeps 15 significant digits: a larger "integral" float is a rounded number, not an int.
_EXACT_INT = 10**15


@dataclass
class Sheet:
    """One worksheet: rows of raw cells (row i is sheet row i+1) and its merged ranges."""

    name: str
    rows: list[list[Any]]
    merges: list[Merge] = field(default_factory=list)


def read_sheets(
    data: bytes, filename: str, *, max_bytes: int, limits: ReadLimits | None = None
) -> Iterator[Sheet]:
    """Yield the file's worksheets with content, visible sheets first, or refuse the file.

    Sheets are read one at a time: the caller stops at the first that holds a template. The file
    is measured against `limits` (a template's, with `max_bytes`, by default) before it is parsed.
    """
    limits = limits or replace(TEMPLATE_LIMITS, max_bytes=max_bytes)
    name = PurePath(filename or "").name or "上传的文件"
    if not data.startswith(_ZIP) and not data.startswith(_OLE):
        # Text, HTML under an Excel name, empty or oversized files: the ledger import's rules apply.
        rows = tabular.read_table(data, name, limits=limits)
        yield Sheet(PurePath(name).stem or name, rows)
        return
    extension = PurePath(name).suffix.lower()
    if extension and extension not in tabular.WORKBOOK_EXTENSIONS | tabular.TEXT_EXTENSIONS:
        raise ImportRefused(FileProblem.UNSUPPORTED_TYPE, extension=extension, filename=name)
    tabular.check_size(data, name, limits)
    with one_large_parse(measure(data, name, limits).cells, name, limits):
        yield from _read_workbook(data, name)


def _read_workbook(data: bytes, name: str) -> Iterator[Sheet]:
    """Yield the worksheets with content of a workbook already measured."""
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except PasswordError as error:
        raise ImportRefused(FileProblem.ENCRYPTED, filename=name) from error
    except tabular.STOPPING:
        raise
    except MemoryError as error:
        raise ImportRefused(FileProblem.TOO_COMPLEX, filename=name) from error
    except BaseException as error:  # CalamineError, a Rust panic, plain errors of broken archives
        raise tabular._refusal(data, name, error) from error
    found = False
    with workbook:
        order = sorted(
            (m.visible != SheetVisibleEnum.Visible, i)
            for i, m in enumerate(workbook.sheets_metadata)
            if m.typ == SheetTypeEnum.WorkSheet
        )
        for _hidden, index in order:
            sheet = _read_sheet(workbook, index, name)
            if sheet is not None:
                found = True
                yield sheet
    if not found:
        raise ImportRefused(FileProblem.FILE_EMPTY, filename=name)


def _read_sheet(workbook: CalamineWorkbook, index: int, name: str) -> Sheet | None:
    """Return one worksheet with its merged ranges, None when it holds nothing."""
    try:
        sheet = workbook.get_sheet_by_index(index)
        rows = sheet.to_python(skip_empty_area=False)
        merges = list(sheet.merged_cell_ranges or ())
    except tabular.STOPPING:
        raise
    except MemoryError as error:
        raise ImportRefused(FileProblem.TOO_COMPLEX, filename=name) from error
    except BaseException as error:  # CalamineError, or a Rust panic (not an Exception)
        raise tabular._unreadable(name, error) from error
    while rows and all(is_empty(c) for c in rows[-1]):
        rows.pop()
    return Sheet(sheet.name, rows, merges) if rows else None


def is_empty(value: Any) -> bool:
    """Tell whether a cell holds nothing (None, or only whitespace)."""
    return value is None or (isinstance(value, str) and not value.strip())


def clean_label(value: Any) -> str:
    """Return a header cell as one line of text, as written but without layout whitespace."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return _text_of(sample_value(value))
    text = _LINE_BREAKS.sub(_joiner, value.strip())
    text = _SPACES.sub(" ", text)
    # Forms pad short labels to the cell width (“姓  名”); the spaces carry no meaning.
    return _PADDING.sub("", text)


def _joiner(match: re.Match[str]) -> str:
    """Join the two sides of a line break: with a space only between two Latin words."""
    text, start, end = match.string, match.start(), match.end()
    if start and end < len(text) and _WORD.match(text[start - 1]) and _WORD.match(text[end]):
        return " "
    return ""


def clean_note(value: Any) -> list[str]:
    """Return the lines of a note cell, each stripped and with runs of spaces collapsed."""
    if isinstance(value, str):
        lines = (_SPACES.sub(" ", line).strip() for line in value.splitlines())
        return [line for line in lines if line]
    return [] if value is None else [_text_of(sample_value(value))]


def sample_value(value: Any) -> Any:
    """Return a data cell with its type kept: int, float, date, datetime, bool or stripped str."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < _EXACT_INT else value
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time() else value
    if isinstance(value, (int, dt.date)):
        return value
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    return str(value)


def _text_of(value: Any) -> str:
    """Return a typed value as the text a person would read."""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def column_letter(index: int) -> str:
    """Return the Excel letters of a 0-based column index (0 → A, 27 → AB)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
