"""Scope on every write: a task's cells, uploads, added rows and imports keep records in their org units."""

import io

import openpyxl
import pytest
from sqlalchemy import select, update

from runtime.access import Viewer
from runtime.ledgers.imports import import_file
from runtime.ledgers.store import get
from runtime.models import Record, TaskRow
from runtime.org_scope import FOREIGN_VILLAGE, MOVED_TOWNSHIP, OutOfScope
from runtime.tasks.added import AddRefused, add_row, save_added
from runtime.tasks.drafts import save_cells
from runtime.tasks.prefill import task_page
from runtime.tasks.submission import TaskInvalid, submit_task
from runtime.tasks.workbook import column_titles, read_task_xlsx, write_task_xlsx
from tests.conftest import make_ctx, make_id_number
from tests.runtime.ledgers.test_imports import csv_bytes, person_cells

ZS, SL = "500118001", "500118002"
ZS_V2, SL_V = "500118001002", "500118002001"
#: A report whose rows carry their township and village, flowing back like any bound field.
FIELDS = {
    "properties": {
        "id_number": {"x-element": "person.id_number"},
        "name": {"x-element": "person.name"},
        "township_code": {"x-element": "person.township_code"},
        "village_code": {"x-element": "person.village_code"},
        "visited": {"title": "是否已走访", "type": "boolean"},
    },
    "required": ["name"],
    "x-justification": "核对人员所属村（社区），公民身份号码用于识别人员",
}


@pytest.fixture
def roster(zhongshanlu_task, load_task, district, specs):
    """中山路街道's task of the report, its filler and its first row (record id, village)."""
    task_id, filler = zhongshanlu_task(**FIELDS)
    with district.connect() as conn:
        task, _report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, filler)
        row = task_page(ctx, limit=1).rows[0]
        record = get(conn, specs.ledgers["person"], row.record_id)
    return task_id, filler, row.record_id, record["village_code"]


def _org(district, specs, record_id):
    with district.connect() as conn:
        record = get(conn, specs.ledgers["person"], record_id)
    return record["township_code"], record["village_code"]


@pytest.mark.parametrize(
    ("typed", "field", "message"),
    [
        ({"village_code": SL_V}, "village_code", FOREIGN_VILLAGE),
        ({"township_code": SL}, "township_code", MOVED_TOWNSHIP),
    ],
)
def test_a_cell_cannot_move_a_row_out_of_the_task(district, specs, load_task, roster, typed, field, message):
    """The grid keeps the value with its message; it never reaches the ledger."""
    task_id, filler, record_id, _village = roster
    before = _org(district, specs, record_id)
    with district.begin() as conn:
        task, report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, filler)
        saved = save_cells(ctx, record_id, typed, expected_version=0)
        assert saved.errors == {field: message}
        assert saved.row.cells[field].value == typed[field], "kept as typed"
        with pytest.raises(TaskInvalid) as refused:
            submit_task(ctx, report)
        assert [(p.record_id, p.field) for p in refused.value.problems] == [(record_id, field)]
    assert _org(district, specs, record_id) == before


def test_a_stored_draft_outside_the_task_cannot_be_submitted(district, specs, load_task, roster):
    """A draft holding another township's village without a message (saved before the check) is refused."""
    task_id, filler, record_id, _village = roster
    with district.begin() as conn:
        task, report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, filler)
        save_cells(ctx, record_id, {"visited": "是"}, expected_version=0)
        conn.execute(
            update(TaskRow)
            .where(TaskRow.task_id == task_id, TaskRow.record_id == record_id)
            .values(values={"visited": True, "township_code": SL, "village_code": SL_V})
        )
        with pytest.raises(TaskInvalid) as refused:
            submit_task(ctx, report)
        assert {p.field: p.message for p in refused.value.problems} == {
            "township_code": MOVED_TOWNSHIP,
            "village_code": FOREIGN_VILLAGE,
        }
    assert _org(district, specs, record_id) == (ZS, _village)


def test_a_village_of_the_township_is_a_move_the_township_may_make(district, specs, load_task, roster):
    """Within its scope: the move is accepted as a change to 区公安分局's element, which it then accepts."""
    from runtime.models import ProposedChange, User
    from runtime.sharing.proposals import accept

    task_id, filler, record_id, village = roster
    other = ZS_V2 if village != ZS_V2 else "500118001003"
    with district.begin() as conn:
        task, report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, filler)
        assert save_cells(ctx, record_id, {"village_code": other}, expected_version=0).errors == {}
        submit_task(ctx, report)
    assert _org(district, specs, record_id) == (ZS, village), "waits for its owner"
    with district.begin() as conn:
        ids = (
            conn.execute(select(ProposedChange.id).where(ProposedChange.record_id == record_id))
            .scalars()
            .all()
        )
        gongan = conn.execute(select(User.id).where(User.username == "gongan")).scalar_one()
        assert ids and accept(conn, specs, ids, user_id=gongan).done == ids
    assert _org(district, specs, record_id) == (ZS, other)


def test_an_uploaded_workbook_cannot_move_rows_out_of_the_task(district, specs, load_task, roster, tmp_path):
    task_id, filler, record_id, _village = roster
    target = tmp_path / "task.xlsx"
    with district.begin() as conn:
        task, _report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, filler)
        write_task_xlsx(ctx, target)
    book = openpyxl.load_workbook(target)
    header = [c.value for c in book.active[1]]
    titles = dict(zip([f.name for f in spec.fields], column_titles(spec), strict=True))
    book.active.cell(row=2, column=header.index(titles["village_code"]) + 1, value=SL_V)
    data = io.BytesIO()
    book.save(data)
    with district.begin() as conn:
        task, _report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, filler)
        result = read_task_xlsx(ctx, data.getvalue(), "filled.xlsx", max_bytes=10**7)
    [line] = [line for line in result.lines if line.outcome != "unchanged"]
    assert (line.outcome, line.errors) == ("errors", {"village_code": FOREIGN_VILLAGE})


@pytest.mark.parametrize("typed", [{"village_code": SL_V}, {"township_code": SL, "village_code": SL_V}])
def test_an_added_row_of_another_township_is_refused(district, specs, load_task, roster, typed):
    """新增一行 with a village (or township) of another township: refused at that field, nothing kept."""
    task_id, filler, _record_id, _village = roster
    key = make_id_number("19800101", 913)
    extra = {"village_code": ZS_V2, "household_no": "5001180019999", "relation_to_head": "户主"}
    with district.begin() as conn:
        task, _report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, filler)
        with pytest.raises(AddRefused) as refused:
            add_row(ctx, {"id_number": key, "name": "新登记", **typed}, extra)
        assert refused.value.errors["village_code"] == FOREIGN_VILLAGE
        with pytest.raises(AddRefused) as refused:  # nor as the record's own village
            add_row(ctx, {"id_number": key, "name": "新登记"}, extra | {"village_code": SL_V})
        assert "village_code" in refused.value.errors
        row = add_row(ctx, {"id_number": key, "name": "新登记"}, extra)
        saved = save_added(ctx, row.added_id, {"village_code": SL_V}, expected_version=1)
        assert saved.errors == {"village_code": FOREIGN_VILLAGE}
        assert conn.execute(select(Record.id).where(Record.key == key)).first() is None


def test_a_keepers_import_moves_records_between_townships(engine, specs, make_person, tmp_path):
    """Keepers work district-wide; a township's import may not take another township's record."""
    person = make_person()
    keeper, township = Viewer(2, "keeper"), Viewer(5, "township", township=SL)
    with engine.begin() as conn:
        import_file(
            conn,
            specs,
            "person",
            csv_bytes([person_cells(person)]),
            "a.csv",
            keeper,
            tmp_path,
            max_bytes=10**7,
        )
    moved = person_cells(person, 所属镇街="胜利路街道", **{"所属村（社区）": SL_V})
    with engine.begin() as conn, pytest.raises(OutOfScope):
        import_file(conn, specs, "person", csv_bytes([moved]), "b.csv", township, tmp_path, max_bytes=10**7)
    with engine.begin() as conn:
        result = import_file(
            conn, specs, "person", csv_bytes([moved]), "c.csv", keeper, tmp_path, max_bytes=10**7
        )
        assert result.updated == 1
        record = conn.execute(
            select(Record.township_code, Record.village_code).where(Record.key == person["id_number"])
        ).one()
    assert tuple(record) == (SL, SL_V)
