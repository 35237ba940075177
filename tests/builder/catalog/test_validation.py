"""Record validation against the ledger specs: every error of a row, in Chinese."""

import pytest

from builder.catalog.validation import RowValidator


@pytest.fixture
def validate(specs):
    return RowValidator(specs.ledgers["person"]).errors


def test_a_valid_person_has_no_errors(validate, make_person):
    assert validate(make_person()) == {}


def test_every_error_of_the_row_is_reported(validate, make_person):
    row = make_person(gender="男性", phone="12345", birth_date="2023-02-30", is_veteran="是")
    row["id_number"] = row["id_number"][:17] + ("0" if row["id_number"][17] != "0" else "1")
    del row["name"]
    errors = validate(row)
    assert errors["id_number"] == "公民身份号码校验位错误"
    assert errors["gender"].startswith("「性别」的值“男性”不在可选范围内：男、女")
    assert errors["phone"] == "「联系电话」格式不正确：“12345”"
    assert "日期无效" in errors["birth_date"]
    assert errors["is_veteran"] == "「是否退役军人」应为是/否"
    assert errors["name"] == "「姓名」必须填写"


def test_id_number_must_agree_with_birth_date_and_gender(validate, make_person):
    row = make_person(birth_date="1985-03-16", gender="女")
    errors = validate(row)
    assert "不一致" in errors["birth_date"]
    assert "性别“女”与公民身份号码第17位（男）不一致" == errors["gender"]


def test_disability_certificate_must_agree_with_the_person(validate, make_person):
    row = make_person(disability_category="肢体", disability_grade="二级")
    row["disability_cert_no"] = row["id_number"] + "42"
    assert validate(row) == {}
    row["disability_grade"] = "三级"
    assert "残疾等级与残疾人证号第20位（二级）不一致" == validate(row)["disability_grade"]


@pytest.mark.parametrize(
    "ledger, field, value, message",
    [
        ("household", "size", 0, "「家庭人口数」必须是1到30之间的整数"),
        ("land", "transfer_area_mu", -1, "「流转面积（亩）」必须"),
        ("enterprise", "uscc", "91350100M000100Y44", "统一社会信用代码校验位错误"),
    ],
)
def test_ranges_and_codes_have_chinese_messages(specs, ledger, field, value, message):
    errors = RowValidator(specs.ledgers[ledger]).errors({field: value})
    assert errors[field].startswith(message)
