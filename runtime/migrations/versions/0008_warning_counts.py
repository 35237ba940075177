"""warning counts kept in the database: every process reads what one of them counted

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply the change."""
    op.create_table('warning_counts',
    sa.Column('rule', sa.String(length=64), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('ledger', sa.String(length=40), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('mark', sa.DateTime(), nullable=True),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('rule', name=op.f('pk_warning_counts'))
    )


def downgrade() -> None:
    """Revert the change."""
    op.drop_table('warning_counts')
