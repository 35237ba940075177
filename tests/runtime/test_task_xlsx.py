"""A task's pre-filled workbook: download as the filler sees it, fill offline, upload back."""

import io

import openpyxl
import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from runtime.access import Viewer
from runtime.admission import load_spec
from runtime.dispatch import dispatch
from runtime.models import ReportVersion, Task, TaskRow, User
from runtime.prefill import task_page
from runtime.reports import ReportError
from runtime.task_xlsx import ROW_COLUMN, column_titles, read_task_xlsx, write_task_xlsx

ZHONGSHANLU = "500118001"


@pytest.fixture
def setup(district, specs, admit_sample, actor_of):
    with Session(district) as session, session.begin():
        report = admit_sample(session)
        tasks = dispatch(session, specs, report, actor_of(session, "canlian"))
        task_id = next(t.id for t in tasks if t.org_unit_code == ZHONGSHANLU)
        filler = session.scalar(select(User.id).where(User.username == "zhongshanlu"))
    return task_id, Viewer(filler, "township", township=ZHONGSHANLU)


def _load(conn, specs, task_id):
    task = conn.execute(select(Task).where(Task.id == task_id)).one()
    document = conn.execute(select(ReportVersion.document).where(
        ReportVersion.report_id == task.report_id, ReportVersion.version == task.version)).scalar_one()
    return task, load_spec(specs, document)


def test_the_workbook_holds_every_row_as_the_filler_sees_it(district, specs, setup, tmp_path):
    task_id, filler = setup
    target = tmp_path / "task.xlsx"
    with district.begin() as conn:
        task, spec = _load(conn, specs, task_id)
        rows = write_task_xlsx(conn, specs, spec, task, filler, target)
        first = task_page(conn, specs, spec, task, filler, limit=1).rows[0]
    sheet = CalamineWorkbook.from_path(str(target)).get_sheet_by_index(0).to_python()
    assert sheet[0] == [ROW_COLUMN, *column_titles(spec)]
    assert len(sheet) - 1 == rows > 0
    line = dict(zip(sheet[0], sheet[1], strict=True))
    assert int(line[ROW_COLUMN]) == first.record_id
    id_title = column_titles(spec)[[f.name for f in spec.fields].index("id_number")]
    assert "*" in line[id_title] and line[id_title] == first.cells["id_number"].value, "masked as on the page"


def test_the_files_fast_path_shows_what_the_page_shows(district, specs, setup):
    from runtime.prefill import iter_task_values
    from runtime.task_drafts import save_cells

    task_id, filler = setup
    with district.begin() as conn:
        task, spec = _load(conn, specs, task_id)
        first = task_page(conn, specs, spec, task, filler, limit=5).rows
        save_cells(conn, specs, spec, task, filler, first[1].record_id, {"monthly_income": "800"},
                   expected_version=0)
        pages = task_page(conn, specs, spec, task, filler, limit=5).rows
        fast = next(iter_task_values(conn, specs, spec, task, filler))[:5]
    assert [rid for rid, _ in fast] == [row.record_id for row in pages]
    for (_rid, values), row in zip(fast, pages, strict=True):
        assert values == [row.cells[f.name].value for f in spec.fields]


def test_an_uploaded_workbook_saves_the_changed_cells_row_by_row(district, specs, setup, tmp_path):
    task_id, filler = setup
    target = tmp_path / "task.xlsx"
    with district.begin() as conn:
        task, spec = _load(conn, specs, task_id)
        write_task_xlsx(conn, specs, spec, task, filler, target)
    book = openpyxl.load_workbook(target)
    sheet = book.active
    header = [c.value for c in sheet[1]]
    income = header.index(column_titles(spec)[[f.name for f in spec.fields].index("monthly_income")]) + 1
    sheet.cell(row=2, column=income, value=1500)
    sheet.cell(row=3, column=income, value="很多")
    sheet.cell(row=4, column=1, value=999999)  # a row number that is not this task's
    data = io.BytesIO()
    book.save(data)
    with district.begin() as conn:
        task, spec = _load(conn, specs, task_id)
        result = read_task_xlsx(conn, specs, spec, task, filler, data.getvalue(), "filled.xlsx",
                                max_bytes=10_000_000)
        outcomes = {line.line: line for line in result.lines}
        assert outcomes[2].outcome == "saved"
        assert outcomes[3].outcome == "errors" and "monthly_income" in outcomes[3].errors
        assert outcomes[4].outcome == "unknown"
        assert result.count("unchanged") == len(result.lines) - 3
        drafts = {r.record_id: r for r in conn.execute(select(TaskRow).where(TaskRow.task_id == task_id))}
        assert drafts[outcomes[2].record_id].values == {"monthly_income": 1500}
        assert drafts[outcomes[3].record_id].values == {"monthly_income": "很多"}, "kept as a draft"


def test_a_foreign_file_is_refused(district, specs, setup):
    task_id, filler = setup
    book = openpyxl.Workbook()
    book.active.append(["姓名", "身份证号"])
    data = io.BytesIO()
    book.save(data)
    with district.begin() as conn:
        task, spec = _load(conn, specs, task_id)
        with pytest.raises(ReportError, match="不是本任务下载的表格"):
            read_task_xlsx(conn, specs, spec, task, filler, data.getvalue(), "other.xlsx", max_bytes=10**7)
