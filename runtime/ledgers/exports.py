"""Export a (filtered) ledger to .xlsx or .csv, masked for the reader."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import rustpy_xlsxwriter
from sqlalchemy import Connection

from builder.catalog.specs import Ledger
from runtime.access import Viewer
from runtime.audit import record_event
from runtime.errors import ErrorCode, NotAllowed
from runtime.ledgers.bulk import paused_gc
from runtime.ledgers.store import Query, count, iter_rows
from runtime.masking import present, visible_fields
from runtime.permissions import ROLES
from runtime.sharing.sight import flush_reads

#: One Excel sheet holds 1,048,576 rows including the header.
SHEET_ROWS = 1_048_575
#: What a text cell that a spreadsheet would run as a formula starts with.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: Any) -> Any:
    """Defuse spreadsheet formula injection in a text cell (prefix a quote)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _yes_no(value: Any) -> Any:
    return ("是" if value else "否") if isinstance(value, bool) else value


def _converters(ledger: Ledger, org_names: dict[str, str]) -> dict[str, Callable[[Any], Any]]:
    """Return, for the fields whose stored value is not what a reader expects, its converter."""
    found: dict[str, Callable[[Any], Any]] = {}
    for field in ledger.fields:
        if field.element.org_level:
            found[field.name] = lambda v: org_names.get(v, v)
        elif field.schema.get("type") == "boolean":
            found[field.name] = _yes_no
    return found


def export_ledger(
    conn: Connection,
    query: Query,
    viewer: Viewer,
    fmt: str,
    target: Path,
    org_names: dict[str, str],
    progress: Callable[[int, int | None], None] | None = None,
) -> int:
    """Write every record the query matches to `target`; return the number of rows.

    Refused (PermissionError) to the roles that may not export ledgers in bulk (`Action.EXPORT`).
    """
    if not viewer.can_export:
        raise NotAllowed(ErrorCode.EXPORT_NOT_ALLOWED, role=ROLES[viewer.role][0])
    with paused_gc():
        return _export(conn, query, viewer, fmt, target, org_names, progress)


def _export(
    conn: Connection,
    query: Query,
    viewer: Viewer,
    fmt: str,
    target: Path,
    org_names: dict[str, str],
    progress: Callable[[int, int | None], None] | None,
) -> int:
    ledger = query.ledger
    total = count(conn, query)
    if progress:
        progress(0, total)
    fields = visible_fields(ledger, viewer)
    titles = [f.title for f in fields]
    names = [f.name for f in fields]
    convert = _converters(ledger, org_names)
    rows: list[dict[str, Any]] = []
    done = 0
    for batch in iter_rows(conn, query):
        for row in present(ledger, batch, viewer):
            for name, fn in convert.items():
                value = row.get(name)
                if value is not None:
                    row[name] = fn(value)
            rows.append({title: row.get(name) for title, name in zip(titles, names, strict=True)})
        done += len(batch)
        if progress:
            progress(done, total)
    if fmt == "csv":
        _write_csv(target, titles, rows)
    else:
        _write_xlsx(target, ledger, titles, rows)
    record_event(
        conn,
        viewer.user_id,
        "export",
        ledger.code,
        {"format": fmt, "rows": done, "filters": dict(query.filters), "search": query.search},
    )
    flush_reads(conn, viewer.user_id, viewer.grants, via="export")
    return done


def _write_csv(target: Path, titles: list[str], rows: list[dict[str, Any]]) -> None:
    # UTF-8 with BOM: Excel on Chinese Windows opens it without garbling.
    with open(target, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(titles)
        writer.writerows([neutralize(v) for v in row.values()] for row in rows)


def _write_xlsx(target: Path, ledger: Ledger, titles: list[str], rows: list[dict[str, Any]]) -> None:
    # Text cells are written as inline strings, never as formulas, so no injection is possible;
    # long codes (ID numbers) stay text and keep every digit.
    sheets = []
    for n, start in enumerate(range(0, max(len(rows), 1), SHEET_ROWS)):
        chunk = rows[start : start + SHEET_ROWS]
        name = ledger.title if n == 0 else f"{ledger.title}{n + 1}"
        sheets.append((chunk or [dict.fromkeys(titles)], name))
    if len(sheets) == 1:
        rustpy_xlsxwriter.write_worksheet(
            sheets[0][0], str(target), sheet_name=sheets[0][1], freeze_row=1, bold_headers=True
        )
    else:
        rustpy_xlsxwriter.write_worksheets(
            [(name, records) for records, name in sheets], str(target), bold_headers=True
        )
