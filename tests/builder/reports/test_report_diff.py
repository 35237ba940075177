"""Comparing two versions of a report: one Chinese sentence per change, moves told from shifts."""

from __future__ import annotations

import copy

import pytest

from builder.reports.diff import diff_reports


def report(*names, **extra):
    """A report whose fields are the given custom text fields (title = name in Chinese)."""
    titles = {
        "name": "姓名",
        "phone": "联系电话",
        "grade": "残疾等级",
        "needs": "康复需求",
        "address": "家庭住址",
        "income": "月收入",
        "remark": "备注",
    }
    doc = {
        "title": "残疾人服务需求调查表",
        "type": "object",
        "x-report": "survey",
        "x-version": 1,
        "x-department": "canlian",
        "x-purpose": "了解康复需求",
        "x-basis": "《残疾人保障法》第十五条",
        "x-rows": {"ledger": "person", "filter": [{"element": "person.disability_grade", "op": "present"}]},
        "x-frequency": "once",
        "x-deadline": "2026-12-20",
        "x-targets": [],
        "properties": {n: {"title": titles[n], "type": "string"} for n in names},
        "required": [],
    }
    doc.update(extra)
    return doc


def messages(old, new, **kw):
    return [c.message for c in diff_reports(old, new, **kw)]


def test_identical_reports_have_no_changes():
    doc = report("name", "phone")
    assert diff_reports(doc, copy.deepcopy(doc)) == []


def test_the_version_number_alone_is_no_change():
    assert diff_reports(report("name"), report("name", **{"x-version": 2})) == []


def test_added_and_removed_fields():
    changes = diff_reports(report("name", "phone"), report("name", "needs"))
    assert [(c.kind, c.target, c.label, c.message) for c in changes] == [
        ("removed", "phone", "联系电话", "删除字段“联系电话”"),
        ("added", "needs", "康复需求", "新增字段“康复需求”"),
    ]


def test_required_both_ways():
    old = report("name", "grade", required=["name"])
    new = report("name", "grade", required=["grade"])
    assert messages(old, new) == ["字段“姓名”改为选填", "字段“残疾等级”改为必填"]


def test_a_moved_field_is_reported_once_and_shifted_ones_not():
    old = report("name", "phone", "grade", "needs", "address")
    new = report("name", "phone", "address", "grade", "needs")
    changes = diff_reports(old, new)
    assert [(c.kind, c.before, c.after, c.message) for c in changes] == [
        ("moved", 5, 3, "字段“家庭住址”从第 5 列移到第 3 列"),
    ]


def test_insertions_and_removals_shift_columns_without_moves():
    old = report("name", "phone", "grade", "needs")
    new = report("income", "name", "grade", "needs", "remark")
    assert [c.kind for c in diff_reports(old, new)] == ["removed", "added", "added"]


@pytest.mark.parametrize(
    ("key", "before", "after", "message"),
    [
        ("x-deadline", "2026-12-20", "2026-12-31", "截止日期由 2026-12-20 改为 2026-12-31"),
        ("x-deadline", None, "2026-12-31", "设定截止日期为 2026-12-31"),
        ("x-deadline", "2026-12-20", None, "取消截止日期（原为 2026-12-20）"),
        ("x-frequency", "once", "quarterly", "填报频次由 一次性 改为 每季度"),
        (
            "title",
            "残疾人服务需求调查表",
            "残疾人服务需求调查表（修订）",
            "报表名称由“残疾人服务需求调查表”改为“残疾人服务需求调查表（修订）”",
        ),
        ("x-basis", "", "《残疾人保障法》第十五条", "填写了政策依据：“《残疾人保障法》第十五条”"),
        ("x-purpose", "了解康复需求", "了解" * 30, "填报用途已修改"),
        ("x-justification", "比对身份", "", "清空了使用敏感信息的理由（原为“比对身份”）"),
        ("x-targets", [], ["500118100", "500118101"], "下发范围由“全部镇街”改为“青峰镇、金龙镇”"),
        (
            "x-rows",
            {"ledger": "person", "filter": [{"element": "person.disability_grade", "op": "present"}]},
            {
                "ledger": "person",
                "filter": [{"element": "person.disability_grade", "op": "in", "value": ["一级"]}],
            },
            "数据来源由“person 台账中残疾等级 不为空的记录”改为“person 台账中残疾等级 属于 一级的记录”",
        ),
        (
            "x-rows",
            {"ledger": "person"},
            {"ledger": None},
            "数据来源由“person 台账的全部记录”改为“镇街逐行填写”",
        ),
    ],
)
def test_metadata_changes(specs, key, before, after, message):
    old, new = report("name"), report("name")
    for doc, value in ((old, before), (new, after)):
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    changes = diff_reports(old, new, elements=specs.elements, org_units=specs.org_units)
    assert [(c.kind, c.before, c.after, c.message) for c in changes] == [("meta", before, after, message)]


def test_metadata_targets_are_named_as_on_reportspec():
    changes = diff_reports(report("name"), report("name", **{"x-deadline": "2027-01-10"}))
    assert [(c.target, c.label) for c in changes] == [("deadline", "截止日期")]


def _change(name, **values):
    def apply(doc):
        doc["properties"][name].update(values)

    return apply


@pytest.mark.parametrize(
    ("old_prop", "new_prop", "message"),
    [
        (
            {"title": "家庭住址", "type": "string"},
            {"title": "现居住地址", "type": "string"},
            "字段“家庭住址”改名为“现居住地址”",
        ),
        (
            {"title": "月收入", "type": "string"},
            {"title": "月收入", "type": "number"},
            "字段“月收入”的类型由 文本 改为 数字",
        ),
        (
            {"title": "月收入", "type": "number", "maximum": 100000},
            {"title": "月收入", "type": "number", "maximum": 50000},
            "字段“月收入”的最大值由 100000 改为 50000",
        ),
        (
            {"title": "月收入", "type": "number"},
            {"title": "月收入", "type": "number", "minimum": 0},
            "字段“月收入”新设最小值 0",
        ),
        (
            {"title": "备注", "type": "string", "maxLength": 200},
            {"title": "备注", "type": "string"},
            "字段“备注”取消最多字数（原为 200）",
        ),
        (
            {"title": "就业意愿", "type": "string", "enum": ["有", "无"]},
            {"title": "就业意愿", "type": "string", "enum": ["有", "无", "无劳动能力"]},
            "字段“就业意愿”的选项：新增“无劳动能力”",
        ),
        (
            {
                "title": "康复需求",
                "type": "array",
                "items": {"type": "string", "enum": ["康复训练", "辅具", "心理疏导"]},
            },
            {"title": "康复需求", "type": "array", "items": {"type": "string", "enum": ["康复训练", "护理"]}},
            "字段“康复需求”的选项：新增“护理”，删除“辅具”“心理疏导”",
        ),
        (
            {"title": "就业意愿", "type": "string", "enum": ["有", "无"]},
            {"title": "就业意愿", "type": "string", "enum": ["无", "有"]},
            "字段“就业意愿”的选项顺序已调整",
        ),
        (
            {"title": "就业意愿", "type": "string", "enum": ["有", "无"], "x-widget": "radio"},
            {"title": "就业意愿", "type": "string", "enum": ["有", "无"], "x-widget": "select"},
            "字段“就业意愿”的显示控件由 单选按钮 改为 下拉选择",
        ),
        (
            {"title": "备注", "type": "string"},
            {"title": "备注", "type": "string", "x-help": "不超过两百字"},
            "字段“备注”的填写说明已修改",
        ),
        (
            {"title": "电话", "type": "string", "x-parents": ["本人"]},
            {"title": "电话", "type": "string", "x-parents": ["监护人"]},
            "字段“电话”的上级表头由“本人”改为“监护人”",
        ),
        (
            {"x-element": "person.phone"},
            {"x-element": "person.phone", "x-writeback": False},
            "字段“联系电话”改为不回流台账",
        ),
        (
            {"x-element": "person.phone", "title": "电话"},
            {"x-element": "person.guardian_phone", "title": "电话"},
            "字段“电话”绑定的数据元由“联系电话”（person.phone）改为“监护人联系电话”（person.guardian_phone）",
        ),
    ],
)
def test_field_changes(specs, old_prop, new_prop, message):
    old, new = report("name"), report("name")
    old["properties"]["f"], new["properties"]["f"] = old_prop, new_prop
    changes = diff_reports(old, new, elements=specs.elements)
    assert [(c.kind, c.target, c.message) for c in changes][-1] == ("changed", "f", message)


def test_binding_a_custom_field_is_one_sentence(specs):
    old, new = report("name"), report("name")
    old["properties"]["f"] = {"title": "电话", "type": "string", "maxLength": 20}
    new["properties"]["f"] = {"x-element": "person.phone", "title": "电话"}
    assert messages(old, new, elements=specs.elements) == [
        "字段“电话”改为绑定数据元“联系电话”（person.phone）"
    ]
    assert messages(new, old, elements=specs.elements) == [
        "字段“电话”不再绑定数据元“联系电话”（person.phone），改为自定义字段"
    ]


def test_a_bound_field_without_title_is_named_by_its_code_when_no_catalog_is_given():
    old = report("name")
    new = report("name")
    new["properties"]["grade"] = {"x-element": "person.disability_grade"}
    assert messages(old, new) == ["新增字段“grade”"]


def test_writeback_defaults_are_compared_not_spellings(specs):
    old, new = report("name"), report("name")
    old["properties"]["phone"] = {"x-element": "person.phone"}
    new["properties"]["phone"] = {"x-element": "person.phone", "x-writeback": True}
    assert diff_reports(old, new) == []
