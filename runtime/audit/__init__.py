"""The audit trail: who did what, when. `record_event` writes it; the modules here read it back.

The log is append-only: the database refuses to change or delete an entry (migration 0010), and
no code path issues UPDATE or DELETE on it (`tests/runtime/test_audit_log.py` reads the code).
`actions` names every action the code writes in Chinese, `reading` selects the part of the log a
reader may read, narrowed by a filter, `entries` describes entries in Chinese, and `export`
writes them to a file.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert

from runtime.models import AuditEntry, utcnow


def record_event(
    conn: Connection,
    actor_id: int | None,
    action: str,
    target: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one entry to the audit log within the caller's transaction."""
    conn.execute(
        insert(AuditEntry).values(
            at=utcnow(),
            actor_id=actor_id,
            action=action,
            target=target,
            detail=detail,
        )
    )


#: One audit entry to append: (actor id, action, target, detail).
Event = tuple[int | None, str, str, dict[str, Any] | None]


def record_events(conn: Connection, events: list[Event]) -> None:
    """Append several entries to the audit log in one statement (one per change of a bulk decision)."""
    if not events:
        return
    at = utcnow()
    conn.execute(
        insert(AuditEntry),
        [
            {"at": at, "actor_id": actor, "action": action, "target": target, "detail": detail}
            for actor, action, target, detail in events
        ],
    )
