"""The burden figures (减负成效) for leaders: computed from what was recorded, never estimated.

Per month and per township: reports received (tasks dispatched to it), reports answered from
the ledgers instead (extractions covering it), cells the ledgers pre-filled versus cells the
township typed (recorded at each submission), and the median time from dispatch to submission.
Per month: the median time from dispatch to the department's complete summary (the first time
its owner opened the summary with every task submitted). Per department: admission requests
filed, admitted, rejected and returned. Months are local (Asia/Shanghai) calendar months.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from statistics import median
from typing import Any

from sqlalchemy import Connection, select

from builder.catalog.specs import SpecSet
from runtime.clock import LOCAL_TZ
from runtime.models import AdmissionRequest, AuditEntry, Department, Report, Task


@dataclass
class UnitMonth:
    """One township's figures in one month."""

    month: str
    unit: str
    name: str
    received: int = 0
    extracted: int = 0
    prefilled: int = 0
    typed: int = 0
    #: Hours from dispatch to submission of each task submitted this month.
    waits: list[float] = field(default_factory=list)

    @property
    def prefill_rate(self) -> float | None:
        """Return the share of cells the ledgers filled, of all cells submitted (None without any)."""
        cells = self.prefilled + self.typed
        return self.prefilled / cells if cells else None

    @property
    def median_hours(self) -> float | None:
        """Return the median hours from dispatch to submission, None without submissions."""
        return median(self.waits) if self.waits else None


@dataclass
class DepartmentMonth:
    """One department's admission requests filed in one month, by what became of them."""

    month: str
    department: str
    filed: int = 0
    admitted: int = 0
    rejected: int = 0
    returned: int = 0


@dataclass
class Burden:
    """All figures: per township and month, per month (summed), per department and month."""

    units: list[UnitMonth]
    months: list[UnitMonth]
    departments: list[DepartmentMonth]
    #: Month → median hours from dispatch to the department's complete summary.
    summary_hours: dict[str, float]


def month_of(at: datetime) -> str:
    """Return the local calendar month of a stored (UTC) time as YYYY-MM."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(LOCAL_TZ).strftime("%Y-%m")


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def _township(specs: SpecSet, code: str) -> str:
    """Return the township of an org unit (a village's parent)."""
    unit = specs.org_units.get(code)
    return unit.parent if unit is not None and unit.level == "village" and unit.parent else code


def burden(conn: Connection, specs: SpecSet) -> Burden:
    """Compute every figure from the tasks, the audit log and the admission requests."""
    cells: dict[tuple[str, str], UnitMonth] = {}

    def at(month: str, code: str) -> UnitMonth:
        unit = _township(specs, code)
        if (month, unit) not in cells:
            name = specs.org_units[unit].name if unit in specs.org_units else unit
            cells[(month, unit)] = UnitMonth(month, unit, name)
        return cells[(month, unit)]

    tasks = list(
        conn.execute(
            select(
                Task.report_id,
                Task.org_unit_code,
                Task.dispatched_at,
                Task.submitted_at,
                Task.state,
                Task.cells_prefilled,
                Task.cells_typed,
            )
        )
    )
    for t in tasks:
        at(month_of(t.dispatched_at), t.org_unit_code).received += 1
        if t.state == "submitted" and t.submitted_at is not None:
            line = at(month_of(t.submitted_at), t.org_unit_code)
            line.prefilled += t.cells_prefilled
            line.typed += t.cells_typed
            line.waits.append(_hours(t.dispatched_at, t.submitted_at))
    events = conn.execute(
        select(AuditEntry.at, AuditEntry.action, AuditEntry.target, AuditEntry.detail)
        .where(AuditEntry.action.in_(("report.extract", "summary.open")))
        .order_by(AuditEntry.at)
    )
    codes = dict(conn.execute(select(Report.id, Report.code)).all())
    dispatched = {codes.get(t.report_id) for t in tasks}
    opened: dict[str, datetime] = {}
    answered: set[tuple[str, str, str]] = set()
    for when, action, target, detail in events:
        if action == "report.extract":
            # A report answered from the ledgers instead of by the townships: counted once per
            # month and township however often it is downloaded, and not for a dispatched report.
            if target in dispatched:
                continue
            for code in (detail or {}).get("units") or [u.code for u in specs.townships()]:
                if (month_of(when), target, code) not in answered:
                    answered.add((month_of(when), target, code))
                    at(month_of(when), code).extracted += 1
        elif (detail or {}).get("complete") and target not in opened:
            opened[target] = when
    units = sorted(cells.values(), key=lambda c: (c.month, c.unit))
    return Burden(
        units=units,
        months=_by_month(units),
        departments=_departments(conn),
        summary_hours=_summary_hours(tasks, codes, opened),
    )


def _by_month(units: list[UnitMonth]) -> list[UnitMonth]:
    """Sum the townships' figures of each month (waits pooled, so the median is over all tasks)."""
    months: dict[str, UnitMonth] = {}
    for line in units:
        total = months.setdefault(line.month, UnitMonth(line.month, "", "全区"))
        total.received += line.received
        total.extracted += line.extracted
        total.prefilled += line.prefilled
        total.typed += line.typed
        total.waits += line.waits
    return [months[m] for m in sorted(months)]


def _summary_hours(tasks: list[Any], codes: dict[int, str], opened: dict[str, datetime]) -> dict[str, float]:
    """Return month of dispatch → median hours from a report's dispatch to its complete summary."""
    first: dict[str, datetime] = {}
    for t in tasks:
        code = codes.get(t.report_id)
        if code is not None and (code not in first or t.dispatched_at < first[code]):
            first[code] = t.dispatched_at
    waits: dict[str, list[float]] = defaultdict(list)
    for code, dispatched in first.items():
        if code in opened:
            waits[month_of(dispatched)].append(_hours(dispatched, opened[code]))
    return {month: median(values) for month, values in sorted(waits.items())}


def _departments(conn: Connection) -> list[DepartmentMonth]:
    """Count each department's admission requests by the month they were filed and their outcome."""
    names = dict(conn.execute(select(Department.id, Department.name)).all())
    found: dict[tuple[str, str], DepartmentMonth] = {}
    for department_id, submitted_at, status in conn.execute(
        select(AdmissionRequest.department_id, AdmissionRequest.submitted_at, AdmissionRequest.status)
    ):
        month = month_of(submitted_at)
        name = names.get(department_id, str(department_id))
        line = found.setdefault((month, name), DepartmentMonth(month, name))
        line.filed += 1
        if status in ("admitted", "rejected", "returned"):
            setattr(line, status, getattr(line, status) + 1)
    return sorted(found.values(), key=lambda d: (d.month, d.department))
