"""Find the header of a department's template without knowing its ledger, and its leaf columns.

The header is the first row near the top whose cells are mostly short labels spread over the
table's width (a title row has one cell, a 填报单位/日期 line is recognised by its words). It
grows downwards while group captions (merged across columns, or written once over a run of empty
cells) have leaf labels below them and while vertically merged cells reach further, and upwards
over a sparse caption row. A column's leaf label is its lowest header text; the texts above it
are its parents.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from builder.templates.grid import Merge, clean_label, is_empty

SCAN_ROWS = 30
MAX_HEADER_ROWS = 4
#: Merged ranges are mapped cell by cell only this far down: the header is near the top.
_MAPPED_ROWS = SCAN_ROWS + MAX_HEADER_ROWS + 2
_MAX_LABEL = 50

_DATA_LIKE = re.compile(r"^[\d\s.,:;/\\\-+%()（）年月日时分秒xX]*$")
UNIT_LINE = re.compile(
    r"(填报|填表|报送|报表|统计|制表|上报|申报|核查|调查|编制)?(单位|日期|时间)\s*(（[^）]*）|\([^)]*\))?\s*[:：]"
    r"|年\s+月\s+日|\d{4}\s*年\s*\d{0,2}\s*月|^单位\s*[:：]|盖\s*章|金额单位|计量单位|^截[至止]"
)


@dataclass(frozen=True)
class Cell:
    """A non-empty cell where it starts, with the extent of its merged range."""

    row: int
    left: int
    right: int
    bottom: int
    value: Any
    text: str

    @property
    def raw(self) -> str:
        """Return the text as typed, with its spacing (“年  月  日” left blank keeps its gaps)."""
        return self.value if isinstance(self.value, str) else self.text

    @property
    def width(self) -> int:
        """Return the number of columns the cell spans."""
        return self.right - self.left + 1


@dataclass(frozen=True)
class HeaderColumn:
    """One leaf column of the header: its span of sheet columns, label and parents."""

    left: int
    right: int
    label: str
    parents: tuple[str, ...]


class Grid:
    """A sheet's rows with its merged ranges, read cell by cell the way a person sees them."""

    def __init__(self, rows: Sequence[Sequence[Any]], merges: Sequence[Merge]) -> None:
        """Index the merged ranges: extents by top-left cell, covered cells near the top."""
        self.rows = rows
        self.width = max((len(row) for row in rows[:_MAPPED_ROWS]), default=0)
        self.spans: dict[tuple[int, int], tuple[int, int]] = {}
        self.cover: dict[tuple[int, int], tuple[int, int]] = {}
        for (top, left), (bottom, right) in merges:
            if (top, left) == (bottom, right):
                continue
            self.spans[top, left] = (bottom, right)
            for r in range(top, min(bottom, _MAPPED_ROWS - 1) + 1):
                for c in range(left, min(right, self.width - 1) + 1):
                    self.cover[r, c] = (top, left)
        self._anchors: dict[int, list[Cell]] = {}

    def value(self, row: int, col: int) -> Any:
        """Return the raw cell, None outside the sheet."""
        if row < len(self.rows) and col < len(self.rows[row]):
            return self.rows[row][col]
        return None

    def anchors(self, row: int) -> list[Cell]:
        """Return the non-empty cells that start in the row (once per merged range)."""
        cached = self._anchors.get(row)
        if cached is None:
            cached = []
            for col, value in enumerate(self.rows[row] if row < len(self.rows) else ()):
                if is_empty(value) or self.cover.get((row, col), (row, col)) != (row, col):
                    continue
                bottom, right = self.spans.get((row, col), (row, col))
                cached.append(Cell(row, col, right, bottom, value, clean_label(value)))
            if row < _MAPPED_ROWS:
                self._anchors[row] = cached
        return cached

    def label(self, row: int, col: int) -> tuple[tuple[int, int], str]:
        """Return the top-left cell of what shows at (row, col) and its text."""
        key = self.cover.get((row, col), (row, col))
        return key, clean_label(self.value(*key))


def is_label(cell: Cell) -> bool:
    """Tell whether a cell reads like a column label: short text, not a number, date or code."""
    return (
        isinstance(cell.value, str) and 0 < len(cell.text) <= _MAX_LABEL and not _DATA_LIKE.match(cell.text)
    )


def unit_like(cells: Sequence[Cell]) -> bool:
    """Tell whether a row is a 填报单位/填表日期 line rather than labels."""
    hits = sum(1 for cell in cells if UNIT_LINE.search(cell.raw))
    return hits > 0 and (len(cells) <= 4 or hits * 2 >= len(cells))


def find_header(grid: Grid) -> tuple[int, int] | None:
    """Return the first and last header row (0-based), or None when no row reads as a header."""
    candidates: list[tuple[int, int]] = []
    for row in range(min(SCAN_ROWS, len(grid.rows))):
        cells = grid.anchors(row)
        if len(cells) < 2 or unit_like(cells):
            continue
        labels = [cell for cell in cells if is_label(cell)]
        if len(labels) * 5 >= len(cells) * 4 and len(labels) >= 2:
            candidates.append((row, sum(cell.width for cell in labels)))
    if not candidates:
        return None
    widest = max(width for _, width in candidates)
    # The header comes before any data row; a unit line or a caption row is much narrower.
    top = next(row for row, width in candidates if width * 2 >= widest)
    bottom = _extend_down(grid, top)
    while top > 0 and bottom - top + 1 < MAX_HEADER_ROWS and _caption_row(grid, top - 1, top):
        top -= 1
    return top, bottom


def _extend_down(grid: Grid, top: int) -> int:
    """Return the last header row: follow vertical merges and captions that need leaves below."""
    bottom = top
    last = top + MAX_HEADER_ROWS - 1
    while bottom < last:
        reach = max((c.bottom for r in range(top, bottom + 1) for c in grid.anchors(r)), default=bottom)
        if reach > bottom:
            bottom = min(reach, last)
        elif _caption_row(grid, bottom, bottom + 1, downwards=True):
            bottom += 1
        else:
            break
    return bottom


def _caption_row(grid: Grid, row: int, below: int, *, downwards: bool = False) -> bool:
    """Tell whether `row` holds group captions over leaf labels in `below`.

    Going downwards `row` is already header and `below` must be all labels; going upwards
    `below` is already header and `row` must be all labels.
    """
    cells, lower = grid.anchors(row), grid.anchors(below)
    if not cells or not lower or unit_like(cells) or unit_like(lower):
        return False
    if not all(is_label(cell) for cell in (lower if downwards else cells)):
        return False
    heads = _run_heads(grid, row, below)
    covered: dict[tuple[int, int], set[int]] = {}
    for leaf in lower:
        key, text = upper_label(grid, row, leaf.left, below)
        # Above a leaf stands a caption when it is wider than the leaf or starts a run of blanks.
        wider = key[1] != leaf.left or grid.spans.get(key, key)[1] > leaf.right or key[1] in heads
        if text and wider:
            covered.setdefault(key, set()).add(leaf.left)
        elif downwards and text and text != leaf.text:
            return False  # a value under a leaf label: `below` is a data row, not more header
    captions = [key for key, leaves in covered.items() if len(leaves) >= 2]
    if not captions:
        return False
    if len(cells) == 1:
        # One cell from the table's first column over most of it is a title, not a group caption.
        leaves = {leaf.left for leaf in lower}
        under = covered.get((cells[0].row, cells[0].left), set())
        return cells[0].left > min(leaves) or len(under) * 5 < len(leaves) * 3
    return True


def _run_heads(grid: Grid, row: int, below: int) -> set[int]:
    """Return the columns of unmerged captions in `row` followed by empty cells with labels below."""
    heads = set()
    for cell in grid.anchors(row):
        nxt = cell.right + 1
        if (
            cell.width == 1
            and (row, nxt) not in grid.cover
            and is_empty(grid.value(row, nxt))
            and not is_empty(grid.value(below, nxt))
        ):
            heads.add(cell.left)
    return heads


def upper_label(grid: Grid, row: int, col: int, below: int) -> tuple[tuple[int, int], str]:
    """Return what stands above a leaf: the cell itself, or an unmerged caption to its left.

    An unmerged caption is written once over a run of empty cells that all have labels below
    (CSV files and templates that were never merged).
    """
    key, text = grid.label(row, col)
    if text or (row, col) in grid.cover:
        return key, text
    left = col - 1
    while left >= 0 and (row, left) not in grid.cover and is_empty(grid.value(row, left)):
        if is_empty(grid.value(below, left)) and (below, left) not in grid.cover:
            return key, ""
        left -= 1
    if left < 0 or (row, left) in grid.cover or is_empty(grid.value(below, col)):
        return key, ""
    if is_empty(grid.value(below, left)):
        return key, ""  # the cell on the left is a leaf spanning both rows, not a caption
    return grid.label(row, left)


def header_columns(grid: Grid, top: int, bottom: int) -> list[HeaderColumn]:
    """Return the header's leaf columns left to right with their group captions."""
    columns: list[HeaderColumn] = []
    for col in range(grid.width):
        chain: list[tuple[tuple[int, int], str]] = []
        for row in range(top, bottom + 1):
            key, text = grid.label(row, col) if row == bottom else upper_label(grid, row, col, row + 1)
            if text and (not chain or (key != chain[-1][0] and text != chain[-1][1])):
                chain.append((key, text))
        if not chain:
            continue
        leaf_key, label = chain[-1]
        if leaf_key[1] != col:
            continue  # the rest of a leaf merged across columns, or of a caption with no leaf here
        right = grid.spans.get(leaf_key, leaf_key)[1]
        columns.append(HeaderColumn(col, max(col, right), label, tuple(text for _, text in chain[:-1])))
    return columns
