"""Read the audit log: the part a reader may read, narrowed by a filter, newest first, a page at a time.

An administrator reads every entry; a department reads "who read our data" — entries whose target
starts with its code (`{owner}/{ledger}`: clear reads of its elements) — and the steps of the grants
it owns or was granted (`grant/{owner}/{grantee}/{id}`) and of the changes proposed to its elements
(`proposal/{owner}/{ledger}/{key}`). Every query carries that condition, whatever the filter says.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, Text, and_, cast, false, func, or_, select, true

from builder.catalog.specs import Department as DepartmentSpec
from builder.catalog.specs import SpecSet
from runtime.audit.actions import DEPARTMENT_KINDS, KINDS, LEDGER_ACTIONS, READS, REPORT_ACTIONS, Kind
from runtime.audit.entries import Entry, describe
from runtime.clock import LOCAL_TZ
from runtime.models import AuditEntry, Department, OrgUnit, Report, User
from runtime.permissions import Action, may

#: Entries a page shows.
PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditReader:
    """Who reads the log: everything (an administrator), or one department's part of it."""

    user_id: int | None
    everything: bool = False
    #: The department's code, when it reads its part.
    department: str | None = None

    @property
    def kinds(self) -> tuple[Kind, ...]:
        """Return the kinds of action this reader can find entries of."""
        return KINDS if self.everything else DEPARTMENT_KINDS


def audit_reader(
    user_id: int | None, role: str, department: str | None, departments: Mapping[str, DepartmentSpec]
) -> AuditReader:
    """Return the reader of the log a user is (`department`: the name of theirs; `departments` by code)."""
    # Acting for every department (the administrator) reads the whole log; a role that may not
    # read it at all, or a department the catalog does not know, reads nothing.
    if may(role, Action.ANY_DEPARTMENT):
        return AuditReader(user_id, everything=True)
    code = next((d.code for d in departments.values() if department and d.name == department), None)
    return AuditReader(user_id, department=code if may(role, Action.AUDIT) else None)


@dataclass(frozen=True)
class AuditFilter:
    """What the reader narrows the log to; empty values do not narrow."""

    start: date | None = None
    #: The last day included.
    end: date | None = None
    #: A kind's code or an action.
    action: str = ""
    actor: int | None = None
    ledger: str = ""
    #: An element's code.
    element: str = ""

    def as_params(self) -> dict[str, Any]:
        """Return the filter as JSON values (a job's parameters)."""
        values = asdict(self)
        return values | {k: values[k].isoformat() if values[k] else None for k in ("start", "end")}

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> AuditFilter:
        """Return the filter `as_params` gave."""
        days = {k: date.fromisoformat(params[k]) if params.get(k) else None for k in ("start", "end")}
        return cls(**(dict(params) | days))


def _literal(text: str) -> str:
    """Return `text` for a LIKE pattern (escape character backslash), matching itself only."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like(column: Any, pattern: str) -> ColumnElement[bool]:
    """Return `column LIKE pattern` with backslash as the escape character (see `_literal`)."""
    return column.like(pattern, escape="\\")


def _visible(reader: AuditReader) -> ColumnElement[bool]:
    """Return the condition on the entries the reader may read."""
    if reader.everything:
        return true()
    if not reader.department:
        return false()
    code = _literal(reader.department)
    target = AuditEntry.target
    return or_(
        _like(target, f"{code}/%"),
        _like(target, f"grant/{code}/%"),
        # The grantee: the third part; an owner code never holds a slash.
        _like(target, f"grant/%/{code}/%"),
        _like(target, f"proposal/{code}/%"),
    )


def _day_start(day: date) -> datetime:
    """Return the first instant of a local day as naive UTC (how times are stored)."""
    return datetime.combine(day, time(), LOCAL_TZ).astimezone(UTC).replace(tzinfo=None)


def _detail_text() -> Any:
    """Return an entry's detail as JSON text (searched for element codes)."""
    return cast(AuditEntry.detail, Text)


def _of_ledger(ledger: str) -> ColumnElement[bool]:
    """Return the condition on entries about one ledger, whatever shape their target has."""
    code = _literal(ledger)
    target, action = AuditEntry.target, AuditEntry.action
    return or_(
        and_(action == "read.clear", _like(target, f"%/{code}")),
        and_(action.in_(LEDGER_ACTIONS), target == ledger),
        and_(action.in_(READS.actions[1:]), _like(target, f"{code}/%")),
        and_(_like(action, "proposal.%"), _like(target, f"proposal/%/{code}/%")),
        # A grant's detail names its ledger, or at least its elements (codes `{ledger}.…`).
        and_(
            _like(action, "grant.%"),
            or_(
                AuditEntry.detail["ledger"].as_string() == ledger,
                _like(_detail_text(), f'%"{code}.%'),
            ),
        ),
        and_(action.in_(REPORT_ACTIONS), target.in_(select(Report.code).where(Report.ledger == ledger))),
    )


def _of_element(element: str, specs: SpecSet) -> ColumnElement[bool]:
    """Return the condition on entries about one element: named in their detail, or a field revealed."""
    # Element codes hold no quote: a JSON string of the code is the code in quotes.
    named = _like(_detail_text(), f'%"{_literal(element)}"%')
    ledger = specs.ledgers.get(element.split(".", 1)[0])
    names = [f.name for f in ledger.fields if f.element.code == element] if ledger else []
    if not names:
        return named
    revealed = and_(
        AuditEntry.action.in_(READS.actions[1:]),
        _like(AuditEntry.target, f"{_literal(ledger.code)}/%"),
        AuditEntry.detail["field"].as_string().in_(names),
    )
    return or_(named, revealed)


def _where(reader: AuditReader, flt: AuditFilter, specs: SpecSet) -> list[ColumnElement[bool]]:
    """Return the conditions of the reader's part of the log narrowed by the filter."""
    found = [_visible(reader)]
    if flt.start:
        found.append(AuditEntry.at >= _day_start(flt.start))
    if flt.end:
        found.append(AuditEntry.at < _day_start(flt.end + timedelta(days=1)))
    kind = next((k for k in KINDS if k.code == flt.action), None)
    if kind:
        found.append(AuditEntry.action.in_(kind.actions))
    elif flt.action:
        found.append(AuditEntry.action == flt.action)
    if flt.actor is not None:
        found.append(AuditEntry.actor_id == flt.actor)
    if flt.ledger:
        found.append(_of_ledger(flt.ledger))
    if flt.element:
        found.append(_of_element(flt.element, specs))
    return found


def _entries(reader: AuditReader, flt: AuditFilter, specs: SpecSet) -> Select[Any]:
    """Return the query of the matching entries with who wrote them, newest first."""
    return (
        select(
            AuditEntry.id,
            AuditEntry.at,
            AuditEntry.action,
            AuditEntry.target,
            AuditEntry.detail,
            User.display_name.label("actor"),
            User.username,
            Department.name.label("department"),
            OrgUnit.name.label("unit"),
        )
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .outerjoin(Department, Department.id == User.department_id)
        .outerjoin(OrgUnit, OrgUnit.code == User.org_unit_code)
        .where(*_where(reader, flt, specs))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    )


def _after(entry_id: int) -> ColumnElement[bool]:
    """Return the condition on the entries listed after entry `entry_id` (newest first)."""
    at = select(AuditEntry.at).where(AuditEntry.id == entry_id).scalar_subquery()
    return or_(AuditEntry.at < at, and_(AuditEntry.at == at, AuditEntry.id < entry_id))


@dataclass
class EntryPage:
    """A page of entries, newest first, and where the next page starts."""

    entries: list[Entry] = field(default_factory=list)
    #: The id to pass as `after` for the next page; None on the last page.
    next_after: int | None = None


def entry_page(
    conn: Connection,
    specs: SpecSet,
    reader: AuditReader,
    flt: AuditFilter,
    *,
    after: int | None = None,
    size: int = PAGE_SIZE,
) -> EntryPage:
    """Return a page of the reader's entries matching the filter, those after entry `after`."""
    stmt = _entries(reader, flt, specs)
    if after is not None:
        stmt = stmt.where(_after(after))
    rows = conn.execute(stmt.limit(size + 1)).all()
    shown = describe(conn, specs, rows[:size])
    return EntryPage(shown, shown[-1].id if len(rows) > size else None)


def iter_entries(
    conn: Connection, specs: SpecSet, reader: AuditReader, flt: AuditFilter, *, batch: int = 2000
) -> Iterator[list[Entry]]:
    """Yield every entry of the reader matching the filter, newest first, a batch at a time."""
    after = None
    while True:
        page = entry_page(conn, specs, reader, flt, after=after, size=batch)
        if page.entries:
            yield page.entries
        if page.next_after is None:
            return
        after = page.next_after


def count_entries(conn: Connection, specs: SpecSet, reader: AuditReader, flt: AuditFilter, cap: int) -> int:
    """Return how many of the reader's entries match the filter, counting up to `cap`."""
    ids = select(AuditEntry.id).where(*_where(reader, flt, specs)).limit(cap).subquery()
    return conn.execute(select(func.count()).select_from(ids)).scalar_one()


def actors(conn: Connection, reader: AuditReader) -> list[tuple[int, str]]:
    """Return (id, display name) of the users the reader may pick: those who appear in its part of the log.

    An administrator picks from every user (the users table is small, the log is not).
    """
    stmt = select(User.id, User.display_name).order_by(User.display_name, User.id)
    if not reader.everything:
        ids = select(AuditEntry.actor_id).where(_visible(reader), AuditEntry.actor_id.is_not(None)).distinct()
        stmt = stmt.where(User.id.in_(ids))
    return [(uid, name) for uid, name in conn.execute(stmt)]
