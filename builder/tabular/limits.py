"""Measure an uploaded workbook before it is parsed, and refuse one larger than the limits.

calamine builds a sheet as a dense grid from its first to its last cell, and loads every sheet of
an .xls or .ods file when it opens it: two cells at A1 and XFD1048576, a few kilobytes, ask for
hundreds of gigabytes, and a Rust allocation failure ends the whole process. So the size of every
sheet is taken here first, from the file's own bytes: zip parts are inflated as a stream (their
declared sizes may lie) under a byte budget, and the cells, rows, merged ranges and shared strings
are counted as they pass, in a bounded buffer; an .xls is walked record by record. calamine sees
the file only once all of it is known to fit.
"""

from __future__ import annotations

import io
import re
import struct
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from builder.problems import FileProblem, ImportRefused

_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: Inflated bytes handed to a scanner at a time, and the longest tag a scanner keeps between them.
_CHUNK = 1 << 20
_LONGEST_TAG = 1 << 16
#: More entries than a workbook ever has; each costs zipfile and calamine memory up front.
_MAX_MEMBERS = 10_000


@dataclass(frozen=True)
class ReadLimits:
    """How large an uploaded file may be, in bytes and in what it holds."""

    #: The file as uploaded.
    max_bytes: int = 50 * 1024 * 1024
    #: All parts of a zip workbook (.xlsx/.xlsm/.xlsb/.ods) once inflated.
    max_unpacked_bytes: int = 500 * 1024 * 1024
    #: A sheet's rows, counted from row 1 to its last cell.
    max_rows: int = 1_048_576
    #: A sheet's columns, counted from column A to its last cell.
    max_columns: int = 2_000
    #: A sheet's grid (rows × columns); for .xls and .ods, all sheets together (they load at once).
    max_cells: int = 4_000_000
    #: Shared strings (.xlsx, .xls), and merged ranges per sheet.
    max_strings: int = 4_000_000
    #: A file with a grid this large is parsed only when no other such parse runs in the process.
    large_cells: int = 500_000
    #: How long such a parse waits for the one before it (then the file is refused: try later).
    wait_seconds: float = 3 * 3600

    def narrowed(self, *, rows: int | None = None, columns: int | None = None) -> ReadLimits:
        """Return these limits with fewer rows or columns allowed (never more)."""
        rows = min(self.max_rows, rows) if rows is not None else self.max_rows
        columns = min(self.max_columns, columns) if columns is not None else self.max_columns
        return replace(
            self, max_rows=rows, max_columns=columns, max_cells=min(self.max_cells, rows * columns)
        )


#: The ledger import's limits where a caller names none (a township's task upload narrows them).
LEDGER_LIMITS = ReadLimits()
#: A department's template: a header and some sample rows, never a whole register.
TEMPLATE_LIMITS = ReadLimits(
    max_rows=200_000,
    max_columns=2_000,
    max_cells=1_000_000,
    max_strings=1_000_000,
    max_unpacked_bytes=200 * 1024 * 1024,
)


@dataclass
class Census:
    """What a file holds, as far as the limits need to know: the largest grid calamine will build."""

    cells: int = 0


def measure(data: bytes, name: str, limits: ReadLimits) -> Census:
    """Return the census of a workbook, or refuse it (ImportRefused) when it exceeds a limit.

    A file that is no zip or OLE container is left alone: it is text, read under its own counts.
    """
    if data.startswith(_ZIP):
        return _Zip(data, name, limits).measure()
    if data.startswith(_OLE):
        return _measure_xls(data, name, limits)
    return Census()


#: Held by the one large parse a process runs at a time (re-entrant: a parse may read its file twice).
_LARGE = threading.RLock()


@contextmanager
def one_large_parse(
    cells: int, name: str, limits: ReadLimits, waiting: Callable[[], None] | None = None
) -> Iterator[None]:
    """Run the body alone among the process's large parses: wait for the one before, or refuse."""
    if cells < limits.large_cells:
        yield
        return
    if not _LARGE.acquire(blocking=False):
        if waiting is not None:
            waiting()
        if not _LARGE.acquire(timeout=limits.wait_seconds):
            raise ImportRefused(FileProblem.BUSY, filename=name)
    try:
        yield
    finally:
        _LARGE.release()


def _mb(size: int) -> str:
    return f"{size / 1048576:.0f}"


class _Sheet:
    """The running counts of one sheet, refusing as soon as one passes its limit."""

    def __init__(self, name: str, limits: ReadLimits, label: str = "") -> None:
        """Start counting a sheet of the file `name`."""
        self.name, self.limits, self.label = name, limits, label
        self.rows = self.columns = self.merges = self.filled = 0

    def count(self, cells: int) -> None:
        """Note `cells` more cells holding something (calamine keeps each, even at the same place)."""
        self.filled += cells
        if self.filled > self.limits.max_cells:
            self.refuse_cells(self.filled)

    def reach(self, rows: int, columns: int) -> None:
        """Note that the sheet has a cell at 1-based (rows, columns)."""
        limits = self.limits
        if rows > self.rows:
            self.rows = rows
            if rows > limits.max_rows:
                raise ImportRefused(
                    FileProblem.TOO_MANY_ROWS,
                    filename=self.name,
                    count=f"{rows:,}",
                    limit=f"{limits.max_rows:,}",
                    sheet=self.label,
                )
        if columns > self.columns:
            self.columns = columns
            if columns > limits.max_columns:
                raise ImportRefused(
                    FileProblem.TOO_MANY_COLUMNS,
                    filename=self.name,
                    count=f"{columns:,}",
                    limit=f"{limits.max_columns:,}",
                    sheet=self.label,
                )
        if self.rows * self.columns > limits.max_cells:
            self.refuse_cells(self.rows * self.columns)

    def fits(self, rows: int, columns: int) -> bool:
        """Tell whether a cell at 1-based (rows, columns) keeps the sheet within its limits."""
        limits = self.limits
        rows, columns = max(rows, self.rows), max(columns, self.columns)
        return (
            rows <= limits.max_rows and columns <= limits.max_columns and rows * columns <= limits.max_cells
        )

    def refuse_cells(self, cells: int) -> None:
        """Refuse the file for holding `cells` cells."""
        raise ImportRefused(
            FileProblem.TOO_MANY_CELLS,
            filename=self.name,
            count=f"{cells:,}",
            limit=f"{self.limits.max_cells:,}",
        )

    def merged(self, count: int) -> None:
        """Note `count` more merged ranges."""
        self.merges += count
        if self.merges > self.limits.max_strings:
            raise ImportRefused(
                FileProblem.TOO_MANY_STRINGS, filename=self.name, limit=f"{self.limits.max_strings:,}"
            )

    @property
    def cells(self) -> int:
        """Return the size of the grid calamine builds for the sheet."""
        return self.rows * self.columns


# --- zip workbooks: .xlsx, .xlsm, .xlsb, .ods -----------------------------------------------------


class _Zip:
    """A zip workbook whose parts are inflated one by one under a shared byte budget."""

    def __init__(self, data: bytes, name: str, limits: ReadLimits) -> None:
        """Keep the file and its limits."""
        self.data, self.name, self.limits = data, name, limits
        self.unpacked = 0

    def measure(self) -> Census:
        """Scan every part; return the largest grid (the sum of all sheets for .ods)."""
        if self.data.count(b"PK\x01\x02") > _MAX_MEMBERS:
            raise ImportRefused(FileProblem.TOO_MANY_PARTS, filename=self.name, limit=f"{_MAX_MEMBERS:,}")
        try:
            members = zipfile.ZipFile(io.BytesIO(self.data)).infolist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            return Census()  # calamine refuses it too, and the caller says why
        census = Census()
        sheets, strings = self.parts(members)
        for info in members:
            if info.is_dir() or info.flag_bits & 0x1:
                continue  # an encrypted part: calamine can't read it either
            part = info.filename
            if part in strings and part.endswith(".bin"):
                self.count_binary_strings(self.inflate(info))
            elif part in strings:
                self.count_strings(self.inflate(info))
            elif part in sheets:
                sheet = _Sheet(self.name, self.limits)
                scan = _scan_xlsb_sheet if part.endswith(".bin") else _scan_xlsx_sheet
                scan(self.inflate(info), sheet)
                census.cells = max(census.cells, sheet.cells)
            elif part == "content.xml":
                census.cells = max(census.cells, _scan_ods(self.inflate(info), self.name, self.limits))
            else:
                for _chunk in self.inflate(info):
                    pass  # styles, relationships, pictures: only their size counts
        return census

    def parts(self, members: list[zipfile.ZipInfo]) -> tuple[set[str], set[str]]:
        """Return the parts calamine reads as worksheets and as shared strings.

        Worksheets are found by the workbook's relationships, wherever they point, and in the
        usual folder; shared strings at the usual place and wherever the relationships say.
        """
        names = {info.filename: info for info in members}
        sheets = {
            name
            for name in names
            if name.startswith("xl/worksheets/") and "/_rels/" not in name and name.endswith((".xml", ".bin"))
        }
        strings = {name for name in ("xl/sharedStrings.xml", "xl/sharedStrings.bin") if name in names}
        for rels in ("xl/_rels/workbook.xml.rels", "xl/_rels/workbook.bin.rels"):
            if rels not in names:
                continue
            text = b"".join(self.inflate(names[rels]))
            if len(text) > _LONGEST_TAG * 64:
                raise ImportRefused(FileProblem.TOO_MANY_PARTS, filename=self.name, limit=f"{_MAX_MEMBERS:,}")
            for kind, target in _RELATIONSHIPS.findall(text):
                path = _resolve(target.decode("utf-8", "replace"))
                if kind.endswith(b"/worksheet") or kind.endswith(b"/macrosheet"):
                    sheets.add(path)
                elif kind.endswith(b"/sharedStrings"):
                    strings.add(path)
        return sheets, strings

    def inflate(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        """Yield the part's bytes as they inflate, refusing once the file's budget is spent."""
        data = self.data
        start = info.header_offset
        if data[start : start + 4] != b"PK\x03\x04":
            raise ImportRefused(FileProblem.SHEET_UNREADABLE, filename=self.name, detail=info.filename)
        name_length, extra_length = struct.unpack_from("<HH", data, start + 26)
        start += 30 + name_length + extra_length
        view = memoryview(data)
        if info.compress_type == zipfile.ZIP_STORED:
            pieces: Iterator[bytes] = (
                bytes(view[at : min(at + _CHUNK, start + info.compress_size)])
                for at in range(start, start + info.compress_size, _CHUNK)
            )
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            pieces = _inflated(view[start:])  # to the end of the deflate stream, whatever was declared
        else:
            raise ImportRefused(
                FileProblem.SHEET_UNREADABLE,
                filename=self.name,
                detail=f"{info.filename}：不支持的压缩方式 {info.compress_type}",
            )
        for piece in pieces:
            self.unpacked += len(piece)
            if self.unpacked > self.limits.max_unpacked_bytes:
                raise ImportRefused(
                    FileProblem.UNPACKED_TOO_LARGE,
                    filename=self.name,
                    limit_mb=_mb(self.limits.max_unpacked_bytes),
                )
            yield piece

    def count_strings(self, pieces: Iterator[bytes]) -> None:
        """Count the shared strings of an XML part as they pass, refusing past the limit."""
        count = 0
        for piece in _tags(pieces, self.name):
            count += len(_STRING_ITEMS.findall(piece))
            if count > self.limits.max_strings:
                self.refuse_strings()

    def count_binary_strings(self, pieces: Iterator[bytes]) -> None:
        """Count the shared strings of a binary part, and the count its header declares."""
        count = 0
        for kind, body in _xlsb_records(pieces, self.name):
            if kind == _SST_ITEM:
                count += 1
            elif kind == _SST_BEGIN and len(body) >= 8:
                count = max(count, struct.unpack_from("<I", body, 4)[0])
            if count > self.limits.max_strings:
                self.refuse_strings()

    def refuse_strings(self) -> None:
        """Refuse the file for holding too many shared strings."""
        raise ImportRefused(
            FileProblem.TOO_MANY_STRINGS, filename=self.name, limit=f"{self.limits.max_strings:,}"
        )


_RELATIONSHIPS = re.compile(
    rb"""<(?:\w+:)?Relationship\b(?=[^>]*\bType\s*=\s*["']([^"']*)["'])[^>]*\bTarget\s*=\s*["']([^"']*)["']"""
)


def _resolve(target: str) -> str:
    """Return the part a relationship of the workbook points to (targets are relative to xl/)."""
    parts: list[str] = [] if target.startswith("/") else ["xl"]
    for step in target.split("/"):
        if step == "..":
            if parts:
                parts.pop()
        elif step and step != ".":
            parts.append(step)
    return "/".join(parts)


def _inflated(view: memoryview) -> Iterator[bytes]:
    """Yield a raw deflate stream's output in pieces of at most `_CHUNK` bytes."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    at = 0
    try:
        while not inflater.eof:
            if inflater.unconsumed_tail:
                piece = inflater.decompress(inflater.unconsumed_tail, _CHUNK)
            elif at < len(view):
                piece = inflater.decompress(view[at : at + 65536], _CHUNK)
                at += 65536
            else:
                return  # truncated: calamine says so
            if piece:
                yield piece
    except zlib.error:
        return


def _tags(pieces: Iterator[bytes], name: str) -> Iterator[bytes]:
    """Yield the inflated XML in pieces that never cut a tag (a tag longer than 64 KiB is refused)."""
    rest = b""
    for piece in pieces:
        buffer = rest + piece if rest else piece
        cut = buffer.rfind(b"<")
        if cut != -1 and buffer.find(b">", cut) == -1:
            rest = buffer[cut:]
            if len(rest) > _LONGEST_TAG:
                raise ImportRefused(FileProblem.SHEET_UNREADABLE, filename=name, detail="XML 标签过长")
            buffer = buffer[:cut]
        else:
            rest = b""
        yield buffer


_PREFIX = rb"<(?:[A-Za-z_][\w.-]*:)?"
_XLSX_TOKEN = re.compile(_PREFIX + rb"(row|c|mergeCell)(?=[\s/>])([^>]*)>")
_CELL_REF = re.compile(rb"""\br\s*=\s*["']\$?([A-Za-z]{1,4})\$?([0-9]{1,9})""")
_ROW_REF = re.compile(rb"""\br\s*=\s*["']([0-9]{1,9})""")
#: A cell starting with its reference, as Excel, WPS and most writers write every cell.
_PLAIN_CELL = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"')
_STRING_ITEMS = re.compile(_PREFIX + rb"si[\s>]")


def _column(letters: bytes) -> int:
    """Return the 1-based column of Excel letters."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - 64
    return number


def _scan_xlsx_sheet(pieces: Iterator[bytes], sheet: _Sheet) -> None:
    """Count a worksheet part's grid: the last row and column of a cell holding something."""
    last = [0, 0]  # 1-based row and column of the last cell or row seen (cells without `r` follow on)
    for piece in _tags(pieces, sheet.name):
        if not _plain_piece(piece, sheet, last) and not _sequential_piece(piece, sheet, last):
            _exact_piece(piece, sheet, last)


def _sequential_piece(piece: bytes, sheet: _Sheet, last: list[int]) -> bool:
    """Count a piece whose rows and cells carry no reference, row by row; False if it is not so.

    Cells without a value count too here: if they push the grid past a limit, the exact count decides.
    """
    if b"r=" in piece or b":c" in piece or b":row" in piece or b":mergeCell" in piece:
        return False
    row, col = last
    rows, columns, cells = row, col, 0
    for number, segment in enumerate(piece.split(b"<row")):
        found = segment.count(b"<c>") + segment.count(b"<c ") + segment.count(b"<c/")
        if number:
            row, col = row + 1, found
        else:
            col += found  # the cells that end the row the last piece began
        cells += found
        if found and col > columns:
            columns = col
        if found:
            rows = row
    if not sheet.fits(rows, columns) or sheet.filled + cells > sheet.limits.max_cells:
        return False
    if cells:
        sheet.reach(rows, columns)
        sheet.count(cells)
    sheet.merged(piece.count(b"<mergeCell "))
    last[:] = row, col
    return True


def _plain_piece(piece: bytes, sheet: _Sheet, last: list[int]) -> bool:
    """Count a piece whose every cell starts with its reference, in C; False if it is not so.

    Cells without a value count too here: if they push the grid past a limit, the exact count decides.
    """
    if b":c" in piece or b":row" in piece or b":mergeCell" in piece:
        return False  # elements with a namespace prefix
    cells = _PLAIN_CELL.findall(piece)
    if len(cells) != piece.count(b"<c ") + piece.count(b"<c>") + piece.count(b"<c/"):
        return False
    if cells:
        rows = max(map(int, {cell[1] for cell in cells}))
        columns = max(map(_column, {cell[0] for cell in cells}))
        if not sheet.fits(rows, columns) or sheet.filled + len(cells) > sheet.limits.max_cells:
            return False
        sheet.reach(rows, columns)
        sheet.count(len(cells) - 1)  # the last cell is counted with the tail below
        tail = piece[piece.rfind(b'<c r="') :]
    else:
        tail = piece
    sheet.merged(piece.count(b"<mergeCell "))
    _exact_piece(tail.replace(b"<mergeCell ", b"<merged "), sheet, last)  # the rows after the last cell
    return True


def _exact_piece(piece: bytes, sheet: _Sheet, last: list[int]) -> None:
    """Count a piece tag by tag: cells by their reference or their place, only those holding something."""
    row, col = last
    for kind, attrs in _XLSX_TOKEN.findall(piece):
        if kind == b"c":
            found = _CELL_REF.search(attrs)
            if found:
                col, row = _column(found.group(1)), int(found.group(2))
            else:
                col += 1
            if not attrs.endswith(b"/"):
                sheet.reach(row, col)
                sheet.count(1)
        elif kind == b"row":
            found = _ROW_REF.search(attrs)
            row, col = (int(found.group(1)) if found else row + 1), 0
        else:
            sheet.merged(1)
    last[:] = row, col


_ODS_TOKEN = re.compile(_PREFIX + rb"(table-row|table-cell|covered-table-cell|table)(?=[\s/>])([^>]*)>")
_ROWS_REPEATED = re.compile(rb"""number-rows-repeated\s*=\s*["']([0-9]{1,10})""")
_COLUMNS_REPEATED = re.compile(rb"""number-columns-repeated\s*=\s*["']([0-9]{1,10})""")


def _scan_ods(pieces: Iterator[bytes], name: str, limits: ReadLimits) -> int:
    """Count every table of an .ods content part; return their cells together (they load at once).

    A cell holds something when it has a value type or content; a repeated row or cell counts as
    many times as it is repeated.
    """
    total = 0
    sheet = _Sheet(name, limits)
    next_row = row_repeated = 1  # the 1-based line the next row starts at; the current row's repeats
    last = col = 0  # the last line of the current (repeated) row, and its last column so far
    for piece in _tags(pieces, name):
        for kind, attrs in _ODS_TOKEN.findall(piece):
            if kind == b"table-cell" or kind == b"covered-table-cell":
                found = _COLUMNS_REPEATED.search(attrs)
                repeated = int(found.group(1)) if found else 1
                col += repeated
                if not attrs.endswith(b"/") or b"value-type" in attrs:
                    sheet.reach(last, col)
                    sheet.count(repeated * row_repeated)
            elif kind == b"table-row":
                found = _ROWS_REPEATED.search(attrs)
                row_repeated = int(found.group(1)) if found else 1
                last = next_row + row_repeated - 1
                next_row, col = last + 1, 0
            else:  # a new table
                total += sheet.cells
                sheet = _Sheet(name, limits)
                next_row, row_repeated, last, col = 1, 1, 0, 0
            if total + sheet.cells > limits.max_cells:
                sheet.refuse_cells(total + sheet.cells)
    return total + sheet.cells


#: BIFF12 records: a row header, the cells calamine reads (value types 2 to 11), the sheet's
#: declared dimensions, a merged range, the shared strings' header and items.
_ROW_HEADER, _WS_DIM, _MERGE, _SST_BEGIN, _SST_ITEM = 0x0000, 0x0094, 0x00B0, 0x009F, 0x0013


def _xlsb_records(pieces: Iterator[bytes], name: str) -> Iterator[tuple[int, bytes]]:
    """Yield (type, body) of every BIFF12 record of a binary part, holding at most one record."""
    buffer = b""
    for piece in pieces:
        buffer = buffer + piece if buffer else piece
        at = 0
        while (header := _xlsb_header(buffer, at)) is not None:
            kind, start, size = header
            yield kind, buffer[start : start + size]
            at = start + size
        buffer = buffer[at:]
        if len(buffer) > 16 * _LONGEST_TAG:
            raise ImportRefused(FileProblem.SHEET_UNREADABLE, filename=name, detail="记录过长")


def _xlsb_header(buffer: bytes, at: int) -> tuple[int, int, int] | None:
    """Return (type, body start, body size) of the record at `at`, or None if it is not all there."""
    end = len(buffer)
    if at >= end:
        return None
    kind = buffer[at]
    at += 1
    if kind & 0x80:
        if at >= end:
            return None
        kind = (kind & 0x7F) | ((buffer[at] & 0x7F) << 7)
        at += 1
    size = 0
    for shift in (0, 7, 14, 21):
        if at >= end:
            return None
        byte = buffer[at]
        at += 1
        size |= (byte & 0x7F) << shift
        if not byte & 0x80:
            break
    return (kind, at, size) if at + size <= end else None


def _scan_xlsb_sheet(pieces: Iterator[bytes], sheet: _Sheet) -> None:
    """Count a binary worksheet part's grid, record by record."""
    row = 1
    for kind, body in _xlsb_records(pieces, sheet.name):
        if 2 <= kind <= 11 and len(body) >= 4:
            sheet.reach(row, struct.unpack_from("<I", body)[0] + 1)
            sheet.count(1)
        elif kind == _ROW_HEADER and len(body) >= 4:
            row = struct.unpack_from("<I", body)[0] + 1
        elif kind == _WS_DIM and len(body) >= 16:
            first_row, last_row, first_col, last_col = struct.unpack_from("<IIII", body)
            area = max(last_row - first_row + 1, 0) * max(last_col - first_col + 1, 0)
            if area > sheet.limits.max_cells:
                sheet.refuse_cells(area)
        elif kind == _MERGE:
            sheet.merged(1)


# --- .xls (BIFF in an OLE container) -------------------------------------------------------------

#: BIFF8 records calamine turns into cells (row and column in their first four bytes).
_XLS_CELLS = frozenset({0x0203, 0x0204, 0x0205, 0x027E, 0x00FD, 0x0006})
_XLS_MULRK, _XLS_DIMENSIONS, _XLS_SST, _XLS_BOF, _XLS_EOF, _XLS_SHEET = (
    0x00BD,
    0x0200,
    0x00FC,
    0x0809,
    0x000A,
    0x0085,
)


def _measure_xls(data: bytes, name: str, limits: ReadLimits) -> Census:
    """Walk the workbook stream of an .xls: every sheet's cells, their declared dimensions, the strings."""
    import olefile

    try:
        with olefile.OleFileIO(data) as ole:
            stream = next((s for s in ("Workbook", "Book") if ole.exists(s)), None)
            if stream is None:
                return Census()  # not a workbook (or an encrypted package): calamine says which
            if ole.get_size(stream) > len(data):
                raise ImportRefused(FileProblem.SHEET_UNREADABLE, filename=name, detail="工作簿流超出文件")
            book = ole.openstream(stream).read()
    except ImportRefused:
        raise
    except Exception:  # noqa: BLE001 - olefile's many errors for a damaged container: calamine's to report
        return Census()
    sheets: dict[int, _Sheet] = {}  # the offset of each sheet's BOF → its counts
    bound: list[int] = []  # the offsets the workbook's sheet list names (calamine reads each)
    at, end = 0, len(book)
    sheet: _Sheet | None = None
    unpack = struct.unpack_from
    while at + 4 <= end:
        kind, size = unpack("<HH", book, at)
        body = at + 4
        if kind in _XLS_CELLS and sheet is not None and size >= 4:
            row, col = unpack("<HH", book, body)
            sheet.reach(row + 1, col + 1)
            sheet.count(1)
        elif kind == _XLS_MULRK and sheet is not None and size >= 6:
            row, first = unpack("<HH", book, body)
            last = unpack("<H", book, body + size - 2)[0]
            sheet.reach(row + 1, last + 1)
            sheet.count(max(last - first + 1, 0))
        elif kind == _XLS_BOF:
            sheet = sheets[at] = _Sheet(name, limits) if at else None
        elif kind == _XLS_EOF:
            sheet = None
        elif kind == _XLS_DIMENSIONS and sheet is not None:
            _xls_dimensions(book, body, size, sheet)
        elif kind == _XLS_SHEET and size >= 4:
            bound.append(unpack("<I", book, body)[0])
        elif kind == _XLS_SST and size >= 8 and unpack("<i", book, body + 4)[0] > limits.max_strings:
            raise ImportRefused(FileProblem.TOO_MANY_STRINGS, filename=name, limit=f"{limits.max_strings:,}")
        at = body + size
    total = 0
    for offset in bound:
        found = sheets.get(offset)
        if found is None:
            raise ImportRefused(FileProblem.SHEET_UNREADABLE, filename=name, detail="工作表位置无效")
        total += found.cells
        if total > limits.max_cells:
            found.refuse_cells(total)
    return Census(total)


def _xls_dimensions(book: bytes, body: int, size: int, sheet: _Sheet) -> None:
    """Check a sheet's declared dimensions: calamine reserves room for all of them."""
    if size == 14:
        first_row, last_row, first_col, last_col = struct.unpack_from("<IIHH", book, body)
    elif size == 10:
        first_row, last_row, first_col, last_col = struct.unpack_from("<HHHH", book, body)
    else:
        return
    rows, cols = max(last_row - first_row, 0), max(last_col - first_col, 0)
    if rows * cols > sheet.limits.max_cells:
        sheet.refuse_cells(rows * cols)
