"""Submit, return, resubmit; write-back with provenance; conflicts with a newer ledger value."""

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from runtime.ledgers.store import Provenance, get, history, update_record
from runtime.models import ProposedChange, Task, User
from runtime.org_scope import DISTRICT
from runtime.reports.store import ReportError
from runtime.tasks.drafts import save_cells
from runtime.tasks.prefill import task_page
from runtime.tasks.submission import TaskInvalid, return_task, submit_task
from tests.conftest import make_ctx

ZHONGSHANLU = "500118001"
#: A small report over persons with a disability: two write-back fields and one optional custom.
FIELDS = {
    "properties": {
        "name": {"x-element": "person.name"},
        "phone": {"x-element": "person.phone"},
        "guardian_phone": {"x-element": "person.guardian_phone", "x-writeback": False},
        "visited": {"title": "是否已走访", "type": "boolean"},
    },
    "required": ["name"],
    "x-justification": "电话回访核实",
}


@pytest.fixture
def setup(zhongshanlu_task, load_task, district):
    """The admitted small report, 中山路街道's task, and its filler."""
    task_id, filler = zhongshanlu_task(**FIELDS)
    with district.connect() as conn:
        return task_id, load_task(conn, task_id)[1].code, filler


def test_changed_values_flow_back_with_provenance_once(load_task, district, specs, setup, actor_of):
    task_id, code, filler = setup
    persons = specs.ledgers["person"]
    with district.begin() as conn:
        task, report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, filler)
        row = task_page(ctx, limit=1).rows[0]
        save_cells(
            ctx,
            row.record_id,
            {"phone": "13700001111", "guardian_phone": "13700002222", "visited": "是"},
            expected_version=0,
        )
        result = submit_task(ctx, report)
        assert (result.written.records, result.written.conflicts) == (1, 0) and result.rows > 0
        assert result.cells.typed == 3, "phone, guardian phone and visited were typed"
        assert result.cells.prefilled >= result.rows, "every row's name at least came from the ledger"
        stored = conn.execute(select(Task.cells_prefilled, Task.cells_typed).where(Task.id == task_id)).one()
        assert tuple(stored) == (result.cells.prefilled, 3)
        record = get(conn, persons, row.record_id)
        assert record["phone"] == "13700001111"
        assert record.get("guardian_phone") != "13700002222", "x-writeback false stays in the report"
        newest = history(conn, row.record_id)[0]
        assert (newest["source"], newest["source_ref"], newest["new"]) == (
            "writeback",
            f"{code}#task-{task_id}",
            {"phone": "13700001111"},
        )
        assert conn.execute(select(Task.state).where(Task.id == task_id)).scalar_one() == "submitted"
    with Session(district) as session, session.begin():
        task, report, spec = load_task(session.connection(), task_id)
        with pytest.raises(ReportError, match="原因"):
            return_task(session.connection(), task, report, actor_of(session, "canlian"), " ")
        return_task(session.connection(), task, report, actor_of(session, "canlian"), "请补充走访情况")
    with district.begin() as conn:
        task, report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, filler)
        assert (task.state, task.returned_reason) == ("returned", "请补充走访情况")
        versions = len(history(conn, row.record_id))
        again = submit_task(ctx, report)
        assert again.written.records == 0, "the same values again write no new versions"
        assert len(history(conn, row.record_id)) == versions


def test_a_newer_ledger_value_is_not_overwritten_but_recorded(load_task, district, specs, setup):
    task_id, _code, filler = setup
    persons = specs.ledgers["person"]
    with district.begin() as conn:
        task, report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, filler)
        row = task_page(ctx, limit=1).rows[0]
        save_cells(ctx, row.record_id, {"phone": "13700001111"}, expected_version=0)
        # Meanwhile a ledger import changes the same phone.
        record = get(conn, persons, row.record_id)
        update_record(
            conn,
            persons,
            row.record_id,
            record["_version"],
            {"phone": "13911112222"},
            Provenance("import", "民政系统.xlsx"),
            scope=DISTRICT,
        )
        result = submit_task(ctx, report)
        assert (result.written.records, result.written.conflicts) == (0, 1)
        assert get(conn, persons, row.record_id)["phone"] == "13911112222"
        conflict = conn.execute(select(ProposedChange)).one()
        assert (conflict.source, conflict.field, conflict.new_value, conflict.status) == (
            "conflict",
            "phone",
            "13700001111",
            "pending",
        )
        assert conflict.old_value == record["phone"], (
            "the value the township saw, which the ledger no longer holds"
        )


def test_a_task_with_bad_cells_cannot_be_submitted(load_task, district, specs, setup):
    task_id, _code, filler = setup
    with district.begin() as conn:
        task, report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, filler)
        rows = task_page(ctx, limit=2).rows
        save_cells(ctx, rows[1].record_id, {"phone": "12345"}, expected_version=0)
        with pytest.raises(TaskInvalid) as refused:
            submit_task(ctx, report)
        assert refused.value.total == 1
        [problem] = refused.value.problems
        assert (problem.record_id, problem.field, problem.title) == (rows[1].record_id, "phone", "联系电话")
        assert conn.execute(select(Task.state).where(Task.id == task_id)).scalar_one() == "in_progress"


def test_the_owner_settles_a_conflict_either_way(load_task, district, specs, setup, actor_of):
    """The phone's owner has no demo login: the administrator decides its conflicts."""
    from runtime.sharing.proposals import accept, reject

    task_id, _code, filler = setup
    persons = specs.ledgers["person"]
    with district.begin() as conn:
        task, report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, filler)
        rows = task_page(ctx, limit=2).rows
        for row in rows:
            save_cells(ctx, row.record_id, {"phone": "13700001111"}, expected_version=0)
            record = get(conn, persons, row.record_id)
            update_record(
                conn,
                persons,
                row.record_id,
                record["_version"],
                {"phone": "13911112222"},
                Provenance("import", "民政系统.xlsx"),
                scope=DISTRICT,
            )
        assert submit_task(ctx, report).written.conflicts == 2
        first, second = conn.execute(select(ProposedChange.id).order_by(ProposedChange.id)).scalars()
        admin = conn.execute(select(User.id).where(User.username == "admin")).scalar_one()
        assert accept(conn, specs, [first], user_id=admin).moved == [first], "the ledger moved on: confirm"
        assert accept(conn, specs, [first], user_id=admin, confirmed=[first]).done == [first]
        assert reject(conn, specs, [second], "台账值已由民政系统核实", user_id=admin).done == [second]
        assert reject(conn, specs, [first], "晚了", user_id=admin).gone == [first]
        assert get(conn, persons, rows[0].record_id)["phone"] == "13700001111"
        assert get(conn, persons, rows[1].record_id)["phone"] == "13911112222"
        newest = history(conn, rows[0].record_id)[0]
        assert (newest["source"], newest["actor"]) == ("conflict", "系统管理员")
        assert newest["source_ref"].startswith(f"变更#{first}，中山路街道填报员提出")
