"""Coercing raw cells the way township files really hold them into typed ledger values."""

from __future__ import annotations

import datetime as dt

import pytest

from builder.catalog.specs import Element, OrgUnit, build_ledger
from builder.tabular.coercion import RowCoercer, parse_date

LOST = "身份证号被 Excel 存成了数字，后几位已丢失，请将该列设为文本后重新录入"
GENDER = {
    "type": "string",
    "enum": ["男", "女", "未知的性别", "未说明的性别"],
    "x-codes": {"0": "未知的性别", "1": "男", "2": "女", "9": "未说明的性别"},
    "x-synonyms": {"男性": "男"},
}
GRADE = {
    "type": "string",
    "enum": ["一级", "二级", "三级", "四级"],
    "x-codes": {"1": "一级", "2": "二级", "3": "三级", "4": "四级"},
}
INDUSTRY = {"type": "string", "enum": ["A 农、林、牧、渔业", "B 采矿业", "C 制造业"]}

# The spec under test: (property, standard name, schema, org level).
FIELDS = [
    ("id_number", "公民身份号码", {"type": "string", "format": "gb11643"}, None),
    ("name", "姓名", {"type": "string"}, None),
    ("address", "户籍地址", {"type": "string"}, None),
    ("gender", "性别", GENDER, None),
    ("ethnicity", "民族", {"type": "string", "enum": ["汉族", "回族", "土家族"]}, None),
    ("grade", "残疾等级", GRADE, None),
    ("industry", "所属行业", INDUSTRY, None),
    ("safety", "房屋安全等级", {"type": "string", "enum": ["A", "B", "C", "D"]}, None),
    ("birth_date", "出生日期", {"type": "string", "format": "date"}, None),
    ("veteran", "是否退役军人", {"type": "boolean"}, None),
    ("size", "家庭人口数", {"type": "integer"}, None),
    ("area", "承包地面积（亩）", {"type": "number"}, None),
    ("phone", "联系电话", {"type": "string", "pattern": "^1\\d{10}$"}, None),
    ("zip", "邮政编码", {"type": "string", "pattern": "^\\d{6}$"}, None),
    ("uscc", "统一社会信用代码", {"type": "string", "format": "gb32100"}, None),
    ("township_code", "所属镇街", {"type": "string"}, "township"),
    ("village_code", "所属村（社区）", {"type": "string"}, "village"),
]

UNITS = [
    OrgUnit("500118", "永川区", "district", None),
    OrgUnit("500118001", "中山路街道", "township", "500118"),
    OrgUnit("500118002", "胜利路街道", "township", "500118"),
    OrgUnit("500118101", "青峰镇", "township", "500118"),
    OrgUnit("500118001003", "萱花社区", "village", "500118001"),
    OrgUnit("500118001004", "新城社区", "village", "500118001"),
    OrgUnit("500118002001", "新城社区", "village", "500118002"),
    OrgUnit("500118101001", "青峰村", "village", "500118101"),
]


@pytest.fixture(scope="module")
def coercer():
    """A coercer for the inline ledger and the small org-unit tree."""
    elements = {
        f"p.{name}": Element(
            code=f"p.{name}", name=title, schema=schema, sensitivity="internal", org_level=level
        )
        for name, title, schema, level in FIELDS
    }
    document = {
        "title": "测试台账",
        "x-ledger": "p",
        "x-key": "id_number",
        "x-org-unit": {"township": "township_code", "village": "village_code"},
        "properties": {code.split(".")[1]: {"x-element": code} for code in elements},
    }
    return RowCoercer(build_ledger(document, elements), UNITS)


@pytest.fixture
def one(coercer):
    """Coerce one cell of one field, returning (value, error)."""

    def run(field, cell):
        record, errors = coercer.coerce([cell], {0: field})
        return record.get(field), errors.get(field)

    return run


def test_empty_cells_are_omitted(coercer):
    record, errors = coercer.coerce(["", None, "  ", "张三"], {0: "name", 1: "size", 2: "gender", 3: "name"})
    assert (record, errors) == ({"name": "张三"}, {})


def test_short_rows_and_unknown_fields_are_skipped(coercer):
    record, errors = coercer.coerce(["张三"], {0: "name", 5: "gender", 1: "no_such_field"})
    assert (record, errors) == ({"name": "张三"}, {})


@pytest.mark.parametrize(
    ("field", "cell", "value"),
    [
        ("name", " 张　三\n", "张三"),
        ("address", "重庆市  永川区\n中山路 12号", "重庆市永川区中山路 12号"),
        ("id_number", " 50011819900101123x ", "50011819900101123X"),
        ("id_number", "５００１１８ １９９００１０１１２３４", "500118199001011234"),
        ("phone", 13800138000.0, "13800138000"),
        ("phone", "138 0013 8000", "13800138000"),
        ("zip", 2160, "002160"),
        ("uscc", "91500118ma5u4xyz1q", "91500118MA5U4XYZ1Q"),
    ],
)
def test_text_and_codes(one, field, cell, value):
    assert one(field, cell) == (value, None)


@pytest.mark.parametrize(
    "cell", [5.00118199001011e17, 500118199001011234, "5.00118199001011E+17", "5.0012E17"]
)
def test_id_number_stored_as_a_number_is_refused(one, cell):
    assert one("id_number", cell) == (None, LOST)


def test_long_code_stored_as_a_number_is_refused(one):
    value, error = one("uscc", 9.15001185e17)
    assert value is None
    assert error.startswith("统一社会信用代码被 Excel 存成了数字")


@pytest.mark.parametrize(
    ("cell", "iso"),
    [
        (32874, "1990-01-01"),
        (32875.75, "1990-01-02"),
        (dt.date(1990, 1, 2), "1990-01-02"),
        (dt.datetime(1990, 1, 2, 8, 30), "1990-01-02"),
        ("1990-01-02", "1990-01-02"),
        ("1990-1-2 00:00:00", "1990-01-02"),
        ("1990.1.2", "1990-01-02"),
        ("1990/01/02", "1990-01-02"),
        ("1990年1月2日", "1990-01-02"),
        ("１９９０年１月２日", "1990-01-02"),
        ("19900102", "1990-01-02"),
        (19900102, "1990-01-02"),
        ("199001", "1990-01-01"),
        (199001.0, "1990-01-01"),
        ("1990.01", "1990-01-01"),
        ("1990年1月", "1990-01-01"),
        ("1990-1", "1990-01-01"),
    ],
)
def test_dates_in_every_shape(one, cell, iso):
    assert one("birth_date", cell) == (iso, None)
    assert parse_date(cell) == iso


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("2023-02-30", "日期无效：2023-02-30"),
        ("20231301", "日期无效：20231301"),
        ("1990年13月", "日期无效：1990年13月"),
        ("去年春天", "日期格式无法识别：“去年春天”，请写成 1990-01-02 这样的格式"),
        (True, "日期格式无法识别：“True”"),
    ],
)
def test_impossible_dates_are_errors(one, cell, message):
    assert one("birth_date", cell) == (None, message)


def test_repeated_invalid_date_reports_every_time(coercer):
    for _ in range(3):
        assert coercer.coerce(["2023-02-30"], {0: "birth_date"})[1] == {"birth_date": "日期无效：2023-02-30"}


@pytest.mark.parametrize(
    ("field", "cell", "value"),
    [
        ("size", 5.0, 5),
        ("size", "5", 5),
        ("size", "５人", 5),
        ("size", " 1,024 ", 1024),
        ("size", "3.0", 3),
        ("area", 2.5, 2.5),
        ("area", 3, 3.0),
        ("area", "1,234.5亩", 1234.5),
        ("area", "12 亩", 12.0),
        ("area", "-", None),
    ],
)
def test_numbers(one, field, cell, value):
    assert one(field, cell) == (value, None)
    assert type(one(field, cell)[0]) is type(value)


@pytest.mark.parametrize(
    ("field", "cell", "message"),
    [
        ("size", 2.5, "应为整数，实际为“2.5”"),
        ("size", "2.5", "应为整数，实际为“2.5”"),
        ("size", "五口", "应为整数，实际为“五口”"),
        ("area", "很多", "应为数字，实际为“很多”"),
        ("area", "800平方米", "单位应为亩，填的是“800平方米”"),
    ],
)
def test_number_errors(one, field, cell, message):
    assert one(field, cell) == (None, message)


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("是", True),
        ("否", False),
        ("√", True),
        ("✓", True),
        ("✔", True),
        ("×", False),
        ("Y", True),
        ("n", False),
        ("YES", True),
        ("no", False),
        ("True", True),
        ("false", False),
        ("1", True),
        (0, False),
        (1.0, True),
        ("有", True),
        ("无", False),
        (True, True),
        (False, False),
        (" 是 ", True),
    ],
)
def test_booleans(one, cell, value):
    assert one("veteran", cell) == (value, None)


def test_boolean_error(one):
    assert one("veteran", "也许") == (None, "应填“是”或“否”，实际为“也许”")


@pytest.mark.parametrize(
    ("field", "cell", "value"),
    [
        ("gender", "男", "男"),
        ("gender", " 女 ", "女"),
        ("gender", "１", "男"),
        ("gender", 2.0, "女"),
        ("gender", "9", "未说明的性别"),
        ("gender", "男性", "男"),
        ("gender", "未知的\n性别", "未知的性别"),
        ("ethnicity", "汉", "汉族"),
        ("ethnicity", "土家族", "土家族"),
        ("grade", "一", "一级"),
        ("grade", "1级", "一级"),
        ("grade", "1", "一级"),
        ("grade", 4, "四级"),
        ("industry", "C", "C 制造业"),
        ("industry", "c", "C 制造业"),
        ("industry", "制造业", "C 制造业"),
        ("industry", "C制造业", "C 制造业"),
        ("safety", "b", "B"),
        ("safety", "Ｄ", "D"),
    ],
)
def test_choices_by_label_code_and_variant(one, field, cell, value):
    assert one(field, cell) == (value, None)


def test_choice_out_of_range_lists_the_options(one):
    assert one("gender", "不详") == (
        None,
        "「性别」的值“不详”不在可选范围内：男、女、未知的性别、未说明的性别",
    )
    assert one("gender", True)[1].startswith("「性别」的值“True”")


@pytest.mark.parametrize(
    ("cells", "township", "village"),
    [
        (["中山路街道", "萱花社区"], "500118001", "500118001003"),
        (["500118001", "500118001003"], "500118001", "500118001003"),
        ([500118001.0, 500118001003.0], "500118001", "500118001003"),
        (["中山路", "萱花"], "500118001", "500118001003"),
        (["永川区中山路街道", "萱花社区居委会"], "500118001", "500118001003"),
        (["青峰镇", "青峰村"], "500118101", "500118101001"),
        (["胜利路街道", "新城社区"], "500118002", "500118002001"),
        (["中山路街道", "新城社区"], "500118001", "500118001004"),
        (["", "萱花社区"], "500118001", "500118001003"),
    ],
)
def test_org_units_by_name_or_code(coercer, cells, township, village):
    # The village column comes first: the township is looked up anyway.
    record, errors = coercer.coerce(cells[::-1], {1: "township_code", 0: "village_code"})
    assert errors == {}
    assert record == {"township_code": township, "village_code": village}


@pytest.mark.parametrize(
    ("cells", "field", "message"),
    [
        (["卧龙镇", ""], "township_code", "未找到名为“卧龙镇”的镇街"),
        (["500118999", ""], "township_code", "未找到代码为“500118999”的镇街"),
        (["中山路街道", "桃源村"], "village_code", "“中山路街道”下未找到名为“桃源村”的村（社区）"),
        (["", "桃源村"], "village_code", "未找到名为“桃源村”的村（社区）"),
        (["", "新城社区"], "village_code", "名为“新城社区”的村（社区）不止一个，请同时填写所属镇街"),
        (["胜利路街道", "500118001003"], "village_code", "村（社区）“萱花社区”不属于“胜利路街道”"),
    ],
)
def test_org_unit_errors(coercer, cells, field, message):
    _, errors = coercer.coerce(cells, {0: "township_code", 1: "village_code"})
    assert errors == {field: message}


def test_a_whole_row(coercer):
    cells = [
        "  张三 ",
        "50011819900101123X",
        "1",
        "汉",
        32874.0,
        "√",
        "5",
        "中山路街道",
        "萱花社区",
        "C",
        13800138000.0,
        "序号列之外的备注",
    ]
    columns = {
        0: "name",
        1: "id_number",
        2: "gender",
        3: "ethnicity",
        4: "birth_date",
        5: "veteran",
        6: "size",
        7: "township_code",
        8: "village_code",
        9: "industry",
        10: "phone",
    }
    record, errors = coercer.coerce(cells, columns)
    assert errors == {}
    assert record == {
        "name": "张三",
        "id_number": "50011819900101123X",
        "gender": "男",
        "ethnicity": "汉族",
        "birth_date": "1990-01-01",
        "veteran": True,
        "size": 5,
        "township_code": "500118001",
        "village_code": "500118001003",
        "industry": "C 制造业",
        "phone": "13800138000",
    }
