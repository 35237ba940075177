"""A task as a pre-filled .xlsx to fill offline, and the filled file uploaded back.

The workbook holds what the filler sees on the page (masked values masked), one row per record
and a first column with the record's system number, by which the upload matches rows: the
natural key (an ID number) may be masked in the file. Uploading saves, row by row, the cells
that differ from what the page shows now, through the same draft path as typing (invalid
values are kept as drafts with their messages), and reports each row's outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import rustpy_xlsxwriter
from sqlalchemy import Connection

from builder.report_spec import ReportSpec
from builder.specs import SpecSet
from builder.tabular import read_table
from runtime.access import Viewer
from runtime.audit import record_event
from runtime.bulk import paused_gc
from runtime.exports import neutralize
from runtime.ledger_store import page
from runtime.models import Task
from runtime.prefill import RowView, iter_task_values, row_query, rows_of
from runtime.reports import ReportError
from runtime.task_drafts import StaleRow, check_open, save_cells

#: The first column of a task workbook: the row's system number (not to be changed).
ROW_COLUMN = "系统编号（请勿修改）"
#: One Excel sheet holds 1,048,576 rows including the header.
SHEET_ROWS = 1_048_575


def column_titles(spec: ReportSpec) -> list[str]:
    """Return the workbook's column titles: group captions joined to the field title, unique."""
    titles, seen = [], {ROW_COLUMN}
    for f in spec.fields:
        title = "·".join((*f.parents, f.title)) if f.parents else f.title
        if title in seen:
            title = f"{title}（{f.name}）"
        seen.add(title)
        titles.append(title)
    return titles


def shown(value: Any) -> Any:
    """Return a cell value as the workbook and the page show it."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return neutralize(value)


def write_task_xlsx(conn: Connection, specs: SpecSet, spec: ReportSpec, task: Task, viewer: Viewer,
                    target: Path, *, today: date | None = None,
                    progress: Callable[[int], None] | None = None) -> int:
    """Write every row of the task, pre-filled as the viewer sees it, to `target`; return rows."""
    titles = column_titles(spec)
    header = [ROW_COLUMN, *titles]
    rows: list[dict[str, Any]] = []
    with paused_gc():
        for batch in iter_task_values(conn, specs, spec, task, viewer, today=today):
            rows += [dict(zip(header, (record_id, *map(shown, values)), strict=True))
                     for record_id, values in batch]
            if progress:
                progress(len(rows))
    sheet = (spec.title[:28] or "任务")
    chunks = [rows[i:i + SHEET_ROWS] for i in range(0, max(len(rows), 1), SHEET_ROWS)]
    if len(chunks) == 1:
        rustpy_xlsxwriter.write_worksheet(chunks[0] or [dict.fromkeys([ROW_COLUMN, *titles])], str(target),
                                          sheet_name=sheet, freeze_row=1, bold_headers=True)
    else:
        rustpy_xlsxwriter.write_worksheets([(f"{sheet}{n + 1}", c) for n, c in enumerate(chunks)],
                                           str(target), bold_headers=True)
    record_event(conn, viewer.user_id, "task.download", str(task.id), {"rows": len(rows)})
    return len(rows)


@dataclass
class UploadLine:
    """What happened to one row of an uploaded workbook."""

    line: int
    record_id: int | None
    outcome: str  # saved, unchanged, errors, stale, unknown
    message: str = ""
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class UploadResult:
    """The row-by-row outcome of an upload."""

    lines: list[UploadLine] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        """Return how many rows had this outcome."""
        return sum(1 for line in self.lines if line.outcome == outcome)


def read_task_xlsx(conn: Connection, specs: SpecSet, spec: ReportSpec, task: Task, viewer: Viewer,
                   data: bytes, filename: str, *, max_bytes: int,
                   today: date | None = None) -> UploadResult:
    """Save the cells of an uploaded task workbook that differ from the task's current rows."""
    check_open(task, viewer, specs)
    table = read_table(data, filename, max_bytes=max_bytes)
    header_at, columns = _header(table, spec)
    fields = {f.name: f for f in spec.fields}
    result = UploadResult()
    body = [(n, row) for n, row in enumerate(table[header_at + 1:], start=header_at + 2)
            if any(c not in (None, "") for c in row)]
    ids = {n: _int(row[0]) for n, row in body}
    current = _current(conn, specs, spec, task, viewer, [i for i in ids.values() if i], today)
    for n, row in body:
        record_id = ids[n]
        view = current.get(record_id)
        if view is None:
            result.lines.append(UploadLine(n, record_id, "unknown", "系统编号不属于本任务的行，已跳过"))
            continue
        typed = {}
        for index, name in columns.items():
            text = row[index] if index < len(row) else None
            if _same(text, view.cells[name].value) or view.cells[name].masked or fields[name].compute:
                continue
            typed[name] = "" if text is None else text
        if not typed:
            result.lines.append(UploadLine(n, record_id, "unchanged"))
            continue
        try:
            saved = save_cells(conn, specs, spec, task, viewer, record_id, typed,
                               expected_version=view.draft_version, today=today)
        except StaleRow as exc:
            result.lines.append(UploadLine(n, record_id, "stale", str(exc)))
            continue
        outcome = "errors" if saved.errors else "saved"
        result.lines.append(UploadLine(n, record_id, outcome, errors=saved.errors))
    record_event(conn, viewer.user_id, "task.upload", str(task.id),
                 {"file": filename, **{k: result.count(k) for k in ("saved", "errors", "stale", "unknown")}})
    return result


def _header(table: list[list[Any]], spec: ReportSpec) -> tuple[int, dict[int, str]]:
    """Return the header row index and column index → field name; refuse a foreign file."""
    titles = dict(zip(column_titles(spec), (f.name for f in spec.fields), strict=True))
    for at, row in enumerate(table[:10]):
        cells = [str(c).strip() if c is not None else "" for c in row]
        if cells and cells[0] == ROW_COLUMN:
            return at, {i: titles[c] for i, c in enumerate(cells) if c in titles}
    raise ReportError(f"这不是本任务下载的表格：找不到“{ROW_COLUMN}”列。请先下载预填表格，在其中填写后再上传")


def _current(conn: Connection, specs: SpecSet, spec: ReportSpec, task: Task, viewer: Viewer,
             ids: list[int], today: date | None) -> dict[int, RowView]:
    """Return the task's current rows of some record ids (ids outside the task are left out)."""
    found: dict[int, RowView] = {}
    query = row_query(spec, specs, task)
    for start in range(0, len(ids), 1000):
        chunk = tuple(ids[start:start + 1000])
        records = page(conn, replace(query, ids=chunk), limit=len(chunk))
        for row in rows_of(conn, specs, spec, task, viewer, records, today=today, sources=False):
            found[row.record_id] = row
    return found


def _int(value: Any) -> int | None:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _same(text: Any, value: Any) -> bool:
    """Tell whether a workbook cell still says what the page shows for that cell."""
    if text in (None, "") and value in (None, "", []):
        return True
    shown_value = shown(value)
    if isinstance(text, float) and text.is_integer():
        text = int(text)
    return str(text).strip() == str(shown_value).strip()

