"""Read a department's existing Excel template: its title, unit line, header columns and samples.

A real template is a title row, a 填报单位/填表日期 line, a header of one to three levels (group
captions merged over leaf labels), some sample or empty rows, then a footer (合计, 填表人/审核人,
填表说明). `read_template` finds each part without knowing which ledger the template is about;
matching its columns onto data elements is `builder.templates.matching.match`'s job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from builder.problems import FileProblem, ImportRefused
from builder.tabular.limits import ReadLimits
from builder.templates.grid import clean_note, column_letter, is_empty, read_sheets, sample_value
from builder.templates.header import (
    SCAN_ROWS,
    UNIT_LINE,
    Cell,
    Grid,
    HeaderColumn,
    find_header,
    header_columns,
    unit_like,
)
from builder.templates.matching.match import is_layout

MAX_BYTES = 20 * 1024 * 1024
MAX_COLUMNS = 500
MAX_SAMPLES = 5
#: Below this many data rows every column has had its chance to show samples.
_SAMPLE_ROWS = 1000

_TOTAL = re.compile(r"^(合\s*计|总\s*计|小\s*计|累\s*计|共\s*计)")
_FOOTER = re.compile(
    r"^(填表说明|填报说明|说明|注|备注|附注|注意事项|注意|填表人|填报人|制表人|审核人|审批人|复核人|负责人|"
    r"单位负责人|分管领导|联系人|经办人|统计人|核查人|核实人|签发人|报送人)\s*[:：]"
    r"|^(注|说明)\s*[0-9一二三①]"
)
#: A sign-off line under the table: 填表日期：, 年  月  日 left blank, 盖章 (not a date in a data cell).
_SIGN_OFF = re.compile(
    r"(填报|填表|报送|统计|制表|上报|申报|核查|编制|审核)(单位|日期|时间)\s*(（[^）]*）|\([^)]*\))?\s*[:：]"
    r"|年\s+月\s+日|盖\s*章"
)
_FOOTER_HINT = re.compile(r"\s*[填说注备附制审复负单分联经统核签报]")
_BRANCH_NUMBERS = frozenset("甲乙丙丁戊")
_ATTACHMENT = re.compile(r"^(附件|附表|表)\s*[0-9一二三四五六七八九十]*\s*[-—:：]?\s*[0-9]*$")
_TITLE_WORDS = re.compile(r"表|册|清单|台账|统计|汇总|名单")


@dataclass(frozen=True)
class TemplateColumn:
    """One leaf column of the template's header."""

    index: int
    letter: str
    label: str
    parents: tuple[str, ...]
    samples: tuple[Any, ...]
    layout: bool


@dataclass
class Template:
    """What a department's template asks for, read from its first sheet with a header."""

    filename: str
    sheet: str
    title: str
    unit_line: str | None
    header_rows: tuple[int, int]
    columns: list[TemplateColumn]
    notes: list[str] = field(default_factory=list)


def read_template(
    data: bytes, filename: str, *, max_bytes: int = MAX_BYTES, limits: ReadLimits | None = None
) -> Template:
    """Read the template in the file (.xlsx/.xlsm/.xls/.ods/.csv), or refuse it in Chinese.

    `limits` bound what the file may hold (a template's by default, with `max_bytes`).
    """
    name = PurePath(filename or "").name or "上传的文件"
    for sheet in read_sheets(data, name, max_bytes=max_bytes, limits=limits):
        grid = Grid(sheet.rows, sheet.merges)
        found = find_header(grid)
        if found is None:
            continue
        top, bottom = found
        columns = header_columns(grid, top, bottom)
        if len(columns) > MAX_COLUMNS:
            raise ImportRefused(
                FileProblem.TEMPLATE_TOO_WIDE, filename=name, count=len(columns), limit=MAX_COLUMNS
            )
        title, unit_line, notes = _preamble(grid, top)
        samples, footer = _body(grid, bottom + 1, columns)
        return Template(
            filename=name,
            sheet=sheet.name,
            title=title or PurePath(name).stem,
            unit_line=unit_line,
            header_rows=(top + 1, bottom + 1),
            columns=[
                TemplateColumn(
                    index=col.left,
                    letter=column_letter(col.left),
                    label=col.label,
                    parents=col.parents,
                    samples=tuple(values),
                    layout=is_layout(col.label),
                )
                for col, values in zip(columns, samples, strict=True)
            ],
            notes=notes + footer,
        )
    raise ImportRefused(FileProblem.TEMPLATE_NO_HEADER, filename=name, scan=SCAN_ROWS)


def _preamble(grid: Grid, top: int) -> tuple[str, str | None, list[str]]:
    """Return the title, the unit line and explanatory notes written above the header."""
    titles: list[str] = []
    units: list[str] = []
    notes: list[str] = []
    for row in range(top):
        cells = grid.anchors(row)
        if not cells:
            continue
        if len(cells) == 1 and _looks_like_title(cells[0].text):
            titles.append(cells[0].text)  # “2024年5月困难群众走访情况统计表” is no date line
        elif unit_like(cells):
            rest = [cell.text for cell in cells if not UNIT_LINE.search(cell.raw)]
            if len(rest) == 1 and _looks_like_title(rest[0]):
                titles.append(rest[0])  # a title sharing its row with “单位：元”
            units.append(" ".join(" ".join(clean_note(c.value)) for c in cells if c.text not in titles))
        elif _FOOTER.match(cells[0].text):
            notes += [line for cell in cells for line in clean_note(cell.value)]
        else:
            text = max((cell.text for cell in cells), key=len)
            if not _ATTACHMENT.match(text):
                titles.append(text)
    return (titles[0] if titles else ""), (" ".join(units) or None), notes


def _looks_like_title(text: str) -> bool:
    """Tell whether a text names a table (…统计表, …名册) rather than filling in a line."""
    return len(text) >= 6 and bool(_TITLE_WORDS.search(text)) and not re.search("[:：]", text)


def _body(grid: Grid, start: int, columns: list[HeaderColumn]) -> tuple[list[list[Any]], list[str]]:
    """Return up to five samples per column from the rows under the header, and the footer notes."""
    samples: list[list[Any]] = [[] for _ in columns]
    notes: list[str] = []
    rows = grid.rows
    width = max((col.right for col in columns), default=0) + 1
    start += _numbering_row(rows[start] if start < len(rows) else ())
    in_footer = False
    data_rows = 0
    for index in range(start, len(rows)):
        row = rows[index]
        values = [v for v in row if v is not None and v != ""]
        if not values:
            continue
        # A filled-in roster has thousands of rows: look closely only at rows that may be footer.
        if in_footer or len(values) <= 4 or any(_FOOTER_HINT.match(str(v)) for v in values[:4]):
            cells = grid.anchors(index)
            if not cells:
                continue
            if in_footer or _starts_footer(cells, width):
                in_footer = True
                notes += _note_lines(cells)
                continue
        if isinstance(values[0], str) and _TOTAL.match(values[0].strip()):
            continue  # a 合计/小计 row sums the data; it is not a sample
        data_rows += 1
        if data_rows > _SAMPLE_ROWS:
            continue
        for col, found in zip(columns, samples, strict=True):
            if len(found) < MAX_SAMPLES:
                value = next((v for v in row[col.left : col.right + 1] if not is_empty(v)), None)
                if value is not None:
                    found.append(sample_value(value))
    return samples, notes


def _numbering_row(row: Any) -> int:
    """Return 1 when the first row under the header numbers the columns (栏次 1, 2, 3 …), else 0."""
    numbers = []
    for value in row:
        if is_empty(value):
            continue
        value = sample_value(value)
        if value in _BRANCH_NUMBERS:
            continue
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            return 0
        numbers.append(value)
    consecutive = numbers == list(range(numbers[0], numbers[0] + len(numbers))) if numbers else False
    return 1 if consecutive and len(numbers) >= 3 else 0


def _starts_footer(cells: list[Cell], width: int) -> bool:
    """Tell whether a row below the header starts the footer (notes, signature lines, dates)."""
    if any(_FOOTER.match(cell.text) for cell in cells[:4]):
        return True
    if len(cells) <= 4 and any(_SIGN_OFF.search(cell.raw) for cell in cells):
        return True
    if len(cells) == 1 and isinstance(cells[0].value, str):
        # One text spread across the table, or a sentence, is a note rather than a data row.
        return cells[0].width * 2 >= width or len(cells[0].text) >= 20
    return False


def _note_lines(cells: list[Cell]) -> list[str]:
    """Return a footer row as notes: a lone cell line by line, several cells joined on one line."""
    if len(cells) == 1:
        return clean_note(cells[0].value)
    line = " ".join(" ".join(clean_note(cell.value)) for cell in cells)
    return [line] if line else []
