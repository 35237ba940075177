"""The audit log is append-only: the database itself refuses to change or delete an entry."""

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from runtime.audit import record_event
from runtime.models import AuditEntry


def test_an_entry_cannot_be_changed_or_deleted_once_written(engine):
    with engine.begin() as conn:
        record_event(conn, None, "record.reveal", "person:1", {"field": "id_number"})
    attempts = [
        update(AuditEntry).values(action="nothing.happened"),
        update(AuditEntry).values(detail=None),
        delete(AuditEntry),
    ]
    if engine.dialect.name == "postgresql":
        attempts.append(text("TRUNCATE audit_log"))
    for statement in attempts:
        with pytest.raises(DBAPIError, match="审计日志只能追加"), engine.begin() as conn:
            conn.execute(statement)
    with engine.begin() as conn:
        record_event(conn, None, "record.reveal", "person:2")
        entries = conn.execute(select(AuditEntry.action, AuditEntry.target).order_by(AuditEntry.id)).all()
    assert entries == [("record.reveal", "person:1"), ("record.reveal", "person:2")], "appending still works"
