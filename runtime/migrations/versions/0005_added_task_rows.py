"""rows a township adds to a task: the ledger fields of the record to create

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply the change."""
    with op.batch_alter_table('task_rows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('record', sa.JSON(), nullable=True))


def downgrade() -> None:
    """Revert the change."""
    with op.batch_alter_table('task_rows', schema=None) as batch_op:
        batch_op.drop_column('record')
