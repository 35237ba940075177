"""Planner statistics for the JSON fields the ledger tables are filtered by.

PostgreSQL estimates `data->>'gender' = '女'` at a fixed 0.5% unless it has statistics on
that expression; with two such filters it expects a handful of rows, scans the whole table and
sorts, instead of walking the (ledger, township, id) index and stopping at one page (~1 s versus
~3 ms at district scale). Expression statistics (PostgreSQL 14+) give it the real frequencies.
SQLite's planner walks the index by itself and needs nothing here.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, text

from builder.catalog.specs import Field, SpecSet
from builder.schema import choices, schema_type

_SAFE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def filterable(field: Field) -> bool:
    """Tell whether a field is one a table is filtered by: a choice or a yes/no."""
    return bool(choices(field.schema)) or schema_type(field.schema) == "boolean"


def filter_fields(specs: SpecSet) -> list[str]:
    """Return the names of every filterable field of every ledger, once each."""
    names: dict[str, None] = {}
    for ledger in specs.ledgers.values():
        for field in ledger.fields:
            if filterable(field) and not field.element.org_level and _SAFE_NAME.match(field.name):
                names.setdefault(field.name)
    return list(names)


def ensure_statistics(conn: Connection, specs: SpecSet) -> None:
    """Create the expression statistics PostgreSQL needs (no-op on SQLite)."""
    if conn.dialect.name != "postgresql":
        return
    for name in filter_fields(specs):
        conn.execute(
            text(f"CREATE STATISTICS IF NOT EXISTS st_records_{name} ON ((data ->> '{name}')) FROM records")
        )


#: Bulk writes of at least this many records may refresh the planner's statistics …
ANALYZE_FROM = 10_000
#: … when they change at least this share of the records (PostgreSQL's autovacuum analyzes at
#: the same share; a smaller change moves no estimate that matters).
ANALYZE_SHARE = 0.1


def refresh_after(conn: Connection, specs: SpecSet, changed: int) -> bool:
    """Refresh the statistics after a bulk write of `changed` records if it reshaped the table.

    A first load (or one that grows a ledger by a tenth) must be analyzed at once: PostgreSQL
    would otherwise plan on an empty table's estimates. A push of 100,000 rows into a district's
    2.3 million records changes no estimate that matters, and ANALYZE costs ~0.8 s there on
    PostgreSQL (it samples 30,000 rows of both tables), ~0.5 s on SQLite (every index).
    """
    if changed < ANALYZE_FROM:
        return False
    if conn.dialect.name == "postgresql":
        sql = "SELECT reltuples FROM pg_class WHERE oid = 'records'::regclass"  # -1: never analyzed
    else:
        sql = "SELECT max(id) FROM records"  # an upper bound of the count, from the primary key
    estimate = conn.execute(text(sql)).scalar()
    if estimate is not None and estimate >= 0 and changed < ANALYZE_SHARE * estimate:
        return False
    analyze(conn, specs)
    return True


def analyze(conn: Connection, specs: SpecSet) -> None:
    """Refresh the planner's statistics after a bulk load."""
    if conn.dialect.name == "postgresql":
        ensure_statistics(conn, specs)
        conn.execute(text("ANALYZE records"))
        conn.execute(text("ANALYZE record_versions"))
    else:
        conn.execute(text("PRAGMA analysis_limit = 1000"))  # sample: milliseconds, not seconds
        conn.execute(text("ANALYZE"))
