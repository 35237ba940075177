"""The report editor builds aggregate reports: rows by org unit, count and sum formulas with conditions."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import SPECS_ROOT
from tests.web.reports.test_report_editor import _create, _editor_values, _stored

SAMPLE = json.loads((SPECS_ROOT / "reports" / "land_transfer_summary.json").read_text(encoding="utf-8"))
TRANSFERRED = {"element": "land.is_transferred", "op": "eq", "value": True}


def _aggregate(**properties):
    """The overrides of a 区农业农村委 report with one row per township."""
    return {
        "x-department": "nongye",
        "x-rows": {"unit": "township"},
        "title": "流转统计",
        "properties": properties,
        "required": [],
    }


@pytest.fixture
def post(web, form_values):
    """Log in as nongye; return a function posting a report's editor form (read from `page`, or fetched)."""
    client, auth = web
    auth.login("nongye")

    def send(code, action="save", changes=None, page=None, drop=()):
        page = page or client.get(f"/reports/{code}/edit").get_data(as_text=True)
        values = _editor_values(page, form_values)
        for key in drop:
            values.pop(key, None)
        values.update(changes or {}, action=action)
        return client.post(f"/reports/{code}/edit", data=values, headers={"HX-Request": "true"})

    return send


def _card(page, name):
    """Return the field card of property `name` on an editor page."""
    card = page[page.index(f'id="field-{name}"') :]
    return card[: card.index("</li>")]


def test_the_sample_aggregate_report_comes_back_unchanged_through_the_editor_page(web, engine, post):
    code = _create(engine, "nongye", **{k: v for k, v in SAMPLE.items() if k != "x-report"})
    client, _auth = web
    page = client.get(f"/reports/{code}/edit").get_data(as_text=True)
    assert re.search(r'<input type="radio" id="rows-township" name="unit" value="township" checked', page)
    assert 'name="c-0-element"' not in page and 'id="m-ledger"' not in page
    card = _card(page, "rent_area")
    assert "统计字段" in card
    assert "土地承包与流转台账中 是否流转 等于 是 且 流转方式 等于 出租 的记录的流转面积（亩）之和" in card
    assert re.search(r'<option value="land.transfer_area_mu" selected>流转面积（亩）</option>', card)
    assert 'name="f-2-w-1-value" value="出租"' in card
    preview = page[page.index('id="preview"') :]
    assert "每个镇街一行（汇总表）" in preview and "<dt>出租地块数</dt>" in preview
    response = post(code)
    assert response.status_code == 200
    status, version, edits, document = _stored(engine, code)
    assert edits == 0, "the page posts back exactly the saved document"
    assert document["properties"] == SAMPLE["properties"] and document["x-rows"] == SAMPLE["x-rows"]


def test_switching_to_unit_rows_keeps_the_fields_and_switching_back_the_filter(web, engine, post):
    code = _create(
        engine,
        "nongye",
        **{
            "x-department": "nongye",
            "x-rows": {"ledger": "land", "filter": [TRANSFERRED]},
            "properties": {
                "location": {"x-element": "land.location"},
                "note": {"title": "核查意见", "type": "string", "maxLength": 200},
            },
            "required": [],
        },
    )
    page = post(code, "rows", {"unit": "village"}).get_data(as_text=True)
    status, _version, _edits, doc = _stored(engine, code)
    assert doc["x-rows"] == {"unit": "village"}
    assert list(doc["properties"]) == ["location", "note"], "no field is lost"
    assert "汇总报表的每一行是一个镇街或村（社区）" in _card(page, "location")  # bound: a finding, not a loss
    assert '<input type="hidden" name="c-0-element" value="land.is_transferred">' in page
    page = post(code, "rows", {"unit": ""}, page=page).get_data(as_text=True)
    doc = _stored(engine, code)[3]
    assert doc["x-rows"] == {"ledger": "land", "filter": [TRANSFERRED]}
    assert list(doc["properties"]) == ["location", "note"]
    assert re.search(r'id="rows-ledger" name="unit" value="" checked', page)


def test_an_admin_adds_a_count_with_a_condition_and_a_sum(engine, post):
    code = _create(engine, "nongye", **_aggregate())
    page = post(
        code,
        "add_custom",
        {"new-title": "流转地块数", "new-formula-op": "count", "new-formula-ledger": "land"},
    ).get_data(as_text=True)
    assert "已添加自定义字段“流转地块数”" in page
    assert _stored(engine, code)[3]["properties"]["c1"] == {
        "title": "流转地块数",
        "type": "integer",
        "minimum": 0,
        "x-formula": {"count": "land"},
    }
    # A new condition starts complete (the ledger's key “不为空”); then it is filled in.
    page = post(code, "add_where:c1", page=page).get_data(as_text=True)
    assert _stored(engine, code)[3]["properties"]["c1"]["x-formula"] == {
        "count": "land",
        "where": [{"element": "land.parcel_code", "op": "present"}],
    }
    assert re.search(r'<select id="f-0-w-0-element" name="f-0-w-0-element"[^>]*autofocus', page)
    assert '<option value="land.transfer_form">流转方式</option>' in page
    page = post(
        code,
        "save",
        {"f-0-w-0-element": "land.is_transferred", "f-0-w-0-op": "eq", "f-0-w-0-value": "是"},
        page=page,
    ).get_data(as_text=True)
    assert "土地承包与流转台账中 是否流转 等于 是 的记录数" in _card(page, "c1")
    page = post(
        code,
        "add_custom",
        {
            "new-title": "流转面积（亩）",
            "new-formula-op": "sum",
            "new-formula-element": "land.transfer_area_mu",
        },
        page=page,
    ).get_data(as_text=True)
    doc = _stored(engine, code)[3]
    assert doc["properties"] == {
        "c1": {
            "title": "流转地块数",
            "type": "integer",
            "minimum": 0,
            "x-formula": {"count": "land", "where": [TRANSFERRED]},
        },
        "c2": {
            "title": "流转面积（亩）",
            "type": "number",
            "minimum": 0,
            "x-formula": {"sum": "land.transfer_area_mu"},
        },
    }
    assert "土地承包与流转台账的全部记录的流转面积（亩）之和" in _card(page, "c2")
    # Removing the condition counts all records again.
    post(code, "remove_where:c1:0", page=page)
    assert _stored(engine, code)[3]["properties"]["c1"]["x-formula"] == {"count": "land", "where": []}


def test_the_type_follows_the_formula_unless_the_admin_chose_one(engine, post):
    code = _create(
        engine,
        "nongye",
        **_aggregate(
            people={"title": "家庭人口合计", "type": "integer", "x-formula": {"sum": "household.size"}},
            parcels={"title": "地块数", "type": "integer", "x-formula": {"count": "land"}},
        ),
    )
    page = post(
        code, "formula", {"f-1-formula-op": "sum", "f-1-formula-element": "land.contract_area_mu"}
    ).get_data(as_text=True)
    doc = _stored(engine, code)[3]
    assert doc["properties"]["people"]["type"] == "integer", "chosen: the sum of an integer element"
    assert doc["properties"]["parcels"] == {
        "title": "地块数",
        "type": "number",
        "x-formula": {"sum": "land.contract_area_mu"},
    }
    assert re.search(
        r'<select id="f-0-kind"[^>]*>\s*<option value="">[^<]*</option>\s*'
        r'<option value="integer" selected>',
        page,
    )
    # Back to a count: the ledger is the summed element's, the type an integer again.
    post(code, "formula", {"f-1-formula-op": "count"}, page=page)
    assert _stored(engine, code)[3]["properties"]["parcels"] == {
        "title": "地块数",
        "type": "integer",
        "x-formula": {"count": "land"},
    }


def test_unfinished_formulas_are_kept_with_their_messages(engine, post):
    code = _create(
        engine,
        "nongye",
        **_aggregate(
            arrears={
                "title": "拖欠地块数",
                "type": "integer",
                "x-formula": {
                    "count": "land",
                    "where": [{"element": "land.rent_arrears", "op": "gt", "value": 0}],
                },
            }
        ),
    )
    before = _stored(engine, code)
    response = post(code, "save", {"f-0-w-0-value": "很多", "new-title": "面积合计", "new-formula-op": "sum"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(
        r'id="err-properties-arrears-x-formula-where-0-value" role="alert">'
        r"“比较的值”应填数字，现在是“很多”<",
        page,
    )
    assert 'name="f-0-w-0-value" value="很多"' in page
    assert _stored(engine, code) == before
    response = post(code, "add_custom", {"new-title": "面积合计", "new-formula-op": "sum"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'id="err-new-sum" role="alert">请选择要求和的数据项<', page)
    assert 'id="new-title" name="new-title" value="面积合计"' in page
    assert re.search(r'<option value="sum" selected>系统统计：求和</option>', page)
    assert _stored(engine, code) == before


def test_findings_about_a_formula_are_shown_in_its_card_and_conditions(web, engine):
    client, auth = web
    code = _create(
        engine,
        "nongye",
        **_aggregate(
            area={"title": "面积", "type": "number", "x-formula": {"sum": "land.transfer_form"}},
            vets={
                "title": "退役军人地块数",
                "type": "integer",
                "x-formula": {
                    "count": "land",
                    "where": [{"element": "person.is_veteran", "op": "eq", "value": True}],
                },
            },
            firms={"title": "企业数", "type": "integer", "x-formula": {"count": "enterprise"}},
        )
        | {"x-rows": {"unit": "village"}},
    )
    auth.login("nongye")
    page = client.get(f"/reports/{code}/edit").get_data(as_text=True)
    assert "只能对数字型数据元求和" in _card(page, "area")
    assert "没有所属村（社区）字段" in _card(page, "firms")
    condition = _card(page, "vets")
    condition = condition[condition.index('id="f-1-w-0-element"') :]
    assert 'id="notes-where-vets-0"' in condition
    assert "汇总条件只能使用所汇总台账（land）自己的字段" in condition
    assert "市场主体台账（无所属村（社区），只能按镇街汇总）" in page
    assert "还有 3 处待完善" in page


def test_formula_fields_on_ledger_rows_are_kept_and_explained(engine, post):
    code = _create(
        engine,
        "nongye",
        **_aggregate(
            parcels={"title": "地块数", "type": "integer", "minimum": 0, "x-formula": {"count": "land"}}
        ),
    )
    page = post(code, "rows", {"unit": ""}).get_data(as_text=True)
    assert _stored(engine, code)[3]["properties"]["parcels"]["x-formula"] == {"count": "land"}
    assert "只能用于每个镇街或村（社区）一行的汇总报表" in _card(page, "parcels")
