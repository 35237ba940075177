"""A task's pre-filled workbook: download as the filler sees it, fill offline, upload back."""

import io

import openpyxl
import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from runtime.access import Viewer
from runtime.models import ReportVersion, Task, TaskRow, User
from runtime.reports.specs import document_spec
from runtime.reports.store import ReportError
from runtime.tasks.dispatch import dispatch
from runtime.tasks.prefill import task_page
from runtime.tasks.workbook import ROW_COLUMN, VERSION_COLUMN, column_titles, read_task_xlsx, write_task_xlsx
from tests.conftest import make_ctx

ZHONGSHANLU = "500118001"


@pytest.fixture
def setup(district, specs, admit_sample, actor_of):
    with Session(district) as session, session.begin():
        report = admit_sample(session)
        tasks = dispatch(session, specs, report, actor_of(session, "canlian"))
        task_id = next(t.id for t in tasks if t.org_unit_code == ZHONGSHANLU)
        filler = session.scalar(select(User.id).where(User.username == "zhongshanlu"))
    return task_id, Viewer(filler, "township", township=ZHONGSHANLU)


def _downloaded(district, specs, task_id, filler, tmp_path):
    """Write the task's workbook as the filler downloads it; return its spec, book, sheet and header."""
    target = tmp_path / "task.xlsx"
    with district.begin() as conn:
        ctx = _load(conn, specs, task_id, filler)
        spec = ctx.spec
        write_task_xlsx(ctx, target)
    book = openpyxl.load_workbook(target)
    return spec, book, book.active, [c.value for c in book.active[1]]


def _upload(conn, specs, task_id, filler, book):
    """Upload a filled workbook to the task as its filler; return the row-by-row result."""
    data = io.BytesIO()
    book.save(data)
    ctx = _load(conn, specs, task_id, filler)
    return read_task_xlsx(ctx, data.getvalue(), "filled.xlsx", max_bytes=10**7)


def _load(conn, specs, task_id, viewer=None):
    """Return the task's context as `viewer` (else a filler of its township) works on it."""
    task = conn.execute(select(Task).where(Task.id == task_id)).one()
    document = conn.execute(
        select(ReportVersion.document).where(
            ReportVersion.report_id == task.report_id, ReportVersion.version == task.version
        )
    ).scalar_one()
    viewer = viewer or Viewer(None, "township", township=task.org_unit_code)
    return make_ctx(conn, specs, task, viewer, document_spec(specs, document))


def test_the_workbook_holds_every_row_as_the_filler_sees_it(district, specs, setup, tmp_path):
    task_id, filler = setup
    target = tmp_path / "task.xlsx"
    with district.begin() as conn:
        ctx = _load(conn, specs, task_id, filler)
        spec = ctx.spec
        rows = write_task_xlsx(ctx, target)
        first = task_page(ctx, limit=1).rows[0]
    sheet = CalamineWorkbook.from_path(str(target)).get_sheet_by_index(0).to_python()
    assert sheet[0] == [ROW_COLUMN, VERSION_COLUMN, *column_titles(spec)]
    assert len(sheet) - 1 == rows > 0
    line = dict(zip(sheet[0], sheet[1], strict=True))
    assert int(line[ROW_COLUMN]) == first.record_id
    id_title = column_titles(spec)[[f.name for f in spec.fields].index("id_number")]
    assert "*" in line[id_title] and line[id_title] == first.cells["id_number"].value, "masked as on the page"


def test_the_files_fast_path_shows_what_the_page_shows(district, specs, setup):
    from runtime.tasks.drafts import save_cells
    from runtime.tasks.values import iter_task_columns

    task_id, filler = setup
    with district.begin() as conn:
        ctx = _load(conn, specs, task_id, filler)
        spec = ctx.spec
        first = task_page(ctx, limit=5).rows
        save_cells(ctx, first[1].record_id, {"monthly_income": "800"}, expected_version=0)
        pages = task_page(ctx, limit=5).rows
        batch = next(iter_task_columns(ctx))
    assert batch.ids[:5] == [row.record_id for row in pages]
    for at, row in enumerate(pages):
        assert [column[at] for column in batch.columns] == [row.cells[f.name].value for f in spec.fields]


@pytest.mark.parametrize(
    ("sample", "author"), [("disability_survey", "canlian"), ("low_income_review", "minzheng")]
)
def test_the_fast_path_matches_every_page_row(district, specs, admit_sample, actor_of, sample, author):
    """Drafts, masking, household-bound fields and computed fields, on every row of the task."""
    from runtime.ledgers.store import count
    from runtime.tasks.drafts import save_cells
    from runtime.tasks.prefill import row_query
    from runtime.tasks.values import iter_task_columns

    with Session(district) as session, session.begin():
        report = admit_sample(session, sample, username=author)
        task_ids = [t.id for t in dispatch(session, specs, report, actor_of(session, author))]
    with district.begin() as conn:
        ctx = max((_load(conn, specs, i) for i in task_ids), key=lambda ctx: count(conn, row_query(ctx)))
        spec = ctx.spec
        rows = task_page(ctx, limit=10_000).rows
        typed = next(f.name for f in spec.fields if not f.compute)
        save_cells(ctx, rows[0].record_id, {typed: "改过"}, expected_version=0)
        rows = task_page(ctx, limit=10_000).rows
        batches = list(iter_task_columns(ctx, batch=2))
    ids = [i for b in batches for i in b.ids]
    values = [list(v) for b in batches for v in zip(*b.columns, strict=True)]
    assert ids == [row.record_id for row in rows] and len(batches) > 1
    assert values == [[row.cells[f.name].value for f in spec.fields] for row in rows]
    assert values[0][[f.name for f in spec.fields].index(typed)] == "改过"


def test_an_uploaded_workbook_saves_the_changed_cells_row_by_row(district, specs, setup, tmp_path):
    task_id, filler = setup
    spec, book, sheet, header = _downloaded(district, specs, task_id, filler, tmp_path)
    income = header.index(column_titles(spec)[[f.name for f in spec.fields].index("monthly_income")]) + 1
    sheet.cell(row=2, column=income, value=1500)
    sheet.cell(row=3, column=income, value="很多")
    sheet.cell(row=4, column=1, value=999999)  # a row number that is not this task's
    with district.begin() as conn:
        result = _upload(conn, specs, task_id, filler, book)
        outcomes = {line.line: line for line in result.lines}
        assert outcomes[2].outcome == "saved"
        assert outcomes[3].outcome == "errors" and "monthly_income" in outcomes[3].errors
        assert outcomes[4].outcome == "unknown"
        assert result.count("unchanged") == len(result.lines) - 3
        drafts = {r.record_id: r for r in conn.execute(select(TaskRow).where(TaskRow.task_id == task_id))}
        assert drafts[outcomes[2].record_id].values == {"monthly_income": 1500}
        assert drafts[outcomes[3].record_id].values == {"monthly_income": "很多"}, "kept as a draft"


def test_an_upload_leaves_masked_and_computed_cells_alone(district, specs, setup, tmp_path):
    task_id, filler = setup
    spec, book, sheet, header = _downloaded(district, specs, task_id, filler, tmp_path)
    names = [f.name for f in spec.fields]
    for name, value in (("id_number", "500118199001011234"), ("age", 3)):  # masked; computed
        sheet.cell(row=2, column=header.index(column_titles(spec)[names.index(name)]) + 1, value=value)
    with district.begin() as conn:
        result = _upload(conn, specs, task_id, filler, book)
        assert result.count("unchanged") == len(result.lines)
        assert conn.execute(select(TaskRow).where(TaskRow.task_id == task_id)).first() is None


def test_a_foreign_file_is_refused(district, specs, setup):
    task_id, filler = setup
    book = openpyxl.Workbook()
    book.active.append(["姓名", "身份证号"])
    data = io.BytesIO()
    book.save(data)
    with district.begin() as conn:
        ctx = _load(conn, specs, task_id, filler)
        with pytest.raises(ReportError, match="不是本任务下载的表格"):
            read_task_xlsx(ctx, data.getvalue(), "other.xlsx", max_bytes=10**7)


def test_an_added_row_goes_out_last_and_comes_back_by_its_reference(district, specs, setup, tmp_path):
    from runtime.tasks.added import add_row
    from tests.conftest import make_id_number

    task_id, filler = setup
    target = tmp_path / "task.xlsx"
    key = make_id_number("19850607", 912)
    with district.begin() as conn:
        ctx = _load(conn, specs, task_id, filler)
        spec = ctx.spec
        village = specs.villages(ZHONGSHANLU)[0].code
        row = add_row(
            ctx,
            {"id_number": key, "name": "新登记"},
            {"village_code": village, "household_no": "5001180019999", "relation_to_head": "户主"},
        )
        rows = write_task_xlsx(ctx, target)
    book = openpyxl.load_workbook(target)
    sheet = book.active
    header = [c.value for c in sheet[1]]
    last = [c.value for c in sheet[rows + 1]]
    assert last[0] == row.ref and last[header.index(column_titles(spec)[0])] == "新登记"
    assert key not in [str(v) for v in last], "the ID number is masked in the file too"
    income = header.index(column_titles(spec)[[f.name for f in spec.fields].index("monthly_income")]) + 1
    sheet.cell(row=rows + 1, column=income, value=900)
    sheet.cell(row=rows + 1, column=header.index(column_titles(spec)[1]) + 1, value="110101199001011234")
    with district.begin() as conn:
        result = _upload(conn, specs, task_id, filler, book)
        line = next(line for line in result.lines if line.ref == row.ref)
        assert line.outcome == "saved" and line.line == rows + 1
        draft = conn.execute(select(TaskRow).where(TaskRow.id == row.added_id)).one()
        assert draft.values["monthly_income"] == 900
        assert draft.row_key == key and draft.values["id_number"] == key, "the key stays as added"


def test_a_row_changed_on_the_web_after_the_download_is_not_overwritten_by_the_file(
    district, specs, setup, tmp_path
):
    from runtime.tasks.drafts import save_cells

    task_id, filler = setup
    spec, book, sheet, header = _downloaded(district, specs, task_id, filler, tmp_path)
    income = header.index(column_titles(spec)[[f.name for f in spec.fields].index("monthly_income")]) + 1
    first, second = int(sheet.cell(row=2, column=1).value), int(sheet.cell(row=3, column=1).value)
    with district.begin() as conn:  # someone types on the web meanwhile
        ctx = _load(conn, specs, task_id, filler)
        spec = ctx.spec
        save_cells(ctx, first, {"monthly_income": "800"}, expected_version=0)
    sheet.cell(row=2, column=income, value=1500)
    sheet.cell(row=3, column=income, value=1600)
    with district.begin() as conn:
        result = _upload(conn, specs, task_id, filler, book)
        outcomes = {line.record_id: line for line in result.lines}
        drafts = {
            r.record_id: r.values for r in conn.execute(select(TaskRow).where(TaskRow.task_id == task_id))
        }
    assert outcomes[first].outcome == "stale" and "网页上修改过" in outcomes[first].message
    assert drafts[first] == {"monthly_income": 800}, "the web's newer value stays"
    assert outcomes[second].outcome == "saved" and drafts[second] == {"monthly_income": 1600}
