"""A report's rows as a file: .xlsx with a heading above the header, or .csv; org units named, defused.

The .xlsx starts with the report's title, a line with the department, the date and the data
source, then the header (group captions joined to the field title, as in the task workbook) and
the rows; a sheet holds at most 1,048,576 rows, so a larger table goes on to further sheets. The
.csv holds only the header and the rows (UTF-8 with BOM, so Excel opens it): it is the file other
programs read, and a title line above the header would break them; the file name says the rest.

Rows stream from their source into the writer a block at a time, so memory stays flat whatever the
size, and values are converted a column at a time (see `task_xlsx.shown_column`). Text that a
spreadsheet would run as a formula (= + - @ …) gets a leading quote in both formats.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import rustpy_xlsxwriter

from builder.reports.spec import ReportSpec
from runtime.errors import ErrorCode
from runtime.ledgers.bulk import paused_gc
from runtime.reports.store import ReportError
from runtime.tasks.workbook import column_titles, shown_column

#: The first column: the org unit the row comes from.
UNIT_COLUMN = "镇街"
#: The column saying whether a row's task was submitted (only when unsubmitted tasks are included).
STATUS_COLUMN = "状态"
#: Rows above the header in the .xlsx: the title, then department · date · data source.
HEADING_ROWS = 2
#: One Excel sheet holds 1,048,576 rows: the heading, the header and the data.
SHEET_ROWS = 1_048_576 - HEADING_ROWS - 1
FORMATS = ("xlsx", "csv")

Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class Heading:
    """What the .xlsx says above the header."""

    title: str
    department: str
    day: date
    #: Where the rows come from: “各镇街填报（已提交 12/23）”, “台账直接提取”.
    source: str

    def line(self) -> str:
        """Return the line under the title."""
        return (
            f"填报部门：{self.department}　导出日期：{self.day.year}年{self.day.month}月{self.day.day}日"
            f"　数据来源：{self.source}"
        )


@dataclass(frozen=True)
class Block:
    """Some rows of one org unit, a list of values per report field (as the reader may see them)."""

    unit: str
    columns: list[list[Any]]
    #: What the 状态 column says of these rows, when it is shown.
    status: str = ""


@dataclass
class ReportTable:
    """A report's rows ready to write: the heading, the report's columns and the rows in blocks."""

    spec: ReportSpec
    heading: Heading
    blocks: Iterable[Block]
    #: At least the number of rows (for progress and for splitting sheets).
    total: int
    with_status: bool = False
    #: Org-unit code → name, for the fields whose values are org-unit codes (`org_fields`).
    unit_names: Mapping[str, str] | None = None
    org_fields: frozenset[str] = frozenset()

    @property
    def header(self) -> list[str]:
        """Return the column titles: the org unit, maybe the status, then the report's own columns."""
        lead = [UNIT_COLUMN, STATUS_COLUMN] if self.with_status else [UNIT_COLUMN]
        titles = column_titles(self.spec)
        return [*lead, *(f"{t}（报表）" if t in lead else t for t in titles)]


def write_table(
    table: ReportTable,
    fmt: str,
    target: Path,
    progress: Progress | None = None,
    *,
    sheet_rows: int = SHEET_ROWS,
) -> int:
    """Write the table as .xlsx (`sheet_rows` rows a sheet at most) or .csv to `target`; return the rows."""
    if fmt not in FORMATS:
        raise ReportError(ErrorCode.UNSUPPORTED_FORMAT, fmt=fmt)
    written = [0]
    header = table.header

    def rows(as_records: bool) -> Iterator[Any]:
        if progress:
            progress(0, table.total)
        for block in table.blocks:
            columns = _block_columns(table, block)
            # The writer takes dicts (header → value); build them straight from the columns.
            lines = zip(*columns, strict=True)
            batch = [dict(zip(header, row, strict=True)) for row in lines] if as_records else list(lines)
            written[0] += len(batch)
            if progress:
                progress(written[0], max(table.total, written[0]))
            yield from batch

    with paused_gc():
        if fmt == "csv":
            _write_csv(target, header, rows(as_records=False))
        else:
            _write_xlsx(target, table, rows(as_records=True), sheet_rows)
    return written[0]


def _block_columns(table: ReportTable, block: Block) -> list[list[Any]]:
    """Return a block's columns as the file shows them: org units named, booleans and lists as text, defused.

    The first column names the org unit, the second (when shown) the status.
    """
    names = table.unit_names or {}
    columns = []
    for f, values in zip(table.spec.fields, block.columns, strict=True):
        if names and f.name in table.org_fields:
            values = [names.get(v, v) if v.__class__ is str else v for v in values]
        columns.append(shown_column(values))
    size = len(columns[0]) if columns else 0
    lead = [[block.unit] * size, [block.status] * size] if table.with_status else [[block.unit] * size]
    return [*lead, *columns]


def _write_csv(target: Path, header: list[str], rows: Iterable[tuple[Any, ...]]) -> None:
    # UTF-8 with BOM: Excel on Chinese Windows opens it without garbling.
    with open(target, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _write_xlsx(target: Path, table: ReportTable, records: Iterator[dict[str, Any]], sheet_rows: int) -> None:
    header = table.header
    last = len(header) - 1
    title = rustpy_xlsxwriter.Format().set_bold().set_font_size(14)
    heading = [(0, 0, 0, last, table.heading.title, title), (1, 0, 1, last, table.heading.line())]
    sheet = _sheet_name(table.heading.title)
    sheets = max(1, -(-table.total // sheet_rows))
    if sheets == 1:
        first = next(records, None)
        rustpy_xlsxwriter.write_worksheet(
            itertools.chain([first or dict.fromkeys(header)], records),
            str(target),
            sheet_name=sheet,
            header_row=HEADING_ROWS,
            merge_ranges=heading,
            freeze_row=HEADING_ROWS + 1,
            bold_headers=True,
        )
        return
    names = [sheet if n == 0 else f"{sheet[:28]}{n + 1}" for n in range(sheets)]
    # The last sheet takes whatever is left: `total` is counted before the rows are read, and a row
    # more than counted must not be dropped (a sheet past Excel's limit fails the export instead).
    parts = [itertools.islice(records, sheet_rows if n < sheets - 1 else None) for n in range(sheets)]
    rustpy_xlsxwriter.write_worksheets(
        list(zip(names, parts, strict=True)),
        str(target),
        header_row=dict.fromkeys(names, HEADING_ROWS),
        merge_ranges=dict.fromkeys(names, heading),
        freeze_panes={"general": {"row": HEADING_ROWS + 1, "col": 0}},
        bold_headers=True,
    )


def _sheet_name(title: str) -> str:
    """Return a valid sheet name from a title (≤ 31 characters, none of []:*?/\\)."""
    cleaned = "".join("_" if c in "[]:*?/\\" else c for c in title).strip("'")
    return cleaned[:31] or "报表"
