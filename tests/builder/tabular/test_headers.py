"""Finding the header row of real-looking sheets and mapping its columns onto a ledger."""

from __future__ import annotations

import pytest

from builder.catalog.specs import Element, build_ledger
from builder.problems import FileProblem, ImportRefused
from builder.tabular.headers import find_header, find_ledger, normalize_label

# The spec under test, small and inline: (code, standard name, aliases, schema).
ELEMENTS = [
    ("p.id_number", "公民身份号码", ["身份证号码", "证件号码"], {"type": "string", "format": "gb11643"}),
    ("p.name", "姓名", ["名字"], {"type": "string"}),
    ("p.gender", "性别", [], {"type": "string", "enum": ["男", "女"]}),
    ("p.birth_date", "出生日期", ["出生年月"], {"type": "string", "format": "date"}),
    ("p.area", "承包地面积（亩）", ["承包面积"], {"type": "number"}),
    ("p.transfer_start", "流转起始日期", ["流转期限（起）"], {"type": "string", "format": "date"}),
    ("p.transfer_end", "流转终止日期", ["流转期限（止）"], {"type": "string", "format": "date"}),
    ("p.phone", "联系电话", ["手机号码"], {"type": "string"}),
]


@pytest.fixture
def ledger():
    """A person-like ledger keyed by 公民身份号码."""
    elements = {
        code: Element(code=code, name=name, schema=schema, sensitivity="internal", aliases=tuple(aliases))
        for code, name, aliases, schema in ELEMENTS
    }
    document = {
        "title": "人口台账",
        "x-ledger": "p",
        "x-key": "id_number",
        "x-org-unit": {"township": "name"},
        "required": ["id_number", "name"],
        "properties": {code.split(".")[1]: {"x-element": code} for code in elements},
    }
    return build_ledger(document, elements)


@pytest.mark.parametrize(
    ("label", "normalized"),
    [
        ("承包地面积（亩）", "承包地面积"),
        ("家庭人口(人)", "家庭人口"),
        ("*姓名【必填】", "姓名"),
        ("联系\n电话：", "联系电话"),
        ("ＩＤ　Ｎｏ．", "idno."),
        (" 出生日期 (YYYY-MM-DD) ", "出生日期"),
        ("（备注）", "备注"),
    ],
)
def test_normalize_label_drops_width_spaces_units_and_marks(label, normalized):
    assert normalize_label(label) == normalized


def test_header_below_title_and_filler_line(ledger):
    rows = [
        ["永川区人口信息采集表", "", "", ""],
        ["填报单位：中山路街道（盖章）", "", "填报日期：2024年5月", ""],
        [],
        ["序号", "姓名", "身份证号码", "性别", "出生年月", "备注"],
        [1, "张三", "500118199001011234", "男", "1990.1", ""],
    ]
    match = find_header(rows, ledger)
    assert match.row_index == 3
    assert match.data_start == 4
    assert match.columns == {1: "name", 2: "id_number", 3: "gender", 4: "birth_date"}
    assert match.ignored == ["序号", "备注"]
    assert match.unmatched == []
    assert match.labels[2] == "身份证号码"


def test_name_variants_with_and_without_ma(ledger):
    rows = [["公民身份号", "名字", "手机号"]]
    assert find_header(rows, ledger).columns == {0: "id_number", 1: "name", 2: "phone"}


def test_bracketed_words_that_distinguish_two_fields_are_kept(ledger):
    rows = [["身份证号", "流转期限（起）", "流转期限（止）", "承包面积（亩）"]]
    match = find_header(rows, ledger)
    assert match.columns == {0: "id_number", 1: "transfer_start", 2: "transfer_end", 3: "area"}


def test_two_level_header_with_group_captions(ledger):
    # calamine gives a merged caption only in its first cell; the leaves sit one row below.
    rows = [
        ["人员基本信息登记表", None, None, None, None, None],
        ["序号", "身份证号码", "基本情况", None, "土地流转", None],
        [None, None, "姓名", "性别", "流转期限（起）", "流转期限（止）"],
        [1, "500118199001011234", "张三", "男", "2020-01-01", "2030-12-31"],
    ]
    match = find_header(rows, ledger)
    assert match.row_index == 2
    assert match.columns == {
        1: "id_number",
        2: "name",
        3: "gender",
        4: "transfer_start",
        5: "transfer_end",
    }
    assert match.ignored == ["序号"]


def test_unknown_columns_reported_and_duplicates_kept_first(ledger):
    rows = [["身份证号码", "姓名", "宠物名字", "证件号码", "签字"]]
    match = find_header(rows, ledger)
    assert match.columns == {0: "id_number", 1: "name"}
    assert match.unmatched == ["宠物名字"]
    assert match.duplicates == ["证件号码"]
    assert match.ignored == ["签字"]
    assert "gender" not in match.missing_required
    assert match.missing_required == []


def test_no_header_row_is_refused_naming_the_key(ledger):
    rows = [["甲", "乙"], ["1", "2"]]
    with pytest.raises(ImportRefused) as caught:
        find_header(rows, ledger)
    assert caught.value.problem is FileProblem.NO_HEADER
    assert caught.value.code == "no_header"
    assert "公民身份号码" in caught.value.message


def test_header_without_key_column_is_refused(ledger):
    rows = [["姓名", "性别", "出生日期"], ["张三", "男", "1990-01-01"]]
    with pytest.raises(ImportRefused) as caught:
        find_header(rows, ledger)
    assert caught.value.problem is FileProblem.KEY_COLUMN_MISSING
    assert "公民身份号码" in caught.value.message
    assert "姓名、性别、出生日期" in caught.value.message


def test_header_beyond_scan_window_is_not_found(ledger):
    rows = [["说明"]] * 5 + [["身份证号码", "姓名"]]
    with pytest.raises(ImportRefused):
        find_header(rows, ledger, scan=5)
    assert find_header(rows, ledger, scan=6).row_index == 5


def test_find_ledger_by_code_or_title_else_refused(ledger):
    ledgers = {"p": ledger}
    assert find_ledger(ledgers, "p") is ledger
    assert find_ledger(ledgers, "人口台账") is ledger
    with pytest.raises(ImportRefused) as caught:
        find_ledger(ledgers, "房屋")
    assert caught.value.problem is FileProblem.UNKNOWN_LEDGER
    assert "p（人口台账）" in caught.value.message
