"""The Alembic migrations build exactly the schema the models declare, on both engines."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from runtime.models import Base


def test_migrated_schema_matches_the_models(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": _declared_for(conn.dialect.name)})
        assert compare_metadata(context, Base.metadata) == []


def _declared_for(dialect: str):
    """Leave out of the comparison what the models declare for another engine only (`ddl_if`)."""

    def include(obj, _name, type_, reflected, _compare_to):
        ddl_if = getattr(obj, "_ddl_if", None)
        return reflected or type_ != "index" or ddl_if is None or ddl_if.dialect in (None, dialect)

    return include


def test_open_write_back_conflicts_move_into_the_owners_queue(zhongshanlu_task, district):
    """0012_proposals: a conflict the keeper had not settled becomes a pending proposal (source conflict)."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import insert, select

    from runtime.db import MIGRATIONS, migrate
    from runtime.models import ProposedChange, Record, WritebackConflict, utcnow

    task_id, _filler = zhongshanlu_task()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with district.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0011")
    with district.begin() as conn:
        rid = conn.execute(select(Record.id).where(Record.ledger == "person").limit(1)).scalar_one()
        conflict = {
            "task_id": task_id,
            "record_id": rid,
            "ledger": "person",
            "field": "phone",
            "base_value": "13700000000",
            "ledger_value": "13911112222",
            "township_value": "13777777777",
            "status": "open",
            "created_at": utcnow(),
        }
        taken = conflict | {"field": "name", "township_value": "张三", "status": "took_township"}
        conn.execute(insert(WritebackConflict), [conflict, taken])
    migrate(district)
    with district.connect() as conn:
        moved = conn.execute(select(ProposedChange)).one()
        statuses = (
            conn.execute(select(WritebackConflict.status).order_by(WritebackConflict.id)).scalars().all()
        )
    assert (moved.source, moved.element, moved.owner_id, moved.status) == (
        "conflict",
        "person.phone",
        None,
        "pending",
    )
    assert (moved.old_value, moved.new_value, moved.record_id) == ("13700000000", "13777777777", rid)
    assert moved.source_ref.endswith(f"#task-{task_id}")
    assert statuses == ["queued", "took_township"]
