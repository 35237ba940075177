"""Standing grants of the demo: what the sample reports' departments were granted before filing them.

In the district a department that files a report binding another department's 有条件共享 elements
has applied for them first (按需申请), and the owner approved. The demo and the tests start from
that point: `grant_for_report` writes those grants as decided, access to the values masked by
their sensitivity (as 无条件共享 ones are), or in clear for the elements named.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select

from builder.catalog.specs import SpecSet
from runtime.audit import record_event
from runtime.clock import local_today
from runtime.models import Department, Grant, utcnow
from runtime.reports.admission import readable_by


def bound_elements(document: Mapping[str, Any]) -> list[str]:
    """Return the element codes a report document binds, in order, once each."""
    found: dict[str, None] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("x-element"), str):
                found[node["x-element"]] = None
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    return list(found)


def grant_for_report(
    conn: Connection,
    specs: SpecSet,
    department_id: int,
    document: Mapping[str, Any],
    *,
    clear: Iterable[str] = (),
    today: date | None = None,
) -> list[int]:
    """Grant a department the elements a report binds that it may not read, one grant per owner.

    Access (masked by sensitivity) for those, and in clear for the elements in `clear`, for a
    year from `today`, with the report's purpose. Return the grant ids.
    """
    day = today or local_today()
    readable = readable_by(conn, specs, department_id, day) or {}
    clear = set(clear)
    wanted = [c for c in bound_elements(document) if readable.get(c) == "hidden" or c in clear]
    purpose = str(document.get("x-purpose") or document.get("title") or "")
    return grant_elements(conn, specs, department_id, wanted, purpose, clear=clear, today=day)


def grant_elements(
    conn: Connection,
    specs: SpecSet,
    department_id: int,
    wanted: Iterable[str],
    purpose: str,
    *,
    clear: Iterable[str] = (),
    today: date | None = None,
) -> list[int]:
    """Grant a department elements, approved: one grant per owner and ledger; return their ids.

    Access (masked by sensitivity), in clear for those in `clear`, for a year from `today`.
    """
    day = today or local_today()
    clear = set(clear)
    departments = {
        name: (id_, code)
        for id_, code, name in conn.execute(select(Department.id, Department.code, Department.name))
    }
    grantee = next((code for id_, code in departments.values() if id_ == department_id), str(department_id))
    groups: dict[tuple[tuple[int, str] | None, bool, str], list[str]] = {}
    for code in wanted:
        owner = departments.get(specs.elements[code].department)
        groups.setdefault((owner, code in clear, code.split(".", 1)[0]), []).append(code)
    ids = []
    for (owner, in_clear, ledger), elements in groups.items():
        grant_id = conn.execute(
            insert(Grant)
            .values(
                grantee_id=department_id,
                owner_id=owner[0] if owner else None,
                ledger=ledger,
                elements=elements,
                townships=None,
                purpose=purpose[:500],
                starts_on=day,
                expires_on=day + timedelta(days=365),
                status="granted",
                granted_elements=elements,
                granted_townships=None,
                granted_expires_on=day + timedelta(days=365),
                in_clear=in_clear,
                decided_at=utcnow(),
                reason="常设共享：报表备案时已获批",
            )
            .returning(Grant.id)
        ).scalar_one()
        record_event(
            conn,
            None,
            "grant.approve",
            f"grant/{owner[1] if owner else 'admin'}/{grantee}/{grant_id}",
            {"elements": elements, "in_clear": in_clear, "townships": None, "reason": "常设共享"},
        )
        ids.append(grant_id)
    return ids
