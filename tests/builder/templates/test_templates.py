"""Reading a department's own Excel template: title, unit line, merged headers, layout, samples."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest

from builder.problems import FileProblem, ImportRefused
from builder.templates.reader import read_template
from runtime.demo.templates import sample_templates, wide_template

TITLE = "永川区困难群众走访情况统计表"
UNIT = "填报单位（盖章）：            填报日期：    年  月  日"


def xlsx(rows, merges=(), *, sheets=None, hidden=()):
    """Return .xlsx bytes of `rows` (lists of cells) with merged ranges like "A1:F1".

    `sheets` gives more sheets as {name: rows} before the main one named “模板”.
    """
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, other in (sheets or {}).items():
        sheet = workbook.create_sheet(name)
        for row in other:
            sheet.append(row)
        if name in hidden:
            sheet.sheet_state = "hidden"
    sheet = workbook.create_sheet("模板")
    for row in rows:
        sheet.append(row)
    for cells in merges:
        sheet.merge_cells(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, encoding="gb18030"):
    """Return rows as CSV saved the way Excel on Chinese Windows saves it."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def shape(template):
    """Return each column as (letter, label, parents, layout)."""
    return [(c.letter, c.label, c.parents, c.layout) for c in template.columns]


def refusal(data, filename, **kwargs):
    """Return the ImportRefused raised for the file."""
    with pytest.raises(ImportRefused) as caught:
        read_template(data, filename, **kwargs)
    return caught.value


def test_header_is_found_below_the_title_and_the_unit_line():
    data = xlsx(
        [
            ["附件2"],
            [TITLE],
            ["填报单位（盖章）：", None, None, "填报日期：    年  月  日"],
            ["序号", "姓  名", "出生年月\n(yyyy.mm)", "联系电话"],
            [1, "张三", "1990.01", "13800000000"],
        ],
        merges=["B2:D2"],
    )
    template = read_template(data, "走访表.xlsx")
    assert template.title == TITLE
    assert template.unit_line == "填报单位（盖章）： 填报日期： 年 月 日"
    assert template.header_rows == (4, 4)
    assert template.sheet == "模板"
    assert [c.label for c in template.columns] == ["序号", "姓名", "出生年月(yyyy.mm)", "联系电话"]
    assert [c.index for c in template.columns] == [0, 1, 2, 3]


def test_title_sharing_its_row_with_the_unit_and_a_dated_title():
    data = xlsx([[TITLE, None, None, "单位：元"], ["姓名", "工资性收入", "经营净收入"], ["张三", 8400, 0]])
    template = read_template(data, "t.xlsx")
    assert (template.title, template.unit_line) == (TITLE, "单位：元")
    dated = xlsx([["2024年5月" + TITLE], ["姓名", "性别"], ["张三", "男"]])
    assert read_template(dated, "t.xlsx").title == "2024年5月" + TITLE


def test_header_cells_merged_down_over_two_rows_for_height():
    data = xlsx(
        [[TITLE], ["姓名", "性别", "出生日期"], [], ["张三", "男", dt.date(1990, 1, 2)]],
        merges=["A1:C1", "A2:A3", "B2:B3", "C2:C3"],
    )
    template = read_template(data, "t.xlsx")
    assert template.header_rows == (2, 3)
    assert [(c.label, c.parents, c.samples) for c in template.columns] == [
        ("姓名", (), ("张三",)),
        ("性别", (), ("男",)),
        ("出生日期", (), (dt.date(1990, 1, 2),)),
    ]


def test_title_falls_back_to_the_file_name_and_unit_line_to_none():
    template = read_template(xlsx([["姓名", "性别"], ["张三", "男"]]), "/tmp/上传/村民名单.xlsx")
    assert (template.title, template.unit_line, template.filename) == ("村民名单", None, "村民名单.xlsx")
    assert template.header_rows == (1, 1)


def test_two_level_merged_header_with_leaves_merged_down():
    data = xlsx(
        [
            [TITLE],
            ["序号", "姓名", "监护人", None, "父亲", None, "补贴类别"],
            [None, None, "姓名", "联系电话", "姓名", "身份证号", None],
            [1, "刘子涵", "刘明", "13908361234", "刘明", "500118198403023017", "重度残疾人护理补贴"],
        ],
        merges=["A1:G1", "A2:A3", "B2:B3", "C2:D2", "E2:F2", "G2:G3"],
    )
    template = read_template(data, "t.xlsx")
    assert template.header_rows == (2, 3)
    assert shape(template) == [
        ("A", "序号", (), True),
        ("B", "姓名", (), False),
        ("C", "姓名", ("监护人",), False),
        ("D", "联系电话", ("监护人",), False),
        ("E", "姓名", ("父亲",), False),
        ("F", "身份证号", ("父亲",), False),
        ("G", "补贴类别", (), False),
    ]
    assert template.columns[5].samples == ("500118198403023017",)


def test_caption_row_with_a_single_merged_caption_above_the_leaf_row():
    data = xlsx(
        [
            ["农村土地经营权流转情况核查表"],
            [None, None, "流转情况", None, None],
            ["序号", "地块编码", "流转面积（亩）", "流转方式", "起始日期"],
            [1, "5001181050010100015", 3.2, "出租", dt.date(2020, 3, 1)],
        ],
        merges=["A1:E1", "C2:E2"],
    )
    template = read_template(data, "t.xlsx")
    assert template.header_rows == (2, 3)
    assert [c.parents for c in template.columns] == [(), ()] + [("流转情况",)] * 3


def test_three_level_header():
    data = xlsx(
        [
            ["序号", "户主姓名", "家庭收入情况（元）", None, None, "备注"],
            [None, None, "工资性收入", "其他收入", None, None],
            [None, None, None, "经营净收入", "转移净收入", None],
            [1, "赵德福", 8400, 2600, 3120.5, None],
        ],
        merges=["A1:A3", "B1:B3", "C1:E1", "C2:C3", "D2:E2", "F1:F3"],
    )
    template = read_template(data, "t.xlsx")
    assert template.header_rows == (1, 3)
    assert [(c.label, c.parents) for c in template.columns] == [
        ("序号", ()),
        ("户主姓名", ()),
        ("工资性收入", ("家庭收入情况（元）",)),
        ("经营净收入", ("家庭收入情况（元）", "其他收入")),
        ("转移净收入", ("家庭收入情况（元）", "其他收入")),
        ("备注", ()),
    ]
    assert [c.samples for c in template.columns][2:5] == [(8400,), (2600,), (3120.5,)]


def test_leaf_merged_across_two_columns_is_one_column_with_samples_from_both():
    data = xlsx(
        [
            ["姓名", "家庭住址", None, "联系电话"],
            ["张三", "永川区中山路", None, "13800000000"],
            ["李四", None, "永川区胜利路", "13900000000"],
        ],
        merges=["B1:C1"],
    )
    template = read_template(data, "t.xlsx")
    assert [(c.letter, c.label) for c in template.columns] == [
        ("A", "姓名"),
        ("B", "家庭住址"),
        ("D", "联系电话"),
    ]
    assert template.columns[1].samples == ("永川区中山路", "永川区胜利路")
    # A row of text under the merged leaf is data, not a second header row.
    data = xlsx([["姓名", "家庭住址", None, "民族"], ["张三", "永川区", "中山路", "汉族"]], merges=["B1:C1"])
    template = read_template(data, "t.xlsx")
    assert template.header_rows == (1, 1)
    assert [c.samples for c in template.columns] == [("张三",), ("永川区",), ("汉族",)]


def test_leaves_written_in_the_lower_row_under_a_merged_caption():
    data = xlsx(
        [
            [TITLE],
            [None, None, "父亲", None],
            ["序号", "姓名", "姓名", "身份证号"],
            [1, "刘子涵", "刘明", "500118198403023017"],
        ],
        merges=["C2:D2"],
    )
    template = read_template(data, "t.xlsx")
    assert (template.title, template.header_rows) == (TITLE, (2, 3))
    assert [(c.label, c.parents) for c in template.columns] == [
        ("序号", ()),
        ("姓名", ()),
        ("姓名", ("父亲",)),
        ("身份证号", ("父亲",)),
    ]


@pytest.mark.parametrize(
    ("label", "layout"),
    [
        ("序号", True),
        ("序 号", True),
        ("本人签字", True),
        ("户主签字确认", True),
        ("申请人签名（手印）", True),
        ("村（社区）意见", True),
        ("镇街审核意见", True),
        ("民政部门审批意见", True),
        ("审核人", True),
        ("经办人签章", True),
        ("姓名", False),
        ("群众意见建议", False),
        ("复核结论", False),
        ("家庭医生签约情况", False),
        ("是否签订流转合同", False),
        ("残疾人证号", False),
    ],
)
def test_layout_columns(label, layout):
    template = read_template(xlsx([["姓名", label], ["张三", None]]), "t.xlsx")
    assert template.columns[1].layout is layout


def test_samples_keep_their_types_and_stop_at_five():
    rows = [["姓名", "公民身份号码", "家庭人口", "承包面积（亩）", "出生日期", "是否退役军人", "登记时间"]]
    for n in range(7):
        rows.append(
            [
                f"村民{n}",
                f"50011819900101{n:03d}X",
                n + 1,
                2.5 + n,
                dt.date(1990, 1, n + 1),
                n % 2 == 0,
                dt.datetime(2024, 5, 1, 9, 30),
            ]
        )
    rows.append(["王五", 500118199001011234, None, None, dt.datetime(1990, 1, 2), None, None])
    template = read_template(xlsx(rows), "t.xlsx")
    samples = {c.label: c.samples for c in template.columns}
    assert samples["姓名"] == ("村民0", "村民1", "村民2", "村民3", "村民4")
    assert samples["公民身份号码"][0] == "50011819900101000X"
    assert samples["家庭人口"] == (1, 2, 3, 4, 5) and all(type(v) is int for v in samples["家庭人口"])
    assert samples["承包面积（亩）"] == (2.5, 3.5, 4.5, 5.5, 6.5)
    assert samples["出生日期"][0] == dt.date(1990, 1, 1) and type(samples["出生日期"][0]) is dt.date
    assert samples["是否退役军人"] == (True, False, True, False, True)
    assert samples["登记时间"][0] == dt.datetime(2024, 5, 1, 9, 30)


def test_an_id_number_typed_as_a_number_stays_a_rounded_float():
    # Excel has already lost the last digits: the sample must show it, not pose as an exact int.
    template = read_template(xlsx([["姓名", "身份证号"], ["王五", 500118199001011234]]), "t.xlsx")
    (value,) = template.columns[1].samples
    assert isinstance(value, float)


def test_footer_is_not_taken_as_data_and_becomes_notes():
    data = xlsx(
        [
            [TITLE],
            ["序号", "姓名", "家庭人口", "备注"],
            [1, "张三", 3, None],
            ["合计", None, 3, None],
            ["填表人：", None, "审核人：", None],
            ["填表说明：\n1. 身份证号码填写18位；\n2. 家庭人口填写户籍人口数。"],
            [2, "不是数据", 99, None],
        ],
        merges=["A1:D1", "A6:D6"],
    )
    template = read_template(data, "t.xlsx")
    assert [c.samples for c in template.columns] == [(1,), ("张三",), (3,), ()]
    assert template.notes == [
        "填表人： 审核人：",
        "填表说明：",
        "1. 身份证号码填写18位；",
        "2. 家庭人口填写户籍人口数。",
        "2 不是数据 99",
    ]


def test_dates_written_as_text_are_data_but_a_blank_date_line_is_footer():
    data = xlsx(
        [
            ["姓名", "出生年月日"],
            ["张三", "1990年1月2日"],
            ["李四", "1985年3月15日"],
            ["填表人：", "日期：    年   月   日"],
            ["王五", "2000年1月1日"],
        ]
    )
    template = read_template(data, "t.xlsx")
    assert template.columns[1].samples == ("1990年1月2日", "1985年3月15日")
    assert template.notes == ["填表人： 日期： 年 月 日", "王五 2000年1月1日"]


def test_a_long_sentence_under_the_table_starts_the_footer():
    data = xlsx([["姓名", "性别"], ["张三", "男"], ["本表由村（社区）于每月5日前报镇街民政办汇总"]])
    template = read_template(data, "t.xlsx")
    assert template.columns[0].samples == ("张三",)
    assert template.notes == ["本表由村（社区）于每月5日前报镇街民政办汇总"]


def test_column_numbering_row_under_the_header_is_skipped():
    data = xlsx([["序号", "姓名", "性别", "家庭人口"], ["甲", 1, 2, 3], [1, "张三", "男", 4]])
    template = read_template(data, "t.xlsx")
    assert [c.samples for c in template.columns] == [(1,), ("张三",), ("男",), (4,)]


def test_empty_template_has_columns_without_samples():
    data = xlsx([[TITLE], [UNIT], ["序号", "姓名", "本人签字"], [None, None, None]], merges=["A1:C1"])
    template = read_template(data, "t.xlsx")
    assert [(c.label, c.samples, c.layout) for c in template.columns] == [
        ("序号", (), True),
        ("姓名", (), False),
        ("本人签字", (), True),
    ]
    assert template.notes == []


def test_header_is_looked_for_on_the_next_sheet_after_an_instructions_sheet():
    instructions = [["填表说明"], ["一、本表按户填写，每户一行，户主信息填在第一列之后。"]]
    data = xlsx([[TITLE], ["户主姓名", "家庭人口"], ["赵德福", 3]], sheets={"填表说明": instructions})
    template = read_template(data, "t.xlsx")
    assert template.sheet == "模板"
    assert [c.label for c in template.columns] == ["户主姓名", "家庭人口"]


def test_a_hidden_sheet_is_read_only_after_the_visible_ones():
    lists = [["补贴类别", "代码"], ["困难残疾人生活补贴", "1"]]
    data = xlsx(
        [[TITLE], ["姓名", "联系电话"], ["张三", "13800000000"]], sheets={"字典": lists}, hidden={"字典"}
    )
    template = read_template(data, "t.xlsx")
    assert (template.sheet, template.title) == ("模板", TITLE)


def test_csv_in_gb18030_with_an_unmerged_two_level_header():
    rows = [
        ["城乡低保家庭复核表", "", "", "", "", ""],
        ["填报单位：永川区朱沱镇", "", "", "", "复核年度：2024年", ""],
        ["序号", "户主姓名", "家庭收入情况（元/年）", "", "", "复核结论"],
        ["", "", "工资性收入", "经营净收入", "转移净收入", ""],
        ["1", "赵德福", "8400", "2600", "3120.5", "继续保障"],
    ]
    template = read_template(csv_bytes(rows), "低保复核.csv")
    assert template.title == "城乡低保家庭复核表"
    assert template.unit_line == "填报单位：永川区朱沱镇 复核年度：2024年"
    assert template.header_rows == (3, 4)
    assert [(c.label, c.parents) for c in template.columns] == [
        ("序号", ()),
        ("户主姓名", ()),
        ("工资性收入", ("家庭收入情况（元/年）",)),
        ("经营净收入", ("家庭收入情况（元/年）",)),
        ("转移净收入", ("家庭收入情况（元/年）",)),
        ("复核结论", ()),
    ]
    assert template.columns[1].samples == ("赵德福",)
    assert template.columns[4].samples == ("3120.5",)  # CSV cells are text


def test_csv_title_row_is_not_taken_for_a_caption():
    rows = [["村民名单", "", ""], ["姓名", "性别", "联系电话"], ["张三", "男", "13800000000"]]
    template = read_template(csv_bytes(rows, "utf-8-sig"), "名单.csv")
    assert template.title == "村民名单"
    assert [(c.label, c.parents) for c in template.columns] == [("姓名", ()), ("性别", ()), ("联系电话", ())]


@pytest.mark.parametrize(
    ("data", "filename", "problem", "words"),
    [
        (b"", "模板.xlsx", FileProblem.FILE_EMPTY, "是空的"),
        (b"%PDF-1.7 ...", "模板.pdf", FileProblem.UNSUPPORTED_TYPE, "不支持“.pdf”"),
        (b"PK\x03\x04 a word file", "模板.docx", FileProblem.UNSUPPORTED_TYPE, "不支持“.docx”"),
        (
            b"<html><table><tr><td>1</td></tr></table></html>",
            "模板.xls",
            FileProblem.HTML_DISGUISED,
            "实际上是网页",
        ),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512 + "EncryptedPackage".encode("utf-16-le"),
            "模板.xlsx",
            FileProblem.ENCRYPTED,
            "设有打开密码",
        ),
    ],
)
def test_files_that_are_not_templates_are_refused(data, filename, problem, words):
    refused = refusal(data, filename)
    assert refused.problem is problem
    assert words in refused.message


@pytest.mark.parametrize(
    "rows",
    [
        [[TITLE]],
        [[TITLE], [UNIT]],
        [[TITLE], ["填报单位：", "填报日期："], [1, 2, 3], [4, 5, 6]],
    ],
)
def test_a_sheet_without_a_header_is_refused_in_chinese(rows):
    refused = refusal(xlsx(rows), "通知.xlsx")
    assert refused.problem is FileProblem.TEMPLATE_NO_HEADER
    assert refused.message.startswith("在文件“通知.xlsx”的前 30 行中没有找到表头")


def test_a_truncated_workbook_is_refused():
    data = xlsx([[TITLE], ["姓名", "性别"]])
    assert refusal(data[: len(data) // 2], "t.xlsx").problem is FileProblem.SHEET_UNREADABLE


def test_an_empty_workbook_is_refused():
    assert refusal(xlsx([]), "空.xlsx").problem is FileProblem.FILE_EMPTY


def test_a_file_over_the_limit_is_refused():
    refused = refusal(xlsx([["姓名", "性别"]]), "大.xlsx", max_bytes=1024)
    assert refused.problem is FileProblem.TOO_LARGE
    assert "超过了" in refused.message


def test_a_header_wider_than_the_limit_is_refused():
    rows = [[f"指标{n}" for n in range(501)], ["1"] * 501]
    refused = refusal(csv_bytes(rows), "宽表.csv")
    assert refused.problem is FileProblem.TEMPLATE_TOO_WIDE
    assert "501 列" in refused.message and "500 列" in refused.message


def test_disability_roster_sample_reads_back():
    name = "困难残疾人生活补贴和重度残疾人护理补贴申请汇总表.xlsx"
    template = read_template(sample_templates()[name], name)
    assert template.title == "困难残疾人生活补贴和重度残疾人护理补贴申请汇总表"
    assert template.unit_line.startswith("填报单位（盖章）：") and "填报日期" in template.unit_line
    assert template.header_rows == (3, 4)
    labels = [(c.label, c.parents) for c in template.columns]
    assert labels[:5] == [
        ("序号", ()),
        ("姓名", ()),
        ("身份证号码", ()),
        ("性别", ()),
        ("出生年月(yyyy.mm)", ()),
    ]
    assert ("户主姓名", ()) in labels and ("家庭人口", ()) in labels and ("家庭住址", ()) in labels
    assert ("监护人电话", ()) in labels
    assert labels[15:19] == [
        ("姓名", ("父亲",)),
        ("身份证号", ("父亲",)),
        ("姓名", ("母亲",)),
        ("身份证号", ("母亲",)),
    ]
    layout = [c.label for c in template.columns if c.layout]
    assert layout == ["序号", "本人签字", "村（社区）意见"]
    by_label = {c.label: c for c in template.columns if not c.parents}
    assert len(by_label["姓名"].samples) == 3
    assert all(isinstance(v, str) and len(v) == 18 for v in by_label["身份证号码"].samples)
    assert by_label["家庭人口"].samples == (4, 3, 2)
    assert "两项补贴" in by_label["补贴类别"].samples
    assert any(note.startswith("填表人：") for note in template.notes)


def test_land_transfer_sample_reads_back_with_real_dates():
    name = "农村土地经营权流转情况核查表.xlsx"
    template = read_template(sample_templates()[name], name)
    parents = {c.label: c.parents for c in template.columns}
    assert parents["承包面积（亩）"] == ("承包方",)
    assert parents["类型"] == ("流入方",)
    assert parents["流转价格（元/亩·年）"] == ("流转情况",)
    dates = next(c for c in template.columns if c.label == "起始日期").samples
    assert dates[0] == dt.date(2020, 3, 1) and all(type(d) is dt.date for d in dates)
    assert [c.label for c in template.columns if c.layout] == ["序号", "核查人签字"]
    assert all(len(c.samples) <= 3 for c in template.columns)


def test_low_income_sample_reads_back_without_its_total_row():
    name = "城乡低保家庭复核表.xlsx"
    template = read_template(sample_templates()[name], name)
    size = next(c for c in template.columns if c.label == "家庭人口")
    assert size.samples == (3, 2, 1)
    assert [c.label for c in template.columns if c.layout] == ["序号", "户主签字", "镇街审核意见"]
    assert [c.label for c in template.columns if c.parents == ("家庭收入情况（元/年）",)] == [
        "工资性收入",
        "经营净收入",
        "财产净收入",
        "转移净收入",
    ]


@pytest.mark.parametrize("columns", [60, 12, 100])
def test_wide_template_has_the_asked_number_of_columns_under_two_levels(columns):
    template = read_template(wide_template(columns), "wide.xlsx")
    assert len(template.columns) == columns
    assert template.header_rows == (3, 4)
    assert template.columns[0].label == "序号" and template.columns[-1].label == "本人签字"
    assert sum(1 for c in template.columns if c.parents) == columns - 2
    assert all(len(c.samples) == 3 for c in template.columns[:4])
