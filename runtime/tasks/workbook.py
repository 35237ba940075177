"""A task as a pre-filled .xlsx to fill offline, and the filled file uploaded back.

The workbook holds what the filler sees on the page (masked values masked), one row per record
and a first column with the record's system number, by which the upload matches rows: the
natural key (an ID number) may be masked in the file. Uploading saves the cells that differ
from what the page shows now as typing them would (invalid values are kept as drafts with their
messages; a row someone else saves while the upload runs is refused whole), a thousand rows in
a few queries, and reports each row's outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from operator import itemgetter
from pathlib import Path
from typing import Any

import rustpy_xlsxwriter

from builder.reports.spec import ReportSpec
from builder.tabular.limits import ReadLimits
from builder.tabular.reading import read_table
from runtime import config
from runtime.audit import record_event
from runtime.errors import ErrorCode
from runtime.ledgers.bulk import paused_gc
from runtime.ledgers.exports import FORMULA_START, neutralize
from runtime.models import Task
from runtime.reports.store import ReportError
from runtime.tasks.added import added_rows
from runtime.tasks.aggregate import unit_rows
from runtime.tasks.context import TaskContext
from runtime.tasks.drafts import RowSaved, StaleRow, check_open, save_rows
from runtime.tasks.prefill import RowView
from runtime.tasks.rows.kinds import ADDED, ORG_UNITS, task_rows
from runtime.tasks.values import ColumnBatch, iter_task_columns

#: The first column of a task workbook: the row's system number (not to be changed).
ROW_COLUMN = "系统编号（请勿修改）"
#: The second: the row's draft version when downloaded. A row changed on the web since then is
#: not overwritten by the file (the same rule as two people typing in the grid).
VERSION_COLUMN = "版本（请勿修改）"
#: Why a row of the file was not saved: it changed on the web after the download.
CHANGED_SINCE = "这一行下载后已在网页上修改过，表格中这一行的修改未保存；请在网页上核对后再改"
#: The second column of an aggregate report's workbook: the org unit's name (read only).
UNIT_COLUMN = "单位名称"
#: One Excel sheet holds 1,048,576 rows including the header.
SHEET_ROWS = 1_048_575
#: Rows and columns an uploaded task workbook may have beyond the task's (notes, a total line).
SPARE_ROWS = 1_000
SPARE_COLUMNS = 50
#: Value types `shown` leaves alone, and those it changes only for text starting like a formula.
_NUMBERS = {type(None), int, float}
_TEXT = {type(None), str}
_FORMULA_FIRST = frozenset(FORMULA_START)


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


def shown_column(values: list[Any]) -> list[Any]:
    """Return a column's values as the workbook shows them (`shown` of each, without a call per cell)."""
    # Only booleans, lists and text that starts like a formula change. Most columns hold none:
    # tell so with passes that run in C (types, first characters), and go value by value only if not.
    kinds = set(map(type, values))
    if kinds <= _NUMBERS:
        return values
    if kinds <= _TEXT and _FORMULA_FIRST.isdisjoint(map(itemgetter(0), filter(None, values))):
        return values
    return [
        shown(v) if v.__class__ in (bool, list) or (v.__class__ is str and v.startswith(FORMULA_START)) else v
        for v in values
    ]


def write_task_xlsx(
    ctx: TaskContext,
    target: Path,
    *,
    today: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write every row of the task, pre-filled as the viewer sees it, to `target`; return rows."""
    spec = ctx.spec
    if task_rows(spec).by_org_unit:
        return _write_units(ctx, target, today=today)
    header = [ROW_COLUMN, VERSION_COLUMN, *column_titles(spec)]
    rows: list[dict[str, Any]] = []
    with paused_gc():
        for batch in iter_task_columns(ctx, today=today):
            columns = map(shown_column, batch.columns)
            rows += [
                dict(zip(header, row, strict=True))
                for row in zip(batch.ids, batch.versions, *columns, strict=True)
            ]
            if progress:
                progress(len(rows))
        for added in added_rows(ctx, today=today):  # last, as few as they are
            values = (shown(added.cells[f.name].value) for f in spec.fields)
            rows.append(dict(zip(header, (added.ref, added.draft_version, *values), strict=True)))
    sheet = spec.title[:28] or "任务"
    chunks = [rows[i : i + SHEET_ROWS] for i in range(0, max(len(rows), 1), SHEET_ROWS)]
    if len(chunks) == 1:
        rustpy_xlsxwriter.write_worksheet(
            chunks[0] or [dict.fromkeys(header)],
            str(target),
            sheet_name=sheet,
            freeze_row=1,
            bold_headers=True,
        )
    else:
        rustpy_xlsxwriter.write_worksheets(
            [(f"{sheet}{n + 1}", c) for n, c in enumerate(chunks)], str(target), bold_headers=True
        )
    record_event(ctx.conn, ctx.viewer.user_id, "task.download", str(ctx.task.id), {"rows": len(rows)})
    return len(rows)


@dataclass
class UploadLine:
    """What happened to one row of an uploaded workbook."""

    line: int
    record_id: int | None
    outcome: str  # saved, unchanged, errors, stale, unknown
    message: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    #: How pages address the row (a record id, or "n" and an added row's id).
    ref: str | None = None


@dataclass
class UploadResult:
    """The row-by-row outcome of an upload."""

    lines: list[UploadLine] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        """Return how many rows had this outcome."""
        return sum(1 for line in self.lines if line.outcome == outcome)


def read_task_xlsx(
    ctx: TaskContext,
    data: bytes,
    filename: str,
    *,
    max_bytes: int,
    today: date | None = None,
) -> UploadResult:
    """Save the cells of an uploaded task workbook that differ from the task's current rows."""
    conn, spec, task, viewer = ctx.conn, ctx.spec, ctx.task, ctx.viewer
    check_open(ctx)
    table = read_table(data, filename, limits=upload_limits(spec, task, max_bytes))
    header_at, columns = _header(table, spec)
    versions = _versions(table[header_at], table[header_at + 1 :], header_at)
    result = UploadResult()
    body = [
        (n, row)
        for n, row in enumerate(table[header_at + 1 :], start=header_at + 2)
        if any(c not in (None, "") for c in row)
    ]
    if task_rows(spec).by_org_unit:
        _read_units(ctx, body, columns, result, today)
        counts = {k: result.count(k) for k in ("saved", "errors", "stale", "unknown")}
        record_event(conn, viewer.user_id, "task.upload", str(task.id), {"file": filename, **counts})
        return result
    ids = {n: _int(row[0]) for n, row in body}
    current = _current(ctx, [i for i in ids.values() if i], today)
    position = {f.name: i for i, f in enumerate(spec.fields)}
    # File column → field position, for the fields a filler fills (computed ones are the system's).
    editable = {
        index: position[name] for index, name in columns.items() if not spec.fields[position[name]].compute
    }
    added = {r.ref: r for r in added_rows(ctx, today=today)}
    changed: list[tuple[int, dict[str, Any], int]] = []  # (record id, cells, version): saved together
    waiting: list[int] = []  # their lines in the result
    for n, row in body:
        ref = str(row[0]).strip() if row and row[0] is not None else ""
        if ADDED.owns(ref):  # a row the township added in the grid
            result.lines.append(_save_added_line(ctx, n, row, added.get(ref), editable, versions.get(n)))
            continue
        record_id = ids[n]
        found = current.get(record_id)
        if found is None:
            result.lines.append(UploadLine(n, record_id, "unknown", "系统编号不属于本任务的行，已跳过"))
            continue
        batch, shown_columns, at = found
        typed = {}
        for index, i in editable.items():
            text = row[index] if index < len(row) else None
            if (
                _unchanged(text, shown_columns[i][at])
                or at in batch.masked[i]
                or _same(text, batch.columns[i][at])
            ):
                continue
            typed[spec.fields[i].name] = "" if text is None else text
        if not typed:
            result.lines.append(UploadLine(n, record_id, "unchanged", ref=str(record_id)))
            continue
        if versions.get(n, batch.versions[at]) != batch.versions[at]:
            result.lines.append(UploadLine(n, record_id, "stale", CHANGED_SINCE, ref=str(record_id)))
            continue
        waiting.append(len(result.lines))
        result.lines.append(UploadLine(n, record_id, "saved", ref=str(record_id)))  # its outcome comes below
        changed.append((record_id, typed, batch.versions[at]))
    outcomes = save_rows(ctx, changed, today=today)
    for at, saved in zip(waiting, outcomes, strict=True):
        result.lines[at] = _saved_line(result.lines[at].line, saved)
    record_event(
        conn,
        viewer.user_id,
        "task.upload",
        str(task.id),
        {"file": filename, **{k: result.count(k) for k in ("saved", "errors", "stale", "unknown")}},
    )
    return result


def upload_limits(spec: ReportSpec, task: Task, max_bytes: int) -> ReadLimits:
    """Return what a task's workbook may hold: its rows and columns, and room for a few more."""
    limits = replace(config.read_limits("task"), max_bytes=max_bytes)
    columns = len(spec.fields) + 2 + SPARE_COLUMNS
    rows = task.rows_total + 10 + SPARE_ROWS if task.rows_total else None  # not counted yet: the default
    return limits.narrowed(rows=rows, columns=columns)


def _versions(header: list[Any], body: list[list[Any]], header_at: int) -> dict[int, int]:
    """Return file line → the row's draft version at download (files from before the column: none)."""
    cells = [str(c).strip() if c is not None else "" for c in header]
    if VERSION_COLUMN not in cells:
        return {}
    at = cells.index(VERSION_COLUMN)
    found = {}
    for n, row in enumerate(body, start=header_at + 2):
        version = _int(row[at]) if at < len(row) else None
        if version is not None:
            found[n] = version
    return found


def _saved_line(n: int, saved: RowSaved) -> UploadLine:
    """Return the upload's line of a ledger row saved with the others."""
    ref = str(saved.record_id)
    if saved.refused:
        return UploadLine(n, saved.record_id, saved.refused, saved.message, ref=ref)
    return UploadLine(n, saved.record_id, "errors" if saved.errors else "saved", errors=saved.errors, ref=ref)


def _save_added_line(
    ctx: TaskContext,
    n: int,
    row: list[Any],
    view: RowView | None,
    editable: dict[int, int],
    version: int | None,
) -> UploadLine:
    """Save the changed cells of a row the township added; return its outcome."""
    if view is None:
        return UploadLine(n, None, "unknown", "这一新增的行已被删除，或不属于本任务，已跳过")
    typed = {}
    for index, i in editable.items():
        f = ctx.spec.fields[i]
        cell = view.cells[f.name]
        text = row[index] if index < len(row) else None
        if cell.masked or cell.state == "key" or _same(text, cell.value):
            continue
        typed[f.name] = "" if text is None else text
    if not typed:
        return UploadLine(n, None, "unchanged", ref=view.ref)
    if version is not None and version != view.draft_version:
        return UploadLine(n, None, "stale", CHANGED_SINCE, ref=view.ref)
    try:
        saved = ADDED.save(ctx, view.ref, typed, expected_version=view.draft_version)
    except StaleRow as exc:
        return UploadLine(n, None, "stale", str(exc), ref=view.ref)
    return UploadLine(n, None, "errors" if saved.errors else "saved", errors=saved.errors, ref=view.ref)


def _write_units(
    ctx: TaskContext,
    target: Path,
    *,
    today: date | None = None,
) -> int:
    """Write an aggregate report's task: one line per org unit, its name beside its reference."""
    spec = ctx.spec
    header = [ROW_COLUMN, UNIT_COLUMN, *column_titles(spec)]
    rows = [
        dict(
            zip(
                header,
                (row.ref, row.label, *(shown(row.cells[f.name].value) for f in spec.fields)),
                strict=True,
            )
        )
        for row in unit_rows(ctx, today=today)
    ]
    rustpy_xlsxwriter.write_worksheet(
        rows or [dict.fromkeys(header)],
        str(target),
        sheet_name=spec.title[:28] or "任务",
        freeze_row=1,
        bold_headers=True,
    )
    record_event(ctx.conn, ctx.viewer.user_id, "task.download", str(ctx.task.id), {"rows": len(rows)})
    return len(rows)


def _read_units(
    ctx: TaskContext,
    body: list[tuple[int, list[Any]]],
    columns: dict[int, str],
    result: UploadResult,
    today: date | None,
) -> None:
    """Save the corrected cells of an aggregate report's workbook, line by line, into `result`."""
    current = {row.ref: row for row in unit_rows(ctx, today=today)}
    editable = {
        index: name
        for index, name in columns.items()
        if not next(f for f in ctx.spec.fields if f.name == name).compute
    }
    for n, line in body:
        ref = str(line[0]).strip() if line and line[0] is not None else ""
        row = current.get(ref) if ORG_UNITS.owns(ref) else None
        if row is None:
            result.lines.append(UploadLine(n, None, "unknown", "系统编号不属于本任务的行，已跳过"))
            continue
        typed = {
            name: "" if (text := line[index] if index < len(line) else None) is None else text
            for index, name in editable.items()
            if not _same(line[index] if index < len(line) else None, row.cells[name].value)
        }
        if not typed:
            result.lines.append(UploadLine(n, None, "unchanged", ref=ref))
            continue
        try:
            saved = ORG_UNITS.save(ctx, ref, typed, expected_version=row.draft_version)
        except StaleRow as exc:
            result.lines.append(UploadLine(n, None, "stale", str(exc), ref=ref))
            continue
        result.lines.append(
            UploadLine(n, None, "errors" if saved.errors else "saved", errors=saved.errors, ref=ref)
        )


def _header(table: list[list[Any]], spec: ReportSpec) -> tuple[int, dict[int, str]]:
    """Return the header row index and column index → field name; refuse a foreign file."""
    titles = dict(zip(column_titles(spec), (f.name for f in spec.fields), strict=True))
    for at, row in enumerate(table[:10]):
        cells = [str(c).strip() if c is not None else "" for c in row]
        if cells and cells[0] == ROW_COLUMN:
            return at, {i: titles[c] for i, c in enumerate(cells) if c in titles}
    raise ReportError(ErrorCode.NOT_TASK_WORKBOOK, column=ROW_COLUMN)


def _current(
    ctx: TaskContext,
    ids: list[int],
    today: date | None,
) -> dict[int, tuple[ColumnBatch, list[list[Any]], int]]:
    """Return record id → (its batch, the batch's columns as shown, its position), for the ids of the task."""
    found = {}
    with paused_gc():
        for batch in iter_task_columns(ctx, ids=ids, today=today):
            shown_columns = [shown_column(c) for c in batch.columns]
            found.update((record_id, (batch, shown_columns, at)) for at, record_id in enumerate(batch.ids))
    return found


def _int(value: Any) -> int | None:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _unchanged(text: Any, shown_value: Any) -> bool:
    """Tell, for the common cases only, that a workbook cell says what the page shows (see `_same`)."""
    return (text.__class__ is str and text == shown_value) or (text is None and shown_value is None)


def _same(text: Any, value: Any) -> bool:
    """Tell whether a workbook cell still says what the page shows for that cell."""
    if text in (None, "") and value in (None, "", []):
        return True
    shown_value = shown(value)
    if isinstance(text, float) and text.is_integer():
        text = int(text)
    return str(text).strip() == str(shown_value).strip()
