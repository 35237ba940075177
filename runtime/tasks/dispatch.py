"""One-click dispatch (一键下派) of an admitted report, and the task lists of org units.

Dispatch writes one task row per org unit and nothing else: a task's rows are the ledger records
of its org unit that match the report's filter, read when the task is opened, so dispatching to
the whole district costs the same whatever the size of the ledgers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from builder.catalog.specs import SpecSet
from builder.reports.spec import ReportSpec
from runtime.audit import record_event
from runtime.clock import local_today
from runtime.errors import ErrorCode
from runtime.models import OrgUnit, Report, Task, utcnow
from runtime.reports.admission import can_dispatch
from runtime.reports.specs import report_spec
from runtime.reports.store import Actor, ReportError, check_owner

#: Task state → what the township sees.
STATE_LABELS = {
    "new": "新任务",
    "in_progress": "填报中",
    "submitted": "已提交",
    "returned": "已退回",
    "overdue": "已逾期",
}
#: States in which the township may still change the task.
OPEN_STATES = frozenset({"new", "in_progress", "returned"})


def admitted_spec(session: Session, specs: SpecSet, report: Report) -> ReportSpec:
    """Return the spec of the report's admitted version."""
    return report_spec(session, specs, report.id, report.version)


def target_units(specs: SpecSet, spec: ReportSpec, chosen: Sequence[str] | None = None) -> list[str]:
    """Return the org units to dispatch to: the chosen ones, else the spec's, else all townships."""
    allowed = list(spec.targets) or [u.code for u in specs.townships()]
    if not chosen:
        return allowed
    outside = [code for code in chosen if code not in allowed]
    if outside:
        names = "、".join(specs.org_units[c].name if c in specs.org_units else c for c in outside)
        raise ReportError(ErrorCode.OUTSIDE_TARGETS, names=names)
    return list(dict.fromkeys(chosen))


def dispatch(
    session: Session, specs: SpecSet, report: Report, actor: Actor, chosen: Sequence[str] | None = None
) -> list[Task]:
    """Create one task per target org unit (again: only the missing ones); return all tasks."""
    check_owner(report, actor)
    if not can_dispatch(report):
        raise ReportError(ErrorCode.CANNOT_DISPATCH)
    spec = admitted_spec(session, specs, report)
    units = target_units(specs, spec, chosen)
    have = {t.org_unit_code: t for t in session.scalars(select(Task).where(Task.report_id == report.id))}
    now = utcnow()
    created = [
        Task(
            report_id=report.id,
            version=report.version,
            org_unit_code=code,
            deadline=spec.deadline,
            state="new",
            dispatched_by=actor.user_id,
            dispatched_at=now,
            returned_reason="",
            rows_total=0,
            rows_complete=0,
            updated_at=now,
        )
        for code in units
        if code not in have
    ]
    session.add_all(created)
    session.flush()
    if created:
        record_event(
            session.connection(),
            actor.user_id,
            "task.dispatch",
            report.code,
            {"units": [t.org_unit_code for t in created], "version": report.version},
        )
    return sorted([*have.values(), *created], key=lambda t: t.org_unit_code)


@dataclass(frozen=True)
class TaskSummary:
    """One line of a task list."""

    task: Task
    report: Report
    unit_name: str
    state: str
    percent: int
    days_left: int | None


def shown_state(task: Task, today: date) -> str:
    """Return the state to show: an open task past its deadline is overdue."""
    if task.state in OPEN_STATES and task.deadline is not None and task.deadline < today:
        return "overdue"
    return task.state


def task_list(session: Session, units: Sequence[str], *, today: date | None = None) -> list[TaskSummary]:
    """Return the tasks of some org units, open ones first, nearest deadline first."""
    today = today or local_today()
    stmt = (
        select(Task, Report, OrgUnit.name)
        .join(Report, Report.id == Task.report_id)
        .join(OrgUnit, OrgUnit.code == Task.org_unit_code)
        .where(Task.org_unit_code.in_(list(units)))
    )
    summaries = []
    for task, report, name in session.execute(stmt):
        percent = round(100 * task.rows_complete / task.rows_total) if task.rows_total else 0
        days = (task.deadline - today).days if task.deadline else None
        summaries.append(TaskSummary(task, report, name, shown_state(task, today), percent, days))
    order = {"overdue": 0, "returned": 1, "new": 2, "in_progress": 3, "submitted": 4}
    return sorted(summaries, key=lambda s: (order[s.state], s.task.deadline or date.max, s.task.id))
