"""Planner statistics on PostgreSQL for the JSON fields tables are filtered by."""

import dataclasses

from sqlalchemy import text

from runtime.demo.load import seed
from runtime.ledgers.statistics import filter_fields, filterable


def test_filter_fields_are_the_choice_and_yes_no_fields(specs):
    names = filter_fields(specs)
    assert {
        "gender",
        "assistance_type",
        "disability_category",
        "is_transferred",
        "safety_level",
        "status",
    } <= set(names)
    assert "township_code" not in names and "name" not in names and "id_number" not in names


def test_a_one_of_choice_field_gets_statistics(specs):
    """A field whose choices are oneOf consts is filtered by like an enum one, so it gets statistics too."""
    gender = specs.ledgers["person"].by_name["gender"]
    coded = {"type": "string", "oneOf": [{"const": "1", "title": "男"}, {"const": "2", "title": "女"}]}
    assert filterable(dataclasses.replace(gender, schema=coded))


def test_seeding_leaves_statistics_the_planner_can_use(engine, specs):
    seed(engine, specs, "tiny", 1)
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            indexed = set(conn.execute(text("SELECT idx FROM sqlite_stat1")).scalars())
        assert {"ix_records_label", "ix_records_scope"} <= indexed
        return
    with engine.connect() as conn:
        made = set(
            conn.execute(
                text(
                    "SELECT s.stxname FROM pg_statistic_ext s JOIN pg_statistic_ext_data d "
                    "ON d.stxoid = s.oid WHERE d.stxdexpr IS NOT NULL"
                )
            ).scalars()
        )
    assert {f"st_records_{name}" for name in filter_fields(specs)} <= made
