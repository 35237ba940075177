"""The reports a client's department owns: metadata, task progress, and the submitted rows.

A client reads only its own department's reports; another's, like an unknown code, is NotFound
(the answer never tells that it exists). The rows are those the department's export gives
(`runtime.reports.export`): the submitted tasks' rows, task by task in org-unit order, each as the
township submitted it (its drafts over the ledger values, computed fields filled, rows marked not
applicable left out, the rows it added last), masked for the client's department as for its
people. The totals are the summary page's (`runtime.tasks.summary.summarize`). Pages are keyset:
an opaque position (org unit, kind of row, where in it), so a page costs the same wherever it is.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
from sqlalchemy import Connection, select, tuple_

from builder.catalog.specs import SpecSet
from builder.reports.spec import ReportSpec
from builder.reports.totals import field_schema
from runtime.access import Viewer
from runtime.clock import local_today
from runtime.errors import ErrorCode, InvalidRequest, NotFound
from runtime.ledgers.store import page
from runtime.models import Report, ReportVersion, Task
from runtime.reports.export import unit_label
from runtime.reports.specs import report_spec
from runtime.reports.store import STATUS_LABELS, ReportError
from runtime.tasks.added import added_view
from runtime.tasks.aggregate import unit_rows
from runtime.tasks.context import TaskContext
from runtime.tasks.dispatch import STATE_LABELS, shown_state
from runtime.tasks.prefill import row_query
from runtime.tasks.rows import store
from runtime.tasks.rows.kinds import task_rows
from runtime.tasks.summary import Line, summarize
from runtime.tasks.values import iter_task_columns

#: A report with tasks is dispatched, whatever its admission status says.
DISPATCHED = "dispatched"
#: Report status → its Chinese label (the admission statuses, and dispatched).
REPORT_LABELS = {**STATUS_LABELS, DISPATCHED: "已下派"}
#: Task states counted for every report, in this order (overdue: open past its deadline).
TASK_STATES = ("new", "in_progress", "returned", "overdue", "submitted")
#: The most rows or reports one page may hold, and how many when the client does not say.
MAX_LIMIT = 5000
DEFAULT_LIMIT = 500
#: Kinds of summary rows, in their order within a task: ledger records, rows added, org units.
LEDGER, ADDED, UNIT = "r", "a", "u"
_KIND_NAMES = {LEDGER: "ledger", ADDED: "added", UNIT: "unit"}


# --- reports and their progress -------------------------------------------------------------


def owned_report(conn: Connection, department_id: int, code: str) -> Report:
    """Return a report of the department by code (NotFound for an unknown or another's)."""
    report = conn.execute(
        select(Report).where(Report.code == code[:60], Report.department_id == department_id)
    ).first()
    if report is None:
        raise NotFound(ErrorCode.REPORT_NOT_FOUND, code=code[:60])
    return report


def _status(report: Any, dispatched: bool) -> dict[str, str]:
    status = DISPATCHED if dispatched else report.status
    return {"status": status, "status_label": REPORT_LABELS.get(status, status)}


def _counts(states: Sequence[str]) -> dict[str, int]:
    found = dict.fromkeys(TASK_STATES, 0)
    for state in states:
        found[state] = found.get(state, 0) + 1
    return {"total": len(states), **found}


def _metadata(report: Any, document: dict[str, Any], tasks: Sequence[Any], today: date) -> dict[str, Any]:
    """Return what a client is told of a report: from its row, its current version and its tasks."""
    dispatched = [t.dispatched_at for t in tasks]
    return {
        "code": report.code,
        "title": report.title,
        "version": report.version,
        **_status(report, bool(tasks)),
        "mode": report.mode,
        "deadline": document.get("x-deadline"),
        "basis": document.get("x-basis") or "",
        "purpose": document.get("x-purpose") or "",
        "frequency": document.get("x-frequency") or "once",
        "ledger": report.ledger,
        "dispatched_at": min(dispatched) if dispatched else None,
        "updated_at": report.updated_at,
        "tasks": _counts([shown_state(t, today) for t in tasks]),
    }


def _documents(conn: Connection, reports: Sequence[Any]) -> dict[int, dict[str, Any]]:
    """Return report id → the document of its current version (one query)."""
    if not reports:
        return {}
    stmt = select(ReportVersion.report_id, ReportVersion.document).where(
        tuple_(ReportVersion.report_id, ReportVersion.version).in_([(r.id, r.version) for r in reports])
    )
    return {report_id: document or {} for report_id, document in conn.execute(stmt)}


def _tasks(conn: Connection, report_ids: Sequence[int]) -> dict[int, list[Any]]:
    """Return report id → its tasks in org-unit order (one query)."""
    found: dict[int, list[Any]] = {}
    if report_ids:
        stmt = (
            select(Task)
            .where(Task.report_id.in_(list(report_ids)))
            .order_by(Task.report_id, Task.org_unit_code)
        )
        for task in conn.execute(stmt):
            found.setdefault(task.report_id, []).append(task)
    return found


@dataclass(frozen=True)
class ReportsPage:
    """One page of a department's reports and the cursor of the next one."""

    reports: list[dict[str, Any]]
    next: str | None


def owned_reports(
    conn: Connection, department_id: int, *, after: str | None = None, limit: int = 100
) -> ReportsPage:
    """Return a page of the department's reports in code order, each with its task counts (three queries).

    `after` is the code the page before ended with (the `next` of its answer).
    """
    stmt = select(Report).where(Report.department_id == department_id)
    if after:  # the last code of the page before: codes are the department's own, nothing to hide
        stmt = stmt.where(Report.code > after)
    reports = list(conn.execute(stmt.order_by(Report.code).limit(limit + 1)))
    more = len(reports) > limit
    reports = reports[:limit]
    documents = _documents(conn, reports)
    tasks = _tasks(conn, [r.id for r in reports])
    today = local_today()
    listed = [_metadata(r, documents.get(r.id, {}), tasks.get(r.id, []), today) for r in reports]
    return ReportsPage(listed, reports[-1].code if more else None)


def report_detail(conn: Connection, specs: SpecSet, report: Any) -> dict[str, Any]:
    """Return a report's metadata, its fields, and the progress of each of its tasks."""
    document = _documents(conn, [report]).get(report.id, {})
    tasks = _tasks(conn, [report.id]).get(report.id, [])
    today = local_today()
    spec = _spec(conn, specs, report, tasks)
    return {
        **_metadata(report, document, tasks, today),
        "fields": _fields(spec, specs) if spec is not None else [],
        "progress": [_progress(specs, t, today) for t in tasks],
    }


def _spec(conn: Connection, specs: SpecSet, report: Any, tasks: Sequence[Any]) -> ReportSpec | None:
    """Return the spec the tasks were dispatched with, else the current version's (None: not valid yet)."""
    version = tasks[0].version if tasks else report.version
    try:
        return report_spec(conn, specs, report.id, version)
    except ReportError:  # a draft that does not check yet: it has no fields to tell of
        return None


def _fields(spec: ReportSpec, specs: SpecSet) -> list[dict[str, Any]]:
    """Return the report's fields: name, title, bound element, JSON type."""
    listed = []
    for f in spec.fields:
        schema = field_schema(f, specs.elements)
        kind = schema.get("type")
        listed.append(
            {
                "name": f.name,
                "title": f.title,
                "element": f.element,
                "type": kind if isinstance(kind, str) else None,
                "format": schema.get("format"),
                "required": f.required,
                "computed": bool(f.compute or f.formula),
            }
        )
    return listed


def _progress(specs: SpecSet, task: Any, today: date) -> dict[str, Any]:
    """Return one task's progress; rows and gaps as of its last save (null before it was first counted)."""
    state = shown_state(task, today)
    counted = bool(task.rows_total) or task.state == "submitted"
    return {
        "org_unit": task.org_unit_code,
        "org_unit_name": unit_label(specs, task.org_unit_code),
        "status": state,
        "status_label": STATE_LABELS.get(state, state),
        "deadline": task.deadline,
        "submitted_at": task.submitted_at,
        "rows": task.rows_total if counted else None,
        "gaps": max(task.rows_total - task.rows_complete, 0) if counted else None,
    }


# --- the submitted rows and their totals ----------------------------------------------------


def _encode(parts: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(parts)).decode().rstrip("=")


def _decode(text: str) -> list[Any]:
    """Return the parts of a cursor this module gave (InvalidRequest otherwise)."""
    try:
        parts = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise InvalidRequest(ErrorCode.CURSOR_INVALID, cursor=text[:40]) from None
    if not isinstance(parts, list) or not parts or not all(isinstance(p, str) for p in parts[:1]):
        raise InvalidRequest(ErrorCode.CURSOR_INVALID, cursor=text[:40])
    return parts


@dataclass(frozen=True)
class RowPosition:
    """Where a page of summary rows stops: a task's org unit, the kind of row, and the row in it."""

    unit: str
    kind: str
    #: LEDGER: (township, record id); ADDED: the draft's id; UNIT: the row's org-unit code.
    at: Any

    def encode(self) -> str:
        """Return the position as an opaque cursor."""
        at = list(self.at) if isinstance(self.at, tuple) else self.at
        return _encode([self.unit, self.kind, at])

    @classmethod
    def decode(cls, text: str) -> RowPosition:
        """Return the position of a cursor (InvalidRequest when it is not one)."""
        parts = _decode(text)
        bad = InvalidRequest(ErrorCode.CURSOR_INVALID, cursor=text[:40])
        if len(parts) != 3 or parts[1] not in _KIND_NAMES:
            raise bad
        unit, kind, at = parts
        if kind == LEDGER:
            if not (isinstance(at, list) and len(at) == 2 and isinstance(at[0], str) and _an_id(at[1])):
                raise bad
            at = (at[0], at[1])
        elif (kind == ADDED and not _an_id(at)) or (kind == UNIT and not isinstance(at, str)):
            raise bad
        return cls(unit, kind, at)


def _an_id(value: Any) -> bool:
    return type(value) is int and 0 < value < 2**63


@dataclass
class SummaryPage:
    """A page of a report's submitted rows, their totals, and the cursor of the next page."""

    spec: ReportSpec | None
    rows: list[dict[str, Any]]
    next: str | None
    submitted: int
    tasks: int
    by_unit: list[Line]
    total: Line | None
    measures: list[Any]


def summary_page(
    conn: Connection,
    specs: SpecSet,
    report: Any,
    viewer: Viewer,
    *,
    after: str | None = None,
    limit: int = DEFAULT_LIMIT,
    today: date | None = None,
) -> SummaryPage:
    """Return a page of the submitted tasks' rows as `viewer` sees them, with the summary's totals.

    The totals are those of the summary page over the submitted tasks; the rows, over all pages,
    are as many as its total counts. Clear reads through grants are tallied on the viewer.
    """
    position = RowPosition.decode(after) if after else None
    tasks = _tasks(conn, [report.id]).get(report.id, [])
    submitted = [t for t in tasks if t.state == "submitted"]
    if not tasks:
        return SummaryPage(None, [], None, 0, 0, [], None, [])
    spec = report_spec(conn, specs, report.id, tasks[0].version)
    summary = summarize(conn, specs, spec, report)
    if not spec.rows.ledger and not task_rows(spec).by_org_unit:
        raise ReportError(ErrorCode.NO_ROW_LEDGER)
    day = today or local_today()
    if position is not None:
        submitted = [t for t in submitted if t.org_unit_code >= position.unit]
    skipped = store.not_applicable(conn, [t.id for t in submitted])
    rows: list[dict[str, Any]] = []
    last: RowPosition | None = None
    more = False
    for task in submitted:
        start = position if position is not None and position.unit == task.org_unit_code else None
        ctx = TaskContext(conn, specs, spec, task, viewer)
        found, more = _task_rows(ctx, start, limit - len(rows), skipped.get(task.id, frozenset()), day)
        if found:
            rows.extend(row for row, _at in found)
            last = found[-1][1]
        if len(rows) >= limit:
            more = more or task is not submitted[-1]
            break
    return SummaryPage(
        spec,
        rows,
        last.encode() if more and last is not None else None,
        summary.submitted,
        summary.tasks,
        summary.by_unit,
        summary.total,
        summary.measures,
    )


def _task_rows(
    ctx: TaskContext, start: RowPosition | None, want: int, skip: frozenset[int], day: date
) -> tuple[list[tuple[dict[str, Any], RowPosition]], bool]:
    """Return up to `want` rows of a task after a position, and whether the task has more after them."""
    if task_rows(ctx.spec).by_org_unit:
        return _unit_rows(ctx, start, want, day)
    found: list[tuple[dict[str, Any], RowPosition]] = []
    if start is None or start.kind == LEDGER:
        found, more = _ledger_rows(ctx, start.at if start else None, want, skip, day)
        if more:
            return found, True
        start = None
    added = store.added_drafts(ctx.conn, ctx.task.id)
    if start is not None and start.kind == ADDED:
        added = [d for d in added if d.id > start.at]
    room = want - len(found)
    for draft in added[:room]:
        view = added_view(ctx, draft, today=day)
        values = {f.name: view.cells[f.name].value for f in ctx.spec.fields}
        at = RowPosition(ctx.task.org_unit_code, ADDED, draft.id)
        found.append((_row(ctx, ADDED, f"n{draft.id}", values), at))
    return found, len(added) > room


def _ledger_rows(
    ctx: TaskContext, after: tuple[str, int] | None, want: int, skip: frozenset[int], day: date
) -> tuple[list[tuple[dict[str, Any], RowPosition]], bool]:
    """Return up to `want` ledger rows of a task after a position (not-applicable ones passed over)."""
    query = row_query(ctx)
    ids: list[int] = []
    positions: dict[int, tuple[str, int]] = {}
    more = False
    while True:
        asked = want - len(ids) + 1  # one more than needed tells whether the task has more
        records = page(ctx.conn, query, after=after, limit=asked)
        for record in records:
            if record["_id"] in skip:
                continue
            if len(ids) == want:
                more = True
                break
            ids.append(record["_id"])
            positions[record["_id"]] = (record["_township"], record["_id"])
        if more or len(records) < asked:
            break
        after = (records[-1]["_township"], records[-1]["_id"])
    found = []
    names = [f.name for f in ctx.spec.fields]
    unit = ctx.task.org_unit_code
    for batch in iter_task_columns(ctx, ids=ids, today=day) if ids else ():
        for at, record_id in enumerate(batch.ids):
            values = dict(zip(names, (column[at] for column in batch.columns), strict=True))
            found.append(
                (_row(ctx, LEDGER, str(record_id), values), RowPosition(unit, LEDGER, positions[record_id]))
            )
    return found, more


def _unit_rows(
    ctx: TaskContext, start: RowPosition | None, want: int, day: date
) -> tuple[list[tuple[dict[str, Any], RowPosition]], bool]:
    """Return up to `want` org-unit rows of an aggregate report's task after a position."""
    views = unit_rows(ctx, today=day)
    if start is not None:
        codes = [v.key for v in views]
        views = views[codes.index(start.at) + 1 :] if start.at in codes else []
    found = []
    for view in views[:want]:
        values = {f.name: view.cells[f.name].value for f in ctx.spec.fields}
        at = RowPosition(ctx.task.org_unit_code, UNIT, view.key)
        found.append((_row(ctx, UNIT, f"u{view.key}", values, unit=view.key), at))
    return found, len(views) > want


def _row(
    ctx: TaskContext, kind: str, ref: str, values: dict[str, Any], unit: str | None = None
) -> dict[str, Any]:
    code = unit or ctx.task.org_unit_code
    return {
        "org_unit": code,
        "org_unit_name": unit_label(ctx.specs, code),
        "kind": _KIND_NAMES[kind],
        "ref": ref,
        "values": values,
    }


def line_of(line: Line) -> dict[str, Any]:
    """Return a summary line as the API gives it."""
    return {"org_unit": line.code or None, "name": line.label, "rows": line.rows, "sums": line.sums}
