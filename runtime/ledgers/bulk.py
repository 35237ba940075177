"""Fast bulk writes beneath the ORM: the driver's executemany on SQLite, COPY on PostgreSQL."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection


def dumps(value: Any) -> str:
    """Serialize a JSON document the way both engines store it (orjson: ~7x the stdlib)."""
    return orjson.dumps(value).decode()


def db_time(conn: Connection, value: datetime) -> datetime | str:
    """Return a timestamp as the driver should receive it in bulk statements.

    sqlite3's implicit datetime adapter is deprecated (Python 3.12); SQLAlchemy's DateTime
    stores "YYYY-MM-DD HH:MM:SS.ffffff" on SQLite, so bulk rows carry exactly that text.
    """
    if conn.dialect.name == "sqlite":
        return value.isoformat(" ", timespec="microseconds")
    return value


def insert_rows(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert many tuples into `table` within the connection's transaction.

    JSON columns must be passed already serialized with `dumps`.
    """
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        names = ", ".join(columns)
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    cursor = raw.cursor()
    try:
        cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
    finally:
        cursor.close()


def execute_many(conn: Connection, sql: str, rows: Iterable[Sequence[Any]]) -> int:
    """Run one positional statement (`?` placeholders) for many tuples; return rows affected."""
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        with raw.cursor() as cursor:
            cursor.executemany(sql.replace("?", "%s"), list(rows))
            return cursor.rowcount
    cursor = raw.cursor()
    try:
        cursor.executemany(sql, rows)
        return cursor.rowcount
    finally:
        cursor.close()


def insert_with_ids(
    conn: Connection, table: str, columns: Sequence[str], rows: list[Sequence[Any]]
) -> list[int]:
    """Insert tuples into a table with an integer `id` key; return the new ids in row order.

    PostgreSQL: ids are drawn from the table's sequence first and copied in with the rows.
    SQLite: rows get rowid max+1, max+2 … in order; the insert holds the database's single
    write lock until the transaction ends, so nobody can interleave, and max(id) afterwards
    gives the range without selecting the rows back.
    """
    if not rows:
        return []
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        with raw.cursor() as cursor:
            cursor.execute(
                f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %s)",
                (len(rows),),
            )
            ids = [r[0] for r in cursor.fetchall()]
        insert_rows(conn, table, ("id", *columns), ((rid, *row) for rid, row in zip(ids, rows, strict=True)))
        return ids
    insert_rows(conn, table, columns, rows)
    raw = conn.connection.driver_connection
    last = raw.execute(f"SELECT max(id) FROM {table}").fetchone()[0]
    return list(range(last - len(rows) + 1, last + 1))


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for a bulk job.

    Imports and exports build hundreds of thousands of short-lived lists and dicts that
    reference counting frees anyway; the collector's full passes over them cost 15-30%.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
