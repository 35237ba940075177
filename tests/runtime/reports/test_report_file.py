"""The file of a report's rows: the heading, the header, cells as shown, sheets split at a size."""

from datetime import date

from python_calamine import CalamineWorkbook

from builder.reports.spec import load_report
from runtime.reports.file import STATUS_COLUMN, UNIT_COLUMN, Block, Heading, ReportTable, write_table

#: A small report: an org unit field, a yes/no, a multiple choice and a free text.
DOCUMENT = {
    "title": "测试报表",
    "type": "object",
    "x-report": "file_test",
    "x-version": 1,
    "x-department": "canlian",
    "x-purpose": "测试",
    "x-basis": "测试",
    "x-rows": {"ledger": "person", "filter": []},
    "properties": {
        "township": {"x-element": "person.township_code"},
        "visited": {"title": "是否已走访", "type": "boolean"},
        "needs": {"title": "需求", "type": "array", "items": {"type": "string", "enum": ["康复", "就业"]}},
        "note": {"title": "备注", "type": "string"},
    },
}


def _table(specs, blocks, total, **kw):
    spec = load_report(DOCUMENT, specs.elements, specs.ledgers, meta=specs.report_meta)
    names = {code: unit.name for code, unit in specs.org_units.items()}
    return ReportTable(
        spec,
        Heading("测试报表", "区残联", date(2026, 11, 29), "台账直接提取"),
        blocks,
        total,
        unit_names=names,
        org_fields=frozenset({"township"}),
        **kw,
    )


def test_cells_are_shown_as_people_read_them_and_defused(specs, tmp_path):
    block = Block("中山路街道", [["500118001"], [True], [["康复", "就业"]], ["=1+1"]], "已提交")
    rows = write_table(_table(specs, [block], 1, with_status=True), "xlsx", tmp_path / "t.xlsx")
    sheet = CalamineWorkbook.from_path(str(tmp_path / "t.xlsx")).get_sheet_by_index(0).to_python()
    assert rows == 1
    assert sheet[0][0] == "测试报表"
    assert sheet[1][0] == "填报部门：区残联　导出日期：2026年11月29日　数据来源：台账直接提取"
    assert sheet[2] == [UNIT_COLUMN, STATUS_COLUMN, "所属镇街", "是否已走访", "需求", "备注"]
    assert sheet[3] == ["中山路街道", "已提交", "中山路街道", "是", "康复、就业", "'=1+1"]


def test_a_table_larger_than_a_sheet_goes_on_to_further_sheets(specs, tmp_path):
    blocks = [
        Block("中山路街道", [[None] * 4, [False] * 4, [[]] * 4, [f"第{n}行" for n in range(4)]]),
        Block("南大街街道", [[None] * 3, [None] * 3, [None] * 3, ["+x", "@y", "-z"]]),
    ]
    progress = []
    rows = write_table(
        _table(specs, blocks, 7),
        "xlsx",
        tmp_path / "t.xlsx",
        lambda done, total: progress.append((done, total)),
        sheet_rows=3,
    )
    book = CalamineWorkbook.from_path(str(tmp_path / "t.xlsx"))
    sheets = [book.get_sheet_by_name(n).to_python() for n in book.sheet_names]
    assert rows == 7 and len(sheets) == 3 and book.sheet_names[1] == "测试报表2"
    assert all(s[0][0] == "测试报表" and s[2][0] == UNIT_COLUMN for s in sheets)
    body = [line for s in sheets for line in s[3:]]
    assert [line[-1] for line in body] == ["第0行", "第1行", "第2行", "第3行", "'+x", "'@y", "'-z"]
    assert progress == [(0, 7), (4, 7), (7, 7)]


def test_csv_starts_with_the_header(specs, tmp_path):
    block = Block("中山路街道", [["500118001"], [False], [None], ["-1"]])
    write_table(_table(specs, [block], 1), "csv", tmp_path / "t.csv")
    text = (tmp_path / "t.csv").read_text(encoding="utf-8-sig").splitlines()
    assert text == [f"{UNIT_COLUMN},所属镇街,是否已走访,需求,备注", "中山路街道,中山路街道,否,,'-1"]


def test_rows_beyond_the_count_made_beforehand_are_not_dropped(specs, tmp_path):
    block = Block("中山路街道", [[None] * 7, [None] * 7, [None] * 7, [str(n) for n in range(7)]])
    rows = write_table(_table(specs, [block], 5), "xlsx", tmp_path / "t.xlsx", sheet_rows=3)
    book = CalamineWorkbook.from_path(str(tmp_path / "t.xlsx"))
    body = [line[-1] for n in book.sheet_names for line in book.get_sheet_by_name(n).to_python()[3:]]
    assert rows == 7 and len(book.sheet_names) == 2 and body == [str(n) for n in range(7)]
