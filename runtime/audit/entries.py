"""Audit entries in Chinese: when, who, what, which ledger and elements, how many, why, by which way.

Element and ledger names come from the catalog, reports' titles and tasks' units from the database
(one query each per page of entries, never one per entry). Record keys (an ID number for a person)
are not shown: an entry says how many records it concerns, not which.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from builder.catalog.specs import SpecSet
from runtime.audit.actions import (
    ACCOUNT_ACTIONS,
    ACTION_LABELS,
    ACTION_VIA,
    EXPORT_TARGET,
    LEDGER_ACTIONS,
    LOGIN_REASONS,
    NO_OWNER,
    READS,
    REPORT_ACTIONS,
    TASK_ACTIONS,
    VIA_LABELS,
)
from runtime.models import Report, Task

#: What a grant's detail may say, in the order the note says it.
GRANT_NOTES = (("townships", "范围"), ("expires_on", "有效期至"), ("expiry", "有效期至"), ("reason", "理由"))


@dataclass(frozen=True)
class Entry:
    """One entry as the page and the export show it."""

    id: int
    at: datetime
    action: str
    #: What was done.
    label: str
    #: Who did it (display name), and their department or org unit.
    actor: str
    unit: str
    #: The ledger, report, task or account it concerns.
    subject: str
    #: The names of the elements it concerns.
    elements: tuple[str, ...]
    records: int | None
    purpose: str
    #: 页面, 导出, 提取, 接口, or "".
    via: str
    #: What else it says: scope, expiry, reason, format, grants …
    note: str


class _Names:
    """The names an entry shows instead of codes: ledgers, elements, departments, units, reports, tasks."""

    def __init__(self, specs: SpecSet, reports: Mapping[str, str], tasks: Mapping[int, tuple[str, str]]):
        """Keep the catalog and the titles looked up for a page of entries."""
        self.specs = specs
        self.reports = reports
        self.tasks = tasks
        self.departments = {d.code: d.name for d in specs.departments.values()} | {NO_OWNER: "系统管理员"}
        district = specs.district()
        #: Where a user bound to neither a department nor an org unit works: the district.
        self.district = district.name if district else ""

    def ledger(self, code: str) -> str:
        """Return a ledger's title (its code when the catalog no longer has it)."""
        ledger = self.specs.ledgers.get(code)
        return ledger.title if ledger else code

    def elements(self, codes: Any) -> tuple[str, ...]:
        """Return the catalog names of one element code or a list of them."""
        if not isinstance(codes, list | tuple):
            codes = [codes] if codes else []
        return tuple(self.specs.elements[c].name if c in self.specs.elements else str(c) for c in codes)

    def units(self, codes: Any) -> str:
        """Return org units' names joined; None (no restriction) is the whole district."""
        if codes is None:
            return "全区"
        units = self.specs.org_units
        return "、".join(units[c].name if c in units else str(c) for c in codes) if codes else "无"

    def department(self, code: str) -> str:
        """Return a department's name from its code."""
        return self.departments.get(code, code)


def describe(conn: Connection, specs: SpecSet, rows: Sequence[Any]) -> list[Entry]:
    """Return entries (rows of `runtime.audit.reading`'s query) described in Chinese."""
    reports = _report_titles(conn, {r.target for r in rows if r.action in REPORT_ACTIONS})
    tasks = _tasks(
        conn, {int(r.target) for r in rows if r.action in TASK_ACTIONS and r.target.isdigit()}, specs
    )
    names = _Names(specs, reports, tasks)
    return [_entry(row, names) for row in rows]


def _report_titles(conn: Connection, codes: set[str]) -> dict[str, str]:
    """Return report code → title of the reports named."""
    if not codes:
        return {}
    return dict(conn.execute(select(Report.code, Report.title).where(Report.code.in_(codes))).all())


def _tasks(conn: Connection, ids: set[int], specs: SpecSet) -> dict[int, tuple[str, str]]:
    """Return task id → (its report's title, its org unit's name)."""
    if not ids:
        return {}
    stmt = select(Task.id, Report.title, Task.org_unit_code).join(Report, Report.id == Task.report_id)
    units = specs.org_units
    return {
        tid: (title, units[unit].name if unit in units else unit)
        for tid, title, unit in conn.execute(stmt.where(Task.id.in_(ids)))
    }


def _entry(row: Any, names: _Names) -> Entry:
    """Return one row of the log as the page shows it."""
    detail = row.detail if isinstance(row.detail, dict) else {}
    action = row.action
    subject, elements = _subject(action, row.target, detail, names)
    via = detail.get("via") or ("page" if detail.get("mode") == "summary" else ACTION_VIA.get(action, ""))
    return Entry(
        id=row.id,
        at=row.at,
        action=action,
        label=ACTION_LABELS.get(action, action),
        actor=row.actor or ("（未登录）" if action in ACCOUNT_ACTIONS else "（系统）"),
        unit=row.department or row.unit or (names.district if row.actor else ""),
        subject=subject,
        elements=elements,
        records=_records(action, detail),
        purpose=str(detail.get("purpose") or ""),
        via=VIA_LABELS.get(via, str(via)),
        note=_note(action, row.target, detail, names),
    )


def _subject(action: str, target: str, detail: dict[str, Any], names: _Names) -> tuple[str, tuple[str, ...]]:
    """Return what an entry concerns (a ledger, report, task or account) and the elements named."""
    parts = target.split("/")
    if action == "read.clear":
        return names.ledger(parts[-1]), names.elements(detail.get("elements"))
    if action.startswith("grant."):
        codes = detail.get("elements") or detail.get("granted_elements") or []
        ledger = detail.get("ledger") or (str(codes[0]).split(".", 1)[0] if codes else "")
        return names.ledger(ledger) if ledger else "", names.elements(codes)
    if action.startswith("proposal."):
        ledger = parts[2] if len(parts) > 2 else ""
        return names.ledger(ledger), names.elements(detail.get("element"))
    if action in READS.actions[1:]:
        spec = names.specs.ledgers.get(parts[0])
        field = spec.by_name.get(detail.get("field", "")) if spec else None
        return names.ledger(parts[0]), (field.element.name,) if field else names.elements(detail.get("field"))
    if action in LEDGER_ACTIONS:
        return names.ledger(target), ()
    if action in REPORT_ACTIONS:
        return f"报表：{names.reports.get(target, target)}", ()
    if action in TASK_ACTIONS:
        title, unit = names.tasks.get(int(target) if target.isdigit() else -1, (f"#{target}", ""))
        return f"任务：{title}" + (f"（{unit}）" if unit else ""), ()
    if action in ACCOUNT_ACTIONS:
        return f"账号：{target}", ()
    if action == "audit.export" or target == EXPORT_TARGET:
        return "审计日志", ()
    return target, ()


def _records(action: str, detail: dict[str, Any]) -> int | None:
    """Return how many records an entry concerns, when it says."""
    if action in READS.actions[1:]:
        return 1
    for key in ("records", "rows", "total"):
        if isinstance(detail.get(key), int) and not isinstance(detail.get(key), bool):
            return detail[key]
    return None


def _note(action: str, target: str, detail: dict[str, Any], names: _Names) -> str:
    """Return what else an entry says, in a line of Chinese."""
    said: list[str] = []
    if action == "read.clear":
        if detail.get("grants"):
            said.append("依据授权 " + "、".join(f"#{g}" for g in detail["grants"]))
        if detail.get("path"):
            said.append(f"路径 {detail['path']}")
    elif action.startswith("grant."):
        parts = target.split("/")
        if len(parts) >= 3:
            said.append(f"申请方 {names.department(parts[2])}，所有者 {names.department(parts[1])}")
        for key, title in GRANT_NOTES:
            if key in detail:
                value = names.units(detail[key]) if key == "townships" else detail[key]
                said.append(f"{title} {value}" if key.startswith("exp") else f"{title}：{value}")
    elif action.startswith("proposal."):
        if "old" in detail or "new" in detail:
            said.append(f"{_shown(detail.get('old'))} → {_shown(detail.get('new'))}")
        if detail.get("reason"):
            said.append(f"理由：{detail['reason']}")
    elif action in ACCOUNT_ACTIONS:
        if detail.get("reason"):
            said.append(LOGIN_REASONS.get(detail["reason"], detail["reason"]))
        if detail.get("address"):
            said.append(f"来自 {detail['address']}")
    else:
        said.extend(_other_note(detail, names))
    return "；".join(said)


def _other_note(detail: dict[str, Any], names: _Names) -> Iterable[str]:
    """Return what the older entries (exports, imports, reports, tasks) say besides their subject."""
    if detail.get("format"):
        yield f"格式 {str(detail['format']).upper()}"
    if detail.get("filters") or detail.get("search"):
        yield "按筛选条件"
    if detail.get("message"):
        yield str(detail["message"])
    if isinstance(detail.get("unit"), str):
        yield names.units([detail["unit"]])
    if isinstance(detail.get("units"), list):
        yield f"{len(detail['units'])} 个镇街"
    if detail.get("version"):
        yield f"第 {detail['version']} 版"
    if detail.get("reason"):
        yield f"理由：{detail['reason']}"


def _shown(value: Any) -> str:
    """Return a proposed value as text, an empty one as （空）."""
    return "（空）" if value in (None, "") else str(value)
