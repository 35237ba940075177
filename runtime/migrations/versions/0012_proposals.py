"""open write-back conflicts join the queue of changes proposed to the owners

Write-back conflicts are no longer settled by the ledger keeper: the write-back proposes them
(source `conflict`) to the element's owner. The conflicts still open move into that queue. The
migration cannot read the catalog, so they go to the administrators (owner NULL), who decide every
proposal; the element code is the ledger and field, as every shipped ledger names its fields.

Revision ID: 0012_proposals
Revises: 0011
Create Date: 2026-12-07
"""

from alembic import op

revision = "0012_proposals"
down_revision = "0011"
branch_labels = None
depends_on = None

#: What the moved proposals carry as evidence, so that a downgrade finds them again.
MOVED = "升级前未处理的回流冲突"


def upgrade() -> None:
    """Move the open conflicts into the queue; mark them queued."""
    op.execute(
        "INSERT INTO proposed_changes (record_id, ledger, field, element, owner_id, old_value, new_value, "
        "base_version, source, source_ref, evidence, proposed_by, proposed_at, status, reason) "
        "SELECT c.record_id, c.ledger, c.field, c.ledger || '.' || c.field, NULL, c.base_value, "
        "c.township_value, r.version, 'conflict', reports.code || '#task-' || CAST(c.task_id AS VARCHAR(20)), "
        f"'{MOVED}', tasks.submitted_by, c.created_at, 'pending', '' "
        "FROM writeback_conflicts c JOIN records r ON r.id = c.record_id "
        "JOIN tasks ON tasks.id = c.task_id JOIN reports ON reports.id = tasks.report_id "
        "WHERE c.status = 'open' ORDER BY c.id"
    )
    op.execute("UPDATE writeback_conflicts SET status = 'queued' WHERE status = 'open'")


def downgrade() -> None:
    """Give the keeper back the conflicts moved and still undecided."""
    op.execute(
        "UPDATE writeback_conflicts SET status = 'open' WHERE status = 'queued' AND EXISTS ("
        "SELECT 1 FROM proposed_changes p WHERE p.record_id = writeback_conflicts.record_id "
        f"AND p.field = writeback_conflicts.field AND p.evidence = '{MOVED}' AND p.status = 'pending')"
    )
    op.execute(f"DELETE FROM proposed_changes WHERE source = 'conflict' AND evidence = '{MOVED}'")
