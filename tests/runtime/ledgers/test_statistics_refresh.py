"""When a bulk write refreshes the planner's statistics: a first load yes, a small change no."""

from __future__ import annotations

from runtime.ledgers.statistics import ANALYZE_FROM, refresh_after


def test_small_writes_never_analyze_and_a_first_load_does(engine, specs):
    with engine.begin() as conn:
        assert refresh_after(conn, specs, ANALYZE_FROM - 1) is False
        # An empty table (PostgreSQL: never analyzed, -1 rows): the write is all of it.
        assert refresh_after(conn, specs, ANALYZE_FROM) is True


def test_a_write_small_against_the_table_skips_analyze(engine, specs):
    with engine.connect() as conn, conn.begin() as transaction:
        # A district's 2 million records (rolled back: the catalog is left as it was).
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("UPDATE pg_class SET reltuples = 2000000 WHERE oid = 'records'::regclass")
        else:
            conn.exec_driver_sql(
                "INSERT INTO records (id, ledger, key, township_code, data, version, updated_at) "
                "VALUES (2000000, 'person', 'x', '500118001', '{}', 1, '2026-01-01 00:00:00')"
            )
        assert refresh_after(conn, specs, 100_000) is False
        assert refresh_after(conn, specs, 300_000) is True
        transaction.rollback()
