"""Dispatch to org units and the pre-filled rows of a task, on a seeded tiny district."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from builder.reports.spec import load_reports
from runtime.access import Viewer
from runtime.clock import local_today
from runtime.ledgers.store import Query, Scope, count, read_all
from runtime.models import AuditEntry, Record, Task, TaskRow, utcnow
from runtime.reports.store import ReportError, create_report
from runtime.tasks.dispatch import dispatch, task_list
from runtime.tasks.prefill import task_page
from tests.conftest import make_ctx

ZHONGSHANLU = "500118001"


def test_dispatch_creates_one_task_per_township_once(district, specs, admit_sample, actor_of):
    with Session(district) as session, session.begin():
        report = admit_sample(session)
        tasks = dispatch(session, specs, report, actor_of(session, "canlian"))
        assert len(tasks) == 23 and {t.state for t in tasks} == {"new"}
        assert {t.deadline for t in tasks} == {local_today() + timedelta(days=20)}
        again = dispatch(session, specs, report, actor_of(session, "canlian"))
        assert [t.id for t in again] == [t.id for t in tasks]
        assert session.scalar(select(func.count()).select_from(Task)) == 23
        events = session.scalars(select(AuditEntry.action).where(AuditEntry.action == "task.dispatch"))
        assert list(events) == ["task.dispatch"]


def test_dispatch_to_a_chosen_set_and_the_refusals(district, specs, admit_sample, actor_of):
    with Session(district) as session, session.begin():
        report = admit_sample(session, "land_transfer_check", "nongye")
        nongye = actor_of(session, "nongye")
        with pytest.raises(ReportError, match="中山路街道 不在"):
            dispatch(session, specs, report, nongye, ["500118001"])  # a street; the check targets towns
        tasks = dispatch(session, specs, report, nongye, ["500118100", "500118101"])
        assert [t.org_unit_code for t in tasks] == ["500118100", "500118101"]
        with pytest.raises(ReportError, match="所属部门"):
            dispatch(session, specs, report, actor_of(session, "canlian"))
        draft = create_report(
            session,
            nongye,
            load_reports(specs.root, specs)["land_transfer_check"].document
            | {"x-report": "another_land_check"},
        )
        with pytest.raises(ReportError, match="已准入"):
            dispatch(session, specs, draft, nongye)


def test_task_lists_show_state_progress_and_overdue(district, specs, admit_sample, actor_of):
    with Session(district) as session, session.begin():
        report = admit_sample(session)
        tasks = dispatch(session, specs, report, actor_of(session, "canlian"))
        mine = next(t for t in tasks if t.org_unit_code == ZHONGSHANLU)
        mine.rows_total, mine.rows_complete, mine.state = 40, 10, "in_progress"
        session.flush()
        [line] = task_list(session, [ZHONGSHANLU])
        assert (line.state, line.percent, line.days_left) == ("in_progress", 25, 20)
        late = task_list(session, [ZHONGSHANLU], today=local_today() + timedelta(days=21))
        assert late[0].state == "overdue"


def test_a_task_holds_its_townships_matching_records_prefilled_and_masked(
    district, specs, admit_sample, actor_of
):
    with Session(district) as session, session.begin():
        report = admit_sample(session)
        task = next(
            t
            for t in dispatch(session, specs, report, actor_of(session, "canlian"))
            if t.org_unit_code == ZHONGSHANLU
        )
        task_id = task.id
    viewer = Viewer(None, "township", township=ZHONGSHANLU)
    with district.connect() as conn:
        task = conn.execute(select(Task).where(Task.id == task_id)).one()
        ctx = make_ctx(conn, specs, task, viewer)
        spec = ctx.spec
        persons = specs.ledgers["person"]
        expected = count(
            conn,
            Query(persons, Scope(township=ZHONGSHANLU), conditions=(("disability_grade", "present", None),)),
        )
        rows, after = [], None
        while True:
            found = task_page(ctx, after=after, limit=20)
            rows += found.rows
            if found.next_after is None:
                break
            after = found.next_after
        assert len(rows) == expected > 0
        ledger = {r["_key"]: r for r in read_all(conn, Query(persons, Scope(township=ZHONGSHANLU)))}
    assert all(ledger[row.key]["township_code"] == ZHONGSHANLU for row in rows)
    assert all(ledger[row.key].get("disability_grade") for row in rows)
    row = rows[0]
    person = ledger[row.key]
    grade = row.cells["disability_grade"]
    assert (grade.value, grade.state) == (person["disability_grade"], "prefilled")
    assert grade.source == "演示数据生成"
    id_cell = row.cells["id_number"]
    assert id_cell.masked and id_cell.value != person["id_number"]
    assert id_cell.value.endswith(person["id_number"][-4:])
    assert row.cells["name"].value == person["name"], "a township sees its own people's names"
    born = row.cells["birth_date"]
    assert born.masked and born.value == person["birth_date"][:4] + "年", "beside a masked ID: the year"
    assert (row.cells["age"].value, row.cells["age"].state) == (None, "computed"), (
        "computed from what is seen: an age on the deadline would tell which side of it the birthday falls"
    )
    customs = [f.name for f in spec.fields if not f.element and not f.compute]
    assert customs and all(row.cells[name].state == "gap" for name in customs)
    assert not row.complete


def test_a_draft_goes_over_the_ledger_value(district, specs, admit_sample, actor_of):
    with Session(district) as session, session.begin():
        report = admit_sample(session)
        task = next(
            t
            for t in dispatch(session, specs, report, actor_of(session, "canlian"))
            if t.org_unit_code == ZHONGSHANLU
        )
        ctx = make_ctx(session.connection(), specs, task, Viewer(None, "township", township=ZHONGSHANLU))
        first = task_page(ctx, limit=1).rows[0]
        session.add(
            TaskRow(
                task_id=task.id,
                record_id=first.record_id,
                row_key=first.key,
                values={"phone": "1380000000"},
                base={"phone": None},
                errors={"phone": "联系电话格式不对"},
                status="active",
                reason="",
                complete=False,
                version=3,
                updated_at=utcnow(),
            )
        )
        session.flush()
        again = task_page(ctx, limit=1).rows[0]
    phone = again.cells["phone"]
    assert (phone.value, phone.state, phone.error) == ("1380000000", "edited", "联系电话格式不对")
    assert again.draft_version == 3 and "phone" in again.gaps


def test_person_rows_take_household_values_through_the_household_number(
    district, specs, admit_sample, actor_of
):
    with Session(district) as session, session.begin():
        report = admit_sample(session, "low_income_review", "minzheng", **{"x-frequency": "once"})
        task = next(
            t
            for t in dispatch(session, specs, report, actor_of(session, "minzheng"))
            if t.org_unit_code == ZHONGSHANLU
        )
        ctx = make_ctx(session.connection(), specs, task, Viewer(None, "township", township=ZHONGSHANLU))
        spec = ctx.spec
        rows = task_page(ctx, limit=5).rows
        household_fields = [f.name for f in spec.fields if (f.element or "").startswith("household.")]
        assert rows and household_fields
        person = _data(
            session.scalar(select(Record.data).where(Record.ledger == "person", Record.key == rows[0].key))
        )
        household = _data(
            session.scalar(
                select(Record.data).where(Record.ledger == "household", Record.key == person["household_no"])
            )
        )
    binding = next(f for f in spec.fields if f.name in household_fields and f.element == "household.size")
    assert rows[0].cells[binding.name].value == household["size"]


def _data(value):
    return value if isinstance(value, dict) else json.loads(value)
