"""Direct extraction (直接提取): a report answered from the ledgers, without dispatching.

A report the gatekeeping decided as `extract` (admitted with mode "extract"), or any admitted
report on request, gets its rows straight from the ledgers: the records of its target org units
(the spec's, else every township) that match its row filter, each field from its ledger (household
fields via the household, computed fields computed, unbound fields empty). That is exactly what
the townships would have submitted had they changed nothing: the rows are those of tasks that were
never dispatched, so they have no drafts, read the same way (`task_values.iter_task_columns`) and
masked for the reader. Every extraction is written to the audit trail.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from builder.catalog.specs import SpecSet
from builder.reports.spec import ReportSpec
from runtime.access import Viewer
from runtime.audit import record_event
from runtime.clock import local_today
from runtime.errors import ErrorCode
from runtime.models import Report, Task
from runtime.reports.export import (
    batch_block,
    department_name,
    export_file,
    exportable_spec,
    load_report,
    org_fields,
    reader,
    rows_total,
    unit_blocks,
    unit_label,
    unit_names,
)
from runtime.reports.file import Block, Heading, Progress, ReportTable, write_table
from runtime.reports.store import Actor, ReportError, check_owner
from runtime.sharing.sight import flush_reads
from runtime.tasks.bindings import task_scope
from runtime.tasks.context import TaskContext
from runtime.tasks.dispatch import target_units
from runtime.tasks.rows.kinds import task_rows
from runtime.tasks.values import iter_task_columns

if TYPE_CHECKING:
    from runtime.jobs.runner import JobContext

#: The data source the file names.
SOURCE = "台账直接提取"


def can_extract(report: Report) -> bool:
    """Tell whether a report may be answered from the ledgers (any admitted report)."""
    return report.status == "admitted"


def extraction_units(specs: SpecSet, spec: ReportSpec, viewer: Viewer) -> list[str]:
    """Return the org units whose records answer the report: its targets the reader may see."""
    found = []
    for code in target_units(specs, spec):
        scope = task_scope(specs, _undispatched(code))
        if viewer.sees(scope.township, scope.village):
            found.append(code)
    return found


def extracted_blocks(
    conn: Connection, specs: SpecSet, spec: ReportSpec, units: Sequence[str], viewer: Viewer, today: date
) -> Iterator[Block]:
    """Yield the ledger rows of the report's org units, unit by unit, as the viewer may see them."""
    by_org_unit = task_rows(spec).by_org_unit
    for code in units:
        ctx = TaskContext(conn, specs, spec, _undispatched(code), viewer)
        if by_org_unit:
            yield from unit_blocks(ctx, "", today)
            continue
        unit = unit_label(specs, code)
        for batch in iter_task_columns(ctx, today=today):
            yield batch_block(batch, unit, "", frozenset())


def extracted_table(
    conn: Connection, specs: SpecSet, report: Report, viewer: Viewer, *, today: date | None = None
) -> tuple[ReportTable, list[str]]:
    """Return the report's rows from the ledgers, and the org units they come from."""
    spec = exportable_spec(conn, specs, report)
    units = extraction_units(specs, spec, viewer)
    day = today or local_today()
    total = sum(rows_total(TaskContext(conn, specs, spec, _undispatched(code), viewer)) for code in units)
    table = ReportTable(
        spec,
        Heading(report.title, department_name(conn, report), day, SOURCE),
        extracted_blocks(conn, specs, spec, units, viewer, day),
        total,
        unit_names=unit_names(specs),
        org_fields=org_fields(specs, spec),
    )
    return table, units


def extract_report(
    conn: Connection,
    specs: SpecSet,
    report: Report,
    actor: Actor,
    viewer: Viewer,
    fmt: str,
    target: Path,
    *,
    today: date | None = None,
    progress: Progress | None = None,
) -> int:
    """Write an admitted report's rows from the ledgers to `target`; audit it; return the rows."""
    check_owner(report, actor)
    if not can_extract(report):
        raise ReportError(ErrorCode.EXTRACT_NOT_ADMITTED)
    table, units = extracted_table(conn, specs, report, viewer, today=today)
    rows = write_table(table, fmt, target, progress)
    record_event(
        conn,
        actor.user_id,
        "report.extract",
        report.code,
        {"format": fmt, "rows": rows, "units": units, "mode": report.mode},
    )
    flush_reads(conn, actor.user_id, viewer.grants, via="extract", path=report.code)
    return rows


def extract_job(ctx: JobContext, *, report_code: str, user_id: int, fmt: str = "xlsx") -> dict[str, Any]:
    """Job: extract a report from the ledgers for the user; return the file for the job's download link."""
    with ctx.engine.begin() as conn:
        report = load_report(conn, report_code)
        actor, viewer = reader(conn, user_id)
        target = export_file(ctx.folders["export"], f"extract-{report.id}", fmt)
        rows = extract_report(conn, ctx.specs, report, actor, viewer, fmt, target, progress=ctx.progress)
    return {
        "message": f"已从台账提取 {rows:,} 行",
        "rows": rows,
        "path": str(target),
        "filename": f"{report.title}-台账提取.{fmt}",
    }


def _undispatched(code: str) -> Task:
    """Return a never-dispatched task of an org unit: no drafts, its rows straight from the ledgers."""
    return Task(id=None, org_unit_code=code)
