"""Drafts of a task: cells saved as typed with their messages, stale saves refused, rows marked."""

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from runtime.access import Viewer
from runtime.db import is_postgres
from runtime.ledgers.store import get
from runtime.models import ReportVersion, Task, TaskRow
from runtime.reports.specs import document_spec
from runtime.reports.store import ReportError
from runtime.tasks.dispatch import dispatch
from runtime.tasks.drafts import StaleRow, mark_row, save_cells
from runtime.tasks.prefill import task_page
from tests.conftest import make_ctx, make_id_number

ZHONGSHANLU = "500118001"
FILLER = Viewer(None, "township", township=ZHONGSHANLU)


@pytest.fixture
def task(district, specs, admit_sample, actor_of):
    """中山路街道's task of the admitted disability survey on a seeded tiny district."""
    with Session(district) as session, session.begin():
        report = admit_sample(session)
        tasks = dispatch(session, specs, report, actor_of(session, "canlian"))
        return next(t.id for t in tasks if t.org_unit_code == ZHONGSHANLU)


def _load(conn, specs, task_id, viewer=FILLER):
    """Return the task's context as `viewer` works on it, its spec read from the task's report version."""
    task = conn.execute(select(Task).where(Task.id == task_id)).one()
    document = conn.execute(
        select(ReportVersion.document).where(
            ReportVersion.report_id == task.report_id, ReportVersion.version == task.version
        )
    ).scalar_one()
    return make_ctx(conn, specs, task, viewer, document_spec(specs, document))


def _first_row(conn, specs, task_id):
    ctx = _load(conn, specs, task_id)
    return ctx, task_page(ctx, limit=1).rows[0]


def test_cells_are_saved_as_typed_with_their_messages(engine, specs, task):
    with engine.begin() as conn:
        ctx, row = _first_row(conn, specs, task)
        custom = next(f for f in ctx.spec.fields if f.name == "monthly_income")
        saved = save_cells(
            ctx, row.record_id, {custom.name: "一千", "guardian_phone": "13912345678"}, expected_version=0
        )
        assert saved.errors.keys() == {custom.name}
        assert saved.row.cells[custom.name].value == "一千", "invalid input is kept as typed"
        assert saved.row.cells["guardian_phone"].value == "13912345678"
        assert saved.row.cells["guardian_phone"].state == "edited"
        fixed = save_cells(ctx, row.record_id, {custom.name: "1,200"}, expected_version=1)
        assert fixed.errors == {} and fixed.row.cells[custom.name].value == 1200
        draft = conn.execute(select(TaskRow).where(TaskRow.task_id == task)).one()
        assert (draft.version, draft.errors, draft.base["guardian_phone"]) == (
            2,
            {},
            row.cells["guardian_phone"].value if row.cells["guardian_phone"].state == "prefilled" else None,
        )
        assert conn.execute(select(Task.state).where(Task.id == task)).scalar_one() == "in_progress"


def test_typing_the_ledgers_own_value_is_no_change(engine, specs, task):
    with engine.begin() as conn:
        ctx, row = _first_row(conn, specs, task)
        grade = row.cells["disability_grade"].value
        saved = save_cells(ctx, row.record_id, {"disability_grade": grade}, expected_version=0)
        assert saved.row.cells["disability_grade"].state == "prefilled"
        assert conn.execute(select(TaskRow.values).where(TaskRow.task_id == task)).scalar_one() == {}


def test_a_stale_save_is_refused(engine, specs, task):
    with engine.begin() as conn:
        ctx, row = _first_row(conn, specs, task)
        save_cells(ctx, row.record_id, {"rehab_needs": "康复训练、心理疏导"}, expected_version=0)
        with pytest.raises(StaleRow, match="别人保存"):
            save_cells(ctx, row.record_id, {"rehab_needs": "无"}, expected_version=0)


def test_other_townships_and_closed_tasks_are_refused(engine, specs, task):
    with engine.begin() as conn:
        ctx, row = _first_row(conn, specs, task)
        elsewhere = _load(conn, specs, task, Viewer(None, "township", township="500118115"))
        with pytest.raises(ReportError, match="辖区"):
            save_cells(elsewhere, row.record_id, {"rehab_needs": "无"}, expected_version=0)
        conn.execute(Task.__table__.update().where(Task.id == task).values(state="submitted"))
        ctx = _load(conn, specs, task)
        with pytest.raises(ReportError, match="已提交"):
            save_cells(ctx, row.record_id, {"rehab_needs": "无"}, expected_version=0)


def test_a_row_marked_not_applicable_is_complete_and_counted(engine, specs, task):
    with engine.begin() as conn:
        ctx, row = _first_row(conn, specs, task)
        with pytest.raises(ReportError, match="原因"):
            mark_row(ctx, row.record_id, " ", expected_version=0)
        marked = mark_row(ctx, row.record_id, "已迁出", expected_version=0)
        assert (marked.status, marked.reason, marked.complete) == ("not_applicable", "已迁出", True)
        assert conn.execute(select(Task.rows_complete).where(Task.id == task)).scalar_one() == 1
        again = mark_row(ctx, row.record_id, None, expected_version=1)
        assert again.status == "active" and not again.complete
        assert conn.execute(select(Task.rows_complete).where(Task.id == task)).scalar_one() == 0


def test_two_fillers_saving_one_row_at_once_never_overwrite_each_other(engine, specs, task):
    """Real concurrent connections: of two saves from the same version, exactly one wins."""
    if not is_postgres(engine):
        pytest.skip("SQLite serializes writers; the race is exercised on PostgreSQL")
    with engine.connect() as conn:
        _ctx, row = _first_row(conn, specs, task)
    for version in (0, 1):  # the first save of a row (insert), then a later one (update)
        outcomes = _race(engine, specs, task, row.record_id, version)
        assert sorted(outcomes) == ["refused", "saved"]
    with engine.connect() as conn:
        draft = conn.execute(select(TaskRow).where(TaskRow.task_id == task)).one()
    assert draft.version == 2 and draft.values["monthly_income"] in (800, 900)


def _race(engine, specs, task, record_id, version):
    """Save one cell of one row from two connections at the same moment; return their outcomes."""
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def fill(text: str) -> None:
        try:
            with engine.connect() as conn, conn.begin():
                ctx = _load(conn, specs, task)
                barrier.wait()
                save_cells(ctx, record_id, {"monthly_income": text}, expected_version=version)
            outcomes.append("saved")
        except StaleRow:
            outcomes.append("refused")

    threads = [threading.Thread(target=fill, args=(text,)) for text in ("800", "900")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def test_only_rows_with_gaps(engine, specs, task):
    with engine.begin() as conn:
        ctx = _load(conn, specs, task)
        everything = task_page(ctx, limit=500).rows
        first = everything[0]
        mark_row(ctx, first.record_id, "已迁出", expected_version=0)
        gaps = task_page(ctx, limit=500, gaps_only=True).rows
    assert [r.record_id for r in gaps] == [r.record_id for r in everything[1:]]


def test_only_rows_with_gaps_of_a_report_the_ledgers_could_fill(engine, specs, task):
    """With bound fields only, a row whose record holds every value has nothing to fill."""
    from builder.reports.spec import load_report

    with engine.connect() as conn:
        ctx = _load(conn, specs, task)
        bound_only = load_report(
            {
                **ctx.spec.document,
                "properties": {"name": {"x-element": "person.name"}, "phone": {"x-element": "person.phone"}},
                "required": [],
            },
            specs.elements,
            specs.ledgers,
            meta=specs.report_meta,
        )
        ctx = make_ctx(conn, specs, ctx.task, FILLER, bound_only)
        rows = task_page(ctx, limit=500).rows
        gaps = task_page(ctx, limit=500, gaps_only=True).rows
    without_phone = [r.record_id for r in rows if r.cells["phone"].state == "gap"]
    assert without_phone and len(without_phone) < len(rows)
    assert [r.record_id for r in gaps] == without_phone


def test_whole_task_counters_follow_the_drafts(engine, specs, task):
    from runtime.tasks.rows.kinds import task_counts

    with engine.begin() as conn:
        ctx = _load(conn, specs, task)
        fields = ctx.spec.fields
        rows = task_page(ctx, limit=500).rows
        before = task_counts(ctx)
        cells = [
            c
            for r in rows
            for name, c in r.cells.items()
            if not next(f for f in fields if f.name == name).compute
        ]
        assert (before.rows, before.complete) == (len(rows), 0)
        assert before.prefilled == sum(c.state == "prefilled" for c in cells)
        assert before.to_fill == sum(c.state == "gap" for c in cells)
        mark_row(ctx, rows[0].record_id, "已迁出", expected_version=0)
        save_cells(ctx, rows[1].record_id, {"monthly_income": "900"}, expected_version=0)
        after = task_counts(ctx)
    first_gaps = sum(
        c.state == "gap"
        for n, c in rows[0].cells.items()
        if not next(f for f in fields if f.name == n).compute
    )
    assert after.complete == 1
    assert after.to_fill == before.to_fill - first_gaps - 1


def test_a_masked_birth_date_cannot_be_typed_over_right_or_wrong(engine, specs, task):
    """Accepting the right date and refusing the others would confirm the ID number's hidden digits."""
    with engine.begin() as conn:
        ctx, row = _first_row(conn, specs, task)
        person = get(conn, specs.ledgers["person"], row.record_id)
        answers = set()
        for day in (person["birth_date"], "1990-01-01"):
            with pytest.raises(ReportError) as refused:
                save_cells(ctx, row.record_id, {"birth_date": day}, expected_version=0)
            answers.add(str(refused.value))
        assert len(answers) == 1 and "已脱敏" in answers.pop()
        assert conn.execute(select(TaskRow.id).where(TaskRow.task_id == task)).first() is None


def test_a_typed_certificate_number_takes_its_id_part_from_the_record(engine, specs, task):
    """A filler gives the category and grade digits; typed ID digits are never compared with the hidden ID."""
    with engine.begin() as conn:
        ctx, row = _first_row(conn, specs, task)
        person = get(conn, specs.ledgers["person"], row.record_id)
        digits = "11" if not str(person.get("disability_cert_no")).endswith("11") else "12"
        guess = make_id_number("19010101", 1) + digits  # a wrong ID part: ignored, not checked
        saved = save_cells(ctx, row.record_id, {"disability_cert_no": guess}, expected_version=0)
        cell = saved.row.cells["disability_cert_no"]
        assert saved.errors == {} and cell.masked and cell.value == "*" * 20, "masked, even to its typist"
        draft = conn.execute(select(TaskRow.values).where(TaskRow.task_id == task)).scalar_one()
        assert draft["disability_cert_no"] == person["id_number"] + digits
