"""The editor's drafts of aggregate reports: rows by org unit, count and sum formulas and their conditions."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from builder.reports.editing.draft import (
    ConditionDraft,
    FieldDraft,
    FormulaDraft,
    ReportDraft,
    add_custom,
    apply_draft,
    draft_from_document,
)
from builder.reports.spec import blank_document, check_report, load_report
from tests.conftest import SPECS_ROOT

SAMPLE = json.loads((SPECS_ROOT / "reports" / "land_transfer_summary.json").read_text(encoding="utf-8"))
TRANSFERRED = ConditionDraft("land.is_transferred", "eq", "是")


def _draft(*fields: FieldDraft, unit: str = "township") -> ReportDraft:
    """Return the draft of a small aggregate report with these fields."""
    return ReportDraft(
        title="流转统计", purpose="测试用途", basis="《农村土地承包法》第三十六条", unit=unit, fields=fields
    )


def _blank():
    """Return a new report's document: no fields, rows not chosen yet."""
    return blank_document("transfer_stats", "流转统计", "nongye")


def test_the_sample_aggregate_report_round_trips_exactly(specs):
    """draft_from_document → apply_draft gives the same document, even onto a report without fields."""
    draft = draft_from_document(SAMPLE)
    assert draft.unit == "township" and draft.ledger == "" and draft.conditions == ()
    area = draft.fields[1]
    assert (
        area.kind == ""
        and area.minimum == "0"
        and area.formula == FormulaDraft("sum", "land", "land.transfer_area_mu", (TRANSFERRED,))
    )
    assert draft.fields[-1].formula is None and draft.fields[-1].kind == "text"
    again, problems = apply_draft(SAMPLE, draft, specs.elements)
    assert problems == {}
    assert again == SAMPLE and list(again["properties"]) == list(SAMPLE["properties"])
    # The formulas are written from the drafts, not copied from the saved document.
    fresh, problems = apply_draft(_blank(), draft, specs.elements)
    assert problems == {}
    assert (fresh["x-rows"], fresh["properties"], fresh["required"]) == (
        SAMPLE["x-rows"],
        SAMPLE["properties"],
        SAMPLE["required"],
    )


@pytest.mark.parametrize(
    ("formula", "kind", "expected"),
    [
        (
            FormulaDraft(
                "count", "land", "", (TRANSFERRED, ConditionDraft("land.transfer_form", "in", "出租、入股"))
            ),
            "",
            {
                "type": "integer",
                "x-formula": {
                    "count": "land",
                    "where": [
                        {"element": "land.is_transferred", "op": "eq", "value": True},
                        {"element": "land.transfer_form", "op": "in", "value": ["出租", "入股"]},
                    ],
                },
            },
        ),
        (
            FormulaDraft(
                "sum", "land", "land.rent_arrears", (ConditionDraft("land.rent_arrears", "gt", "0"),)
            ),
            "",
            {
                "type": "number",
                "x-formula": {
                    "sum": "land.rent_arrears",
                    "where": [{"element": "land.rent_arrears", "op": "gt", "value": 0}],
                },
            },
        ),
        (
            FormulaDraft("sum", "household", "household.size"),
            "integer",
            {"type": "integer", "x-formula": {"sum": "household.size"}},
        ),
        (
            FormulaDraft("count", "person", "", (ConditionDraft("person.disability_grade", "present"),)),
            "",
            {
                "type": "integer",
                "x-formula": {
                    "count": "person",
                    "where": [{"element": "person.disability_grade", "op": "present"}],
                },
            },
        ),
    ],
)
def test_a_formula_draft_becomes_its_spec_and_back(specs, formula, kind, expected):
    """Count → integer, sum → number unless a type was chosen; conditions typed as their elements hold."""
    field = FieldDraft(name="cell", title="统计数", kind=kind, minimum="0", writeback=False, formula=formula)
    doc, problems = apply_draft(_blank(), _draft(field), specs.elements)
    assert problems == {}
    assert doc["x-rows"] == {"unit": "township"}
    assert doc["properties"]["cell"] == {"title": "统计数", "minimum": 0, **expected}
    assert check_report(doc, specs.elements, specs.ledgers, specs.org_units, meta=specs.report_meta) == []
    assert draft_from_document(doc).fields == (field,)
    assert (
        load_report(doc, specs.elements, specs.ledgers, specs.org_units, meta=specs.report_meta)
        .fields[0]
        .formula.op
        == formula.op
    )


@pytest.mark.parametrize(
    ("formula", "problems"),
    [
        (FormulaDraft("count", ""), {"properties/cell/x-formula/count": "请选择要计数的台账"}),
        (FormulaDraft("sum", "land", ""), {"properties/cell/x-formula/sum": "请选择要求和的数据项"}),
        (FormulaDraft("average", "land"), {"properties/cell/x-formula": "请选择统计方式：计数或求和"}),
        (
            FormulaDraft(
                "count",
                "land",
                "",
                (ConditionDraft("land.rent_arrears", "gt", "很多"), ConditionDraft("", "present")),
            ),
            {
                "properties/cell/x-formula/where/0/value": "“比较的值”应填数字，现在是“很多”",
                "properties/cell/x-formula/where/1/element": "请选择筛选的数据项",
            },
        ),
        (
            FormulaDraft("count", "land", "", (ConditionDraft("land.is_transferred", "eq", "对"),)),
            {"properties/cell/x-formula/where/0/value": "这一项只能比较“是”或“否”"},
        ),
    ],
)
def test_an_unfinished_formula_keeps_its_draft_and_says_why(specs, formula, problems):
    """What cannot be written yet is left out of the document, with a message at the check's path."""
    field = FieldDraft(name="cell", title="统计数", formula=formula)
    draft = _draft(field)
    doc, found = apply_draft(_blank(), draft, specs.elements)
    assert found == problems
    assert draft.fields[0].formula == formula, "the draft still holds every text typed"
    rule = doc["properties"]["cell"].get("x-formula")
    assert rule is None or rule == {"count": "land"}, "conditions with problems are left out"
    assert doc["properties"]["cell"]["type"] == ("number" if formula.op == "sum" else "integer")


def test_switching_rows_keeps_fields_and_the_typed_filter(specs):
    """Unit rows ignore the ledger and filter typed (even unfinished ones); switching back restores them."""
    bound = FieldDraft(name="location", element="land.location")
    count = FieldDraft(name="cell", title="地块数", formula=FormulaDraft("count", "land"))
    typed = (ConditionDraft("land.rent_arrears", "gt", "x"),)
    draft = replace(_draft(bound, count), ledger="land", conditions=typed)
    doc, problems = apply_draft(_blank(), draft, specs.elements)
    assert problems == {}
    assert doc["x-rows"] == {"unit": "township"} and list(doc["properties"]) == ["location", "cell"]
    codes = {
        f.code
        for f in check_report(doc, specs.elements, specs.ledgers, specs.org_units, meta=specs.report_meta)
    }
    assert codes == {"bound_in_aggregate"}
    doc, problems = apply_draft(_blank(), replace(draft, unit=""), specs.elements)
    assert problems == {"x-rows/filter/0/value": "“比较的值”应填数字，现在是“x”"}
    assert doc["x-rows"] == {"ledger": "land", "filter": []}
    assert list(doc["properties"]) == ["location", "cell"]
    codes = {
        f.code
        for f in check_report(doc, specs.elements, specs.ledgers, specs.org_units, meta=specs.report_meta)
    }
    assert codes == {"formula_without_units"}


def test_adding_a_formula_field_takes_its_type_from_the_formula_and_minimum_0(specs):
    """The “add a field” form with 计数/求和 adds a formula field; an unfinished one is refused."""
    new = FieldDraft(
        name="",
        title=" 流转面积 ",
        kind="text",
        max_length="20",
        formula=FormulaDraft("sum", "land", "land.transfer_area_mu"),
    )
    fields, problems = add_custom([], new, specs.elements)
    assert problems == {}
    assert fields[0] == FieldDraft(
        name="c1", title=" 流转面积 ", kind="", writeback=False, minimum="0", formula=new.formula
    )
    doc, _problems = apply_draft(_blank(), _draft(*fields), specs.elements)
    assert doc["properties"]["c1"] == {
        "title": "流转面积",
        "type": "number",
        "minimum": 0,
        "x-formula": {"sum": "land.transfer_area_mu"},
    }
    kept, problems = add_custom(
        fields, FieldDraft(name="", title="户数", formula=FormulaDraft("count")), specs.elements
    )
    assert (kept, problems) == (fields, {"count": "请选择要计数的台账"})
