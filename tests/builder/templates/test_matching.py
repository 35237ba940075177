"""Matching template column labels to catalog data elements (issue 3, “Matching”)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from bench.synthetic import synthetic_catalog
from builder.catalog.specs import Element
from builder.templates.matching.match import (
    BIND_THRESHOLD,
    PROPOSE_THRESHOLD,
    Column,
    Matcher,
    infer_type,
    is_layout,
)


@pytest.fixture(scope="module")
def matcher(specs):
    """A matcher over the project's real catalog."""
    return Matcher(specs.elements)


def match(matcher, labels, ledger=None):
    """Match plain labels (or Column objects) and return the fields."""
    columns = [c if isinstance(c, Column) else Column(c) for c in labels]
    return matcher.match(columns, ledger=ledger).fields


def bound(fields):
    """Return label → bound element of the fields."""
    return {f.label: f.element for f in fields}


# Real-world label variants, each alone in a row of its ledger.
VARIANTS = [
    ("身份证号码", "person", "person.id_number"),
    ("公民身份证号", "person", "person.id_number"),
    ("身 份 证 号", "person", "person.id_number"),
    ("证件号码（18位）", "person", "person.id_number"),
    ("*身份证号：", "person", "person.id_number"),
    ("身份证\n号码", "person", "person.id_number"),
    ("申请人身份证号码", "person", "person.id_number"),
    ("姓　名", "person", "person.name"),
    ("1、姓名", "person", "person.name"),
    ("联系电话", "person", "person.phone"),
    ("手机号码", "person", "person.phone"),
    ("手机号", "person", "person.phone"),
    ("手机号码（11位）", "person", "person.phone"),
    ("文化程度", "person", "person.education"),
    ("学历", "person", "person.education"),
    ("出生年月", "person", "person.birth_date"),
    ("出生日期（YYYY-MM-DD）", "person", "person.birth_date"),
    ("与户主的关系", "person", "person.relation_to_head"),
    ("残疾证号", "person", "person.disability_cert_no"),
    ("残疾等级（一至四级）", "person", "person.disability_grade"),
    ("所属镇街", "person", "person.township_code"),
    ("乡镇（街道）", "person", "person.township_code"),
    ("村（社区）", "person", "person.village_code"),
    ("户主姓名", "person", "household.head_name"),
    ("户主身份证号码", "person", "household.head_id_number"),
    ("家庭人口", "person", "household.size"),
    ("家庭人口(数)", "person", "household.size"),
    ("家庭人口（人）", "person", "household.size"),
    ("家庭住址", "person", "household.address"),
    ("家庭年人均纯收入（元）", "person", "household.annual_income_per_capita"),
    ("监护人的联系电话", "person", "person.guardian_phone"),
    ("承包面积（亩）", "land", "land.contract_area_mu"),
    ("流转面积(亩)", "land", "land.transfer_area_mu"),
    ("流转面积/亩", "land", "land.transfer_area_mu"),
    ("地块编号", "land", "land.parcel_code"),
    ("承包方代表身份证号", "land", "land.contractor_id_number"),
    ("流转价格（元/亩）", "land", "land.transfer_price"),
    ("所属镇街", "land", "land.township_code"),
    ("统一社会信用代码", "enterprise", "enterprise.uscc"),
    ("法人代表", "enterprise", "enterprise.legal_rep"),
    ("注册资金（万元）", "enterprise", "enterprise.registered_capital"),
    ("成立时间", "enterprise", "enterprise.established_date"),
    ("联系电话", "enterprise", "enterprise.phone"),
    ("建筑面积（㎡）", "house", "house.floor_area"),
    ("产权人身份证号", "house", "house.owner_id_number"),
]


@pytest.mark.parametrize(("label", "ledger", "element"), VARIANTS)
def test_real_world_label_variants_bind(matcher, label, ledger, element):
    (field,) = match(matcher, [label], ledger)
    assert (field.element, field.kind) == (element, "data")
    assert BIND_THRESHOLD <= field.confidence <= 1.0
    assert re.search(r"[\u4e00-\u9fff]", field.reason)


def test_alias_reason_names_the_standard_name_and_the_alias(matcher):
    (field,) = match(matcher, ["身份证号"], "person")
    assert field.reason == "与标准名称“公民身份号码”的别名“身份证号”一致"
    (field,) = match(matcher, ["性别"], "person")
    assert field.reason == "与标准名称“性别”一致"
    assert field.confidence == 1.0


def test_several_persons_in_one_row(matcher):
    labels = [
        "序号",
        "申请人姓名",
        "身份证号码",
        "联系电话",
        "监护人姓名",
        "监护人联系电话",
        "父亲姓名",
        "父亲身份证号",
        "母亲姓名",
        "母亲身份证号码",
        "外婆出生日期",
        "户主姓名",
        "户主身份证号",
        "家庭人口",
        "家庭住址",
        "本人签字",
    ]
    fields = match(matcher, labels)
    by_label = {f.label: f for f in fields}
    assert bound(fields) == {
        "序号": None,
        "申请人姓名": "person.name",
        "身份证号码": "person.id_number",
        "联系电话": "person.phone",
        "监护人姓名": "person.guardian_name",
        "监护人联系电话": "person.guardian_phone",
        "父亲姓名": None,
        "父亲身份证号": None,
        "母亲姓名": None,
        "母亲身份证号码": None,
        "外婆出生日期": None,
        "户主姓名": "household.head_name",
        "户主身份证号": "household.head_id_number",
        "家庭人口": "household.size",
        "家庭住址": "household.address",
        "本人签字": None,
    }
    subjects = {f.label: f.subject for f in fields if f.subject}
    assert subjects == {
        "监护人姓名": "监护人",
        "监护人联系电话": "监护人",
        "父亲姓名": "父亲",
        "父亲身份证号": "父亲",
        "母亲姓名": "母亲",
        "母亲身份证号码": "母亲",
        "外婆出生日期": "外祖母",
        "户主姓名": "户主",
        "户主身份证号": "户主",
    }
    father = by_label["父亲身份证号"]
    assert father.proposal is None and "person.id_number" not in {c.element for c in father.candidates}
    assert father.reason == "该列是父亲的身份证号，不是本行对象的，不能绑定到本人的数据元“公民身份号码”"
    assert [f.kind for f in fields].count("layout") == 2


def test_person_captions_over_leaf_columns(matcher):
    columns = [
        Column("姓名", ("申请人信息",)),
        Column("身份证号", ("申请人信息",)),
        Column("姓名", ("父亲信息",)),
        Column("身份证号", ("父亲信息",)),
        Column("姓名", ("监护人（法定代理人）情况",)),
        Column("联系电话", ("监护人（法定代理人）情况",)),
        Column("姓名", ("户主信息",)),
    ]
    fields = matcher.match(columns, ledger="person").fields
    assert [f.element for f in fields] == [
        "person.name",
        "person.id_number",
        None,
        None,
        "person.guardian_name",
        "person.guardian_phone",
        "household.head_name",
    ]
    assert [f.subject for f in fields] == [None, None, "父亲", "父亲", "监护人", "监护人", "户主"]
    assert "上级表头“父亲信息”" in fields[3].reason
    assert fields[3].parents == ("父亲信息",)
    (outer,) = matcher.match([Column("电话", ("父亲信息", "联系方式"))], ledger="person").fields
    assert (outer.element, outer.subject) == (None, "父亲")
    assert "上级表头“父亲信息”" in outer.reason


@pytest.mark.parametrize(
    ("label", "role"),
    [
        ("父亲姓名", "父亲"),
        ("父身份证号", "父亲"),
        ("母亲联系电话", "母亲"),
        ("配偶姓名", "配偶"),
        ("妻子身份证号码", "妻子"),
        ("丈夫出生日期", "丈夫"),
        ("子女1姓名", "子女"),
        ("爷爷姓名", "祖父"),
        ("奶奶身份证号", "祖母"),
        ("外公联系电话", "外祖父"),
        ("紧急联系人电话", "紧急联系人"),
        ("联系人手机号", "联系人"),
        ("法定代理人身份证号", "法定代理人"),
        ("赡养人姓名", "赡养人"),
        ("共同申请人身份证号", "共同申请人"),
        ("联系电话（母亲）", "母亲"),
        ("成员2身份证号", "家庭成员"),
    ],
)
def test_another_persons_column_never_takes_the_subjects_element(matcher, label, role):
    fields = match(matcher, ["姓名", "身份证号", label], "person")
    other = fields[2]
    assert other.element is None or not other.element.startswith("person.")
    assert other.subject == role
    assert "不是本行对象的" in other.reason


def test_other_persons_reason_with_an_inline_catalog():
    elements = {
        "person.name": Element("person.name", "姓名", {"type": "string"}, "personal"),
        "person.phone": Element("person.phone", "联系电话", {"type": "string"}, "sensitive", ("手机号码",)),
    }
    fields = Matcher(elements).match([Column("姓名"), Column("监护人联系电话")]).fields
    assert fields[1].element is None and fields[1].proposal is None
    assert fields[1].reason == "该列是监护人的联系电话，不是本行对象的，不能绑定到本人的数据元“联系电话”"


def test_bare_phone_after_the_guardian_belongs_to_the_guardian(matcher):
    fields = match(matcher, ["姓名", "联系电话", "监护人姓名", "联系电话"])
    assert [f.element for f in fields] == [
        "person.name",
        "person.phone",
        "person.guardian_name",
        "person.guardian_phone",
    ]
    assert fields[3].subject == "监护人"
    assert "紧跟在第3列“监护人姓名”之后" in fields[3].reason
    assert "第2列“联系电话”" in fields[3].reason


def test_bare_id_after_the_father_is_the_fathers(matcher):
    fields = match(matcher, ["姓名", "身份证号", "父亲姓名", "身份证号"])
    assert fields[3].element is None and fields[3].proposal is None
    assert fields[3].subject == "父亲"
    assert "判断为父亲的身份证号" in fields[3].reason


def test_two_columns_never_bind_the_same_element(matcher):
    fields = match(matcher, ["姓名", "身份证号", "公民身份号码"], "person")
    assert fields[1].element == "person.id_number"
    second = fields[2]
    assert second.element is None and second.proposal == "person.id_number"
    assert "第2列“身份证号”" in second.reason


def test_duplicate_rule_holds_across_a_whole_row(matcher):
    labels = ["姓名", "手机号码", "联系方式", "学历", "文化程度", "户号", "户编号", "村", "所属村（社区）"]
    elements = [f.element for f in match(matcher, labels, "person") if f.element]
    assert len(elements) == len(set(elements))


def test_id_number_samples_veto_a_date_element(matcher):
    samples = ("500118199001011234", "50011819851212002X")
    (field,) = match(matcher, [Column("出生日期", samples=samples)], "person")
    assert field.element is None and field.proposal is None
    assert field.value_type == "string"
    assert "样例值像身份证号码" in field.reason and "不予绑定" in field.reason


def test_date_samples_keep_a_date_binding(matcher):
    (field,) = match(matcher, [Column("出生年月", samples=(dt.date(1990, 1, 1), "1985-03-15"))], "person")
    assert field.element == "person.birth_date"
    assert field.value_type == "date"


def test_text_samples_under_a_count_lower_it_to_a_proposal(matcher):
    (field,) = match(matcher, [Column("家庭人口", samples=("张三", "李四"))], "person")
    assert field.element is None and field.proposal == "household.size"
    assert PROPOSE_THRESHOLD <= field.confidence < BIND_THRESHOLD
    assert "整数类型不符" in field.reason
    (field,) = match(matcher, [Column("家庭人口", samples=(3, "4"))], "person")
    assert field.element == "household.size" and field.value_type == "integer"


def test_enum_samples_support_the_element(matcher):
    (field,) = match(matcher, [Column("性别", samples=("男", "女", "1"))], "person")
    assert field.element == "person.gender"
    assert "可选项内" in field.reason


def test_unit_contradiction_blocks_the_binding(matcher):
    (field,) = match(matcher, ["建筑面积（亩）"], "house")
    assert field.element is None
    assert "本列单位是亩" in field.reason or field.proposal is None


@pytest.mark.parametrize(
    ("samples", "expected"),
    [
        ((1, 2, "3"), "integer"),
        ((1.5, 2), "number"),
        (("12.5亩", "3"), "number"),
        (("2024-01-05", dt.date(2023, 2, 1), "2020年5月"), "date"),
        (("是", "否", "√"), "boolean"),
        ((True, False), "boolean"),
        (("500118199001011234",), "string"),
        ((13800138000,), "string"),
        (("张三", 3), "string"),
        ((None, "", "  "), None),
        ((), None),
    ],
)
def test_infer_type(samples, expected):
    assert infer_type(samples) == expected


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("发放金额（元）", "number"),
        ("补贴标准（元/月）", "number"),
        ("耕地面积（亩）", "number"),
        ("流转面积", "number"),
        ("年龄", "integer"),
        ("家庭人口数", "integer"),
        ("调查日期", "date"),
        ("发放时间", "date"),
        ("是否低保", "boolean"),
        ("是否有就业意愿", "boolean"),
        ("备注", None),
        ("数据来源", None),
        ("联系电话", None),
    ],
)
def test_a_template_without_samples_types_its_columns_by_their_labels(label, expected):
    """A header row alone: 发放金额（元） proposes a number, 是否低保 a yes/no, 备注 stays text."""
    assert infer_type((), label) == expected
    assert infer_type((None, ""), label) == expected


def test_samples_overrule_the_label():
    """A 发放金额 column filled with words is text; a 出生日期 column of dates is a date either way."""
    assert infer_type(("待定", "见附件"), "发放金额（元）") == "string"
    assert infer_type(("2026-01-05",), "出生日期") == "date"


def test_ledger_is_inferred_from_the_strong_matches(matcher):
    person = matcher.match([Column("姓名"), Column("身份证号"), Column("所属镇街")])
    assert person.ledger == "person"
    assert person.fields[2].element == "person.township_code"
    enterprise = matcher.match([Column("统一社会信用代码"), Column("企业名称"), Column("所属镇街")])
    assert enterprise.ledger == "enterprise"
    assert enterprise.fields[2].element == "enterprise.township_code"
    labels = ("户编号", "户主姓名", "家庭人口数", "家庭住址", "所属镇街")
    household = matcher.match([Column(t) for t in labels])
    assert household.ledger == "household"
    assert household.fields[0].element == "household.household_no"
    labels = ("姓名", "身份证号", "性别", "户主姓名", "家庭人口", "家庭住址")
    roster = matcher.match([Column(t) for t in labels])
    assert roster.ledger == "person"


def test_a_label_several_ledgers_share_is_only_proposed_without_context(matcher):
    result = matcher.match([Column("所属镇街")])
    assert result.ledger is None
    (field,) = result.fields
    assert field.element is None and field.proposal == "person.township_code"
    assert "无法自动确定" in field.reason


def test_the_given_ledger_wins_over_inference(matcher):
    (field,) = match(matcher, ["联系电话"], "enterprise")
    assert field.element == "enterprise.phone"
    (field,) = match(matcher, ["统一社会信用代码"], "person")
    assert field.element is None and field.proposal == "enterprise.uscc"
    assert "与本表的人口台账不一致" in field.reason


@pytest.mark.parametrize(
    ("ledger", "element"), [("land", "land.contract_area_mu"), ("house", "house.floor_area")]
)
def test_area_follows_the_row_ledger(matcher, ledger, element):
    assert match(matcher, ["面积"], ledger)[0].element == element


@pytest.mark.parametrize(
    ("neighbour", "element"), [("地块编码", "land.contract_area_mu"), ("房屋编码", "house.floor_area")]
)
def test_area_follows_its_neighbours(matcher, neighbour, element):
    assert match(matcher, [neighbour, "面积"])[1].element == element
    # In a person roster both are foreign: the neighbour still decides what is proposed.
    assert match(matcher, ["姓名", neighbour, "面积"], "person")[2].proposal == element


def test_land_rows_read_plain_person_columns_as_the_contractor(matcher):
    fields = match(matcher, ["承包户姓名", "身份证号码", "地块编码", "流入方身份证号"], "land")
    assert [f.element for f in fields] == [
        "land.contractor_name",
        "land.contractor_id_number",
        "land.parcel_code",
        None,
    ]
    assert fields[1].subject is None and "承包方" in fields[1].reason
    assert fields[3].subject == "流入方"


@pytest.mark.parametrize(
    ("ledger", "expected"),
    [
        ("household", ["household.head_name", "household.head_id_number", "household.phone"]),
        ("house", ["house.owner_name", "house.owner_id_number", None]),
    ],
)
def test_person_columns_of_household_and_house_rows_are_their_own_person(matcher, ledger, expected):
    fields = match(matcher, ["姓名", "身份证号", "联系电话"], ledger)
    assert [f.element for f in fields] == expected
    assert [f.subject for f in fields] == [None, None, None]


def test_captions_qualify_leaf_columns(matcher):
    columns = [
        Column("地块编码"),
        Column("面积", ("流转情况",)),
        Column("起", ("流转期限",)),
        Column("止", ("流转期限",)),
    ]
    fields = matcher.match(columns, ledger="land").fields
    assert [f.element for f in fields] == [
        "land.parcel_code",
        "land.transfer_area_mu",
        "land.transfer_start",
        "land.transfer_end",
    ]
    assert "结合上级表头“流转情况”" in fields[1].reason


@pytest.mark.parametrize(
    "label",
    [
        "序号",
        "签字",
        "本人签字",
        "签名",
        "户主签名（手印）",
        "盖章",
        "审核意见",
        "审批意见",
        "村委会意见",
        "镇（街道）审核意见",
        "填表人",
        "审核日期",
    ],
)
def test_layout_labels(matcher, label):
    assert is_layout(label)
    (field,) = match(matcher, [label], "person")
    assert (field.kind, field.element, field.confidence, field.proposal) == ("layout", None, 1.0, None)
    assert "不是数据" in field.reason


@pytest.mark.parametrize("label", ["姓名", "备注", "审核状态", "意见建议", "联系人", "身份证号"])
def test_data_labels_are_not_layout(label):
    assert not is_layout(label)


def test_columns_under_an_approval_caption_are_layout(matcher):
    columns = [Column(t, ("村委会审核意见",)) for t in ("意见", "签字", "日期")]
    assert {f.kind for f in matcher.match(columns).fields} == {"layout"}


def test_a_vague_label_gets_a_proposal_not_a_binding(matcher):
    (field,) = match(matcher, ["户籍所在地详细地址"], "person")
    assert field.element is None and field.proposal == "person.household_address"
    assert PROPOSE_THRESHOLD <= field.confidence < BIND_THRESHOLD
    assert re.search(r"相似度 0\.\d\d，低于绑定阈值，仅作建议$", field.reason)
    assert field.candidates[0].element == "person.household_address"


def test_an_unrelated_label_is_a_custom_field(matcher):
    (field,) = match(matcher, ["存在问题"], "person")
    assert (field.element, field.proposal, field.kind) == (None, None, "data")
    assert "可作为自定义字段" in field.reason
    (field,) = match(matcher, [""], "person")
    assert field.element is None and "表头为空" in field.reason


def test_thresholds_are_ordered():
    assert 0 < PROPOSE_THRESHOLD < BIND_THRESHOLD < 1


def test_fields_keep_column_order_labels_and_parents(matcher):
    columns = [Column("身份证号", ("基本信息",)), Column("序号"), Column("姓名")]
    result = matcher.match(columns)
    expected = [("身份证号", ("基本信息",)), ("序号", ()), ("姓名", ())]
    assert [(f.label, f.parents) for f in result.fields] == expected
    assert all(len(f.candidates) <= 5 for f in result.fields)
    assert matcher.match([]).fields == []


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("身份证", "person.id_number"),
        ("手机", "person.phone"),
        ("学历", "person.education"),
        ("person.gender", "person.gender"),
        ("统一代码", "enterprise.uscc"),
        ("流转面", "land.transfer_area_mu"),
    ],
)
def test_search_finds_by_name_alias_or_code(matcher, query, first):
    results = matcher.search(query)
    assert results[0].element == first
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)
    assert results[0].reason


def test_search_by_part_of_a_name_and_limits(matcher):
    results = matcher.search("监护", limit=2)
    assert {r.element for r in results} == {"person.guardian_name", "person.guardian_phone"}
    assert len(matcher.search("面积", limit=1)) == 1
    assert matcher.search("   ") == []


def test_synthetic_catalog_keeps_the_real_one(specs):
    catalog = synthetic_catalog(5000, specs.elements)
    assert len(catalog) == 5000
    assert all(catalog[code] == element for code, element in specs.elements.items())
    assert len({e.name for e in catalog.values() if "syn_" in e.code}) == 5000 - len(specs.elements)


def test_one_hundred_columns_against_five_thousand_elements(specs):
    catalog = synthetic_catalog(5000, specs.elements)
    matcher = Matcher(catalog)
    generated = [e for e in catalog.values() if e.code.startswith("person.syn_")][:40]
    labels = ["姓名", "身份证号码", "联系电话", "监护人姓名", "父亲身份证号", "家庭人口", "序号", "备注"]
    labels += [e.name for e in generated] + [e.aliases[0] + "（元）" for e in generated]
    labels += [f"其他情况{i}" for i in range(100 - len(labels))]
    result = matcher.match([Column(label) for label in labels])
    assert result.ledger == "person" and len(result.fields) == 100
    fields = result.fields
    assert [f.element for f in fields[:3]] == ["person.name", "person.id_number", "person.phone"]
    assert fields[4].element is None and fields[6].kind == "layout"
    assert [f.element for f in fields[8:48]] == [e.code for e in generated]
    elements = [f.element for f in fields if f.element]
    assert len(elements) == len(set(elements))
