"""Write the downloadable report of rejected rows: the cells as uploaded plus the reasons."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

import xlsxwriter

from builder.tabular.headers import normalize_label

TITLE = "导入错误报告"
ROW_NUMBER = "原行号"
REASONS = "错误原因"
#: The last line of a report that lists only the first rejected rows.
MORE = "另有 {more:,} 行被拒绝，未在本报告中列出；请先改正以上各行的问题后重新导入，再查看其余的行"


def reason_text(errors: dict[str, str], titles: dict[str, str]) -> str:
    """Return a row's errors as one text, each prefixed with its field title."""
    parts = []
    for name, message in errors.items():
        title = titles.get(name)
        if not title or message.startswith((title, f"「{title}」")):
            parts.append(message)
        else:
            parts.append(f"{title}：{message}")
    return "；".join(parts)


def _field_columns(
    labels: list[str], titles: dict[str, str], columns: dict[int, str] | None
) -> dict[str, int]:
    """Return field name → column index, from the header match or else by label."""
    if columns is not None:
        return {name: index for index, name in sorted(columns.items(), reverse=True)}
    by_label = {normalize_label(label): i for i, label in reversed(list(enumerate(labels)))}
    found = {}
    for name, title in titles.items():
        index = by_label.get(normalize_label(title))
        if index is not None:
            found[name] = index
    return found


def write_error_report(
    target: str | Path | BinaryIO,
    labels: list[str],
    rejected: Iterable[tuple[int, list[Any], dict[str, str]]],
    titles: dict[str, str],
    *,
    columns: dict[int, str] | None = None,
    more: int = 0,
) -> None:
    """Write the rejected rows as an .xlsx with reasons, bad cells highlighted.

    `more` rejected rows were left out: a last line says how many.
    """
    options: dict[str, Any] = {
        "strings_to_formulas": False,
        "strings_to_numbers": False,
        "strings_to_urls": False,
        "nan_inf_to_errors": True,
    }
    if not isinstance(target, str | Path):
        options["in_memory"] = True
    workbook = xlsxwriter.Workbook(str(target) if isinstance(target, Path) else target, options)
    sheet = workbook.add_worksheet(TITLE)
    formats = _Formats(workbook)
    width = len(labels)
    sheet.write_string(0, 0, TITLE, formats.title)
    header = [ROW_NUMBER, *("" if label is None else str(label) for label in labels), REASONS]
    for col, text in enumerate(header):
        sheet.write_string(1, col, text, formats.head)
    sheet.set_column(0, 0, 8)
    sheet.set_column(1, max(width, 1), 14)
    sheet.set_column(width + 1, width + 1, 60)
    sheet.freeze_panes(2, 1)

    where = _field_columns(labels, titles, columns)
    row = 1
    for row_number, cells, errors in rejected:
        row += 1
        bad = {where[name] for name in errors if name in where and where[name] < width}
        sheet.write_number(row, 0, row_number)
        for index, value in enumerate(cells[:width]):
            _write_cell(sheet, row, index + 1, value, formats, index in bad)
        for index in bad:
            if index >= len(cells):
                sheet.write_blank(row, index + 1, None, formats.cell(True, False))
        sheet.write_string(row, width + 1, reason_text(errors, titles), formats.reason)
    sheet.autofilter(1, 0, max(row, 1), width + 1)
    if more:
        sheet.write_string(row + 2, 0, MORE.format(more=more), formats.title)
    workbook.close()


class _Formats:
    """The cell formats of the report, made once per workbook."""

    def __init__(self, workbook: Any) -> None:
        """Create the formats."""
        self.title = workbook.add_format({"bold": True, "font_size": 14})
        self.head = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        self.reason = workbook.add_format({"font_color": "#9C0006", "text_wrap": True})
        bad = {"bg_color": "#FFC7CE", "font_color": "#9C0006"}
        self._cells = {
            (is_bad, kind): workbook.add_format({**(bad if is_bad else {}), **_KIND_FORMAT[kind]})
            if (is_bad or kind)
            else None
            for is_bad in (False, True)
            for kind in _KIND_FORMAT
        }

    def cell(self, bad: bool, quoted: bool, date: bool = False) -> Any:
        """Return the format of a data cell."""
        return self._cells[bad, "quoted" if quoted else "date" if date else ""]


_KIND_FORMAT: dict[str, dict[str, Any]] = {
    "": {},
    "quoted": {"quote_prefix": True},
    "date": {"num_format": "yyyy-mm-dd"},
}
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _write_cell(sheet: Any, row: int, col: int, value: Any, formats: _Formats, bad: bool) -> None:
    """Write one uploaded cell with its own type; text stays text, never a formula."""
    if value is None or value == "":
        if bad:
            sheet.write_blank(row, col, None, formats.cell(True, False))
    elif isinstance(value, str):
        sheet.write_string(row, col, value, formats.cell(bad, value.startswith(_FORMULA_STARTS)))
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value, formats.cell(bad, False))
    elif isinstance(value, int | float):
        sheet.write_number(row, col, value, formats.cell(bad, False))
    elif isinstance(value, dt.datetime | dt.date):
        sheet.write_datetime(row, col, value, formats.cell(bad, False, date=True))
    else:
        sheet.write_string(row, col, str(value), formats.cell(bad, False))
