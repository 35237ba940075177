"""Fast bulk writes beneath the ORM: the driver's executemany on SQLite, COPY on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection


def dumps(value: Any) -> str:
    """Serialize a JSON document the way both engines store it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def insert_rows(
    conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
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
