"""A dispatched report's rows as the department downloads them, masked for the reader.

The rows are those of its submitted tasks (on request also the live rows of the others, marked
in a 状态 column), each as the task's values give them (the township's drafts over the ledger
values, computed fields filled) but masked for the reader, without the rows the township marked
not applicable, and with the rows it added. The first column names the org unit. The file itself
(heading, header, formats) is `runtime.reports.file`'s.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from builder.catalog.specs import SpecSet
from builder.reports.spec import ReportSpec
from runtime.access import Viewer, grants_of, viewer_for
from runtime.audit import record_event
from runtime.clock import local_today
from runtime.errors import ErrorCode
from runtime.ledgers.store import count
from runtime.models import Department, OrgUnit, Report, Task, User
from runtime.reports.file import Block, Heading, Progress, ReportTable, write_table
from runtime.reports.specs import report_spec
from runtime.reports.store import Actor, ReportError, check_owner
from runtime.sharing.sight import flush_reads
from runtime.tasks.added import added_view
from runtime.tasks.aggregate import row_units, unit_rows
from runtime.tasks.context import TaskContext
from runtime.tasks.dispatch import STATE_LABELS
from runtime.tasks.prefill import row_query
from runtime.tasks.rows import store
from runtime.tasks.rows.kinds import task_rows
from runtime.tasks.values import ColumnBatch, iter_task_columns

if TYPE_CHECKING:
    from runtime.jobs.runner import JobContext

#: What the 状态 column says of a submitted task's rows.
SUBMITTED = "已提交"


def unit_label(specs: SpecSet, code: str) -> str:
    """Return an org unit's name as the first column shows it (a village with its township)."""
    unit = specs.org_units.get(code)
    if unit is None:
        return code
    if unit.level == "village" and unit.parent in specs.org_units:
        return specs.org_units[unit.parent].name + unit.name
    return unit.name


def batch_block(batch: ColumnBatch, unit: str, status: str, skip: set[int] | frozenset[int]) -> Block:
    """Return a batch of task columns as a block, without the rows of the record ids in `skip`.

    The batch is as the task's context presents it to the reader: ledger values and what the
    township typed alike masked where the reader may not see the element (`TaskContext.typed_masked`).
    """
    columns = list(batch.columns)
    if skip and not skip.isdisjoint(batch.ids):
        keep = [at for at, record_id in enumerate(batch.ids) if record_id not in skip]
        columns = [[column[at] for at in keep] for column in columns]
    return Block(unit, columns, status)


def added_block(ctx: TaskContext, drafts: Sequence[Any], unit: str, status: str, today: date) -> Block | None:
    """Return the rows a township added (not yet in the ledger) as a block, or None when there are none."""
    if not drafts:
        return None
    views = [added_view(ctx, draft, today=today) for draft in drafts]
    return Block(unit, [[view.cells[f.name].value for view in views] for f in ctx.spec.fields], status)


def unit_blocks(ctx: TaskContext, status: str, today: date) -> Iterator[Block]:
    """Yield the rows of an aggregate report's task (one per org unit, named in the first column)."""
    fields = ctx.spec.fields
    for row in unit_rows(ctx, today=today):
        yield Block(unit_label(ctx.specs, row.key), [[row.cells[f.name].value] for f in fields], status)


def rows_total(ctx: TaskContext) -> int:
    """Return how many ledger records (or, for an aggregate report, org units) are a task's rows."""
    if task_rows(ctx.spec).by_org_unit:
        return len(row_units(ctx.specs, ctx.spec, ctx.task))
    return count(ctx.conn, row_query(ctx))


def task_blocks(
    conn: Connection,
    specs: SpecSet,
    spec: ReportSpec,
    tasks: Sequence[Task],
    viewer: Viewer,
    *,
    with_status: bool,
    today: date,
) -> Iterator[Block]:
    """Yield the rows of some tasks, task by task, as the viewer sees them; not-applicable rows left out."""
    skipped = store.not_applicable(conn, [t.id for t in tasks])
    by_org_unit = task_rows(spec).by_org_unit
    for task in tasks:
        ctx = TaskContext(conn, specs, spec, task, viewer)
        unit = unit_label(specs, task.org_unit_code)
        status = _status(task) if with_status else ""
        if by_org_unit:
            yield from unit_blocks(ctx, status, today)
            continue
        skip = skipped.get(task.id, frozenset())
        # The task's rows include the records of rows its township added or included by hand,
        # whatever the report's filter says of them (runtime.tasks.prefill.row_query).
        for batch in iter_task_columns(ctx, today=today):
            yield batch_block(batch, unit, status, skip)
        block = added_block(ctx, store.added_drafts(conn, task.id), unit, status, today)
        if block is not None:
            yield block


def dispatched_table(
    conn: Connection,
    specs: SpecSet,
    report: Report,
    viewer: Viewer,
    *,
    include_open: bool = False,
    today: date | None = None,
) -> ReportTable:
    """Return the rows of a dispatched report: its submitted tasks (and, on request, the others)."""
    spec = exportable_spec(conn, specs, report)
    everything = conn.execute(
        select(Task).where(Task.report_id == report.id).order_by(Task.org_unit_code)
    ).all()
    if not everything:
        raise ReportError(ErrorCode.NOT_DISPATCHED)
    submitted = sum(t.state == "submitted" for t in everything)
    tasks = everything if include_open else [t for t in everything if t.state == "submitted"]
    source = f"各镇街填报（已提交 {submitted}/{len(everything)}"
    source += "，含未提交任务的当前数据）" if include_open and submitted < len(everything) else "）"
    day = today or local_today()
    total = sum(rows_total(TaskContext(conn, specs, spec, t, viewer)) for t in tasks) + store.added_count(
        conn, [t.id for t in tasks]
    )
    return ReportTable(
        spec,
        Heading(report.title, department_name(conn, report), day, source),
        task_blocks(conn, specs, spec, tasks, viewer, with_status=include_open, today=day),
        total,
        with_status=include_open,
        unit_names=unit_names(specs),
        org_fields=org_fields(specs, spec),
    )


def export_report(
    conn: Connection,
    specs: SpecSet,
    report: Report,
    actor: Actor,
    viewer: Viewer,
    fmt: str,
    target: Path,
    *,
    include_open: bool = False,
    today: date | None = None,
    progress: Progress | None = None,
) -> int:
    """Write a dispatched report's rows to `target` for its department; audit it; return the rows."""
    check_owner(report, actor)
    table = dispatched_table(conn, specs, report, viewer, include_open=include_open, today=today)
    rows = write_table(table, fmt, target, progress)
    record_event(
        conn,
        actor.user_id,
        "report.export",
        report.code,
        {"format": fmt, "rows": rows, "include_open": include_open},
    )
    flush_reads(conn, actor.user_id, viewer.grants, via="export", path=report.code)
    return rows


def exportable_spec(conn: Connection, specs: SpecSet, report: Report) -> ReportSpec:
    """Return the spec of a report's current version (one with a row ledger)."""
    spec = report_spec(conn, specs, report.id, report.version)
    if not spec.rows.ledger and not task_rows(spec).by_org_unit:
        raise ReportError(ErrorCode.NO_ROW_LEDGER)
    return spec


def org_fields(specs: SpecSet, spec: ReportSpec) -> frozenset[str]:
    """Return the report fields whose values are org-unit codes (township, village)."""
    return frozenset(f.name for f in spec.fields if f.element and specs.elements[f.element].org_level)


def department_name(conn: Connection, report: Report) -> str:
    """Return the name of the report's department."""
    return conn.execute(select(Department.name).where(Department.id == report.department_id)).scalar_one()


def unit_names(specs: SpecSet) -> dict[str, str]:
    """Return org-unit code → name."""
    return {code: unit.name for code, unit in specs.org_units.items()}


def reader(conn: Connection, user_id: int) -> tuple[Actor, Viewer]:
    """Return a user as the actor (rights on the report) and the viewer (masking, scope) of an export."""
    user = conn.execute(select(User).where(User.id == user_id)).first()
    if user is None or not user.active:
        raise ReportError(ErrorCode.EXPORTER_GONE)
    unit = (
        conn.execute(select(OrgUnit).where(OrgUnit.code == user.org_unit_code)).first()
        if user.org_unit_code
        else None
    )
    department = conn.scalar(select(Department.name).where(Department.id == user.department_id))
    viewer = viewer_for(
        user.id,
        user.role,
        user.org_unit_code,
        unit.level if unit else None,
        unit.parent_code if unit else None,
        department,
        grants_of(conn, user.department_id),
    )
    return Actor(user.id, user.role, user.department_id), viewer


def load_report(conn: Connection, code: str) -> Report:
    """Return a report (its row) by code, or refuse."""
    report = conn.execute(select(Report).where(Report.code == code)).first()
    if report is None:
        raise ReportError(ErrorCode.NO_SUCH_REPORT)
    return report


def export_file(folder: str | Path, stem: str, fmt: str) -> Path:
    """Return a new file path in the export folder (made if missing)."""
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path / f"{stem}-{uuid.uuid4().hex}.{fmt}"


def export_job(
    ctx: JobContext, *, report_code: str, user_id: int, fmt: str = "xlsx", include_open: bool = False
) -> dict[str, Any]:
    """Job: write a dispatched report's rows for the user; return the file for the job's download link."""
    with ctx.engine.begin() as conn:
        report = load_report(conn, report_code)
        actor, viewer = reader(conn, user_id)
        target = export_file(ctx.folders["export"], f"report-{report.id}", fmt)
        rows = export_report(
            conn,
            ctx.specs,
            report,
            actor,
            viewer,
            fmt,
            target,
            include_open=include_open,
            progress=ctx.progress,
        )
    return {
        "message": f"已导出 {rows:,} 行汇总数据",
        "rows": rows,
        "path": str(target),
        "filename": f"{report.title}-汇总.{fmt}",
    }


def _status(task: Task) -> str:
    """Return what the 状态 column says of a task's rows."""
    return SUBMITTED if task.state == "submitted" else f"未提交（{STATE_LABELS.get(task.state, task.state)}）"
