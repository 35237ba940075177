"""write-back conflicts for the ledger keeper

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply the change."""
    op.create_table('writeback_conflicts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ledger', sa.String(length=40), nullable=False),
    sa.Column('field', sa.String(length=60), nullable=False),
    sa.Column('base_value', sa.JSON(), nullable=True),
    sa.Column('ledger_value', sa.JSON(), nullable=True),
    sa.Column('township_value', sa.JSON(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('resolved_by', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['resolved_by'], ['users.id'], name=op.f('fk_writeback_conflicts_resolved_by_users')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_writeback_conflicts_task_id_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_writeback_conflicts'))
    )
    with op.batch_alter_table('writeback_conflicts', schema=None) as batch_op:
        batch_op.create_index('ix_writeback_conflicts_open', ['status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_writeback_conflicts_task_id'), ['task_id'], unique=False)


def downgrade() -> None:
    """Revert the change."""
    with op.batch_alter_table('writeback_conflicts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_writeback_conflicts_task_id'))
        batch_op.drop_index('ix_writeback_conflicts_open')
    op.drop_table('writeback_conflicts')
