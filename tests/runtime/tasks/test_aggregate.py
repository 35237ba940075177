"""Aggregate reports: one row per org unit, formula cells counted and summed from a small fixed ledger."""

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from builder.tabular.reading import read_table
from runtime.access import Viewer
from runtime.ledgers.store import Provenance, Scope, upsert
from runtime.models import RecordVersion, Task, TaskRow, User
from runtime.org_scope import DISTRICT
from runtime.tasks.aggregate import (
    extracted_rows,
    formula_values,
    merged_tasks,
    save_unit_cells,
    task_values,
    unit_rows,
)
from runtime.tasks.dispatch import dispatch
from runtime.tasks.drafts import StaleRow
from runtime.tasks.rows.kinds import ensure_rows_total, task_counts
from runtime.tasks.submission import TaskInvalid, submit_task
from runtime.tasks.values import iter_task_columns
from runtime.tasks.workbook import ROW_COLUMN, read_task_xlsx, write_task_xlsx
from tests.conftest import make_ctx

QINGFENG, JINLONG = "500118100", "500118101"
Q1, Q2, J1 = "500118100001", "500118100002", "500118101001"


def parcel(n: int, village: str, **fields):
    """Return a land record of `village` (parcel codes by village and number)."""
    return {
        "parcel_code": f"{village}00{n:05d}",
        "location": f"{village}第{n}块",
        "township_code": village[:9],
        "village_code": village,
        "contractor_name": f"李{n}",
        "contract_area_mu": 8.0,
        **fields,
    }


#: The fixed ledger: what each figure must be is counted by hand in the tests.
LAND = [
    parcel(1, Q1, is_transferred=True, transfer_form="出租", transfer_area_mu=10.5, rent_arrears=200),
    parcel(2, Q1, is_transferred=True, transfer_form="入股", transfer_area_mu=4.25, rent_arrears=0),
    parcel(3, Q2, is_transferred=True, transfer_form="出租", transfer_area_mu=3.0),
    parcel(4, Q2, is_transferred=False),
    parcel(5, J1, is_transferred=True, transfer_form="出租", transfer_area_mu=100.0, rent_arrears=50),
]


@pytest.fixture
def ledger(engine, specs, make_person):
    """The fresh database with the fixed land parcels and a few persons with disabilities."""
    people = [
        make_person(township_code=QINGFENG, village_code=Q1, disability_category="肢体"),
        make_person(township_code=QINGFENG, village_code=Q2, disability_category="肢体"),
        make_person(township_code=QINGFENG, village_code=Q2, disability_category="视力"),
        make_person(township_code=QINGFENG, village_code=Q1),
        make_person(township_code=JINLONG, village_code=J1, disability_category="肢体"),
    ]
    with engine.begin() as conn:
        upsert(conn, specs.ledgers["land"], LAND, Provenance("import", "land.csv"), scope=DISTRICT)
        upsert(conn, specs.ledgers["person"], people, Provenance("import", "person.csv"), scope=DISTRICT)
    return engine


@pytest.fixture
def aggregate_task(ledger, specs, admit_sample, actor_of, load_task):
    """Return a function: admit the land summary (overrides), dispatch it; (task id of a township, filler)."""

    def make(township=QINGFENG, **overrides):
        with Session(ledger) as session, session.begin():
            report = admit_sample(session, "land_transfer_summary", "nongye", **overrides)
            assert report.mode == "dispatch", "an aggregate report goes to the townships to confirm"
            tasks = dispatch(session, specs, report, actor_of(session, "nongye"))
            task_id = next(t.id for t in tasks if t.org_unit_code == township)
            filler = session.scalar(select(User.id).where(User.username == "qingfeng"))
        return task_id, Viewer(filler, "township", township=township)

    return make


def _cells(row):
    return {name: cell.value for name, cell in row.cells.items()}


def test_township_row_counts_and_sums_its_own_records(ledger, specs, aggregate_task, load_task):
    task_id, viewer = aggregate_task()
    with ledger.connect() as conn:
        task, _report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, viewer)
        [row] = unit_rows(ctx)
    assert (row.ref, row.label, row.status) == ("u500118100", "青峰镇", "unit")
    assert _cells(row) == {
        "transferred_parcels": 3,
        "transferred_area": 17.75,
        "rent_area": 13.5,
        "subcontract_area": 0,
        "shares_area": 4.25,
        "swap_area": 0,
        "sale_area": 0,
        "other_area": 0,
        "rent_parcels": 2,
        "shares_parcels": 1,
        "arrears_parcels": 1,
        "arrears_amount": 200,
        "remarks": None,
    }
    assert row.cells["rent_area"].state == "prefilled" and row.cells["rent_area"].source == "台账汇总"
    assert row.cells["remarks"].state == "gap" and row.gaps == ["remarks"]


def test_another_township_sees_only_its_records(ledger, specs, aggregate_task, load_task):
    task_id, viewer = aggregate_task(JINLONG)
    with ledger.connect() as conn:
        task, _report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, viewer)
        [row] = unit_rows(ctx)
    assert row.key == JINLONG
    assert {k: row.cells[k].value for k in ("transferred_parcels", "transferred_area", "arrears_amount")} == {
        "transferred_parcels": 1,
        "transferred_area": 100,
        "arrears_amount": 50,
    }


def test_rows_by_village_group_the_township_records(ledger, specs, aggregate_task, load_task):
    task_id, viewer = aggregate_task(**{"x-rows": {"unit": "village"}})
    with ledger.connect() as conn:
        task, _report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, viewer)
        rows = unit_rows(ctx)
        assert ensure_rows_total(ctx) == len(specs.villages(QINGFENG))
    assert [r.key for r in rows] == [v.code for v in specs.villages(QINGFENG)]
    by_key = {r.key: r for r in rows}
    names = ("transferred_parcels", "transferred_area", "rent_area", "arrears_parcels")
    assert [by_key[Q1].cells[k].value for k in names] == [2, 14.75, 10.5, 1]
    assert [by_key[Q2].cells[k].value for k in names] == [1, 3, 3, 0]
    assert all(r.cells["transferred_parcels"].value == 0 for r in rows if r.key not in (Q1, Q2))


def test_person_counts_by_disability_category_in_one_query(ledger, specs, aggregate_task, load_task):
    properties = {
        "limb": {
            "title": "肢体残疾人数",
            "type": "integer",
            "x-formula": {
                "count": "person",
                "where": [{"element": "person.disability_category", "op": "eq", "value": "肢体"}],
            },
        },
        "sight_or_limb": {
            "title": "视力或肢体",
            "type": "integer",
            "x-formula": {
                "count": "person",
                "where": [{"element": "person.disability_category", "op": "in", "value": ["视力", "肢体"]}],
            },
        },
        "none": {
            "title": "无残疾类别",
            "type": "integer",
            "x-formula": {
                "count": "person",
                "where": [{"element": "person.disability_category", "op": "absent"}],
            },
        },
        "area": {"title": "流转面积", "type": "number", "x-formula": {"sum": "land.transfer_area_mu"}},
    }
    task_id, _viewer = aggregate_task(properties=properties, required=[])
    statements = []
    with ledger.connect() as conn:
        task, _report, spec = load_task(conn, task_id)
        event.listen(conn, "before_cursor_execute", lambda *args: statements.append(args[2]))
        found = formula_values(conn, specs, spec, Scope(township=QINGFENG), "township")
        by_village = formula_values(conn, specs, spec, Scope(), "village")
    assert len(statements) == 2, "one query per call, whatever the number of formulas and ledgers"
    assert found == {QINGFENG: {"limb": 2, "sight_or_limb": 3, "none": 1, "area": 17.75}}
    assert by_village[J1] == {"limb": 1, "sight_or_limb": 1, "none": 0, "area": 100}
    assert by_village[Q2] == {"limb": 1, "sight_or_limb": 2, "none": 0, "area": 3}


def test_a_correction_is_a_draft_over_the_computed_value(ledger, specs, aggregate_task, load_task):
    task_id, viewer = aggregate_task()
    with ledger.begin() as conn:
        task, _report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, viewer)
        saved = save_unit_cells(
            ctx, QINGFENG, {"rent_area": "12", "remarks": "3号地块已收回"}, expected_version=0
        )
        assert saved.errors == {}
        cell = saved.row.cells["rent_area"]
        assert (cell.value, cell.state) == (12, "edited") and saved.row.complete
        draft = conn.execute(select(TaskRow).where(TaskRow.task_id == task_id)).one()
        assert (draft.row_key, draft.record_id, draft.status) == (QINGFENG, None, "unit")
        assert draft.base == {"rent_area": 13.5}, "the computed value the filler corrected"
        with pytest.raises(StaleRow):
            save_unit_cells(ctx, QINGFENG, {"rent_area": "11"}, expected_version=0)
        bad = save_unit_cells(ctx, QINGFENG, {"sale_area": "很多"}, expected_version=1)
        assert "sale_area" in bad.errors and bad.row.cells["sale_area"].value == "很多"
        back = save_unit_cells(ctx, QINGFENG, {"sale_area": "0", "rent_area": ""}, expected_version=2)
        assert back.errors == {}
        assert (back.row.cells["rent_area"].value, back.row.cells["rent_area"].state) == (13.5, "prefilled")
        assert conn.execute(select(TaskRow.values)).scalar_one() == {"remarks": "3号地块已收回"}
        [row] = unit_rows(ctx)
        assert row.cells["remarks"].value == "3号地块已收回" and row.draft_version == 3
        counts = task_counts(ctx)
        assert (counts.rows, counts.prefilled, counts.to_fill, counts.complete) == (1, 12, 0, 1)
        with pytest.raises(Exception, match="不在本任务中"):
            save_unit_cells(ctx, JINLONG, {"rent_area": "1"}, expected_version=0)


def test_submission_validates_unit_rows_and_writes_nothing_back(ledger, specs, aggregate_task, load_task):
    task_id, viewer = aggregate_task()
    with ledger.begin() as conn:
        task, report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, viewer)
        versions = conn.execute(select(func.count()).select_from(RecordVersion)).scalar_one()
        save_unit_cells(ctx, QINGFENG, {"transferred_area": "-3"}, expected_version=0)
        with pytest.raises(TaskInvalid) as refused:
            submit_task(ctx, report)
        [problem] = refused.value.problems
        assert (problem.ref, problem.label, problem.field) == ("u500118100", "青峰镇", "transferred_area")
        save_unit_cells(ctx, QINGFENG, {"transferred_area": "18"}, expected_version=1)
        result = submit_task(ctx, report)
        assert result.rows == 1 and result.written.records == 0
        assert (result.cells.prefilled, result.cells.typed) == (11, 1)
        assert conn.execute(select(Task.state).where(Task.id == task_id)).scalar_one() == "submitted"
        assert conn.execute(select(func.count()).select_from(RecordVersion)).scalar_one() == versions


def test_task_workbook_goes_out_and_comes_back_by_org_unit(
    ledger, specs, aggregate_task, load_task, tmp_path: Path
):
    import openpyxl

    task_id, viewer = aggregate_task()
    target = tmp_path / "task.xlsx"
    with ledger.begin() as conn:
        task, _report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, viewer)
        assert write_task_xlsx(ctx, target) == 1
        table = read_table(target.read_bytes(), "task.xlsx", max_bytes=10_000_000)
        assert table[0][:4] == [
            ROW_COLUMN,
            "单位名称",
            "流转总体情况·流转地块数",
            "流转总体情况·流转面积合计（亩）",
        ]
        assert table[1][:4] == ["u500118100", "青峰镇", 3, 17.75]
        book = openpyxl.load_workbook(target)
        sheet = book.active
        sheet.cell(row=2, column=4, value=20)
        sheet.cell(row=2, column=15, value="与实地核对后改正")
        sheet.append(["u500118101", "金龙镇"])
        book.save(target)
        result = read_task_xlsx(ctx, target.read_bytes(), "task.xlsx", max_bytes=10_000_000)
        assert [line.outcome for line in result.lines] == ["saved", "unknown"]
        [row] = unit_rows(ctx)
        assert row.cells["transferred_area"].value == 20 and row.cells["remarks"].value == "与实地核对后改正"
        assert row.cells["rent_area"].state == "prefilled", "unchanged cells stay the ledgers' figures"
        with pytest.raises(Exception, match="汇总报表"):
            next(iter_task_columns(ctx))


def test_values_follow_the_ledger_until_corrected(ledger, specs, aggregate_task, load_task):
    task_id, viewer = aggregate_task()
    with ledger.begin() as conn:
        upsert(
            conn,
            specs.ledgers["land"],
            [parcel(6, Q2, is_transferred=True, transfer_form="转包", transfer_area_mu=2.5)],
            Provenance("visit"),
            scope=DISTRICT,
        )
        task, _report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, viewer)
        values = task_values(ctx)[QINGFENG]
    names = ("transferred_parcels", "transferred_area", "subcontract_area")
    assert [values[k] for k in names] == [4, 20.25, 2.5]


def test_many_tasks_merge_in_two_queries_and_extraction_is_the_unchanged_rows(
    ledger, specs, aggregate_task, load_task
):
    task_id, viewer = aggregate_task()
    with ledger.begin() as conn:
        task, _report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, viewer)
        save_unit_cells(ctx, QINGFENG, {"rent_parcels": "5"}, expected_version=0)
        tasks = [load_task(conn, t)[0] for t in conn.scalars(select(Task.id).order_by(Task.org_unit_code))]
        statements = []
        event.listen(conn, "before_cursor_execute", lambda *args: statements.append(args[2]))
        merged = merged_tasks(conn, specs, spec, tasks, today=date(2026, 12, 1))
        assert len(statements) == 2, "one aggregate query and one query of the drafts for all tasks"
        units = [t.org_unit_code for t in tasks]
        extracted = extracted_rows(conn, specs, spec, units, today=date(2026, 12, 1))
    rows = {unit.code: values for _task, unit, values in merged}
    assert len(rows) == 16
    assert (rows[QINGFENG]["rent_parcels"], rows[QINGFENG]["transferred_area"]) == (5, 17.75)
    assert rows[JINLONG]["transferred_area"] == 100 and rows["500118115"]["transferred_parcels"] == 0
    unchanged = {unit.code: values for unit, values in extracted}
    assert unchanged[QINGFENG]["rent_parcels"] == 2, "extraction reads the ledgers, not the drafts"
    others = {c: v for c, v in rows.items() if c != QINGFENG}
    assert {c: v for c, v in unchanged.items() if c != QINGFENG} == others


def test_the_summary_adds_up_unit_rows_live_and_as_submitted(ledger, specs, aggregate_task, load_task):
    from runtime.tasks.summary import summarize

    task_id, viewer = aggregate_task()
    with ledger.begin() as conn:
        task, report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, viewer)
        live = summarize(conn, specs, spec, report, live=True)
        lines = {line.code: line for line in live.by_unit}
        assert (lines[QINGFENG].rows, lines[QINGFENG].sums["transferred_area"]) == (1, 17.75)
        assert lines[JINLONG].sums["transferred_area"] == 100.0 and live.total.sums["rent_parcels"] == 3
        save_unit_cells(ctx, QINGFENG, {"transferred_area": "18"}, expected_version=0)
        submit_task(ctx, report)
        submitted = summarize(conn, specs, spec, report)
    assert [(line.code, line.sums["transferred_area"]) for line in submitted.by_unit] == [(QINGFENG, 18.0)]
