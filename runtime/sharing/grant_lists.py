"""Applications for grants as the pages list them: a department's own, those it decides, per element."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Connection, func, select, true
from sqlalchemy.orm import aliased

from runtime.models import Department, Grant, User
from runtime.sharing.grants import STATUS_LABELS


@dataclass(frozen=True)
class Application:
    """An application for a grant: what was applied for, what was granted, who took each step."""

    id: int
    ledger: str
    grantee_id: int
    #: The applicant department's name.
    grantee: str
    owner_id: int | None
    #: The owning department's name; None: administrators decide.
    owner: str | None
    elements: tuple[str, ...]
    #: Township codes applied for; None: the whole district.
    townships: tuple[str, ...] | None
    purpose: str
    starts_on: date
    expires_on: date
    #: pending, granted, refused, revoked or withdrawn (see `state` for expired).
    status: str
    granted_elements: tuple[str, ...] | None
    granted_townships: tuple[str, ...] | None
    granted_expires_on: date | None
    requested_by: str
    requested_at: datetime
    decided_by: str
    decided_at: datetime | None
    #: Why it was refused or narrowed.
    reason: str
    revoked_by: str
    revoked_at: datetime | None
    revoke_reason: str
    #: In clear (the default), or access to values masked by their sensitivity only.
    in_clear: bool = True

    def state(self, today: date) -> str:
        """Return the status, or `expired` for a grant past its expiry."""
        if (
            self.status == "granted"
            and self.granted_expires_on is not None
            and self.granted_expires_on < today
        ):
            return "expired"
        return self.status

    def label(self, today: date) -> str:
        """Return the state in Chinese."""
        return STATUS_LABELS[self.state(today)]

    def in_force(self, today: date) -> bool:
        """Tell whether the grant lets its grantee read in clear today."""
        return self.state(today) == "granted" and self.starts_on <= today

    @property
    def narrowed(self) -> bool:
        """Tell whether less was granted than applied for."""
        return self.status in ("granted", "revoked") and (
            self.granted_elements != self.elements
            or self.granted_townships != self.townships
            or self.granted_expires_on != self.expires_on
        )


def _tuple(value: list[str] | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


def _applications(conn: Connection, where: ColumnElement[bool], *order: ColumnElement) -> list[Application]:
    """Return the applications matching `where`, with their departments' and people's names."""
    grantee, owner = aliased(Department), aliased(Department)
    requester, decider, revoker = aliased(User), aliased(User), aliased(User)
    stmt = (
        select(
            Grant.__table__,
            grantee.name.label("grantee_name"),
            owner.name.label("owner_name"),
            requester.display_name.label("requester"),
            decider.display_name.label("decider"),
            revoker.display_name.label("revoker"),
        )
        .join(grantee, grantee.id == Grant.grantee_id)
        .outerjoin(owner, owner.id == Grant.owner_id)
        .outerjoin(requester, requester.id == Grant.requested_by)
        .outerjoin(decider, decider.id == Grant.decided_by)
        .outerjoin(revoker, revoker.id == Grant.revoked_by)
        .where(where)
        .order_by(*order, Grant.id.desc())
    )
    return [
        Application(
            id=row.id,
            ledger=row.ledger,
            grantee_id=row.grantee_id,
            grantee=row.grantee_name,
            owner_id=row.owner_id,
            owner=row.owner_name,
            elements=tuple(row.elements),
            townships=_tuple(row.townships),
            purpose=row.purpose,
            starts_on=row.starts_on,
            expires_on=row.expires_on,
            status=row.status,
            granted_elements=_tuple(row.granted_elements),
            granted_townships=_tuple(row.granted_townships),
            granted_expires_on=row.granted_expires_on,
            requested_by=row.requester or "",
            requested_at=row.requested_at,
            decided_by=row.decider or "",
            decided_at=row.decided_at,
            reason=row.reason,
            revoked_by=row.revoker or "",
            revoked_at=row.revoked_at,
            revoke_reason=row.revoke_reason,
            in_clear=row.in_clear,
        )
        for row in conn.execute(stmt)
    ]


def applications_of(conn: Connection, department_id: int) -> list[Application]:
    """Return a department's own applications, newest first."""
    return _applications(conn, Grant.grantee_id == department_id)


def applications_to(conn: Connection, department_id: int | None) -> list[Application]:
    """Return the applications a department decides, newest first; None: every one (administrators)."""
    return _applications(conn, true() if department_id is None else Grant.owner_id == department_id)


def pending_count(conn: Connection, department_id: int | None) -> int:
    """Return how many applications wait for a department's decision (None: for any)."""
    stmt = select(func.count()).select_from(Grant).where(Grant.status == "pending")
    if department_id is not None:
        stmt = stmt.where(Grant.owner_id == department_id)
    return conn.scalar(stmt) or 0


def grants_for_element(conn: Connection, element_code: str) -> list[Application]:
    """Return the grants of an element, in force and expired (not revoked), latest expiry first."""
    found = _applications(conn, Grant.status == "granted", Grant.granted_expires_on.desc())
    return [a for a in found if element_code in (a.granted_elements or ())]


def grants_by_element(conn: Connection, today: date) -> dict[str, list[Application]]:
    """Return element code → the grants in force today that cover it (every ledger, one query)."""
    found = _applications(
        conn,
        (Grant.status == "granted") & (Grant.starts_on <= today) & (Grant.granted_expires_on >= today),
        Grant.granted_expires_on,
    )
    by_element: dict[str, list[Application]] = {}
    for application in found:
        for code in application.granted_elements or ():
            by_element.setdefault(code, []).append(application)
    return by_element


def in_force(applications: Iterable[Application], today: date) -> list[Application]:
    """Return those of `applications` that are granted and not expired (started or not yet)."""
    return [a for a in applications if a.state(today) == "granted"]
