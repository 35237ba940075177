"""The audit log is append-only: the database refuses to change or delete an entry, and no code tries.

Also: every action the code writes has a Chinese name for the audit page.
"""

import ast
import re
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from runtime.audit import record_event
from runtime.audit.actions import ACTION_LABELS, KINDS
from runtime.models import AuditEntry
from runtime.reports.admission import DECISIONS

ROOT = Path(__file__).resolve().parents[2]


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


# --- no code path changes or deletes an entry -----------------------------------------------------

#: SQL written as text that changes or empties the log.
_SQL = re.compile(r"\b(?:UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?)\s+[\"`]?audit_log\b", re.IGNORECASE)
#: Calls that change or delete rows when their statement names the log's model or table.
_WRITES = {"update", "delete", "bulk_update_mappings", "bulk_save_objects", "merge"}


def log_writes(source: str) -> list[str]:
    """Return the lines of `source` that UPDATE, DELETE or TRUNCATE the audit log (ORM or SQL text).

    Caught: `update(AuditEntry)`, `delete(AuditEntry)`, `AuditEntry.__table__.update()`,
    `session.query(AuditEntry).…delete()`, the same under an import alias, and any string holding
    UPDATE/DELETE FROM/TRUNCATE audit_log. The database refuses them anyway (migration 0010); this
    keeps them out of the code.
    """
    tree = ast.parse(source)
    model = {"AuditEntry"} | {
        alias.asname
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.name == "AuditEntry" and alias.asname
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _SQL.search(node.value):
            found.append(f"{node.lineno}: {node.value.strip()[:80]}")
        elif isinstance(node, ast.Call):
            func = node.func
            name = (
                func.attr
                if isinstance(func, ast.Attribute)
                else func.id
                if isinstance(func, ast.Name)
                else ""
            )
            names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
                n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)
            }
            if name in _WRITES and (names & model or "audit_log" in ast.unparse(node)):
                found.append(f"{node.lineno}: {ast.unparse(node)[:80]}")
    return found


def test_no_code_under_runtime_or_web_updates_or_deletes_the_log():
    offenders = {
        str(path.relative_to(ROOT)): lines
        for package in ("runtime", "web")
        for path in sorted((ROOT / package).rglob("*.py"))
        if (lines := log_writes(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, "the audit log is append-only: no UPDATE, DELETE or TRUNCATE of audit_log"


@pytest.mark.parametrize(
    "planted",
    [
        "from sqlalchemy import update\nconn.execute(update(AuditEntry).values(action='x'))",
        "from sqlalchemy import delete\nconn.execute(delete(AuditEntry).where(AuditEntry.id == 1))",
        "from runtime.models import AuditEntry as Log\nsa.delete(Log)",
        "conn.execute(AuditEntry.__table__.update().values(detail=None))",
        "session.query(AuditEntry).filter_by(actor_id=3).delete()",
        "session.bulk_update_mappings(AuditEntry, rows)",
        'conn.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": 1})',
        'conn.exec_driver_sql("update audit_log set detail = null")',
        'op.execute("TRUNCATE audit_log")',
    ],
)
def test_the_scan_finds_a_planted_change_of_the_log(planted):
    assert log_writes(planted), planted


@pytest.mark.parametrize(
    "innocent",
    [
        "conn.execute(insert(AuditEntry).values(action='login'))",
        "conn.execute(update(Record).values(version=2))",
        "session.delete(task)",
        'conn.execute(text("DELETE FROM records WHERE ledger = :l"))',
        '"CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"',
    ],
)
def test_the_scan_lets_appends_and_other_tables_be(innocent):
    assert log_writes(innocent) == []


# --- every action written has a Chinese name -------------------------------------------------------

#: Where the action passed to record_event is not a literal, the values it can take.
COMPUTED_ACTIONS = {
    "runtime/reports/admission.py": {status[2] for status in DECISIONS.values()},
    "web/auth/views.py": {"login_failed", "password_change_failed"},
}


def written_actions() -> dict[str, set[str]]:
    """Return file → the actions its record_event calls write (literal, or from COMPUTED_ACTIONS)."""
    found: dict[str, set[str]] = {}
    for package in ("runtime", "web"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            name = str(path.relative_to(ROOT))
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "record_event"):
                    continue
                action = (
                    node.args[2]
                    if len(node.args) > 2
                    else next(k.value for k in node.keywords if k.arg == "action")
                )
                if isinstance(action, ast.Constant):
                    found.setdefault(name, set()).add(action.value)
                else:
                    assert name in COMPUTED_ACTIONS, (
                        f"{name}:{node.lineno} writes a computed action: name its values"
                    )
                    found.setdefault(name, set()).update(COMPUTED_ACTIONS[name])
    return found


def test_every_action_the_code_writes_has_a_chinese_name_and_a_kind():
    written = set().union(*written_actions().values())
    assert {"export", "import", "reveal", "login", "task.submit", "admission.admit"} <= written
    assert written - set(ACTION_LABELS) == set()
    kinds = [action for kind in KINDS for action in kind.actions]
    assert sorted(kinds) == sorted(ACTION_LABELS), "every named action is in exactly one kind"


def test_the_actions_of_issue_12_have_chinese_names():
    assert ACTION_LABELS["read.clear"] == "明文读取"
    for step in ("apply", "approve", "refuse", "revoke", "withdraw"):
        assert f"grant.{step}" in ACTION_LABELS
    for step in ("create", "accept", "reject"):
        assert f"proposal.{step}" in ACTION_LABELS
