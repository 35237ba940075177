"""A row's values in clear: the ledger's, the draft's cells over them, then the computed fields."""

from datetime import date

import pytest

from builder.reports.spec import load_report
from runtime.tasks.rows.merge import merged_values


@pytest.fixture
def spec(specs):
    """A person report: a bound birth date and name, a typed income, an age computed from the date."""
    document = {
        "title": "合并测试",
        "type": "object",
        "x-report": "merge_test",
        "x-version": 1,
        "x-department": "canlian",
        "x-purpose": "测试",
        "x-basis": "测试",
        "x-rows": {"ledger": "person", "filter": []},
        "x-deadline": "2026-12-20",
        "properties": {
            "name": {"x-element": "person.name"},
            "birth_date": {"x-element": "person.birth_date"},
            "income": {"title": "月收入（元）", "type": "number"},
            "age": {
                "title": "年龄（周岁）",
                "type": "integer",
                "x-compute": {"op": "age", "from": "birth_date", "on": "deadline"},
            },
        },
        "required": ["name"],
    }
    return load_report(document, specs.elements, specs.ledgers, meta=specs.report_meta)


def test_the_draft_goes_over_the_ledger_and_computed_fields_come_last(spec):
    ledger = {"name": "张三", "birth_date": "1980-06-01"}
    typed = {"birth_date": "1990-06-01", "income": 1200}
    row = merged_values(spec, ledger, typed, today=date(2026, 1, 1))
    assert row == {"name": "张三", "birth_date": "1990-06-01", "income": 1200, "age": 36}
    assert ledger == {"name": "张三", "birth_date": "1980-06-01"}, "the ledger's values are left as read"


def test_a_computed_field_nothing_gives_is_left_out_and_a_typed_one_is_recomputed(spec):
    assert merged_values(spec, {"name": "李四"}, {}, today=date(2026, 1, 1)) == {"name": "李四"}
    row = merged_values(spec, {}, {"birth_date": "2000-12-21", "age": 99}, today=date(2026, 1, 1))
    assert row["age"] == 25, "a computed field is the system's, whatever the draft holds"
