"""Grants (分级授权): a department applies for other departments' elements; their owner decides.

An application names elements of one ledger, the townships (or the whole district), a purpose
and a period. Elements of several owners become one application per owner; elements whose owner
is no department of the `departments` table go to the administrators (`owner_id` None). The owner
(or an administrator) approves an application as applied or narrowed, or refuses it; a grant may
later be revoked; the applicant may withdraw it while it waits. Every step is audited with target
`grant/{owner code}/{grantee code}/{id}`. Operations never commit: the caller owns the transaction.

The decision point reads the grants in force through `runtime.sharing.sight.grants_in_force`.
Lists of applications for the pages are in `runtime.sharing.grant_lists`, the checks of what is
applied for or granted in `runtime.sharing.grant_checks`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.engine import Row

from builder.catalog.specs import Element, SpecSet
from runtime.audit import record_event
from runtime.clock import local_today
from runtime.errors import ErrorCode, InvalidRequest, NotAllowed, NotFound
from runtime.models import Department, Grant, OrgUnit, utcnow
from runtime.sharing.grant_checks import (
    DEFAULT_YEARS,
    GrantRefused,
    Problem,
    add_years,
    element_problems,
    period_problems,
    text_problems,
    township_problems,
)

#: Grant status → what the pages say; `expired` is a granted grant past its expiry (still `granted`).
STATUS_LABELS = {
    "pending": "待审批",
    "granted": "已授权",
    "refused": "已拒绝",
    "revoked": "已撤销",
    "withdrawn": "已撤回",
    "expired": "已过期",
}
#: The owner code of audit targets, and who the pages say decides, when administrators decide.
ADMIN_CODE = "admin"
ADMINISTRATORS = "系统管理员"


@dataclass(frozen=True)
class Dept:
    """A department as grants name it: its id, its code (audit targets) and its name (element owners)."""

    id: int
    code: str
    name: str


def departments(conn: Connection) -> dict[int, Dept]:
    """Return the departments of the table by id."""
    return {
        row.id: Dept(*row) for row in conn.execute(select(Department.id, Department.code, Department.name))
    }


# --- applying ---------------------------------------------------------------------------------------


def apply(
    conn: Connection,
    specs: SpecSet,
    *,
    department: int | None,
    user_id: int | None,
    ledger: str,
    elements: Sequence[str],
    townships: Sequence[str] | None,
    purpose: str,
    starts_on: date | None = None,
    expires_on: date | None = None,
    today: date | None = None,
) -> list[int]:
    """Apply for elements of a ledger, one application per owner; return their ids.

    `department` is the applicant's department id, `townships` None the whole district; the period
    runs from `starts_on` (default today) to `expires_on` included (default a year later).
    """
    today = today or local_today()
    known = departments(conn)
    applicant = known.get(department) if department is not None else None
    if applicant is None:
        raise NotAllowed(ErrorCode.GRANT_NO_DEPARTMENT)
    problems: list[Problem] = []
    spec = specs.ledgers.get(ledger)
    if spec is None:
        problems.append(
            Problem("ledger", ErrorCode.GRANT_UNKNOWN_LEDGER, {"ledger": ledger})
            if ledger
            else Problem("ledger", ErrorCode.GRANT_NO_LEDGER, {})
        )
        chosen: list[Element] = []
    else:
        chosen = element_problems(spec, elements, applicant.name, problems)
    scope = township_problems(specs, townships, problems)
    purpose = purpose.strip()
    problems += text_problems("purpose", purpose, "用途：申请这些数据做什么（如核发残疾人两项补贴）")
    starts_on = starts_on or today
    expires_on = expires_on or add_years(starts_on, DEFAULT_YEARS)
    problems += period_problems(starts_on, expires_on, today)
    if problems:
        raise GrantRefused(problems)
    owners = {d.name: d for d in known.values()}
    by_owner: dict[str, list[str]] = {}
    for element in chosen:
        by_owner.setdefault(element.department, []).append(element.code)
    made = []
    for owner_name, codes in by_owner.items():
        owner = owners.get(owner_name)
        values = {
            "grantee_id": applicant.id,
            "owner_id": owner.id if owner else None,
            "ledger": ledger,
            "elements": codes,
            "townships": scope,
            "purpose": purpose,
            "starts_on": starts_on,
            "expires_on": expires_on,
        }
        grant_id = conn.execute(
            insert(Grant).values(status="pending", requested_by=user_id, requested_at=utcnow(), **values)
        ).inserted_primary_key[0]
        detail = {**values, "starts_on": starts_on.isoformat(), "expires_on": expires_on.isoformat()}
        del detail["grantee_id"], detail["owner_id"]
        record_event(conn, user_id, "grant.apply", _target(owner, applicant, grant_id), detail)
        made.append(grant_id)
    return made


# --- deciding ---------------------------------------------------------------------------------------


def approve(
    conn: Connection,
    grant_id: int,
    *,
    user_id: int | None,
    department: int | None,
    is_admin: bool,
    elements: Sequence[str] | None = None,
    townships: Sequence[str] | None = None,
    expires_on: date | None = None,
    reason: str = "",
    today: date | None = None,
    in_clear: bool = True,
) -> None:
    """Grant a pending application as applied, or narrowed (with a reason).

    Narrowing grants a subset of the elements, a subset of the townships (or townships instead of
    the district), an earlier expiry, or the values masked by their sensitivity only (not
    `in_clear`); None for any of the first three keeps what was applied for.
    """
    today = today or local_today()
    row, known = _decidable(conn, grant_id, department, is_admin)
    problems: list[Problem] = []
    granted = list(row.elements) if elements is None else [c for c in row.elements if c in set(elements)]
    if elements is not None:
        if extra := sorted(set(elements) - set(row.elements)):
            params = {"elements": "、".join(extra)}
            problems.append(Problem("elements", ErrorCode.GRANT_ELEMENTS_NOT_APPLIED, params))
        elif not granted:
            problems.append(Problem("elements", ErrorCode.GRANT_NO_ELEMENTS, {}))
    scope = (
        row.townships if townships is None else _narrowed_townships(conn, row.townships, townships, problems)
    )
    expiry = expires_on or row.expires_on
    if expiry > row.expires_on:
        params = {"expires_on": row.expires_on.isoformat()}
        problems.append(Problem("expires_on", ErrorCode.GRANT_EXPIRY_LATER_THAN_APPLIED, params))
    else:
        problems += period_problems(row.starts_on, expiry, today)
    narrowed = (
        granted != list(row.elements) or scope != row.townships or expiry != row.expires_on or not in_clear
    )
    reason = reason.strip()
    if narrowed or reason:
        problems += text_problems("reason", reason, "缩小授权范围的理由，申请部门会看到它")
    if problems:
        raise GrantRefused(problems)
    _decide(
        conn,
        row,
        status="granted",
        values={
            "granted_elements": granted,
            "granted_townships": scope,
            "granted_expires_on": expiry,
            "reason": reason,
            "in_clear": in_clear,
        },
        user_id=user_id,
    )
    detail = {
        "elements": granted,
        "townships": scope,
        "expires_on": expiry.isoformat(),
        "in_clear": in_clear,
        "narrowed": narrowed,
    }
    record_event(conn, user_id, "grant.approve", _row_target(row, known), detail | {"reason": reason})


def _narrowed_townships(
    conn: Connection, applied: list[str] | None, townships: Sequence[str], problems: list[Problem]
) -> list[str] | None:
    """Return the townships granted of those applied for, in catalog order; note any not applied for."""
    wanted = set(townships)
    known = list(conn.scalars(select(OrgUnit.code).where(OrgUnit.level == "township").order_by(OrgUnit.code)))
    allowed = known if applied is None else [c for c in known if c in set(applied)]
    if not wanted:
        problems.append(Problem("townships", ErrorCode.GRANT_NO_TOWNSHIPS, {}))
    elif extra := sorted(wanted - set(allowed)):
        problems.append(
            Problem("townships", ErrorCode.GRANT_TOWNSHIPS_NOT_APPLIED, {"townships": "、".join(extra)})
        )
    scope = [code for code in allowed if code in wanted]
    return None if applied is None and scope == known else scope


def refuse(
    conn: Connection,
    grant_id: int,
    *,
    user_id: int | None,
    department: int | None,
    is_admin: bool,
    reason: str,
) -> None:
    """Refuse a pending application with a reason the applicant reads."""
    row, known = _decidable(conn, grant_id, department, is_admin)
    reason = reason.strip()
    if problems := text_problems("reason", reason, "拒绝的理由，申请部门会看到它"):
        raise GrantRefused(problems)
    _decide(conn, row, status="refused", values={"reason": reason}, user_id=user_id)
    record_event(conn, user_id, "grant.refuse", _row_target(row, known), {"reason": reason})


def revoke(
    conn: Connection,
    grant_id: int,
    *,
    user_id: int | None,
    department: int | None,
    is_admin: bool,
    reason: str,
) -> None:
    """Revoke a grant (in force or not yet started) with a reason the grantee reads."""
    row = _row(conn, grant_id)
    known = departments(conn)
    _check_decider(row, known, department, is_admin)
    if row.status != "granted":
        raise InvalidRequest(ErrorCode.GRANT_NOT_GRANTED, status=STATUS_LABELS[row.status])
    reason = reason.strip()
    if problems := text_problems("reason", reason, "撤销的理由，被授权部门会看到它"):
        raise GrantRefused(problems)
    values = {"revoked_by": user_id, "revoked_at": utcnow(), "revoke_reason": reason}
    _change(conn, row, "granted", "revoked", values)
    record_event(conn, user_id, "grant.revoke", _row_target(row, known), {"reason": reason})


def withdraw(conn: Connection, grant_id: int, *, user_id: int | None, department: int | None) -> None:
    """Withdraw one's own department's application while it waits."""
    row = _row(conn, grant_id)
    if department is None or row.grantee_id != department:
        raise NotAllowed(ErrorCode.GRANT_NOT_APPLICANT)
    _check_pending(row)
    _change(conn, row, "pending", "withdrawn", {})
    record_event(conn, user_id, "grant.withdraw", _row_target(row, departments(conn)), {})


def _row(conn: Connection, grant_id: int) -> Row[Any]:
    """Return a grant's row, or refuse: there is none."""
    row = conn.execute(select(Grant.__table__).where(Grant.id == grant_id)).one_or_none()
    if row is None:
        raise NotFound(ErrorCode.GRANT_NOT_FOUND)
    return row


def _decidable(
    conn: Connection, grant_id: int, department: int | None, is_admin: bool
) -> tuple[Row[Any], dict[int, Dept]]:
    """Return a pending application the actor may decide, with the departments; else refuse."""
    row = _row(conn, grant_id)
    known = departments(conn)
    _check_decider(row, known, department, is_admin)
    _check_pending(row)
    return row, known


def _check_decider(row: Row[Any], known: dict[int, Dept], department: int | None, is_admin: bool) -> None:
    """Refuse anyone but the owning department or an administrator."""
    if is_admin or (row.owner_id is not None and row.owner_id == department):
        return
    owner = known.get(row.owner_id) if row.owner_id is not None else None
    decider = owner.name if owner else ADMINISTRATORS
    raise NotAllowed(ErrorCode.GRANT_NOT_YOURS, decider=decider)


def _check_pending(row: Row[Any]) -> None:
    if row.status != "pending":
        raise InvalidRequest(ErrorCode.GRANT_NOT_PENDING, status=STATUS_LABELS[row.status])


def _decide(
    conn: Connection, row: Row[Any], *, status: str, values: dict[str, Any], user_id: int | None
) -> None:
    """Record the owner's decision on a pending application."""
    _change(conn, row, "pending", status, {"decided_by": user_id, "decided_at": utcnow(), **values})


def _change(conn: Connection, row: Row[Any], expected: str, status: str, values: dict[str, Any]) -> None:
    """Move a grant from `expected` to `status`, unless someone else moved it first (then refuse)."""
    # Two owners' staff may decide the same application at once: only the first update matches.
    done = conn.execute(
        update(Grant).where(Grant.id == row.id, Grant.status == expected).values(status=status, **values)
    )
    if done.rowcount != 1:
        now = conn.scalar(select(Grant.status).where(Grant.id == row.id))
        error = ErrorCode.GRANT_NOT_PENDING if expected == "pending" else ErrorCode.GRANT_NOT_GRANTED
        raise InvalidRequest(error, status=STATUS_LABELS.get(now, now))


def _target(owner: Dept | None, grantee: Dept, grant_id: int) -> str:
    """Return the audit target of a grant step: grant/{owner code}/{grantee code}/{id}."""
    return f"grant/{owner.code if owner else ADMIN_CODE}/{grantee.code}/{grant_id}"


def _row_target(row: Row[Any], known: dict[int, Dept]) -> str:
    return _target(
        known.get(row.owner_id) if row.owner_id is not None else None, known[row.grantee_id], row.id
    )
