"""Report rows: coercing what a filler typed, checking cells and rows in Chinese, computed fields."""

from __future__ import annotations

import random
from datetime import date

import pytest

from builder.reports.compute import age_on, compute_note, computed_values
from builder.reports.spec import ReportRefused, check_report, load_report
from builder.reports.validation import REQUIRED, ReportRowValidator
from tests.conftest import make_id_number

ID = make_id_number("19850315", 123)  # male
NEEDS = ["医疗康复", "康复训练", "心理疏导", "无"]


def document(**extra):
    """A report whose field names differ from the person ledger's, plus custom fields of every kind."""
    doc = {
        "title": "测试报表",
        "type": "object",
        "x-report": "test_rows",
        "x-version": 1,
        "x-department": "canlian",
        "x-purpose": "测试",
        "x-basis": "测试",
        "x-deadline": "2026-12-20",
        "x-rows": {"ledger": "person", "filter": []},
        "properties": {
            "xm": {"x-element": "person.name", "maxLength": 20},
            "sfzh": {"x-element": "person.id_number"},
            "xb": {"x-element": "person.gender"},
            "csrq": {"x-element": "person.birth_date"},
            "czh": {"x-element": "person.disability_cert_no"},
            "cjlb": {"x-element": "person.disability_category"},
            "cjdj": {"x-element": "person.disability_grade"},
            "dh": {"x-element": "person.phone"},
            "nl": {"title": "年龄", "type": "integer", "minimum": 0, "maximum": 150},
            "zsnl": {
                "title": "周岁年龄",
                "type": "integer",
                "x-compute": {"op": "age", "from": "csrq", "on": "deadline"},
            },
            "needs": {
                "title": "康复需求",
                "type": "array",
                "uniqueItems": True,
                "minItems": 1,
                "items": {"type": "string", "enum": NEEDS},
            },
            "device": {"title": "是否需要辅具", "type": "boolean"},
            "intent": {"title": "就业意愿", "type": "string", "enum": ["有就业意愿", "无就业意愿"]},
            "income": {"title": "月收入（元）", "type": "number", "minimum": 0, "maximum": 1000000},
            "survey": {"title": "调查日期", "type": "string", "format": "date"},
            "remarks": {"title": "备注", "type": "string", "maxLength": 10},
        },
        "required": ["xm", "sfzh", "needs", "survey"],
    }
    doc.update(extra)
    return doc


@pytest.fixture(scope="module")
def spec(specs):
    return load_report(document(), specs.elements, specs.ledgers, meta=specs.report_meta)


@pytest.fixture(scope="module")
def validator(spec, specs):
    return ReportRowValidator(spec, specs.elements)


def good(**values):
    row = {
        "xm": "张三",
        "sfzh": ID,
        "xb": "男",
        "csrq": "1985-03-15",
        "needs": ["康复训练"],
        "survey": "2026-11-20",
    }
    row.update(values)
    return {k: v for k, v in row.items() if v is not ...}


# --- errors(): every error of every field, one message each ---------------------------------------


def test_a_valid_row_has_no_errors(validator):
    assert validator.errors(good()) == {}
    assert (
        validator.errors(
            good(
                dh="13812345678",
                nl=40,
                device=False,
                intent="有就业意愿",
                income=1800.5,
                remarks="无",
                czh=ID + "42",
                cjlb="肢体",
                cjdj="二级",
            )
        )
        == {}
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("sfzh", ID[:17] + ("0" if ID[17] != "0" else "1"), "公民身份号码校验位错误"),
        ("sfzh", ID[:17], "公民身份号码应为18位，实际为17位"),
        ("nl", 151, "必须是0到150之间的整数"),
        ("nl", 1.5, "应为整数"),
        ("nl", "四十", "应为整数"),
        ("income", -1, "必须是0到1000000之间的数"),
        ("intent", "随便", "“随便”不在可选范围内，请从有就业意愿、无就业意愿中选择"),
        ("xb", "男性", "“男性”不在可选范围内，请从男、女、未知的性别、未说明的性别中选择"),
        ("needs", ["买房"], "“买房”不在可选范围内，请从医疗康复、康复训练、心理疏导、无中选择"),
        ("needs", ["无", "无"], "选项不能重复"),
        ("device", "是", "应为是/否"),
        ("dh", "12345", "格式不正确：“12345”"),
        ("xm", "张" * 21, "最多20个字"),
        ("survey", "2026-02-30", "日期无效：“2026-02-30”，应为 YYYY-MM-DD 格式的真实日期"),
        ("czh", ID + "82", "残疾人证号第19位应为残疾类别代码1–7"),
    ],
)
def test_each_kind_of_error_has_its_chinese_message(validator, field, value, message):
    assert validator.errors(good(**{field: value})) == {field: message}


def test_every_field_in_error_is_reported_at_once(validator):
    row = good(nl=200, intent="x", income="abc", remarks="太长了" * 5, nickname="三儿", survey=None)
    assert validator.errors(row) == {
        "nl": "必须是0到150之间的整数",
        "intent": "“x”不在可选范围内，请从有就业意愿、无就业意愿中选择",
        "income": "应为数字",
        "remarks": "最多10个字",
        "nickname": "报表中没有字段“nickname”",
        "survey": REQUIRED,
    }


@pytest.mark.parametrize("empty", [None, "", [], ...])
def test_required_fields_left_empty_are_必填(validator, empty):
    errors = validator.errors(good(xm=empty, needs=empty))
    assert errors == {"xm": REQUIRED, "needs": REQUIRED}


@pytest.mark.parametrize("empty", [None, "", []])
def test_optional_fields_may_be_empty_in_any_form(validator, empty):
    assert validator.errors(good(dh=empty, nl=empty, intent=empty, device=None, czh=empty)) == {}


def test_id_number_must_agree_with_birth_date_and_gender_under_the_reports_own_names(validator):
    assert validator.errors(good(csrq="1985-03-16")) == {
        "csrq": "出生日期1985-03-16与公民身份号码中的出生日期不一致"
    }, "the ID number's digits are not quoted"
    assert validator.errors(good(xb="女")) == {"xb": "性别“女”与公民身份号码第17位（男）不一致"}


def test_a_broken_id_number_is_not_compared_with_other_fields(validator):
    bad = ID[:17] + ("0" if ID[17] != "0" else "1")
    assert validator.errors(good(sfzh=bad, xb="女", csrq="1990-01-01")) == {"sfzh": "公民身份号码校验位错误"}


def test_disability_certificate_must_agree_with_id_category_and_grade(validator):
    assert validator.errors(good(czh=ID + "42", cjlb="肢体", cjdj="二级")) == {}
    assert validator.errors(good(czh=ID + "42", cjlb="肢体", cjdj="三级")) == {
        "cjdj": "残疾等级与残疾人证号第20位（二级）不一致"
    }
    other = make_id_number("19850315", 125)
    assert validator.errors(good(czh=other + "42")) == {"czh": "残疾人证号前18位与本人公民身份号码不一致"}


def test_cross_checks_apply_only_when_the_report_binds_both_elements(specs):
    doc = document()
    doc["properties"]["csrq"] = {"title": "出生日期", "type": "string", "format": "date"}
    doc["properties"]["zsnl"]["x-compute"]["from"] = "csrq"
    validator = ReportRowValidator(
        load_report(doc, specs.elements, specs.ledgers, meta=specs.report_meta), specs.elements
    )
    assert validator.errors(good(csrq="2001-01-01")) == {}
    assert validator.errors(good(xb="女")) == {"xb": "性别“女”与公民身份号码第17位（男）不一致"}


def test_computed_fields_are_never_checked(validator):
    assert validator.errors(good(zsnl=-7)) == {}
    assert validator.errors(good(zsnl="不知道")) == {}
    assert validator.cell_error("zsnl", "不知道") is None


def test_rows_may_be_any_mapping(validator):
    class Row(dict):
        pass

    assert validator.errors(Row(good(nl=151))) == {"nl": "必须是0到150之间的整数"}


# --- cell_error(): one cell alone, for the grid's on-blur check --------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("nl", 151, "必须是0到150之间的整数"),
        ("nl", 40, None),
        ("sfzh", ID, None),
        ("sfzh", ID[:17] + "Y", "公民身份号码前17位应为数字，末位为数字或X"),
        ("needs", ["买房", "无"], "“买房”不在可选范围内，请从医疗康复、康复训练、心理疏导、无中选择"),
        ("needs", [], REQUIRED),
        ("xm", "", REQUIRED),
        ("dh", "", None),
        ("intent", None, None),
        ("survey", "2026-11-31", "日期无效：“2026-11-31”，应为 YYYY-MM-DD 格式的真实日期"),
        ("xb", "女", None),  # alone: no comparison with the ID number
        ("nope", 1, "报表中没有字段“nope”"),
    ],
)
def test_cell_error_checks_one_cell(validator, field, value, message):
    assert validator.cell_error(field, value) == message


# --- coerce(): what the filler typed or pasted → the field's JSON value ---------------------------


@pytest.mark.parametrize(
    ("field", "text", "value"),
    [
        ("nl", "４０", 40),
        ("nl", " 40 ", 40),
        ("nl", "40岁", 40),
        ("income", "1,234.5", 1234.5),
        ("income", "１，２３４", 1234.0),
        ("income", "1800元", 1800.0),
        ("survey", "2026.1.2", "2026-01-02"),
        ("survey", "2026/01/02", "2026-01-02"),
        ("survey", "2026年1月2日", "2026-01-02"),
        ("survey", "20260102", "2026-01-02"),
        ("survey", "46024", "2026-01-02"),  # Excel serial
        ("survey", 46024, "2026-01-02"),
        ("device", "是", True),
        ("device", "√", True),
        ("device", "✓", True),
        ("device", "Y", True),
        ("device", "1", True),
        ("device", "否", False),
        ("device", "n", False),
        ("device", "0", False),
        ("intent", "无就业意愿", "无就业意愿"),
        ("intent", " 无就业意愿\n", "无就业意愿"),
        ("xb", "1", "男"),
        ("xb", "2", "女"),
        ("xb", "女性", "女"),
        ("cjdj", "3", "三级"),
        ("cjlb", "4", "肢体"),
        ("needs", "医疗康复、心理疏导", ["医疗康复", "心理疏导"]),
        ("needs", "医疗康复,康复训练，心理疏导;无；医疗康复", ["医疗康复", "康复训练", "心理疏导", "无"]),
        ("needs", "康复训练\n医疗康复\r\n", ["康复训练", "医疗康复"]),
        ("sfzh", f" {ID[:6]} {ID[6:]} ", ID),
        ("sfzh", ID[:17].translate(str.maketrans("0123456789", "０１２３４５６７８９")) + ID[17], ID),
        ("xm", "  张  三 ", "张三"),
        ("xm", " Li  Lei\n", "Li Lei"),
        ("remarks", "  ", None),
        ("nl", "", None),
        ("needs", "、", None),
    ],
)
def test_coerce_turns_typed_text_into_the_fields_value(validator, field, text, value):
    assert validator.coerce(field, text) == (value, None)


@pytest.mark.parametrize(
    ("field", "text", "words"),
    [
        ("nl", "四十", "应为整数，实际为“四十”"),
        ("nl", "40.5", "应为整数"),
        ("income", "一千", "应为数字"),
        ("survey", "下周一", "日期格式无法识别"),
        ("survey", "2026.2.30", "日期无效"),
        ("device", "也许", "应填“是”或“否”"),
        ("intent", "随便", "“随便”不在可选范围内，请从有就业意愿、无就业意愿中选择"),
        ("xb", "5", "“5”不在可选范围内，请从男、女"),
        ("needs", "医疗康复、买房", "“买房”不在可选范围内，请从医疗康复"),
        ("sfzh", "5.00118198503E+17", "身份证号被 Excel 存成了数字"),
        ("nope", "x", "报表中没有字段“nope”"),
    ],
)
def test_coerce_keeps_the_text_when_it_cannot_be_read(validator, field, text, words):
    value, message = validator.coerce(field, text)
    assert value == text
    assert words in message


def test_codes_need_the_catalog_elements(spec):
    assert ReportRowValidator(spec).coerce("xb", "男") == ("男", None)
    assert ReportRowValidator(spec).coerce("xb", "1")[1] is not None


def test_coerced_values_then_pass_or_fail_the_cell_check(validator):
    value, message = validator.coerce("nl", "２００")
    assert (value, message) == (200, None)
    assert validator.cell_error("nl", value) == "必须是0到150之间的整数"


# --- a thousand rows: errors() equals what each row was given --------------------------------------

MISTAKES = [
    ({}, {}),
    ({"sfzh": ID[:17] + ("0" if ID[17] != "0" else "1")}, {"sfzh": "公民身份号码校验位错误"}),
    ({"xb": "女"}, {"xb": "性别“女”与公民身份号码第17位（男）不一致"}),
    ({"nl": 151}, {"nl": "必须是0到150之间的整数"}),
    ({"intent": "随便"}, {"intent": "“随便”不在可选范围内，请从有就业意愿、无就业意愿中选择"}),
    ({"survey": None}, {"survey": REQUIRED}),
    ({"income": "abc", "remarks": "一二三四五六七八九十一"}, {"income": "应为数字", "remarks": "最多10个字"}),
    (
        {"needs": ["买房"], "cjdj": "三级", "czh": ID + "42", "cjlb": "肢体"},
        {
            "needs": "“买房”不在可选范围内，请从医疗康复、康复训练、心理疏导、无中选择",
            "cjdj": "残疾等级与残疾人证号第20位（二级）不一致",
        },
    ),
]


def test_a_thousand_rows_each_get_exactly_their_errors(validator):
    rng = random.Random(7)
    rows, expected = [], []
    for _ in range(1000):
        change, errors = rng.choice(MISTAKES) if rng.random() < 0.3 else MISTAKES[0]
        base = {
            "nl": rng.randrange(0, 151),
            "income": round(rng.uniform(0, 9000), 2),
            "device": rng.random() < 0.5,
        }
        rows.append(good(**{**base, **change}))
        expected.append(errors)
    assert [validator.errors(row) for row in rows] == expected
    assert sum(1 for e in expected if e) > 200


# --- computed values ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "day", "age"),
    [
        ("1985-03-15", "2026-12-20", 41),
        ("1985-12-20", "2026-12-20", 41),
        ("1985-12-21", "2026-12-20", 40),
        ("2000-02-29", "2025-02-28", 24),  # a leap-day birthday comes on 1 March in common years
        ("2000-02-29", "2025-03-01", 25),
        ("2000-02-29", "2024-02-28", 23),
        ("2000-02-29", "2024-02-29", 24),
        ("2026-12-20", "2026-12-20", 0),
        ("2026-12-21", "2026-12-20", None),  # not yet born
    ],
)
def test_age_in_whole_years(born, day, age):
    assert age_on(date.fromisoformat(born), date.fromisoformat(day)) == age


def test_age_is_computed_on_the_deadline(spec):
    assert computed_values(spec, good(), today=date(2026, 1, 1)) == {"zsnl": 41}
    assert computed_values(spec, good(csrq="2008-12-21"), today=date(2030, 1, 1)) == {"zsnl": 17}


def age_spec(specs, on, deadline="2026-12-20"):
    doc = document()
    doc["properties"]["zsnl"]["x-compute"]["on"] = on
    if deadline is None:
        del doc["x-deadline"]
    return load_report(doc, specs.elements, specs.ledgers, meta=specs.report_meta)


def test_age_on_today_and_without_a_deadline(specs):
    today = date(2030, 6, 1)
    assert computed_values(age_spec(specs, "today"), good(), today=today) == {"zsnl": 45}
    assert computed_values(age_spec(specs, "deadline", None), good(), today=today) == {"zsnl": 45}


@pytest.mark.parametrize("born", [..., None, "", "1985-02-30", "1985/03/15", 19850315, "198503"])
def test_age_of_a_missing_or_invalid_date_is_empty(spec, born):
    assert computed_values(spec, good(csrq=born), today=date(2026, 1, 1)) == {"zsnl": None}


def computing(specs, props):
    doc = document()
    doc["properties"].update(props)
    return load_report(doc, specs.elements, specs.ledgers, meta=specs.report_meta)


def test_year_of_and_sum(specs):
    spec = computing(
        specs,
        {
            "wage": {"title": "工资", "type": "integer"},
            "pension": {"title": "养老金", "type": "integer"},
            "year": {"title": "出生年份", "type": "integer", "x-compute": {"op": "year_of", "from": "csrq"}},
            "total": {
                "title": "合计",
                "type": "integer",
                "x-compute": {"op": "sum", "of": ["wage", "pension"]},
            },
            "all_income": {
                "title": "总收入",
                "type": "number",
                "x-compute": {"op": "sum", "of": ["income", "wage", "pension"]},
            },
        },
    )
    today = date(2026, 1, 1)
    values = computed_values(spec, good(wage=1200, pension=300, income=10.5), today=today)
    assert values == {"zsnl": 41, "year": 1985, "total": 1500, "all_income": 1510.5}
    assert type(values["total"]) is int
    partial = computed_values(spec, good(wage=1200, csrq=None), today=today)
    assert partial == {"zsnl": None, "year": None, "total": 1200, "all_income": 1200}
    assert computed_values(spec, good(), today=today)["total"] is None
    assert computed_values(spec, good(wage="一千", pension=300), today=today)["total"] is None
    assert compute_note(spec, spec.fields[-2]) == "由系统计算：工资 + 养老金"
    assert compute_note(spec, spec.fields[9]) == "由系统按出生日期计算截至2026-12-20的周岁年龄"
    assert compute_note(spec, spec.fields[0]) == ""


def test_the_sample_survey_computes_age_on_its_deadline(specs):
    from builder.reports.spec import load_reports

    spec = load_reports(specs.root, specs)["disability_survey"]
    age = next(f for f in spec.fields if f.compute)
    assert (age.name, age.title, age.required) == ("age", "年龄（周岁）", False)
    row = {"birth_date": "1960-12-21"}
    assert computed_values(spec, row, today=date(2027, 1, 1)) == {"age": 65}


# --- checks of x-compute in the spec language ---------------------------------------------------------


def findings(specs, props, required=None):
    doc = document()
    doc["properties"].update(props)
    if required is not None:
        doc["required"] = required
    return [
        (f.code, f.path, f.message)
        for f in check_report(doc, specs.elements, specs.ledgers, meta=specs.report_meta)
    ]


@pytest.mark.parametrize(
    ("props", "code", "path", "words"),
    [
        (
            {
                "a": {
                    "title": "甲",
                    "type": "integer",
                    "x-compute": {"op": "age", "from": "nothing", "on": "today"},
                }
            },
            "compute_unknown_field",
            "properties/a/x-compute/from",
            "引用了字段 nothing",
        ),
        (
            {
                "a": {
                    "title": "甲",
                    "type": "integer",
                    "x-compute": {"op": "age", "from": "xm", "on": "today"},
                }
            },
            "compute_source_type",
            "properties/a/x-compute/from",
            "字段“姓名”计算周岁年龄，但它不是日期字段",
        ),
        (
            {"a": {"title": "甲", "type": "string", "x-compute": {"op": "year_of", "from": "csrq"}}},
            "compute_type_mismatch",
            "properties/a/type",
            "类型应为 integer",
        ),
        (
            {"a": {"title": "甲", "type": "number", "x-compute": {"op": "sum", "of": ["income", "xm"]}}},
            "compute_source_type",
            "properties/a/x-compute/of/1",
            "不是数字字段",
        ),
        (
            {"a": {"title": "甲", "type": "integer", "x-compute": {"op": "sum", "of": ["income", "nl"]}}},
            "compute_source_type",
            "properties/a/x-compute/of/0",
            "可以有小数",
        ),
        (
            {"a": {"title": "甲", "type": "boolean", "x-compute": {"op": "sum", "of": ["income", "nl"]}}},
            "compute_type_mismatch",
            "properties/a/type",
            "合计",
        ),
        (
            {"a": {"title": "甲", "type": "integer", "x-compute": {"op": "sum", "of": ["a", "nl"]}}},
            "compute_unknown_field",
            "properties/a/x-compute/of/0",
            "不能引用它自己",
        ),
        (
            {"a": {"title": "甲", "type": "integer", "x-compute": {"op": "sum", "of": ["zsnl", "nl"]}}},
            "compute_chain",
            "properties/a/x-compute/of/0",
            "不能引用另一个计算字段",
        ),
    ],
)
def test_computed_fields_must_read_existing_fields_of_the_right_type(specs, props, code, path, words):
    found = findings(specs, props)
    assert [(c, p) for c, p, _ in found] == [(code, path)]
    assert words in found[0][2]


def test_a_computed_field_cannot_be_required(specs):
    found = findings(specs, {}, required=["xm", "zsnl"])
    message = "字段“周岁年龄”由系统计算，镇街不填写，不能设为必填"
    assert found == [("computed_required", "required/1", message)]


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ({"op": "age", "from": "csrq"}, "properties/zsnl/x-compute/on"),
        ({"op": "age", "from": "csrq", "on": "tomorrow"}, "properties/zsnl/x-compute/on"),
        ({"op": "median", "of": ["nl", "income"]}, "properties/zsnl/x-compute/op"),
        ({"op": "sum", "of": ["nl"]}, "properties/zsnl/x-compute/of"),
        ({"op": "year_of", "from": "csrq", "on": "today"}, "properties/zsnl/x-compute"),
        ({"op": "age", "from": "csrq", "on": "today", "round": True}, "properties/zsnl/x-compute"),
    ],
)
def test_the_meta_schema_refuses_malformed_computations(specs, rule, path):
    found = findings(specs, {"zsnl": {"title": "周岁年龄", "type": "integer", "x-compute": rule}})
    assert path in [p for _, p, _ in found]
    assert all(c.startswith("meta_") for c, _, _ in found)


def test_a_bound_field_cannot_be_computed(specs):
    doc = document()
    doc["properties"]["csrq"]["x-compute"] = {"op": "year_of", "from": "survey"}
    with pytest.raises(ReportRefused) as refused:
        load_report(doc, specs.elements, specs.ledgers, meta=specs.report_meta)
    assert "“x-compute”" in str(refused.value)


# --- the benchmark's rows are what it says ----------------------------------------------------------


def test_the_benchmark_report_has_28_fields_and_5_percent_invalid_rows(specs):
    from bench.runtime_bench import person_report, validation_rows

    spec = person_report(specs)
    rows = validation_rows(spec, specs, n=400)
    validator = ReportRowValidator(spec, specs.elements)
    assert len(spec.fields) == 28
    assert [i for i, row in enumerate(rows) if validator.errors(row)] == list(range(19, 400, 20))
    assert rows == validation_rows(spec, specs, n=400)
