"""Saving many rows at once (an uploaded workbook): the drafts of saving them one by one, in few queries."""

import io
from contextlib import contextmanager

import openpyxl
import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from builder.reports.spec import load_report
from runtime.access import Viewer
from runtime.ledgers.store import Provenance, bulk_create
from runtime.models import ReportVersion, Task, TaskRow, User
from runtime.reports.specs import document_spec
from runtime.reports.store import ReportError
from runtime.tasks.dispatch import dispatch
from runtime.tasks.drafts import NOT_A_ROW, STALE, StaleRow, mark_row, save_cells, save_rows
from runtime.tasks.prefill import task_page
from runtime.tasks.workbook import column_titles, read_task_xlsx, write_task_xlsx
from tests.conftest import make_ctx

ZHONGSHANLU = "500118001"
#: Every person of the township is a row (the samples' own filters leave a tiny district few).
EVERYONE = {"ledger": "person", "filter": []}


@pytest.fixture
def make_task(district, specs, admit_sample, actor_of):
    """Return a function: admit and dispatch a sample; 中山路街道's task id and its filler."""

    def make(sample="disability_survey", author="canlian"):
        with Session(district) as session, session.begin():
            report = admit_sample(session, sample, username=author)
            tasks = dispatch(session, specs, report, actor_of(session, author))
            task_id = next(t.id for t in tasks if t.org_unit_code == ZHONGSHANLU)
            filler = session.scalar(select(User.id).where(User.username == "zhongshanlu"))
        return task_id, Viewer(filler, "township", township=ZHONGSHANLU)

    return make


#: A report of fields the ledger holds only: a row whose cells all have values is complete.
BOUND_ONLY = {
    "properties": {
        "name": {"x-element": "person.name"},
        "phone": {"x-element": "person.phone"},
        "guardian_name": {"x-element": "person.guardian_name"},
    },
    "required": [],
}


def _load(conn, specs, task_id, viewer, **overrides):
    """Return the task's context, its spec widened to every person of the township (and overridden)."""
    task = conn.execute(select(Task).where(Task.id == task_id)).one()
    document = conn.execute(
        select(ReportVersion.document).where(
            ReportVersion.report_id == task.report_id, ReportVersion.version == task.version
        )
    ).scalar_one()
    document = {**document_spec(specs, document).document, "x-rows": EVERYONE, **overrides}
    spec = load_report(document, specs.elements, specs.ledgers, meta=specs.report_meta)
    return make_ctx(conn, specs, task, viewer, spec)


def _state(conn, task_id):
    """Return every draft of the task and the task's state and count of complete rows."""
    drafts = {
        r.row_key: (
            r.record_id,
            r.values,
            r.base,
            r.errors,
            r.status,
            r.reason,
            r.version,
            r.complete,
            r.updated_by,
        )
        for r in conn.execute(select(TaskRow).where(TaskRow.task_id == task_id))
    }
    task = conn.execute(select(Task.state, Task.rows_complete).where(Task.id == task_id)).one()
    return drafts, tuple(task)


def _one_by_one(ctx, rows):
    """Save the rows through `save_cells`, as the upload did before; return each row's outcome."""
    outcomes = []
    for record_id, typed, version in rows:
        try:
            saved = save_cells(ctx, record_id, typed, expected_version=version)
        except StaleRow as exc:
            outcomes.append(("stale", str(exc), {}))
        except ReportError as exc:
            outcomes.append(("unknown", str(exc), {}))
        else:
            outcomes.append((None, "", saved.errors))
    return outcomes


@pytest.mark.parametrize(
    ("sample", "author", "overrides"),
    [
        ("disability_survey", "canlian", {}),
        ("low_income_review", "minzheng", {}),
        ("disability_survey", "canlian", BOUND_ONLY),
    ],
    ids=["person", "household-bound", "rows complete"],
)
def test_saving_rows_together_stores_what_saving_them_one_by_one_stores(
    district, specs, make_task, sample, author, overrides
):
    """New and existing drafts, invalid values, the ledger's own values, household values, stale rows."""
    task_id, filler = make_task(sample, author)
    with district.begin() as conn:  # drafts some rows already have: a value, an error, a row not applicable
        ctx = _load(conn, specs, task_id, filler, **overrides)
        rows = task_page(ctx, limit=40).rows
        free = next(f.name for f in ctx.spec.fields if f.name not in ("name", "id_number", "phone", "age"))
        save_cells(ctx, rows[0].record_id, {free: "早先填的"}, expected_version=0)
        save_cells(ctx, rows[1].record_id, {"phone": "123"}, expected_version=0)
        mark_row(ctx, rows[2].record_id, "已迁出", expected_version=0)
        save_cells(ctx, rows[3].record_id, {free: "别人刚存的"}, expected_version=0)
    household = [f.name for f in ctx.spec.fields if f.name in ("address", "household_size")]
    typed = []
    for at, row in enumerate(rows[:24]):
        # Valid, invalid, as shown, cleared.
        phone = ["13912345678", "不是电话", row.cells["phone"].value or "", ""][at % 4]
        cells = {"phone": phone, free: f"第{at}行"}
        for name in household:  # the household's own value (no change), or another one
            cells[name] = str(row.cells[name].value or "") if at % 2 else "3"
        typed.append((row.record_id, cells, 1 if at < 4 else 0))  # rows 0-3 have drafts (version 1)
    typed[3] = (rows[3].record_id, {free: "我的"}, 0)  # saved by someone else since: stale
    typed += [(999_999_999, {free: "x"}, 0), (rows[5].record_id, {free: "又一次"}, 0)]  # unknown; named twice

    with district.connect() as conn, conn.begin():
        ctx = _load(conn, specs, task_id, filler, **overrides)
        expected = _one_by_one(ctx, typed)
        one_by_one = _state(conn, task_id)
        conn.rollback()
    with district.begin() as conn:
        ctx = _load(conn, specs, task_id, filler, **overrides)
        saved = save_rows(ctx, typed)
        together = _state(conn, task_id)
    assert [(s.refused, s.message, s.errors) for s in saved] == expected
    assert [s.refused for s in saved].count(None) == len(typed) - 3
    assert (saved[3].refused, saved[3].message) == ("stale", STALE)
    assert (saved[-2].refused, saved[-2].message) == ("unknown", NOT_A_ROW)
    assert saved[-1].refused == "stale", "the second save of a row names the version the first one found"
    assert together == one_by_one
    drafts, (state, complete) = together
    assert state == "in_progress" and complete == sum(d[7] for d in drafts.values())
    assert complete > 1 or not overrides, "rows became complete"
    assert drafts[rows[3].key][1] == {free: "别人刚存的"}, "nothing of a stale row is written"


@contextmanager
def _counting(engine):
    """Count the SQL statements the engine runs within the block."""
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _upload(district, specs, task_id, filler, tmp_path, changes):
    """Download the task's workbook, change cells (row offset → field or "#" → value); return the file."""
    target = tmp_path / "task.xlsx"
    with district.begin() as conn:
        ctx = _load(conn, specs, task_id, filler)
        write_task_xlsx(ctx, target)
    book = openpyxl.load_workbook(target)
    sheet = book.active
    header = [c.value for c in sheet[1]]
    spec = ctx.spec
    names = [f.name for f in spec.fields]
    for offset, cells in changes.items():
        for name, value in cells.items():
            column = 1 if name == "#" else header.index(column_titles(spec)[names.index(name)]) + 1
            sheet.cell(row=offset + 2, column=column, value=value)
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def test_an_upload_reports_each_row_and_refuses_a_row_saved_meanwhile(
    district, specs, make_task, tmp_path, monkeypatch
):
    import runtime.tasks.workbook

    task_id, filler = make_task("low_income_review", "minzheng")
    with district.connect() as conn:
        ctx = _load(conn, specs, task_id, filler)
        rows = task_page(ctx, limit=10).rows
    data = _upload(
        district,
        specs,
        task_id,
        filler,
        tmp_path,
        {
            0: {"household_size": 7},
            1: {"household_size": "很多"},
            3: {"household_size": 8},
            4: {"address": "胜利路1号"},
            5: {"#": 999_999_999},
        },
    )
    save_rows_now = runtime.tasks.workbook.save_rows

    def someone_saves_row_3_first(*args, **kwargs):
        """Save row 3 from another connection after the upload read the rows' versions."""
        with district.begin() as other:
            ctx = _load(other, specs, task_id, filler)
            save_cells(ctx, rows[3].record_id, {"household_size": "9"}, expected_version=0)
        return save_rows_now(*args, **kwargs)

    monkeypatch.setattr(runtime.tasks.workbook, "save_rows", someone_saves_row_3_first)
    with district.begin() as conn:
        ctx = _load(conn, specs, task_id, filler)
        result = read_task_xlsx(ctx, data, "filled.xlsx", max_bytes=10**7)
        drafts = {r.record_id: r for r in conn.execute(select(TaskRow).where(TaskRow.task_id == task_id))}
    lines = {line.line - 2: line for line in result.lines}
    outcomes = [lines[at].outcome for at in range(6)]
    assert outcomes == ["saved", "errors", "unchanged", "stale", "saved", "unknown"]
    assert lines[3].message == STALE and lines[5].message == "系统编号不属于本任务的行，已跳过"
    assert "household_size" in lines[1].errors and lines[1].ref == str(rows[1].record_id)
    assert drafts[rows[0].record_id].values == {"household_size": 7}
    assert drafts[rows[0].record_id].base == {"household_size": rows[0].cells["household_size"].value}, (
        "the household's value, as seen"
    )
    assert drafts[rows[1].record_id].values == {"household_size": "很多"}, "kept as typed"
    assert drafts[rows[1].record_id].errors.keys() == {"household_size"}
    assert drafts[rows[3].record_id].values == {"household_size": 9}, "nothing of the stale row is written"
    assert drafts[rows[4].record_id].values == {"address": "胜利路1号"}
    assert drafts[rows[4].record_id].base == {"address": rows[4].cells["address"].value}
    assert rows[2].record_id not in drafts


@pytest.mark.parametrize("again", [False, True], ids=["new drafts", "existing drafts"])
def test_an_uploads_queries_do_not_grow_with_its_rows(
    district, specs, make_task, make_person, tmp_path, again
):
    task_id, filler = make_task()
    with district.begin() as conn:
        bulk_create(conn, specs.ledgers["person"], [make_person() for _ in range(210)], Provenance("seed"))

    def statements(rows: int, value: int) -> int:
        changes = {at: {"monthly_income": value + at} for at in range(rows)}
        if again:  # the rows have drafts already: the upload updates them
            data = _upload(district, specs, task_id, filler, tmp_path, changes)
            with district.begin() as conn:
                ctx = _load(conn, specs, task_id, filler)
                read_task_xlsx(ctx, data, "filled.xlsx", max_bytes=10**7)
            changes = {at: {"monthly_income": value + 1 + at} for at in range(rows)}
        data = _upload(district, specs, task_id, filler, tmp_path, changes)
        with district.connect() as conn, conn.begin(), _counting(district) as counted:
            ctx = _load(conn, specs, task_id, filler)
            result = read_task_xlsx(ctx, data, "filled.xlsx", max_bytes=10**7)
            assert result.count("saved") == rows
            conn.rollback()
        return len(counted)

    few, many = statements(10, 1000), statements(200, 2000)
    assert many - few <= 2, (few, many)
