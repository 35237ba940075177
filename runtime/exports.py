"""Export a (filtered) ledger to .xlsx or .csv, masked for the reader."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import rustpy_xlsxwriter
from sqlalchemy import Connection

from builder.specs import Field, Ledger
from runtime.access import Viewer
from runtime.audit import record_event
from runtime.ledger_store import Query, count, iter_rows
from runtime.masking import present

#: One Excel sheet holds 1,048,576 rows including the header.
SHEET_ROWS = 1_048_575
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: Any) -> Any:
    """Defuse spreadsheet formula injection in a text cell (prefix a quote)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _cell(field: Field, value: Any, org_names: dict[str, str]) -> Any:
    if value is None:
        return None
    if field.element.org_level:
        return org_names.get(value, value)
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


def export_ledger(conn: Connection, query: Query, viewer: Viewer, fmt: str, target: Path,
                  org_names: dict[str, str],
                  progress: Callable[[int, int | None], None] | None = None) -> int:
    """Write every record the query matches to `target`; return the number of rows."""
    ledger = query.ledger
    total = count(conn, query)
    if progress:
        progress(0, total)
    titles = [f.title for f in ledger.fields]
    rows: list[list[Any]] = []
    done = 0
    for batch in iter_rows(conn, query):
        for row in present(ledger, batch, viewer):
            rows.append([_cell(f, row.get(f.name), org_names) for f in ledger.fields])
        done += len(batch)
        if progress:
            progress(done, total)
    if fmt == "csv":
        _write_csv(target, titles, rows)
    else:
        _write_xlsx(target, ledger, titles, rows)
    record_event(conn, viewer.user_id, "export", ledger.code,
                 {"format": fmt, "rows": done, "filters": dict(query.filters),
                  "search": query.search})
    return done


def _write_csv(target: Path, titles: list[str], rows: list[list[Any]]) -> None:
    # UTF-8 with BOM: Excel on Chinese Windows opens it without garbling.
    with open(target, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(titles)
        writer.writerows([neutralize(v) for v in row] for row in rows)


def _write_xlsx(target: Path, ledger: Ledger, titles: list[str], rows: list[list[Any]]) -> None:
    # Text cells are written as inline strings, never as formulas, so no injection is possible;
    # long codes (ID numbers) stay text and keep every digit.
    sheets = []
    for n, start in enumerate(range(0, max(len(rows), 1), SHEET_ROWS)):
        chunk = rows[start:start + SHEET_ROWS]
        name = ledger.title if n == 0 else f"{ledger.title}{n + 1}"
        sheets.append(([dict(zip(titles, row, strict=True)) for row in chunk] or
                       [dict.fromkeys(titles)], name))
    if len(sheets) == 1:
        rustpy_xlsxwriter.write_worksheet(sheets[0][0], str(target), sheet_name=sheets[0][1],
                                          freeze_row=1, bold_headers=True)
    else:
        rustpy_xlsxwriter.write_worksheets([(name, records) for records, name in sheets],
                                           str(target), bold_headers=True)
