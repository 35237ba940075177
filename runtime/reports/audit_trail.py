"""Read the audit trail back: every step of one report, with who took it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from runtime.audit.actions import ACTION_LABELS
from runtime.models import AuditEntry, User


@dataclass(frozen=True)
class TrailEntry:
    """One step of a report's history."""

    at: datetime
    action: str
    label: str
    actor: str
    detail: dict[str, Any]


def report_trail(session: Session, code: str) -> list[TrailEntry]:
    """Return the report's audit entries, oldest first."""
    stmt = (
        select(AuditEntry, User.display_name)
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .where(
            AuditEntry.target == code,
            or_(AuditEntry.action.like("report.%"), AuditEntry.action.like("admission.%")),
        )
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    return [
        TrailEntry(
            at=entry.at,
            action=entry.action,
            label=ACTION_LABELS.get(entry.action, entry.action),
            actor=name or "",
            detail=entry.detail or {},
        )
        for entry, name in session.execute(stmt)
    ]
