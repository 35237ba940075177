"""The queue of proposed changes (待审变更) as deciders, editors and the navigation read it.

A department reads the proposals to its own elements; an administrator reads all of them, and may
narrow them to those no department owns (`NO_OWNER`). Values are returned as stored: the web
presents them through `runtime.masking`, as on any ledger page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, false, func, select

from runtime.models import Department, ProposedChange, Record
from runtime.sharing.owners import Decider
from runtime.sharing.proposals import PENDING, described

#: The owner filter of an administrator's query that means "no department": the administrators' own.
NO_OWNER = "none"
#: Statuses a queue may be filtered to, in the order the page offers them.
STATUSES = ("pending", "accepted", "rejected", "superseded", "withdrawn")


@dataclass(frozen=True)
class QueueQuery:
    """What a decider asks of the queue: a status, and optionally a ledger, source, element, owner."""

    status: str = PENDING
    ledger: str = ""
    source: str = ""
    element: str = ""
    #: Administrators only: a department id, or NO_OWNER; "" every owner.
    owner: str = ""


def _owned(decider: Decider, owner: str = "") -> list[Any]:
    """Return the conditions limiting proposals to those the decider decides (and the owner asked for)."""
    if not decider.decides_all:
        if decider.department_id is None or not decider.decides(decider.department_id):
            return [false()]
        return [ProposedChange.owner_id == decider.department_id]
    if owner == NO_OWNER:
        return [ProposedChange.owner_id.is_(None)]
    if owner.isdigit():
        return [ProposedChange.owner_id == int(owner)]
    return []


def _where(decider: Decider, query: QueueQuery) -> list[Any]:
    clauses = [ProposedChange.status == query.status, *_owned(decider, query.owner)]
    if query.ledger:
        clauses.append(ProposedChange.ledger == query.ledger)
    if query.source:
        clauses.append(ProposedChange.source == query.source)
    if query.element:
        clauses.append(ProposedChange.element == query.element)
    return clauses


def listing(
    conn: Connection, decider: Decider, query: QueueQuery, *, offset: int = 0, limit: int = 50
) -> list[dict[str, Any]]:
    """Return one page of the decider's proposals: pending oldest first, decided newest first.

    Each row has the proposal's columns, those of `proposals.described`, and the record's data,
    version and org units (`record_data`, `record_version`, `township_code`, `village_code`).
    """
    stmt = (
        described()
        .add_columns(
            Record.data.label("record_data"),
            Record.version.label("record_version"),
            Record.township_code,
            Record.village_code,
        )
        .where(*_where(decider, query))
        .order_by(ProposedChange.id if query.status == PENDING else ProposedChange.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [dict(row._mapping) for row in conn.execute(stmt)]


def facets(conn: Connection, decider: Decider, owner: str = "") -> dict[tuple[str, str, str], int]:
    """Return the decider's pending proposals counted by (ledger, source, element)."""
    stmt = (
        select(ProposedChange.ledger, ProposedChange.source, ProposedChange.element, func.count())
        .where(ProposedChange.status == PENDING, *_owned(decider, owner))
        .group_by(ProposedChange.ledger, ProposedChange.source, ProposedChange.element)
    )
    return {(ledger, source, element): n for ledger, source, element, n in conn.execute(stmt)}


def pending_counts(conn: Connection) -> dict[int | None, int]:
    """Return the number of pending proposals per owner (None: the administrators')."""
    stmt = (
        select(ProposedChange.owner_id, func.count())
        .where(ProposedChange.status == PENDING)
        .group_by(ProposedChange.owner_id)
    )
    return dict(conn.execute(stmt).all())


def pending_count(conn: Connection, decider: Decider) -> int:
    """Return how many pending proposals wait for the decider (for the navigation)."""
    counts = pending_counts(conn)
    if decider.decides_all:
        return sum(counts.values())
    return counts.get(decider.department_id, 0) if decider.decides(decider.department_id) else 0


def owners_with_pending(conn: Connection) -> list[tuple[int | None, str | None, int]]:
    """Return (owner id, owner name, pending count) of every owner with pending proposals."""
    stmt = (
        select(ProposedChange.owner_id, Department.name, func.count())
        .outerjoin(Department, Department.id == ProposedChange.owner_id)
        .where(ProposedChange.status == PENDING)
        .group_by(ProposedChange.owner_id, Department.name)
        .order_by(Department.name)
    )
    return [tuple(row) for row in conn.execute(stmt)]


def for_record(conn: Connection, record_id: int) -> list[dict[str, Any]]:
    """Return a record's pending proposals, oldest first, with the proposer's and the owner's names."""
    stmt = described().where(ProposedChange.record_id == record_id, ProposedChange.status == PENDING)
    return [dict(row._mapping) for row in conn.execute(stmt.order_by(ProposedChange.id))]
