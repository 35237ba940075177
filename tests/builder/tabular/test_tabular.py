"""Reading uploaded files (by content, in Chinese encodings) and writing the error report."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

import openpyxl
import pytest

from builder.problems import FileProblem, ImportRefused
from builder.tabular.coercion import RowCoercer
from builder.tabular.error_report import write_error_report
from builder.tabular.headers import find_header
from builder.tabular.reading import read_table

HEADER = ["序号", "姓名", "公民身份号码", "性别"]
BODY = [["1", "张三", "500118199001011234", "男"], ["2", "李四", "50011819850315002X", "女"]]


def csv_bytes(rows, encoding, delimiter=","):
    """Return rows as CSV text encoded the way Excel or WPS saves it."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(build):
    """Return the bytes of a workbook that `build(workbook)` filled with openpyxl."""
    workbook = openpyxl.Workbook()
    build(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def refused(data, filename, **kwargs):
    """Return the problem read_table refuses the file with."""
    with pytest.raises(ImportRefused) as caught:
        read_table(data, filename, **kwargs)
    assert caught.value.message
    return caught.value.problem


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030", "gbk"])
def test_csv_in_every_encoding_excel_saves(encoding):
    data = csv_bytes([["人口信息表"], HEADER, *BODY], encoding)
    assert read_table(data, "人口.CSV") == [["人口信息表"], HEADER, *BODY]


def test_csv_written_to_disk_in_gb18030(tmp_path):
    path = tmp_path / "村民名单.csv"
    with path.open("w", encoding="gb18030", newline="") as handle:
        csv.writer(handle).writerows([HEADER, ["1", "𠀾 生僻字", "500118199001011234", "男"]])
    rows = read_table(path.read_bytes(), path.name)
    assert rows[1][1] == "𠀾 生僻字"


def test_tab_separated_text_and_text_saved_as_xls():
    data = csv_bytes([HEADER, *BODY], "gb18030", delimiter="\t")
    assert read_table(data, "导出.txt")[2] == BODY[1]
    assert read_table(data, "系统导出.xls")[1] == BODY[0]


def test_csv_cells_stay_text_with_line_breaks_and_spaces():
    data = csv_bytes([HEADER, ["1", " 王\n五 ", "0123", ""]], "utf-8-sig")
    assert read_table(data, "a.csv")[1] == ["1", " 王\n五 ", "0123", ""]


def test_xlsx_cells_keep_their_types(tmp_path):
    def build(workbook):
        sheet = workbook.active
        sheet.append(["永川区人口信息采集表"])
        sheet.append(["填报单位：中山路街道", None, "日期：2024-05-01"])
        sheet.append(HEADER + ["出生日期", "是否退役军人"])
        sheet.append([1, "张三", "500118199001011234", "男", dt.date(1990, 1, 2), True])
        sheet.append([2, "李四", 500118199001011234, 1, 32874, None])

    path = tmp_path / "采集表.xlsx"
    path.write_bytes(xlsx_bytes(build))
    rows = read_table(path.read_bytes(), path.name)
    assert len(rows) == 5
    assert rows[3][:4] == [1, "张三", "500118199001011234", "男"]
    assert rows[3][4] in (dt.date(1990, 1, 2), dt.datetime(1990, 1, 2))
    assert rows[3][5] is True
    assert rows[4][2] == pytest.approx(5.00118199001011e17)
    assert rows[4][5] in ("", None)


def test_vertically_merged_household_cells_are_filled():
    def build(workbook):
        sheet = workbook.active
        sheet.append(["户主姓名", "姓名", "公民身份号码"])
        sheet.append(["张三", "张三", "500118199001011234"])
        sheet.append([None, "王芳", "50011819920202002X"])
        sheet.append([None, "张小明", "500118201503030035"])
        sheet.merge_cells("A2:A4")

    rows = read_table(xlsx_bytes(build), "户.xlsx")
    assert [row[0] for row in rows] == ["户主姓名", "张三", "张三", "张三"]
    unfilled = read_table(xlsx_bytes(build), "户.xlsx", fill_merged=False)
    assert [row[0] for row in unfilled][2:] in (["", ""], [None, None])


def test_merged_two_level_header_reads_as_one_header_row(specs):
    def build(workbook):
        sheet = workbook.active
        sheet.append(["序号", "公民身份号码", "基本情况", None, "所属区域", None])
        sheet.append([None, None, "姓名", "性别", "镇街", "村（社区）"])
        sheet.append([1, "500118199001011234", "张三", "男", "中山路街道", "萱花社区"])
        for cells in ("A1:A2", "B1:B2", "C1:D1", "E1:F1"):
            sheet.merge_cells(cells)

    rows = read_table(xlsx_bytes(build), "两级表头.xlsx")
    header = find_header(rows, specs.ledgers["person"])
    assert header.row_index == 1
    assert header.columns == {
        1: "id_number",
        2: "name",
        3: "gender",
        4: "township_code",
        5: "village_code",
    }
    assert header.ignored == ["序号"]


def test_first_non_empty_visible_sheet_is_read():
    def build(workbook):
        workbook.active.title = "说明"
        hidden = workbook.create_sheet("代码表")
        hidden.append(["男", "女"])
        hidden.sheet_state = "hidden"
        workbook.create_sheet("数据").append(HEADER)

    assert read_table(xlsx_bytes(build), "a.xlsx") == [HEADER]


def test_workbook_under_a_csv_name_is_read_as_a_workbook():
    data = xlsx_bytes(lambda workbook: workbook.active.append(HEADER))
    assert read_table(data, "其实是表格.csv") == [HEADER]


@pytest.mark.parametrize(
    ("data", "filename", "problem"),
    [
        (b"", "a.xlsx", FileProblem.FILE_EMPTY),
        (b"\r\n \r\n", "a.csv", FileProblem.FILE_EMPTY),
        (b",,,\r\n,,\r\n", "a.csv", FileProblem.FILE_EMPTY),
        ("姓名,公民身份号码\r\n".encode("gb18030"), "a.xlsx", FileProblem.NOT_SPREADSHEET),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "photo.csv", FileProblem.NOT_SPREADSHEET),
        (b"name,id\r\n\x00\x01\x02\x03binary", "a.csv", FileProblem.NOT_SPREADSHEET),
        (b"<html><table><tr><td>1</td></tr></table></html>", "export.xls", FileProblem.HTML_DISGUISED),
        (b"%PDF-1.7 ...", "report.pdf", FileProblem.UNSUPPORTED_TYPE),
        (b"PK\x03\x04 a word file", "a.docx", FileProblem.UNSUPPORTED_TYPE),
    ],
)
def test_files_that_are_not_tables_are_refused(data, filename, problem):
    assert refused(data, filename) is problem


def test_empty_workbook_is_refused():
    assert refused(xlsx_bytes(lambda workbook: None), "空表.xlsx") is FileProblem.FILE_EMPTY


def test_truncated_workbook_is_refused(tmp_path):
    path = tmp_path / "broken.xlsx"
    data = xlsx_bytes(lambda workbook: workbook.active.append(HEADER))
    path.write_bytes(data[: len(data) // 2])
    assert refused(path.read_bytes(), path.name) is FileProblem.SHEET_UNREADABLE


def test_a_zip_that_is_no_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert refused(buffer.getvalue(), "a.xlsx") is FileProblem.NOT_SPREADSHEET


def test_file_over_the_limit_is_refused_saying_the_limit():
    with pytest.raises(ImportRefused) as caught:
        read_table(b"x" * (1024 * 1024 + 1), "big.csv", max_bytes=1024 * 1024)
    assert caught.value.code == "too_large"
    assert "1 MB" in caught.value.message


def test_person_file_end_to_end_on_the_standard_specs(specs):
    def build(workbook):
        sheet = workbook.active
        sheet.append(["永川区人口台账（2024年）"])
        sheet.merge_cells("A1:F1")
        sheet.append(["填报单位：中山路街道", None, None, "填报日期：2024年5月1日"])
        sheet.append(["序号", "姓名", "身份证号码", "性别", "出生年月", "所属村（社区）", "爱好"])
        sheet.append([1, "张三", "500118199001011234", "1", "199001", "萱花社区", "钓鱼"])
        sheet.append([2, "李四", 500118199001011234, "男性", 32874, "萱花社区", ""])

    rows = read_table(xlsx_bytes(build), "人口.xlsx")
    ledger = specs.ledgers["person"]
    header = find_header(rows, ledger)
    assert header.row_index == 2
    assert header.unmatched == ["爱好"]
    coercer = RowCoercer(ledger, specs.org_units)
    first, errors = coercer.coerce(rows[3], header.columns)
    assert errors == {}
    assert first["gender"] == "男"
    assert first["birth_date"] == "1990-01-01"
    assert first["village_code"] == "500118001001"
    assert first["township_code"] == "500118001"
    _, errors = coercer.coerce(rows[4], header.columns)
    assert errors == {"id_number": "身份证号被 Excel 存成了数字，后几位已丢失，请将该列设为文本后重新录入"}


def test_error_report_keeps_cells_and_gives_reasons(tmp_path):
    labels = ["序号", "姓名", "公民身份号码", "性别", "备注"]
    rejected = [
        (
            5,
            [1, "张三", "500118199001011235", "男", '=HYPERLINK("http://x")'],
            {"id_number": "公民身份号码校验位错误", "gender": "「性别」的值“男”不在可选范围内：女"},
        ),
        (
            7,
            [2, "@SUM(A1)", "0500118199001011234", "", "+1-2", "多余"],
            {"name": "最多50个字", "id_number": "应为18位"},
        ),
        (9, ["3", "王五"], {"_row": "与第 5 行重复"}),
    ]
    titles = {"id_number": "公民身份号码", "gender": "性别", "name": "姓名"}
    path = tmp_path / "错误报告.xlsx"
    write_error_report(path, labels, rejected, titles)

    sheet = openpyxl.load_workbook(path).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0][0] == "导入错误报告"
    assert values[1] == ["原行号", *labels, "错误原因"]
    assert values[2] == [
        5,
        1,
        "张三",
        "500118199001011235",
        "男",
        '=HYPERLINK("http://x")',
        "公民身份号码校验位错误；「性别」的值“男”不在可选范围内：女",
    ]
    assert values[3] == [
        7,
        2,
        "@SUM(A1)",
        "0500118199001011234",
        None,
        "+1-2",
        "姓名：最多50个字；公民身份号码：应为18位",
    ]
    assert values[4] == [9, "3", "王五", None, None, None, "与第 5 行重复"]
    formula_like = sheet.cell(row=3, column=6)
    assert formula_like.data_type == "s"
    assert sheet.cell(row=4, column=3).data_type == "s"
    assert sheet.cell(row=4, column=4).value == "0500118199001011234"
    assert sheet.cell(row=3, column=4).fill.fgColor.rgb.endswith("FFC7CE")
    assert sheet.cell(row=3, column=5).fill.fgColor.rgb.endswith("FFC7CE")
    assert sheet.cell(row=3, column=3).fill.fgColor.rgb in ("00000000", None)


def test_error_report_to_a_stream_with_the_header_columns():
    stream = io.BytesIO()
    write_error_report(
        stream,
        ["身份证号", "姓名"],
        [(3, ["1", "x"], {"id_number": "位数不对"})],
        {"id_number": "公民身份号码"},
        columns={0: "id_number", 1: "name"},
    )
    sheet = openpyxl.load_workbook(io.BytesIO(stream.getvalue())).active
    assert sheet.cell(row=3, column=4).value == "公民身份号码：位数不对"
    assert sheet.cell(row=3, column=2).fill.fgColor.rgb.endswith("FFC7CE")
