"""The work of background jobs started by the pages: ledger import and export, the task workbook.

Each is called as `function(ctx, **params)` (see `runtime.jobs.runner`) with JSON parameters, in a
thread of the web process or in an RQ worker elsewhere: the reader is rebuilt from a user id and
files are named inside `ctx.folders`, which the web processes and workers share.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from runtime import config
from runtime.access import viewer_of
from runtime.audit.export import export_log
from runtime.audit.reading import AuditFilter, audit_reader
from runtime.early_warnings.flags import refresh_after
from runtime.errors import ErrorCode, InvalidRequest
from runtime.jobs.runner import JobContext
from runtime.ledgers.exports import export_ledger
from runtime.ledgers.imports import ImportOptions, import_file
from runtime.ledgers.store import Query
from runtime.masking import is_masked, searching
from runtime.models import Task
from runtime.tasks.context import task_context
from runtime.tasks.workbook import write_task_xlsx

#: What a job waiting for another large file to be read says meanwhile.
WAITING = "排队中：正在读取另一个大文件，读完后自动开始"


def _inside(folder: str, name: str) -> Path:
    """Return the file `name` inside `folder` (a bare file name, never a path elsewhere)."""
    if Path(name).name != name:
        raise InvalidRequest(ErrorCode.BAD_FILENAME, name=name)
    return Path(folder) / name


def import_upload(
    ctx: JobContext, *, ledger: str, upload: str, filename: str, user_id: int, max_bytes: int
) -> dict[str, Any]:
    """Import an uploaded file (`upload` in the upload folder, deleted after) into a ledger."""
    path = _inside(ctx.folders["upload"], upload)
    options = ImportOptions(
        limits=replace(config.read_limits("ledger"), max_bytes=max_bytes),
        report_rows=config.error_report_rows(),
        waiting=lambda: ctx.progress(0, None, WAITING),
    )
    try:
        data = path.read_bytes()
        with ctx.engine.begin() as conn:
            result = import_file(
                conn,
                ctx.specs,
                ledger,
                data,
                filename,
                viewer_of(conn, user_id),
                Path(ctx.folders["report"]),
                max_bytes=max_bytes,
                progress=ctx.progress,
                options=options,
            )
    finally:
        path.unlink(missing_ok=True)
    if result.created or result.updated:  # committed: count the ledger's warnings ahead of the page
        refresh_after(ctx, [ledger])
    return result.as_dict()


def export_records(
    ctx: JobContext,
    *,
    ledger: str,
    fmt: str,
    target: str,
    filename: str,
    user_id: int,
    filters: list[list[Any]],
    search: str = "",
    **_before: Any,
) -> dict[str, Any]:
    """Export the ledger records a user's table shows (scoped, filtered, masked) to `target`.

    The job decides again from the user, whatever its parameters say: who may export at all
    (`export_ledger` refuses the others), the scope, the filters and how the search may match
    (`**_before` takes what jobs queued by older versions held).
    """
    path = _inside(ctx.folders["export"], target)
    path.parent.mkdir(parents=True, exist_ok=True)
    org_names = {code: unit.name for code, unit in ctx.specs.org_units.items()}
    with ctx.engine.begin() as conn:
        viewer = viewer_of(conn, user_id)
        spec = ctx.specs.ledgers[ledger]
        found = searching(spec, search, viewer)
        # Never a filter on a field the user sees masked: its matches would tell the hidden value.
        shown = tuple(
            (name, value)
            for name, value in filters
            if name in spec.by_name and not is_masked(spec.by_name[name], viewer)
        )
        query = Query(
            ledger=spec, scope=viewer.scope, filters=shown, search=found.text, search_match=found.match
        )
        rows = export_ledger(conn, query, viewer, fmt, path, org_names, ctx.progress)
    return {"message": f"已导出 {rows:,} 条记录", "rows": rows, "path": str(path), "filename": filename}


def task_workbook(
    ctx: JobContext, *, task_id: int, target: str, filename: str, user_id: int
) -> dict[str, Any]:
    """Write a task as the pre-filled .xlsx its filler sees to `target` in the export folder."""
    path = _inside(ctx.folders["export"], target)
    path.parent.mkdir(parents=True, exist_ok=True)
    with ctx.engine.begin() as conn, Session(bind=conn) as session:
        task = session.get(Task, task_id)
        total = task.rows_total or None
        rows = write_task_xlsx(
            task_context(conn, ctx.specs, task, viewer_of(conn, user_id)),
            path,
            progress=lambda done: ctx.progress(done, total),
        )
    return {"message": f"已生成 {rows:,} 行的预填表格", "rows": rows, "path": str(path), "filename": filename}


def export_audit(
    ctx: JobContext, *, fmt: str, target: str, filename: str, user_id: int, filters: dict[str, Any]
) -> dict[str, Any]:
    """Export the part of the audit log a user may read, narrowed by `filters`, to `target`.

    Which part is decided again from the user, whatever the parameters say.
    """
    path = _inside(ctx.folders["export"], target)
    path.parent.mkdir(parents=True, exist_ok=True)
    with ctx.engine.begin() as conn:
        viewer = viewer_of(conn, user_id)
        reader = audit_reader(user_id, viewer.role, viewer.department, ctx.specs.departments)
        rows = export_log(conn, ctx.specs, reader, AuditFilter.from_params(filters), fmt, path, ctx.progress)
    return {"message": f"已导出 {rows:,} 条日志", "rows": rows, "path": str(path), "filename": filename}
