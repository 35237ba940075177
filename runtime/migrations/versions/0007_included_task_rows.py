"""task rows a township included by hand: ledger records outside the report's filter that stay in its task

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply the change."""
    with op.batch_alter_table('task_rows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('included', sa.Boolean(), nullable=False, server_default=sa.false()))
    # Rows added by a township and already written back are rows of their new records from now on.
    op.execute("UPDATE task_rows SET included = true WHERE status = 'added' AND record_id IS NOT NULL")


def downgrade() -> None:
    """Revert the change."""
    with op.batch_alter_table('task_rows', schema=None) as batch_op:
        batch_op.drop_column('included')
