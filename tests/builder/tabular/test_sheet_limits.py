"""Hostile workbooks are measured and refused before calamine parses them (issue: decompression bombs)."""

from __future__ import annotations

import io
import threading

import openpyxl
import pytest

from builder.problems import FileProblem, ImportRefused
from builder.tabular.limits import LEDGER_LIMITS, ReadLimits, one_large_parse
from builder.tabular.reading import read_table
from builder.templates.reader import read_template
from tests import bombs


def _refused(data: bytes, name: str, **limits) -> ImportRefused:
    with pytest.raises(ImportRefused) as caught:
        read_table(data, name, limits=ReadLimits(**limits) if limits else None)
    return caught.value


def test_a_deflate_bomb_is_refused_by_its_cells_while_it_inflates():
    data = bombs.cell_bomb(1100)  # ~3.6 MB that inflates to 1.1 GB of XML, 70 million cells
    assert len(data) < 4 * 1024 * 1024
    refused = _refused(data, "人员.xlsx")
    assert refused.problem is FileProblem.TOO_MANY_CELLS
    assert "4,000,000" in refused.message and "人员.xlsx" in refused.message


def test_two_cells_far_apart_are_refused_by_the_grid_they_span():
    data = bombs.corner_bomb()  # 1.5 KB: calamine would build a grid of 17 billion cells
    assert _refused(data, "a.xlsx").problem is FileProblem.TOO_MANY_COLUMNS
    refused = _refused(data, "a.xlsx", max_columns=16384)
    assert refused.problem is FileProblem.TOO_MANY_ROWS or refused.problem is FileProblem.TOO_MANY_CELLS


def test_huge_shared_strings_are_refused():
    refused = _refused(bombs.strings_bomb(5_000_000), "s.xlsx")
    assert refused.problem is FileProblem.TOO_MANY_STRINGS and "4,000,000" in refused.message


def test_inflated_bytes_are_bounded_whatever_the_parts_declare():
    refused = _refused(bombs.cell_bomb(30), "u.xlsx", max_unpacked_bytes=10 * 1024 * 1024)
    assert refused.problem is FileProblem.UNPACKED_TOO_LARGE and "10 MB" in refused.message


def test_an_xls_whose_sheets_span_the_whole_grid_is_refused():
    refused = _refused(bombs.xls_corners(), "旧表.xls")
    assert refused.problem is FileProblem.TOO_MANY_CELLS


def test_repeated_ods_rows_count_as_often_as_they_repeat():
    cell = (
        '<table:table-cell table:number-columns-repeated="1000" office:value-type="float" office:value="1"/>'
    )
    row = f'<table:table-row table:number-rows-repeated="100000">{cell}</table:table-row>'
    data = bombs.ods(bombs.ods_table(row))
    assert _refused(data, "r.ods").problem is FileProblem.TOO_MANY_CELLS


def test_the_empty_rows_libreoffice_writes_after_a_table_are_not_counted():
    value = '<table:table-cell office:value-type="string"><text:p>张三</text:p></table:table-cell>'
    tail = (
        '<table:table-row table:number-rows-repeated="1048570">'
        '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
    )
    data = bombs.ods(bombs.ods_table(f"<table:table-row>{value}</table:table-row>{tail}"))
    rows = read_table(data, "o.ods")
    assert rows == [["张三"]]


def test_csv_with_millions_of_tiny_rows_or_very_many_columns_is_refused():
    assert _refused(b"1\n" * 5_000_000, "rows.csv").problem is FileProblem.TOO_MANY_CELLS
    wide = ",".join(["x"] * 3000).encode() + b"\n"
    assert _refused(wide, "wide.csv").problem is FileProblem.TOO_MANY_COLUMNS
    assert _refused(b"a,b\n" * 50, "long.csv", max_rows=20).problem is FileProblem.TOO_MANY_ROWS


def test_a_template_has_smaller_limits_than_a_ledger_import():
    with pytest.raises(ImportRefused) as caught:
        read_template(bombs.cell_bomb(40), "模板.xlsx")
    assert caught.value.problem is FileProblem.TOO_MANY_CELLS and "1,000,000" in caught.value.message


def test_a_real_workbook_reads_as_before(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["公民身份号码", "姓名", "备注"])
    for n in range(2000):
        sheet.append([f"50011819900101{n:04d}", f"张{n}", None if n % 2 else "有"])
    sheet.merge_cells("C2:C3")
    out = io.BytesIO()
    book.save(out)
    rows = read_table(out.getvalue(), "人员.xlsx", limits=LEDGER_LIMITS)
    assert len(rows) == 2001 and rows[1][:2] == ["500118199001010000", "张0"] and rows[2][2] == "有"


def test_one_large_parse_at_a_time_the_next_waits_or_is_refused():
    limits = ReadLimits(large_cells=10, wait_seconds=0.2)
    holding, release = threading.Event(), threading.Event()

    def first():
        with one_large_parse(100, "a.xlsx", limits):
            holding.set()
            release.wait(5)

    thread = threading.Thread(target=first)
    thread.start()
    holding.wait(5)
    told = []
    try:
        with one_large_parse(5, "small.xlsx", limits):
            pass  # a small file never waits
        with pytest.raises(ImportRefused) as caught:
            with one_large_parse(100, "b.xlsx", limits, lambda: told.append(1)):
                pass
        assert caught.value.problem is FileProblem.BUSY and told == [1]
    finally:
        release.set()
        thread.join()
    with one_large_parse(100, "b.xlsx", limits):
        pass  # its turn now


def test_a_sheet_the_relationships_put_elsewhere_is_measured_too():
    """calamine finds worksheets through the workbook's relationships: so does the measure."""
    rels = bombs.WORKBOOK_RELS.replace("worksheets/sheet1.xml", "../media/pic.png")
    corners = b'<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    data = bombs.zip_file(
        {
            "[Content_Types].xml": bombs.CONTENT_TYPES,
            "_rels/.rels": bombs.RELS,
            "xl/workbook.xml": bombs.WORKBOOK,
            "xl/_rels/workbook.xml.rels": rels,
            "media/pic.png": bombs.SHEET_HEAD + corners + bombs.SHEET_TAIL,
        }
    )
    assert _refused(data, "藏.xlsx").problem is FileProblem.TOO_MANY_COLUMNS
