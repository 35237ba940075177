"""Aggregate reports in the spec language: rows by org unit (`x-rows.unit`), cells by `x-formula`."""

from __future__ import annotations

import pytest

from builder.reports.spec import Condition, Formula, RowSource, check_report, load_report

TRANSFERRED = {"element": "land.is_transferred", "op": "eq", "value": True}


def aggregate(unit="township", **fields):
    """A small aggregate report: parcels transferred and their area per township, plus a remark."""
    properties = {
        "parcels": {
            "title": "流转地块数",
            "type": "integer",
            "x-formula": {"count": "land", "where": [TRANSFERRED]},
        },
        "area": {"title": "流转面积（亩）", "type": "number", "x-formula": {"sum": "land.transfer_area_mu"}},
        "remarks": {"title": "说明", "type": "string", "maxLength": 200},
    }
    properties.update(fields)
    return {
        "title": "流转统计",
        "type": "object",
        "x-report": "transfer_stats",
        "x-version": 1,
        "x-department": "nongye",
        "x-purpose": "测试用途",
        "x-basis": "《农村土地承包法》第三十六条",
        "x-rows": {"unit": unit},
        "properties": properties,
        "required": ["parcels"],
    }


def found(doc, specs):
    return [
        (f.code, f.path)
        for f in check_report(doc, specs.elements, specs.ledgers, specs.org_units, meta=specs.report_meta)
    ]


def test_an_aggregate_report_loads_into_formulas(specs):
    spec = load_report(aggregate(), specs.elements, specs.ledgers, specs.org_units, meta=specs.report_meta)
    assert spec.aggregate and spec.rows == RowSource(ledger=None, unit="township")
    assert [f.formula for f in spec.fields] == [
        Formula("count", "land", None, (Condition("land.is_transferred", "eq", True),)),
        Formula("sum", "land", "land.transfer_area_mu", ()),
        None,
    ]
    assert spec.fields[0].required and spec.fields[0].schema == {"title": "流转地块数", "type": "integer"}


def test_a_report_by_ledger_is_not_aggregate(specs):
    doc = aggregate()
    doc["x-rows"] = {"ledger": "land"}
    doc["properties"] = {"location": {"x-element": "land.location"}}
    doc["required"] = []
    spec = load_report(doc, specs.elements, specs.ledgers, specs.org_units, meta=specs.report_meta)
    assert not spec.aggregate and spec.rows == RowSource("land") and spec.fields[0].formula is None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"parcels": {"title": "户数", "type": "integer", "x-formula": {"count": "farm"}}},
            [("unknown_ledger", "properties/parcels/x-formula/count")],
        ),
        (
            {"area": {"title": "面积", "type": "number", "x-formula": {"sum": "land.nothing"}}},
            [("unknown_element", "properties/area/x-formula/sum")],
        ),
        (
            {"area": {"title": "面积", "type": "number", "x-formula": {"sum": "land.transfer_form"}}},
            [("formula_not_numeric", "properties/area/x-formula/sum")],
        ),
        (
            {"area": {"title": "面积", "type": "integer", "x-formula": {"sum": "land.transfer_area_mu"}}},
            [("formula_type_mismatch", "properties/area/type")],
        ),
        (
            {"parcels": {"title": "地块数", "type": "number", "x-formula": {"count": "land"}}},
            [("formula_type_mismatch", "properties/parcels/type")],
        ),
        (
            {
                "parcels": {
                    "title": "地块数",
                    "type": "integer",
                    "x-formula": {
                        "count": "land",
                        "where": [{"element": "person.disability_category", "op": "eq", "value": "肢体"}],
                    },
                }
            },
            [("filter_outside_ledger", "properties/parcels/x-formula/where/0/element")],
        ),
        (
            {
                "parcels": {
                    "title": "地块数",
                    "type": "integer",
                    "x-formula": {
                        "count": "land",
                        "where": [{"element": "land.transfer_form", "op": "eq", "value": "赠与"}],
                    },
                }
            },
            [("filter_value_invalid", "properties/parcels/x-formula/where/0/value")],
        ),
        (
            {
                "parcels": {
                    "title": "地块数",
                    "type": "integer",
                    "x-formula": {
                        "count": "land",
                        "where": [{"element": "land.transfer_form", "op": "gt", "value": "出租"}],
                    },
                }
            },
            [("filter_op_mismatch", "properties/parcels/x-formula/where/0/op")],
        ),
        ({"name": {"x-element": "land.location"}}, [("bound_in_aggregate", "properties/name/x-element")]),
    ],
)
def test_bad_formulas_are_refused_with_their_place(specs, change, expected):
    assert found(aggregate(**change), specs) == expected


def test_messages_say_what_to_write_instead(specs):
    doc = aggregate(area={"title": "面积", "type": "number", "x-formula": {"sum": "land.transfer_form"}})
    [finding] = check_report(doc, specs.elements, specs.ledgers, specs.org_units, meta=specs.report_meta)
    assert finding.message == "字段“面积”只能对数字型数据元求和，“流转方式”不是数字；要统计个数请用 count"


def test_formulas_need_rows_by_org_unit(specs):
    doc = aggregate()
    doc["x-rows"] = {"ledger": "land"}
    assert found(doc, specs) == [
        ("formula_without_units", "properties/parcels/x-formula"),
        ("formula_without_units", "properties/area/x-formula"),
    ]


def test_rows_by_village_need_ledgers_with_villages(specs):
    firms = {"title": "企业数", "type": "integer", "x-formula": {"count": "enterprise"}}
    doc = aggregate("village", firms=firms)
    assert found(doc, specs) == [("formula_no_village", "properties/firms/x-formula")]
    assert found(aggregate("village"), specs) == []


@pytest.mark.parametrize(
    ("rows_or_field", "code", "path"),
    [
        ({"x-rows": {"unit": "district"}}, "meta_enum", "x-rows/unit"),
        ({"x-rows": {"unit": "township", "ledger": "land"}}, "meta_not", "x-rows"),
        ({"x-rows": {}}, "meta_required", "x-rows/ledger"),
        (
            {
                "properties": {
                    "n": {"title": "数", "type": "integer", "x-formula": {"count": "land", "sum": "land.x"}}
                }
            },
            "meta_oneOf",
            "properties/n/x-formula",
        ),
        (
            {
                "properties": {
                    "n": {
                        "title": "数",
                        "type": "integer",
                        "x-formula": {"count": "land"},
                        "x-compute": {"op": "year_of", "from": "d"},
                    }
                }
            },
            "meta_not",
            "properties/n",
        ),
        (
            {"properties": {"n": {"x-element": "land.location", "x-formula": {"count": "land"}}}},
            "meta_additionalProperties",
            "properties/n",
        ),
    ],
)
def test_the_meta_schema_knows_the_shapes(specs, rows_or_field, code, path):
    doc = {**aggregate(), **rows_or_field}
    codes = found(doc, specs)
    assert (code, path) in codes, codes


def test_the_diff_names_changed_rows_and_formulas(specs):
    from builder.reports.diff import diff_reports

    old = aggregate()
    new = aggregate(
        "village",
        area={
            "title": "流转面积（亩）",
            "type": "number",
            "x-formula": {"sum": "land.transfer_area_mu", "where": [TRANSFERRED]},
        },
    )
    messages = [c.message for c in diff_reports(old, new, elements=specs.elements, org_units=specs.org_units)]
    assert messages == [
        "数据来源由“汇总报表，每个镇街一行”改为“汇总报表，每个村（社区）一行”",
        "字段“流转面积（亩）”的汇总公式已修改",
    ]


def test_formulas_read_as_sentences(specs):
    from builder.reports.spec import describe_formula

    spec = load_report(aggregate(), specs.elements, specs.ledgers, specs.org_units, meta=specs.report_meta)
    parcels, area, _remarks = spec.fields
    assert (
        describe_formula(parcels.formula, specs.elements, specs.ledgers)
        == "土地承包与流转台账中 是否流转 等于 是 的记录数"
    )
    assert (
        describe_formula(area.formula, specs.elements, specs.ledgers)
        == "土地承包与流转台账的全部记录的流转面积（亩）之和"
    )
