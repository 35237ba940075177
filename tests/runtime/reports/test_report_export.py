"""A dispatched report's rows as the department downloads them: .xlsx and .csv, masked and defused."""

import csv

import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from runtime.access import Viewer
from runtime.ledgers.store import count, get
from runtime.masking import mask_id
from runtime.models import AuditEntry, Report, Task, User
from runtime.reports.export import export_report
from runtime.reports.file import STATUS_COLUMN, UNIT_COLUMN
from runtime.reports.store import ReportError
from runtime.tasks.added import add_row
from runtime.tasks.dispatch import dispatch
from runtime.tasks.drafts import mark_row, save_cells
from runtime.tasks.prefill import row_query, task_page
from runtime.tasks.submission import submit_task
from runtime.tasks.workbook import column_titles
from tests.conftest import make_ctx, make_id_number

ZHONGSHANLU = "500118001"
#: A small person report: masked names and ID numbers, a township, a free-text note; submittable as it is.
KEYED = {
    "properties": {
        "name": {"x-element": "person.name"},
        "id_number": {"x-element": "person.id_number"},
        "gender": {"x-element": "person.gender"},
        "birth_date": {"x-element": "person.birth_date"},
        "phone": {"x-element": "person.phone"},
        "township_code": {"x-element": "person.township_code"},
        "note": {"title": "备注", "type": "string", "maxLength": 200},
        "visited": {"title": "是否已走访", "type": "boolean"},
    },
    "required": ["name"],
    "x-justification": "电话回访核实，身份证号用于比对",
    "x-rows": {"ledger": "person", "filter": [{"element": "person.is_veteran", "op": "eq", "value": False}]},
}
INJECTION = '=HYPERLINK("http://evil","点我")'


@pytest.fixture
def filled(district, specs, admit_sample, actor_of, load_task):
    """KEYED dispatched everywhere; 中山路街道 typed a formula and a name, dropped a row, added a person.

    Returns the report code, the task id, and the record ids of the typed and the dropped row.
    """
    with Session(district) as session, session.begin():
        report = admit_sample(session, **KEYED)
        tasks = dispatch(session, specs, report, actor_of(session, "canlian"))
        task_id = next(t.id for t in tasks if t.org_unit_code == ZHONGSHANLU)
        filler_id = session.scalar(select(User.id).where(User.username == "zhongshanlu"))
        code = report.code
    filler = Viewer(filler_id, "township", township=ZHONGSHANLU)
    with district.begin() as conn:
        task, _report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, filler)
        typed, dropped = task_page(ctx, limit=2).rows
        save_cells(ctx, typed.record_id, {"note": INJECTION, "name": "改名字"}, expected_version=0)
        mark_row(ctx, dropped.record_id, "已迁出", expected_version=0)
        village = specs.villages(ZHONGSHANLU)[0].code
        add_row(
            ctx,
            {"id_number": make_id_number("19900101", 777), "name": "新登记"},
            {"village_code": village, "household_no": "5001180019999", "relation_to_head": "户主"},
        )
    return code, task_id, typed.record_id, dropped.record_id, filler


def _export(engine, specs, code, username, tmp_path, fmt="xlsx", **kw):
    target = tmp_path / f"out.{fmt}"
    with Session(engine) as session, session.begin():
        report = session.scalar(select(Report).where(Report.code == code))
        user = session.scalar(select(User).where(User.username == username))
        from runtime.reports.store import Actor

        actor = Actor(user.id, user.role, user.department_id)
        rows = export_report(
            session.connection(), specs, report, actor, Viewer(user.id, user.role), fmt, target, **kw
        )
    return rows, target


def _sheet(path):
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()


def _spec(engine, specs, task_id, load_task):
    with engine.connect() as conn:
        return load_task(conn, task_id)[2]


def test_open_tasks_live_rows_are_marked_masked_and_defused(district, specs, filled, tmp_path, load_task):
    code, task_id, typed_id, dropped_id, filler = filled
    spec = _spec(district, specs, task_id, load_task)
    rows, path = _export(district, specs, code, "canlian", tmp_path, include_open=True)
    sheet = _sheet(path)
    with district.connect() as conn:
        title = conn.scalar(select(Report.title).where(Report.code == code))
    assert sheet[0][0] == title
    assert "区残联" in sheet[1][0] and "数据来源：各镇街填报（已提交 0/" in sheet[1][0]
    assert "含未提交任务的当前数据" in sheet[1][0]
    header = sheet[2]
    assert header == [UNIT_COLUMN, STATUS_COLUMN, *column_titles(spec)]
    lines = [dict(zip(header, line, strict=True)) for line in sheet[3:]]
    assert len(lines) == rows
    mine = [line for line in lines if line[UNIT_COLUMN] == "中山路街道"]
    assert mine and all(line[STATUS_COLUMN].startswith("未提交") for line in mine)
    with district.connect() as conn:
        dropped = get(conn, specs.ledgers["person"], dropped_id)
        typed = get(conn, specs.ledgers["person"], typed_id)
        task = load_task(conn, task_id)[0]
        ledger_rows = count(conn, row_query(make_ctx(conn, specs, task, filler)))
    ids = [line["公民身份号码"] for line in lines]
    assert all("*" in i for i in ids if i), "ID numbers masked for the department"
    assert len(mine) == ledger_rows - 1 + 1, "the not-applicable row out, the added row in"
    assert mask_id(dropped["id_number"]) not in [line["公民身份号码"] for line in mine]
    [typed_line] = [line for line in lines if line["备注"] == "'" + INJECTION]
    assert typed_line["姓名"] == "改**", "what the township typed is masked for the department too"
    assert typed_line["公民身份号码"] == "*" * 14 + typed["id_number"][-4:]
    assert typed_line["所属镇街"] == "中山路街道", "org-unit codes are named"
    [added] = [line for line in lines if line["姓名"] == "新**"]
    assert added[UNIT_COLUMN] == "中山路街道" and added["公民身份号码"].startswith("*" * 14)
    assert all(
        line["姓名"] is None or line["姓名"] == "" or "*" in line["姓名"] or len(line["姓名"]) == 1
        for line in lines
    )


def test_only_submitted_tasks_by_default_with_the_added_row_written_back(
    district, specs, filled, tmp_path, load_task
):
    code, task_id, _typed_id, _dropped_id, filler = filled
    with district.begin() as conn:
        task, report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, filler)
        expected = submit_task(ctx, report).rows
        towns = conn.execute(select(Task.id).where(Task.report_id == report.id)).all()
    rows, path = _export(district, specs, code, "canlian", tmp_path)
    sheet = _sheet(path)
    assert f"已提交 1/{len(towns)}）" in sheet[1][0]
    assert sheet[2] == [UNIT_COLUMN, *column_titles(spec)]
    assert rows == expected == len(sheet) - 3
    assert {line[0] for line in sheet[3:]} == {"中山路街道"}
    assert "新**" in [line[1] for line in sheet[3:]], "the added person, now in the ledger, is a row"
    assert "'" + INJECTION in [line[sheet[2].index("备注")] for line in sheet[3:]]


def test_an_admin_reads_names_in_clear(district, specs, filled, tmp_path):
    code, *_ = filled
    _rows, path = _export(district, specs, code, "admin", tmp_path, include_open=True)
    names = [line[2] for line in _sheet(path)[3:]]
    assert "改名字" in names and "新登记" in names


def test_csv_has_a_bom_the_header_and_defused_cells(district, specs, filled, tmp_path):
    code, *_ = filled
    rows, path = _export(district, specs, code, "canlian", tmp_path, fmt="csv", include_open=True)
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"
    with open(path, encoding="utf-8-sig", newline="") as handle:
        table = list(csv.reader(handle))
    assert table[0][:2] == [UNIT_COLUMN, STATUS_COLUMN] and len(table) == rows + 1
    assert "'" + INJECTION in [line[table[0].index("备注")] for line in table[1:]]
    assert not any(cell.startswith(("=", "+", "@")) for line in table[1:] for cell in line)


def test_another_department_may_not_export_and_it_is_audited(district, specs, filled, tmp_path):
    code, *_ = filled
    with pytest.raises(ReportError, match="所属部门"):
        _export(district, specs, code, "minzheng", tmp_path)
    _export(district, specs, code, "canlian", tmp_path, include_open=True)
    with district.connect() as conn:
        entry = conn.execute(select(AuditEntry).where(AuditEntry.action == "report.export")).one()
    assert entry.target == code and entry.detail["include_open"] is True and entry.detail["rows"] > 0


def test_a_report_not_dispatched_has_nothing_to_export(district, specs, admit_sample, tmp_path):
    with Session(district) as session, session.begin():
        code = admit_sample(session, **KEYED).code
    with pytest.raises(ReportError, match="还没有下派"):
        _export(district, specs, code, "canlian", tmp_path)
