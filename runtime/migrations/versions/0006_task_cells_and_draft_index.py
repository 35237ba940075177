"""cells a submission found pre-filled and typed (burden figures), its totals (summaries); drafts by record

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply the change."""
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cells_prefilled', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('cells_typed', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('totals', sa.JSON(), nullable=True))
    with op.batch_alter_table('task_rows', schema=None) as batch_op:
        batch_op.create_index('ix_task_rows_record_task', ['record_id', 'task_id'], unique=False)


def downgrade() -> None:
    """Revert the change."""
    with op.batch_alter_table('task_rows', schema=None) as batch_op:
        batch_op.drop_index('ix_task_rows_record_task')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_column('totals')
        batch_op.drop_column('cells_typed')
        batch_op.drop_column('cells_prefilled')
