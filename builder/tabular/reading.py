"""Read an uploaded spreadsheet or CSV file into rows of cells, judging by content, not name.

Cells are str, int, float, bool, datetime/date/time or None; an empty cell is "" (calamine and
the csv module both say so) or None. Whitespace is left alone here: coercion strips it lazily.
"""

from __future__ import annotations

import codecs
import csv
import gc
import io
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import PurePath
from typing import Any

from python_calamine import (
    CalamineWorkbook,
    PasswordError,
    SheetTypeEnum,
    SheetVisibleEnum,
)

from builder.problems import FileProblem, ImportRefused
from builder.tabular.limits import LEDGER_LIMITS, ReadLimits, measure, one_large_parse

MAX_BYTES = 50 * 1024 * 1024
#: Exceptions that stop the process, not the reading of one file.
STOPPING = (KeyboardInterrupt, SystemExit, GeneratorExit)
WORKBOOK_EXTENSIONS = frozenset({".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"})
TEXT_EXTENSIONS = frozenset({".csv", ".txt", ".tsv"})

_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")
_DELIMITERS = (",", "\t", ";", "|")


def read_table(
    data: bytes,
    filename: str,
    *,
    max_bytes: int = MAX_BYTES,
    fill_merged: bool = True,
    limits: ReadLimits | None = None,
    measured: bool = False,
    waiting: Callable[[], None] | None = None,
) -> list[list[Any]]:
    """Return the first non-empty sheet of the file as rows of cells (row i is sheet row i+1).

    The file is measured against `limits` (the ledger import's, with `max_bytes`, by default)
    before it is parsed, unless the caller already did (`measured`); `waiting` is called when a
    large parse must wait for another to end.
    """
    limits = limits or replace(LEDGER_LIMITS, max_bytes=max_bytes)
    name = PurePath(filename or "").name or "上传的文件"
    check_size(data, name, limits)
    if not data[:4096].strip() and not data.strip():
        raise ImportRefused(FileProblem.FILE_EMPTY, filename=name)
    extension = PurePath(name).suffix.lower()
    if extension not in WORKBOOK_EXTENSIONS and extension not in TEXT_EXTENSIONS and extension:
        raise ImportRefused(FileProblem.UNSUPPORTED_TYPE, extension=extension, filename=name)
    cells = 0 if measured else measured_cells(data, name, limits)
    with one_large_parse(cells, name, limits, waiting), _bulk():
        if extension in WORKBOOK_EXTENSIONS:
            rows = _read_declared_workbook(data, name, extension, fill_merged, limits)
        elif data.startswith(_ZIP) or data.startswith(_OLE):
            rows = _read_workbook(data, name, fill_merged)  # a workbook under a text name
        else:
            rows = _read_text(data, name, limits)
    _drop_trailing_empty(rows)
    if not rows:
        raise ImportRefused(FileProblem.FILE_EMPTY, filename=name)
    return rows


@contextmanager
def _bulk() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of acyclic cells are built."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def measured_cells(data: bytes, name: str, limits: ReadLimits) -> int:
    """Measure a workbook against the limits (refusing it past one); return its largest grid.

    Text is counted while it is parsed; here it is guessed at a cell per eight bytes.
    """
    if data.startswith(_ZIP) or data.startswith(_OLE):
        return measure(data, name, limits).cells
    return len(data) // 8


def check_size(data: bytes, name: str, limits: ReadLimits) -> None:
    """Refuse a file larger than the upload limit."""
    if len(data) > limits.max_bytes:
        raise ImportRefused(
            FileProblem.TOO_LARGE,
            size_mb=_mb(len(data)),
            limit_mb=_mb(limits.max_bytes),
            filename=name,
        )


def _mb(size: int) -> str:
    """Format a byte count as megabytes for a message."""
    return f"{size / 1024 / 1024:.0f}" if size % (1024 * 1024) == 0 else f"{size / 1048576:.1f}"


def _read_declared_workbook(
    data: bytes, name: str, extension: str, fill_merged: bool, limits: ReadLimits
) -> list[list[Any]]:
    """Read a file named as a workbook after checking its content is one."""
    if data.startswith(_ZIP) or data.startswith(_OLE):
        return _read_workbook(data, name, fill_merged)
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<", b"\xff\xfe<", b"\xfe\xff\x00<")):
        raise ImportRefused(FileProblem.HTML_DISGUISED, filename=name, extension=extension)
    if extension == ".xls" and b"\x00" not in data[:65536]:
        # Many business systems export tab-separated text under an .xls name.
        return _read_text(data, name, limits)
    kind = "ODS" if extension == ".ods" else "Excel"
    raise ImportRefused(FileProblem.NOT_SPREADSHEET, filename=name, kind=kind)


def _read_workbook(data: bytes, name: str, fill_merged: bool) -> list[list[Any]]:
    """Read the first non-empty worksheet with calamine, visible sheets first."""
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except PasswordError as error:
        raise ImportRefused(FileProblem.ENCRYPTED, filename=name) from error
    except STOPPING:
        raise
    except MemoryError as error:
        raise ImportRefused(FileProblem.TOO_COMPLEX, filename=name) from error
    except BaseException as error:  # CalamineError, a Rust panic, plain errors of broken archives
        raise _refusal(data, name, error) from error
    try:
        with workbook:
            worksheets = [
                (m.visible != SheetVisibleEnum.Visible, i)
                for i, m in enumerate(workbook.sheets_metadata)
                if m.typ == SheetTypeEnum.WorkSheet
            ]
            for _hidden, index in sorted(worksheets):
                sheet = workbook.get_sheet_by_index(index)
                rows = sheet.to_python(skip_empty_area=False)
                if any(any(c != "" and c is not None for c in row) for row in rows):
                    if fill_merged:
                        _fill_merged(rows, sheet.merged_cell_ranges)
                    return rows
    except STOPPING:
        raise
    except MemoryError as error:
        raise ImportRefused(FileProblem.TOO_COMPLEX, filename=name) from error
    except BaseException as error:  # CalamineError, or a Rust panic (not an Exception)
        raise _unreadable(name, error) from error
    return []


def _unreadable(name: str, error: BaseException) -> ImportRefused:
    """Return the refusal for a damaged workbook."""
    return ImportRefused(FileProblem.SHEET_UNREADABLE, filename=name, detail=str(error))


def _refusal(data: bytes, name: str, error: BaseException) -> ImportRefused:
    """Tell a damaged or encrypted workbook from a container holding no workbook at all."""
    if data.startswith(_OLE):
        if _ENCRYPTED_MARK in data:
            return ImportRefused(FileProblem.ENCRYPTED, filename=name)
        if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
            return _unreadable(name, error)
    elif data.startswith(_ZIP):
        try:
            members = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            return _unreadable(name, error)  # a truncated or damaged archive
        if any(m.startswith("xl/") or m == "content.xml" for m in members):
            return _unreadable(name, error)
    return ImportRefused(FileProblem.NOT_SPREADSHEET, filename=name, kind="Excel", detail=str(error))


def _fill_merged(rows: list[list[Any]], ranges: list | None) -> None:
    """Copy each merged range's top-left value into the range's other cells inside the table."""
    for (top, left), (bottom, right) in ranges or ():
        if top >= len(rows) or left >= len(rows[top]):
            continue
        value = rows[top][left]
        if value == "" or value is None:
            continue
        for r in range(top, min(bottom, len(rows) - 1) + 1):
            row = rows[r]
            for c in range(left, min(right, len(row) - 1) + 1):
                if row[c] == "" or row[c] is None:
                    row[c] = value


def _read_text(data: bytes, name: str, limits: ReadLimits) -> list[list[str]]:
    """Decode a delimited text file and split it into rows of str cells, within the limits."""
    text = _decode(data, name)
    delimiter = _sniff_delimiter(text)
    # Every cell but a line's first follows a delimiter: more than the limit can't be taken.
    most = text.count(delimiter) + text.count("\n") + 1
    if most > limits.max_cells:
        raise ImportRefused(
            FileProblem.TOO_MANY_CELLS, filename=name, count=f"约 {most:,}", limit=f"{limits.max_cells:,}"
        )
    rows = []
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        if len(row) > limits.max_columns:
            raise ImportRefused(
                FileProblem.TOO_MANY_COLUMNS,
                filename=name,
                count=f"{len(row):,}",
                limit=f"{limits.max_columns:,}",
            )
        rows.append(row)
        if len(rows) > limits.max_rows:
            raise ImportRefused(
                FileProblem.TOO_MANY_ROWS,
                filename=name,
                count=f"{len(rows):,} 多",
                limit=f"{limits.max_rows:,}",
            )
    return rows


def _decode(data: bytes, name: str) -> str:
    """Decode CSV bytes: UTF-16 by BOM, UTF-8 (BOM or not), GB18030, then charset detection."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise ImportRefused(FileProblem.CSV_ENCODING, filename=name) from error
    if b"\x00" in data:
        raise ImportRefused(FileProblem.NOT_SPREADSHEET, filename=name, kind="CSV 文本")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise ImportRefused(FileProblem.CSV_ENCODING, filename=name)
    return str(best)


def _sniff_delimiter(text: str) -> str:
    """Return the delimiter used most on the first lines (comma when none is used)."""
    sample = text[:16384].splitlines()[:30]
    counts = {d: sum(line.count(d) for line in sample) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=counts.__getitem__)
    return best if counts[best] else ","


def _drop_trailing_empty(rows: list[list[Any]]) -> None:
    """Remove all-empty rows at the end (footers of formatting only)."""
    while rows and all(c == "" or c is None for c in rows[-1]):
        rows.pop()
