"""Rows a township adds (a person the ledger lacks), and household fields flowing back."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from runtime.access import Viewer
from runtime.ledgers.store import Provenance, get, get_by_key, history, upsert
from runtime.models import ProposedChange, Record, Task, TaskRow, User
from runtime.org_scope import DISTRICT
from runtime.reports.store import ReportError
from runtime.sharing.proposals import accept
from runtime.tasks.added import (
    AddRefused,
    add_form,
    add_row,
    added_rows,
    remove_added,
    save_added,
)
from runtime.tasks.dispatch import dispatch
from runtime.tasks.drafts import StaleRow, mark_row, save_cells
from runtime.tasks.prefill import task_page
from runtime.tasks.rows.kinds import ensure_rows_total, task_counts
from runtime.tasks.submission import TaskInvalid, return_task, submit_task
from tests.conftest import make_ctx, make_id_number

ZHONGSHANLU = "500118001"
#: The disability survey's answers a new person's row needs besides the key.
ANSWERS = {
    "name": "新登记",
    "disability_grade": "二级",
    "rehab_needs": "康复训练",
    "needs_assistive_device": "否",
    "survey_date": "2026-11-20",
}


@pytest.fixture
def survey(zhongshanlu_task):
    """The disability survey dispatched; 中山路街道's task id and its filler."""
    return zhongshanlu_task()


def _village(specs):
    return specs.villages(ZHONGSHANLU)[0].code


def _extra(specs, **over):
    return {
        "village_code": _village(specs),
        "household_no": "5001180019999",
        "relation_to_head": "户主",
        **over,
    }


def test_the_add_form_asks_the_key_what_a_record_needs_and_a_village(load_task, district, specs, survey):
    task_id, filler = survey
    with district.connect() as conn:
        task, _report, _spec = load_task(conn, task_id)
        form = add_form(make_ctx(conn, specs, task, filler))
    assert form.key.name == "id_number"
    assert [f.name for f in form.fields] == ["id_number", "name"]
    assert [f.name for f in form.extras] == ["household_no", "relation_to_head"]
    assert set(form.derived) == {"gender", "birth_date"}, "taken from the ID number"
    assert {v.code for v in form.villages} == {v.code for v in specs.villages(ZHONGSHANLU)}


def test_a_report_without_the_ledger_key_cannot_add_rows(load_task, district, specs, admit_sample, actor_of):
    with Session(district) as session, session.begin():
        report = admit_sample(
            session,
            **{
                "properties": {
                    "name": {"x-element": "person.name"},
                    "phone": {"x-element": "person.phone"},
                    "visited": {"title": "是否已走访", "type": "boolean"},
                },
                "required": ["name"],
                "x-justification": "电话回访核实",
            },
        )
        task = next(
            t
            for t in dispatch(session, specs, report, actor_of(session, "canlian"))
            if t.org_unit_code == ZHONGSHANLU
        )
        ctx = make_ctx(session.connection(), specs, task, Viewer(None, "township", township=ZHONGSHANLU))
        assert add_form(ctx) is None
        with pytest.raises(ReportError, match="主键"):
            add_row(ctx, {"name": "某人"}, {})


@pytest.mark.parametrize(
    ("key", "extra", "field", "message"),
    [
        ("110101199001011234", {}, "id_number", "校验"),
        ("", {}, "id_number", "请填写"),
        (make_id_number("19800101", 911), {"household_no": ""}, "household_no", "户编号"),
        (make_id_number("19800101", 911), {"relation_to_head": "邻居"}, "relation_to_head", "户主"),
        (make_id_number("19800101", 911), {"village_code": "500118999999"}, "village_code", "村"),
    ],
)
def test_adding_refuses_a_bad_key_or_record_field_and_keeps_nothing(
    load_task, district, specs, survey, key, extra, field, message
):
    task_id, filler = survey
    with district.begin() as conn:
        task, _report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, filler)
        with pytest.raises(AddRefused) as refused:
            add_row(ctx, {"id_number": key, **ANSWERS}, _extra(specs, **extra))
        assert message in refused.value.errors[field]
        assert conn.execute(select(func.count()).select_from(TaskRow)).scalar_one() == 0


def test_adding_refuses_a_key_the_ledger_already_holds_anywhere(load_task, district, specs, survey):
    task_id, filler = survey
    with district.begin() as conn:
        task, _report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, filler)
        elsewhere = conn.execute(
            select(Record.key).where(Record.ledger == "person", Record.township_code != ZHONGSHANLU)
        ).first()[0]
        with pytest.raises(AddRefused) as refused:
            add_row(ctx, {"id_number": elsewhere, **ANSWERS}, _extra(specs))
        assert "不在您的辖区" in refused.value.errors["id_number"]
        assert elsewhere[:6] not in refused.value.errors["id_number"], "nothing of the other record shows"


def test_an_added_row_is_a_draft_that_becomes_a_ledger_record_at_write_back(
    load_task, district, specs, survey, actor_of
):
    task_id, filler = survey
    key = make_id_number("19850607", 912)  # even: female
    persons = specs.ledgers["person"]
    with district.begin() as conn:
        task, report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, filler)
        total = ensure_rows_total(ctx)
        row = add_row(ctx, {"id_number": key, "name": "新登记"}, _extra(specs))
        assert (row.status, row.record_id, row.ref) == ("added", None, f"n{row.added_id}")
        assert row.cells["gender"].value == "女" and row.cells["birth_date"].value == "1985年"
        assert row.cells["birth_date"].masked, "beside the masked key, the date shows its year only"
        assert (row.cells["age"].value, row.cells["age"].state) == (None, "computed"), (
            "an age would tell more of the date than its year; nobody fills it (no gap)"
        )
        assert row.cells["id_number"].masked and key not in str(row.cells["id_number"].value)
        assert "disability_grade" in row.gaps
        with pytest.raises(AddRefused, match="新增"):
            add_row(ctx, {"id_number": key}, _extra(specs))
        assert conn.execute(select(Task.rows_total).where(Task.id == task_id)).scalar_one() == total + 1
        counts = task_counts(ctx)
        assert counts.rows == total + 1
        assert [r.key for r in added_rows(ctx, search="新登")] == [key]
        assert added_rows(ctx, search="别人") == []

        with pytest.raises(TaskInvalid) as refused:
            submit_task(ctx, report)
        mine = [p for p in refused.value.problems if p.added_id == row.added_id]
        assert {p.field for p in mine} >= {"disability_grade", "survey_date"}
        assert all(p.ref == row.ref and p.label == "新登记（新增）" for p in mine)
        with pytest.raises(ReportError, match="不能修改"):
            save_added(ctx, row.added_id, {"id_number": key}, expected_version=row.draft_version)
        with pytest.raises(StaleRow):
            save_added(ctx, row.added_id, {"remarks": "x"}, expected_version=0)
        saved = save_added(
            ctx,
            row.added_id,
            {**{k: v for k, v in ANSWERS.items() if k != "name"}, "phone": "1380000"},
            expected_version=row.draft_version,
        )
        assert saved.errors.keys() == {"phone"}, "kept as typed, with its message"
        saved = save_added(
            ctx, row.added_id, {"phone": "13800001234"}, expected_version=saved.row.draft_version
        )
        assert not {"phone", "disability_grade", "survey_date"} & set(saved.row.gaps)

    # The rest of the task is filled by marking every other row not applicable: it is small.
    with district.begin() as conn:
        task, report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, filler)
        _fill_everything(ctx)
        result = submit_task(ctx, report)
        assert result.written.created == 1
        record = get_by_key(conn, persons, key)
        assert (
            record["name"],
            record["gender"],
            record["household_no"],
            record["village_code"],
            record["disability_grade"],
            record["phone"],
        ) == ("新登记", "女", "5001180019999", _village(specs), "二级", "13800001234")
        created = history(conn, record["_id"])[-1]
        assert (created["source"], created["source_ref"]) == ("writeback", f"{report.code}#task-{task_id}")
        linked = conn.execute(select(TaskRow).where(TaskRow.row_key == key)).one()
        assert (linked.record_id, linked.status) == (record["_id"], "added")
        assert added_rows(ctx) == []
    with Session(district) as session, session.begin():
        task, report, spec = load_task(session.connection(), task_id)
        return_task(session.connection(), task, report, actor_of(session, "canlian"), "请再核对")
    with district.begin() as conn:
        task, report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, filler)
        shown = task_page(ctx, search="新登记").rows
        assert [r.record_id for r in shown] == [record["_id"]], "now a row of its ledger record"
        versions = len(history(conn, record["_id"]))
        again = submit_task(ctx, report)
        assert (again.written.created, again.written.records, again.written.conflicts) == (0, 0, 0)
        assert len(history(conn, record["_id"])) == versions


def _fill_everything(ctx):
    """Mark every ledger row of the task not applicable (the test cares about the added row)."""
    from runtime.tasks.drafts import mark_row

    for row in task_page(ctx, limit=500).rows:
        mark_row(ctx, row.record_id, "不符合条件", expected_version=row.draft_version)


def test_an_added_key_imported_meanwhile_is_not_duplicated(load_task, district, specs, survey, make_person):
    task_id, filler = survey
    persons = specs.ledgers["person"]
    key = make_id_number("19700303", 915)
    with district.begin() as conn:
        task, report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, filler)
        row = add_row(ctx, {"id_number": key, **ANSWERS, "phone": "13800001234"}, _extra(specs))
        assert "phone" not in row.gaps
        imported = make_person(
            id_number=key,
            name="导入名",
            gender="男",
            birth_date="1970-03-03",
            township_code=ZHONGSHANLU,
            village_code=_village(specs),
        )
        upsert(conn, persons, [imported], Provenance("import", "户籍同步"), scope=DISTRICT)
        _fill_everything(ctx)
        result = submit_task(ctx, report)
        assert result.written.created == 0
        assert conn.execute(select(func.count()).where(Record.key == key)).scalar_one() == 1
        record = get_by_key(conn, persons, key)
        assert record["name"] == "导入名", "the ledger's newer value is not overwritten"
        assert record["phone"] == "13800001234", "what the ledger lacked is taken"
        conflict = conn.execute(select(ProposedChange).where(ProposedChange.field == "name")).one()
        assert (conflict.source, conflict.old_value, conflict.new_value) == ("conflict", None, "新登记")
        proposed = conn.execute(
            select(ProposedChange.new_value).where(ProposedChange.field == "disability_grade")
        ).scalar_one()
        assert (proposed, record.get("disability_grade")) == ("二级", None), "区残联's to accept"


def test_a_removed_added_row_is_gone_and_counts_follow(load_task, district, specs, survey):
    task_id, filler = survey
    with district.begin() as conn:
        task, _report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, filler)
        total = ensure_rows_total(ctx)
        typed = {"id_number": make_id_number("19900101", 917), **ANSWERS, "phone": "13800001234"}
        row = add_row(ctx, typed, _extra(specs))
        with pytest.raises(StaleRow):
            remove_added(ctx, row.added_id, expected_version=row.draft_version + 1)
        remove_added(ctx, row.added_id, expected_version=row.draft_version)
        assert conn.execute(select(Task.rows_total).where(Task.id == task_id)).scalar_one() == total
        assert added_rows(ctx) == []


def test_household_fields_flow_into_the_household_record(load_task, district, specs, admit_sample, actor_of):
    report_fields = {
        "properties": {
            "name": {"x-element": "person.name"},
            "home_phone": {"x-element": "household.phone"},
            "address": {"x-element": "household.address", "x-writeback": False},
            "visited": {"title": "是否已走访", "type": "boolean"},
        },
        "required": ["name"],
        "x-justification": "核实家庭联系方式",
        "x-rows": {"ledger": "person"},
    }
    households = specs.ledgers["household"]
    with Session(district) as session, session.begin():
        report = admit_sample(session, **report_fields)
        task = next(
            t
            for t in dispatch(session, specs, report, actor_of(session, "canlian"))
            if t.org_unit_code == ZHONGSHANLU
        )
        filler = Viewer(None, "township", township=ZHONGSHANLU)
        task_id = task.id
    with district.begin() as conn:
        task, report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, filler)
        rows = task_page(ctx, limit=500).rows
        persons = specs.ledgers["person"]
        by_home = {}
        for r in rows:
            by_home.setdefault(get(conn, persons, r.record_id)["household_no"], []).append(r)
        pair = next(members for members in by_home.values() if len(members) >= 2)
        single = next(members[0] for members in by_home.values() if len(members) == 1)
        save_cells(
            ctx, single.record_id, {"home_phone": "13911112222", "address": "别处"}, expected_version=0
        )
        save_cells(ctx, pair[0].record_id, {"home_phone": "13933334444"}, expected_version=0)
        save_cells(ctx, pair[1].record_id, {"home_phone": "13955556666"}, expected_version=0)
        result = submit_task(ctx, report)
        assert result.written.households == 2
        number = get(conn, persons, single.record_id)["household_no"]
        home = get_by_key(conn, households, number)
        assert home["phone"] == "13911112222"
        assert home.get("address") != "别处", "x-writeback false stays in the report"
        newest = history(conn, home["_id"])[0]
        assert (newest["source"], newest["new"]) == ("writeback", {"phone": "13911112222"})
        disagreed = conn.execute(select(ProposedChange).where(ProposedChange.ledger == "household")).one()
        assert (disagreed.source, disagreed.new_value) == ("conflict", "13955556666")


def test_a_village_task_adds_rows_to_its_own_village(load_task, district, specs, admit_sample, actor_of):
    village = _village(specs)
    with Session(district) as session, session.begin():
        report = admit_sample(session, **{"x-targets": [village]})
        task_id = dispatch(session, specs, report, actor_of(session, "canlian"))[0].id
    worker = Viewer(None, "village", township=ZHONGSHANLU, village=village)
    key = make_id_number("19920202", 913)
    with district.begin() as conn:
        task, report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, worker)
        form = add_form(ctx)
        assert form.villages == [], "the village is the task's own"
        extra = {"village_code": "500118999999", "household_no": "5001180019998", "relation_to_head": "户主"}
        row = add_row(ctx, {"id_number": key, "name": "村里新人"}, extra)
        draft = conn.execute(select(TaskRow).where(TaskRow.id == row.added_id)).one()
        assert draft.record["village_code"] == village


def test_a_report_without_gender_or_birth_date_still_makes_a_complete_record(
    load_task, district, specs, zhongshanlu_task
):
    task_id, filler = zhongshanlu_task(
        **{
            "properties": {
                "name": {"x-element": "person.name"},
                "id_number": {"x-element": "person.id_number"},
                "visited": {"title": "是否已走访", "type": "boolean"},
            },
            "required": ["name"],
            "x-justification": "核对走访情况",
        }
    )
    key = make_id_number("19791111", 917)
    with district.begin() as conn:
        task, report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, filler)
        row = add_row(ctx, {"id_number": key, "name": "只有姓名"}, _extra(specs))
        draft = conn.execute(select(TaskRow).where(TaskRow.id == row.added_id)).one()
        assert (draft.record["gender"], draft.record["birth_date"]) == ("男", "1979-11-11")
        _fill_everything(ctx)
        assert submit_task(ctx, report).written.created == 1
        assert get_by_key(conn, specs.ledgers["person"], key)["birth_date"] == "1979-11-11"


def _left_out(conn, specs, township=ZHONGSHANLU, village=None):
    """Return a person of a township (or village) the disability survey's filter leaves out: no grade."""
    persons = specs.ledgers["person"]
    ids = conn.execute(
        select(Record.id)
        .where(
            Record.ledger == "person",
            Record.township_code == township,
            *([Record.village_code == village] if village else []),
        )
        .order_by(Record.id)
    ).scalars()
    return next(r for r in (get(conn, persons, i) for i in ids) if not r.get("disability_grade"))


def test_a_person_the_filter_left_out_is_included_pre_filled_and_stays(load_task, district, specs, survey):
    """A key of the township's own ledger includes that record: the typed cells fill only its gaps."""
    from runtime.tasks.summary import summarize

    task_id, filler = survey
    with district.begin() as conn:
        task, report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, filler)
        total = ensure_rows_total(ctx)
        person = _left_out(conn, specs)
        row = add_row(
            ctx, {"id_number": person["_key"], "name": "另一个名字", "disability_grade": "二级"}, {}
        )
        assert (row.status, row.record_id, row.added_id) == ("active", person["_id"], None)
        assert (row.cells["name"].value, row.cells["name"].state) == (person["name"], "prefilled"), (
            "the ledger's value stays; typing fills gaps only"
        )
        grade = row.cells["disability_grade"]
        assert (grade.value, grade.state) == ("二级", "edited")
        assert get(conn, specs.ledgers["person"], person["_id"]).get("disability_grade") is None, (
            "the ledger changes only at write-back"
        )
        assert task_counts(ctx).rows == total + 1
        assert conn.execute(select(Task.rows_total).where(Task.id == task_id)).scalar_one() == total + 1
        found = task_page(ctx, search=person["name"]).rows
        assert person["_id"] in [r.record_id for r in found], "a row of the task though the filter misses it"
        assert summarize(conn, specs, spec, report, live=True, unit=ZHONGSHANLU).total.rows == total + 1
        in_task = next(r for r in task_page(ctx, limit=5).rows if r.record_id != person["_id"])
        for key in (person["_key"], get(conn, specs.ledgers["person"], in_task.record_id)["_key"]):
            with pytest.raises(AddRefused) as refused:
                add_row(ctx, {"id_number": key}, {})
            assert "已经有这一行" in refused.value.errors["id_number"]

    with district.begin() as conn:
        task, report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, filler)
        for other in task_page(ctx, limit=500).rows:
            if other.record_id != person["_id"]:
                mark_row(ctx, other.record_id, "不符合条件", expected_version=other.draft_version)
        answers = {"rehab_needs": "康复训练", "needs_assistive_device": "否", "survey_date": "2026-11-20"}
        saved = save_cells(ctx, person["_id"], answers, expected_version=row.draft_version)
        assert saved.errors == {}
        result = submit_task(ctx, report)
        assert (result.written.created, result.written.records, result.written.proposed) == (0, 0, 1)
        assert get(conn, specs.ledgers["person"], person["_id"]).get("disability_grade") is None, (
            "残疾等级 is 区残联's: the township's value waits for it"
        )
        proposal = conn.execute(select(ProposedChange.id).where(ProposedChange.record_id == person["_id"]))
        canlian = conn.execute(select(User.id).where(User.username == "canlian")).scalar_one()
        assert accept(conn, specs, [proposal.scalar_one()], user_id=canlian).moved == []
        record = get(conn, specs.ledgers["person"], person["_id"])
        assert (record["disability_grade"], record["name"]) == ("二级", person["name"])
        assert (history(conn, person["_id"])[0]["source"], history(conn, person["_id"])[0]["actor"]) == (
            "writeback",
            "区残联 陈静",
        )


def test_a_village_task_includes_only_its_own_villages_records(
    load_task, district, specs, admit_sample, actor_of
):
    village, other_village = (v.code for v in specs.villages(ZHONGSHANLU)[:2])
    with Session(district) as session, session.begin():
        report = admit_sample(session, **{"x-targets": [village]})
        task_id = dispatch(session, specs, report, actor_of(session, "canlian"))[0].id
    worker = Viewer(None, "village", township=ZHONGSHANLU, village=village)
    with district.begin() as conn:
        task, report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, worker)
        neighbour = _left_out(conn, specs, village=other_village)
        with pytest.raises(AddRefused) as refused:
            add_row(ctx, {"id_number": neighbour["_key"]}, {})
        assert "不在您的辖区" in refused.value.errors["id_number"]
        assert neighbour["_key"][:6] not in refused.value.errors["id_number"]
        mine = _left_out(conn, specs, village=village)
        row = add_row(ctx, {"id_number": mine["_key"]}, {})
        assert row.record_id == mine["_id"]
        assert conn.execute(select(func.count()).select_from(TaskRow)).scalar_one() == 1
