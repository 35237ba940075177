"""The Alembic migrations build exactly the schema the models declare, on both engines."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from runtime.models import Base


def test_migrated_schema_matches_the_models(engine):
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
