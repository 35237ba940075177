"""The editor's drafts: spec properties from what was typed and back, field list edits, the form view."""

from __future__ import annotations

from dataclasses import replace

import pytest

from builder.reports.editing.draft import (
    KINDS,
    ConditionDraft,
    EditRefused,
    FieldDraft,
    add_custom,
    add_element,
    apply_draft,
    draft_from_document,
    field_property,
    move,
    option_list,
    remove,
)
from builder.reports.form import field_view, preview_fields
from builder.reports.spec import check_report, load_report


def _doc(**overrides):
    doc = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "康复需求调查表",
        "type": "object",
        "x-report": "rehab_2026",
        "x-version": 1,
        "x-department": "canlian",
        "x-purpose": "安排年度康复服务",
        "x-basis": "《残疾人保障法》第十五条",
        "x-rows": {"ledger": "person", "filter": [{"element": "person.disability_grade", "op": "present"}]},
        "x-frequency": "once",
        "x-deadline": "2026-12-20",
        "x-targets": [],
        "properties": {
            "name": {"x-element": "person.name"},
            "grade": {"x-element": "person.disability_grade", "title": "等级", "x-writeback": False},
            "need": {
                "title": "康复需求",
                "type": "string",
                "enum": ["辅具适配", "康复训练"],
                "x-widget": "radio",
                "x-parents": ["服务需求"],
                "x-help": "只选一项",
            },
            "times": {"title": "训练次数", "type": "integer", "minimum": 0, "maximum": 365},
            "aids": {
                "title": "已有辅具",
                "type": "array",
                "uniqueItems": True,
                "items": {"type": "string", "enum": ["轮椅", "助听器"]},
            },
            "visited": {"title": "是否入户", "type": "boolean"},
            "day": {"title": "走访日期", "type": "string", "format": "date"},
            "note": {
                "title": "备注",
                "type": "string",
                "minLength": 2,
                "maxLength": 200,
                "x-widget": "textarea",
            },
        },
        "required": ["name", "need"],
    }
    return doc | overrides


def test_a_document_survives_the_round_trip_through_the_editor(specs):
    """Draft from a spec, applied back unchanged, gives the same spec with no problems."""
    doc = _doc()
    draft = draft_from_document(doc)
    assert [f.kind for f in draft.fields] == ["", "", "choice", "integer", "multi", "yesno", "date", "text"]
    assert draft.fields[1].writeback is False and draft.fields[0].writeback is True
    assert draft.fields[2].options == "辅具适配\n康复训练" and draft.fields[2].parents == "服务需求"
    assert draft.conditions == (ConditionDraft("person.disability_grade", "present", ""),)
    again, problems = apply_draft(doc, draft, specs.elements)
    assert problems == {}
    assert again == doc
    assert check_report(again, specs.elements, specs.ledgers, specs.org_units, meta=specs.report_meta) == []


@pytest.mark.parametrize(
    ("kind", "settings", "schema"),
    [
        (
            "text",
            {"min_length": "2", "max_length": "50"},
            {"type": "string", "minLength": 2, "maxLength": 50},
        ),
        ("number", {"minimum": "0", "maximum": "99.5"}, {"type": "number", "minimum": 0, "maximum": 99.5}),
        ("integer", {"minimum": "1", "maximum": "10"}, {"type": "integer", "minimum": 1, "maximum": 10}),
        ("date", {}, {"type": "string", "format": "date"}),
        ("choice", {"options": "有\n无\n不清楚"}, {"type": "string", "enum": ["有", "无", "不清楚"]}),
        (
            "multi",
            {"options": "轮椅、拐杖"},
            {"type": "array", "items": {"type": "string", "enum": ["轮椅", "拐杖"]}, "uniqueItems": True},
        ),
        ("yesno", {}, {"type": "boolean"}),
    ],
)
def test_each_custom_kind_makes_its_schema(specs, kind, settings, schema):
    """A custom field of every kind becomes the JSON Schema a township form is checked against."""
    new = FieldDraft(name="", title="  新字段 ", kind=kind, required=True, help="按实际填写", **settings)
    fields, problems = add_custom(draft_from_document(_doc()).fields, new, specs.elements)
    assert problems == {}
    added = fields[-1]
    assert added.name == "c9" and added.element is None
    doc, problems = apply_draft(
        _doc(), replace(draft_from_document(_doc()), fields=tuple(fields)), specs.elements
    )
    assert problems == {}
    assert doc["properties"]["c9"] == {"title": "新字段", **schema, "x-help": "按实际填写"}
    assert "c9" in doc["required"]
    assert check_report(doc, specs.elements, specs.ledgers, specs.org_units, meta=specs.report_meta) == []


@pytest.mark.parametrize(
    ("new", "problems"),
    [
        (FieldDraft(name="", title=" ", kind="text"), {"title": "请填写字段名称"}),
        (
            FieldDraft(name="", title="需求", kind="choice", options="只有一个"),
            {"enum": "单选、多选字段至少要有两个选项，每行写一个"},
        ),
        (FieldDraft(name="", title="需求", kind="multi", options="甲\n乙\n甲"), {"enum": "选项“甲”重复了"}),
        (
            FieldDraft(name="", title="人数", kind="integer", minimum="1.5"),
            {"minimum": "“最小值”应填整数，现在是“1.5”"},
        ),
        (
            FieldDraft(name="", title="金额", kind="number", maximum="十"),
            {"maximum": "“最大值”应填数字，现在是“十”"},
        ),
        (
            FieldDraft(name="", title="金额", kind="number", minimum="nan"),
            {"minimum": "“最小值”应填数字，现在是“nan”"},
        ),
        (
            FieldDraft(name="", title="金额", kind="number", minimum="5", maximum="1"),
            {"maximum": "最大值不能小于最小值"},
        ),
        (
            FieldDraft(name="", title="说明", kind="text", max_length="0"),
            {"maxLength": "“最多字数”不能小于 1"},
        ),
        (
            FieldDraft(name="", title="说明", kind="text", min_length="9", max_length="3"),
            {"maxLength": "最多字数不能小于最少字数"},
        ),
        (FieldDraft(name="", title="说明", kind="picture"), {"kind": "请选择字段类型"}),
    ],
)
def test_a_custom_field_with_problems_is_not_added(specs, new, problems):
    """What cannot become a valid field is refused with the message next to the setting."""
    fields = draft_from_document(_doc()).fields
    after, found = add_custom(fields, new, specs.elements)
    assert found == problems
    assert after == list(fields)


def test_catalog_elements_get_a_unique_property_name(specs):
    """Row-ledger elements keep their own name, others are prefixed by group; clashes get _2."""
    fields = [FieldDraft(name="head_name", title="自定义", kind="text")]
    fields = add_element(fields, specs.elements["person.disability_grade"], "person")
    fields = add_element(fields, specs.elements["household.head_name"], "person")
    fields = add_element(fields, specs.elements["household.size"], None)
    assert [f.name for f in fields] == [
        "head_name",
        "disability_grade",
        "household_head_name",
        "household_size",
    ]
    assert fields[1] == FieldDraft(name="disability_grade", element="person.disability_grade", writeback=True)
    clash = add_element(
        [FieldDraft(name="household_head_name", kind="text")], specs.elements["household.head_name"], "person"
    )
    assert clash[-1].name == "household_head_name_2"
    with pytest.raises(EditRefused, match="“残疾等级”已在报表中"):
        add_element(fields, specs.elements["person.disability_grade"], "person")


def test_fields_move_and_are_removed():
    """Moving stays inside the list; removing drops one; a missing index is refused."""
    items = ["a", "b", "c"]
    assert move(items, 2, -1) == ["a", "c", "b"]
    assert move(items, 0, 1) == ["b", "a", "c"]
    assert move(items, 0, -1) == items and move(items, 2, 1) == items
    assert remove(items, 1) == ["a", "c"]
    with pytest.raises(EditRefused):
        move(items, 3, -1)
    with pytest.raises(EditRefused):
        remove(items, -1)


def test_bound_fields_keep_only_what_differs_from_the_element(specs):
    """The element's own name is no title override; writeback is written only when turned off."""
    draft = FieldDraft(name="name", title="姓名", element="person.name", writeback=True, widget="text")
    assert field_property(draft, None, specs.elements) == ({"x-element": "person.name"}, {})
    draft = FieldDraft(
        name="name",
        title="申请人",
        element="person.name",
        writeback=False,
        widget="textarea",
        parents="申请人信息 / 基本",
        help="与身份证一致",
    )
    base = {"x-element": "person.name", "description": "保留"}
    prop, problems = field_property(draft, base, specs.elements)
    assert problems == {}
    assert prop == {
        "x-element": "person.name",
        "description": "保留",
        "title": "申请人",
        "x-writeback": False,
        "x-widget": "textarea",
        "x-help": "与身份证一致",
        "x-parents": ["申请人信息", "基本"],
    }


def test_a_widget_the_kind_cannot_use_is_dropped_and_captions_are_limited(specs):
    draft = FieldDraft(name="c1", title="日期", kind="date", widget="radio", parents="甲/乙/丙/丁")
    prop, problems = field_property(draft, None, specs.elements)
    assert "x-widget" not in prop
    assert problems == {"properties/c1/x-parents": "分组标题最多 3 层"}


def test_a_hand_written_field_keeps_the_keywords_the_editor_does_not_show(specs):
    """A pattern from an imported spec survives editing the title (kind "other")."""
    doc = _doc(properties={"code": {"title": "编号", "type": "string", "pattern": "^[A-Z]{2}$"}}, required=[])
    draft = draft_from_document(doc)
    assert draft.fields[0].kind == "other"
    edited = replace(draft, fields=(replace(draft.fields[0], title="地块编号"),))
    out, problems = apply_draft(doc, edited, specs.elements)
    assert problems == {}
    assert out["properties"]["code"] == {"title": "地块编号", "type": "string", "pattern": "^[A-Z]{2}$"}


def test_metadata_is_applied_and_checked(specs):
    """Title, dates, targets and frequency: the typed text becomes spec keywords or a problem."""
    base = draft_from_document(_doc())
    draft = replace(
        base,
        title=" 新名称 ",
        purpose="核实",
        basis="",
        frequency="monthly",
        deadline="2026-12-31",
        all_targets=False,
        targets=("500118001", "500118002"),
        justification="需核对身份",
        description="按户填写",
    )
    doc, problems = apply_draft(_doc(), draft, specs.elements)
    assert problems == {}
    assert (doc["title"], doc["x-purpose"], doc["x-basis"], doc["x-frequency"], doc["x-deadline"]) == (
        "新名称",
        "核实",
        "",
        "monthly",
        "2026-12-31",
    )
    assert doc["x-targets"] == ["500118001", "500118002"]
    assert (doc["x-justification"], doc["description"]) == ("需核对身份", "按户填写")
    bad = replace(base, title="", deadline="12月20日", all_targets=False, targets=(), frequency="daily")
    doc, problems = apply_draft(_doc(), bad, specs.elements)
    assert problems == {
        "title": "请填写报表名称",
        "x-deadline": "截止日期应写成 YYYY-MM-DD，如 2026-12-20",
        "x-targets": "请至少选择一个镇街，或选“全部镇街”",
    }
    assert doc["x-frequency"] == "once" and "x-deadline" not in doc


def test_filter_values_are_typed_by_their_element(specs):
    """Numbers become numbers, 是/否 booleans, “属于” lists; a missing value is a problem."""
    base = draft_from_document(_doc())
    conditions = (
        ConditionDraft("person.disability_grade", "in", "一级、二级"),
        ConditionDraft("person.is_veteran", "eq", "是"),
        ConditionDraft("person.gender", "ne", "男"),
        ConditionDraft("person.disability_category", "absent", "忽略"),
    )
    doc, problems = apply_draft(_doc(), replace(base, conditions=conditions), specs.elements)
    assert problems == {}
    assert doc["x-rows"]["filter"] == [
        {"element": "person.disability_grade", "op": "in", "value": ["一级", "二级"]},
        {"element": "person.is_veteran", "op": "eq", "value": True},
        {"element": "person.gender", "op": "ne", "value": "男"},
        {"element": "person.disability_category", "op": "absent"},
    ]
    land = replace(
        base,
        ledger="land",
        conditions=(
            ConditionDraft("land.transfer_area_mu", "gt", "1.5"),
            ConditionDraft("land.contract_area_mu", "lt", "两亩"),
            ConditionDraft("land.land_use", "eq", " "),
            ConditionDraft("", "present"),
        ),
    )
    doc, problems = apply_draft(_doc(), land, specs.elements)
    assert doc["x-rows"] == {
        "ledger": "land",
        "filter": [{"element": "land.transfer_area_mu", "op": "gt", "value": 1.5}],
    }
    assert problems == {
        "x-rows/filter/1/value": "“比较的值”应填数字，现在是“两亩”",
        "x-rows/filter/2/value": "请填写比较的值",
        "x-rows/filter/3/element": "请选择筛选的数据项",
    }
    none = replace(base, ledger="")
    assert apply_draft(_doc(), none, specs.elements)[0]["x-rows"] == {"ledger": None, "filter": []}


def test_options_may_be_typed_on_one_line():
    assert option_list("甲\n\n 乙 \r\n丙") == ["甲", "乙", "丙"]
    assert option_list("甲、乙，丙,丁；戊") == ["甲", "乙", "丙", "丁", "戊"]
    assert option_list("甲、乙\n丙") == ["甲、乙", "丙"]


def test_every_custom_kind_has_a_label():
    assert set(KINDS) == {"text", "number", "integer", "date", "choice", "multi", "yesno"}


def test_the_township_form_view_of_each_field(specs):
    """Bound fields take their element's options and carry the prefill mark; hints say the limits."""
    views = {v.name: v for v in preview_fields(_doc(), specs.elements)}
    assert views["name"].element == "person.name" and views["name"].title == "姓名"
    assert views["name"].widget == "text" and views["name"].required
    assert views["grade"].widget == "select" and ("一级", "一级") in views["grade"].options
    assert views["need"].widget == "radio" and views["need"].parents == ("服务需求",)
    assert views["need"].help == "只选一项" and views["need"].element is None
    assert views["times"].hints == ("填整数", "取值 0–365") and views["times"].integer
    assert views["aids"].widget == "checkboxes"
    assert views["aids"].options == (("轮椅", "轮椅"), ("助听器", "助听器"))
    assert views["visited"].widget == "yesno" and views["visited"].options == (("是", "是"), ("否", "否"))
    assert views["day"].widget == "date"
    assert views["note"].widget == "textarea" and views["note"].hints == ("2–200 个字",)
    loaded = load_report(_doc(), specs.elements, specs.ledgers, specs.org_units, meta=specs.report_meta)
    assert [field_view(f) for f in loaded.fields] == list(views.values())


def test_an_unfinished_document_still_previews(specs):
    """A field without a type, an unknown element or a wrong widget still shows something."""
    doc = _doc(
        properties={
            "a": {"title": "甲"},
            "b": {"x-element": "person.nope"},
            "c": {"title": "丙", "type": "string", "format": "date", "x-widget": "checkboxes"},
        }
    )
    views = preview_fields(doc, specs.elements)
    assert [(v.title, v.widget) for v in views] == [("甲", "text"), ("b", "text"), ("丙", "date")]


def test_an_aggregate_report_keeps_its_unit_rows_and_formulas_through_the_editor(specs):
    from builder.reports.spec import load_report, load_reports

    document = load_reports(specs.root, specs)["land_transfer_summary"].document
    edited, problems = apply_draft(document, draft_from_document(document), specs.elements)
    assert problems == {}
    assert edited["x-rows"] == document["x-rows"] and "unit" in edited["x-rows"]
    assert {n: p.get("x-formula") for n, p in edited["properties"].items()} == {
        n: p.get("x-formula") for n, p in document["properties"].items()
    }
    assert load_report(
        edited, specs.elements, specs.ledgers, specs.org_units, meta=specs.report_meta
    ).aggregate
