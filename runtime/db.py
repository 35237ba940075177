"""Engines, sessions and migrations for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")


#: How long a SQLite write waits for another writer before "database is locked".
SQLITE_BUSY_MS = 30_000


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the web workers read while an import writes; NORMAL sync is safe under WAL.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cursor.execute("PRAGMA cache_size=-262144")
    cursor.close()


def _json_dumps(value) -> str:
    return orjson.dumps(value).decode()


def make_engine(url: str) -> Engine:
    """Create an engine for `url` with the settings each backend needs."""
    # orjson parses and writes JSON documents several times faster than the stdlib.
    json_options = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **json_options)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, **json_options)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory the web layer and commands use."""
    return sessionmaker(engine, expire_on_commit=False)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database behind `engine` to `revision` with Alembic."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def is_postgres(engine_or_connection) -> bool:
    """Tell whether the engine or connection talks to PostgreSQL."""
    return engine_or_connection.dialect.name == "postgresql"


def insert_new(conn: Connection, table: Table, values: dict, unique: list[str]) -> int | None:
    """Insert a row unless one with the same unique columns exists; return its id, or None if it did.

    ON CONFLICT rather than a savepoint around a plain insert: on SQLite a savepoint that opens
    the transaction commits when released, whatever the caller's transaction does next.
    """
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=unique)
        .returning(table.c.id)
    )
    return conn.execute(stmt).scalar()
