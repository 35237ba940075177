"""exchange API: client systems, tokens, idempotent requests, the feed log, the changes cursor

Record versions get the id of the transaction that wrote them on PostgreSQL (a column default,
so every write path fills it): the changes cursor reads in (txid, id) order below the oldest
running transaction, so a version committed late is never skipped. Versions written before
this migration are all committed: they get txid 0.

Revision ID: 0013
Revises: 0012_proposals
Create Date: 2026-12-07
"""

from alembic import op
import sqlalchemy as sa


revision = "0013"
down_revision = "0012_proposals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply the change."""
    op.create_table(
        "api_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("system", sa.String(length=100), nullable=True),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_api_clients_created_by_users")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_api_clients_department_id_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_clients")),
        sa.UniqueConstraint("name", name=op.f("uq_api_clients_name")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_by", sa.Integer(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["api_clients.id"], name=op.f("fk_api_tokens_client_id_api_clients")
        ),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_api_tokens_created_by_users")),
        sa.ForeignKeyConstraint(["revoked_by"], ["users.id"], name=op.f("fk_api_tokens_revoked_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index("ix_api_tokens_client", "api_tokens", ["client_id"])
    op.create_table(
        "api_requests",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("response", sa.JSON(), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["api_clients.id"], name=op.f("fk_api_requests_client_id_api_clients")
        ),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_api_requests_job_id_jobs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_requests")),
        sa.UniqueConstraint("client_id", "key", name=op.f("uq_api_requests_client_id_key")),
    )
    op.create_table(
        "feed_events",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("ledger", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("proposed", sa.Integer(), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("elements", sa.JSON(), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["api_clients.id"], name=op.f("fk_feed_events_client_id_api_clients")
        ),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_feed_events_job_id_jobs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_events")),
    )
    op.create_index("ix_feed_events_client", "feed_events", ["client_id", "ledger", "at"])
    op.create_index("ix_feed_events_ledger", "feed_events", ["ledger", "at"])
    if op.get_bind().dialect.name == "postgresql":
        op.add_column("record_versions", sa.Column("txid", sa.BigInteger(), nullable=True))
        op.execute("UPDATE record_versions SET txid = 0")
        op.execute(
            "ALTER TABLE record_versions ALTER COLUMN txid SET DEFAULT (pg_current_xact_id()::text::bigint)"
        )
        op.create_index("ix_record_versions_txid", "record_versions", ["txid", "id"])
    else:
        op.add_column("record_versions", sa.Column("txid", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    """Revert the change."""
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_record_versions_txid", table_name="record_versions")
    with op.batch_alter_table("record_versions") as batch:
        batch.drop_column("txid")
    op.drop_index("ix_feed_events_ledger", table_name="feed_events")
    op.drop_index("ix_feed_events_client", table_name="feed_events")
    op.drop_table("feed_events")
    op.drop_table("api_requests")
    op.drop_index("ix_api_tokens_client", table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("api_clients")
