"""Submit, return and resubmit a task: every row validated, then written back in one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, select, update

from builder.reports.totals import Totals
from builder.reports.validation import ReportRowValidator
from runtime.audit import record_event
from runtime.clock import local_today
from runtime.errors import ErrorCode
from runtime.ledgers.store import iter_rows
from runtime.models import Record, Report, Task, utcnow
from runtime.org_scope import cell_scope
from runtime.reports.store import Actor, ReportError, check_owner
from runtime.tasks.added import record_problems
from runtime.tasks.aggregate import merged_units, unit_ref
from runtime.tasks.context import TaskContext
from runtime.tasks.drafts import check_open
from runtime.tasks.prefill import row_query
from runtime.tasks.rows import store
from runtime.tasks.rows.households import households_by_record
from runtime.tasks.rows.kinds import task_rows
from runtime.tasks.rows.merge import merged_values
from runtime.tasks.summary import summary_fields
from runtime.tasks.writeback import WritebackResult, write_back

#: Problems listed at most when a submission is refused (the count says how many there are).
LISTED = 200


@dataclass(frozen=True)
class RowProblem:
    """One bad cell of a task: which row (by record id, or an added row's id), which field, what is wrong."""

    record_id: int | None
    field: str
    title: str
    message: str
    added_id: int | None = None
    #: The row's name, for an added row (a ledger row's comes from its record).
    label: str = ""
    #: The org unit, for a row of an aggregate report.
    unit: str | None = None

    @property
    def ref(self) -> str:
        """Return how pages address the row (see `RowView.ref`)."""
        if self.unit is not None:
            return unit_ref(self.unit)
        return f"n{self.added_id}" if self.record_id is None else str(self.record_id)


class TaskInvalid(ReportError):
    """A submission refused because some cells are wrong; `problems` lists the first of them."""

    def __init__(self, problems: list[RowProblem], total: int):
        """Keep the problems and their total."""
        super().__init__(ErrorCode.TASK_INVALID, total=total)
        self.problems = problems
        self.total = total


@dataclass
class CellCounts:
    """Cells of a task's rows that the ledgers filled, and cells the township typed (burden figures)."""

    prefilled: int = 0
    typed: int = 0


@dataclass
class SubmitResult:
    """What a submission did."""

    rows: int = 0
    written: WritebackResult = field(default_factory=WritebackResult)
    cells: CellCounts = field(default_factory=CellCounts)


def merged_rows(
    ctx: TaskContext, *, today: date, cells: CellCounts | None = None
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Yield (record, the row's values in clear: ledger values under the drafts, computed) of a task.

    `cells`, when given, counts the cells the ledgers filled and those the township typed.
    """
    conn, spec, plan = ctx.conn, ctx.spec, ctx.plan
    drafts = store.merge_drafts(conn, ctx.task.id)
    linked = any(b.via for b in plan.values())
    for batch in iter_rows(conn, row_query(ctx)):
        homes = households_by_record(conn, ctx.specs, spec.rows.ledger, batch) if linked else {}
        for record in batch:
            draft = drafts.get(record["_id"])
            if draft is not None and draft.status == "not_applicable":
                continue
            values = {}
            for name, binding in plan.items():
                source = homes.get(record["_id"], {}) if binding.via else record
                value = source.get(binding.ledger_field.name)
                if value not in (None, ""):
                    values[name] = value
            typed = {k: v for k, v in draft.values.items() if v not in (None, "", [])} if draft else {}
            if cells is not None:
                cells.prefilled += len(values.keys() - typed.keys())
                cells.typed += len(typed)
            yield record, merged_values(spec, values, draft.values if draft else {}, today=today)


def check_task(
    ctx: TaskContext,
    *,
    today: date | None = None,
    cells: CellCounts | None = None,
    totals: Totals | None = None,
) -> tuple[int, list[RowProblem], int]:
    """Validate every row of a task; return (rows, the first problems, the number of problems).

    `cells` and `totals`, when given, take the task's cell counts and its rows' totals on the way.
    """
    conn, specs, spec = ctx.conn, ctx.specs, ctx.spec
    validator = ReportRowValidator(spec, specs.elements)
    titles = {f.name: f.title for f in spec.fields}
    rows, problems, total = 0, [], 0
    day = today or local_today()
    if task_rows(spec).by_org_unit:
        return _check_units(ctx, validator, titles, day, cells, totals)
    sums, choices = summary_fields(spec, specs)
    org = cell_scope(ctx.plan, ctx.scope, specs.org_units)
    for record, values in merged_rows(ctx, today=day, cells=cells):
        rows += 1
        if totals is not None:
            totals.add_row(values, sums, choices)
        for name, message in {**org.problems(values), **validator.errors(values)}.items():
            total += 1
            if len(problems) < LISTED:
                problems.append(RowProblem(record["_id"], name, titles.get(name, name), message))
    drafts = store.added_drafts(conn, ctx.task.id)
    elsewhere = _held_elsewhere(ctx, drafts)
    for draft in drafts:
        rows += 1
        if cells is not None:
            cells.typed += sum(v not in (None, "", []) for v in draft.values.values())
        values = merged_values(spec, {}, draft.values, today=day)  # nothing of it is in the ledger yet
        if totals is not None:
            totals.add_row(values, sums, choices)
        found = {
            **record_problems(ctx, draft),
            **org.problems(draft.values),
            **elsewhere.get(draft.row_key, {}),
            **validator.errors(values),
        }
        label = _added_label(ctx, draft)
        for name, message in found.items():
            total += 1
            if len(problems) < LISTED:
                problems.append(RowProblem(None, name, titles.get(name, name), message, draft.id, label))
    return rows, problems, total


def _held_elsewhere(ctx: TaskContext, drafts: list[Any]) -> dict[str, dict[str, str]]:
    """Return, by key, the problem of added rows whose key the ledger now holds outside the task's scope.

    Such a row cannot become a record (its key is taken) nor change that record (not the task's).
    """
    name = ctx.key_name
    keys = [d.row_key for d in drafts]
    if name is None or not keys:
        return {}
    ledger = ctx.specs.ledgers[ctx.spec.rows.ledger]
    title = ledger.by_name[ledger.key].title
    held = ctx.conn.execute(
        select(Record.key, Record.township_code, Record.village_code).where(
            Record.ledger == ledger.code, Record.key.in_(keys)
        )
    )
    return {
        key: {
            name: f"这个{title}不在您的管辖范围内，不能在本任务中新增；请删除这一行，"
            "如有出入请联系数据管理岗核实"
        }
        for key, township, village in held
        if not ctx.scope.holds(township, village)
    }


def _check_units(
    ctx: TaskContext,
    validator: ReportRowValidator,
    titles: dict[str, str],
    day: date,
    cells: CellCounts | None,
    totals: Totals | None = None,
) -> tuple[int, list[RowProblem], int]:
    """Validate the org-unit rows of an aggregate report's task (computed values under the corrections)."""
    problems, total = [], 0
    merged = merged_units(ctx, today=day)
    sums, choices = summary_fields(ctx.spec, ctx.specs)
    for unit, values, computed, typed in merged:
        if cells is not None:
            cells.prefilled += computed
            cells.typed += typed
        if totals is not None:
            totals.add_row(values, sums, choices)
        for name, message in validator.errors(values).items():
            total += 1
            if len(problems) < LISTED:
                problems.append(
                    RowProblem(None, name, titles.get(name, name), message, label=unit.name, unit=unit.code)
                )
    return len(merged), problems, total


def _added_label(ctx: TaskContext, draft: Any) -> str:
    """Return an added row's name as typed (the ledger's label field), or a placeholder."""
    label = ctx.specs.ledgers[ctx.spec.rows.ledger].label
    for name, binding in ctx.plan.items():
        if binding.via is None and binding.ledger_field.name == label and draft.values.get(name):
            return f"{draft.values[name]}（新增）"
    return "（新增的行）"


def submit_task(ctx: TaskContext, report: Report, *, today: date | None = None) -> SubmitResult:
    """Validate every row, write the filled values back, and mark the task submitted."""
    conn, task, viewer = ctx.conn, ctx.task, ctx.viewer
    check_open(ctx)
    cells, totals = CellCounts(), Totals()
    rows, problems, total = check_task(ctx, today=today, cells=cells, totals=totals)
    if total:
        raise TaskInvalid(problems, total)
    written = write_back(ctx, report.code)
    now = utcnow()
    conn.execute(
        update(Task)
        .where(Task.id == task.id)
        .values(
            state="submitted",
            submitted_at=now,
            submitted_by=viewer.user_id,
            updated_at=now,
            rows_total=rows,
            cells_prefilled=cells.prefilled,
            cells_typed=cells.typed,
            totals=totals.to_json(),
        )
    )
    record_event(
        conn,
        viewer.user_id,
        "task.submit",
        report.code,
        {
            "task": task.id,
            "unit": task.org_unit_code,
            "rows": rows,
            "written": written.records,
            "conflicts": written.conflicts,
            "proposed": written.proposed,
            "prefilled": cells.prefilled,
            "typed": cells.typed,
        },
    )
    return SubmitResult(rows=rows, written=written, cells=cells)


def return_task(conn: Connection, task: Task, report: Report, actor: Actor, reason: str) -> None:
    """Return a submitted task to its township with a reason (the department's decision)."""
    check_owner(report, actor)
    reason = (reason or "").strip()
    if not reason:
        raise ReportError(ErrorCode.RETURN_REASON_REQUIRED)
    if task.state != "submitted":
        raise ReportError(ErrorCode.ONLY_SUBMITTED_RETURN)
    conn.execute(
        update(Task)
        .where(Task.id == task.id)
        .values(state="returned", returned_reason=reason, updated_at=utcnow())
    )
    record_event(
        conn,
        actor.user_id,
        "task.return",
        report.code,
        {"task": task.id, "unit": task.org_unit_code, "reason": reason},
    )
