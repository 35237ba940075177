"""Write-back across a return: the values submitted last count; the check and the update are one step.

Conflicts go into the queue of the element's owner (proposals with source `conflict`); the phone's
owner (区大数据发展局) has no demo login, so the administrator decides them here.
"""

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from runtime.ledgers.store import Provenance, get, history, update_record
from runtime.models import ProposedChange, TaskRow, User
from runtime.org_scope import DISTRICT
from runtime.sharing.proposals import accept
from runtime.tasks.drafts import save_cells
from runtime.tasks.prefill import task_page
from runtime.tasks.submission import return_task, submit_task
from runtime.tasks.writeback import apply, plan
from tests.conftest import make_ctx

FIELDS = {
    "properties": {
        "name": {"x-element": "person.name"},
        "phone": {"x-element": "person.phone"},
        "visited": {"title": "是否已走访", "type": "boolean"},
    },
    "required": ["name"],
    "x-justification": "电话回访核实",
}
T0, T7, LEDGER = "13700000000", "13777777777", "13911112222"


@pytest.fixture
def task(zhongshanlu_task, load_task, district, specs):
    """中山路街道's task of the small report, its filler and the first row's record id."""
    task_id, filler = zhongshanlu_task(**FIELDS)
    with district.connect() as conn:
        task, _report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, filler)
        record_id = task_page(ctx, limit=1).rows[0].record_id
    return task_id, filler, record_id


def _type(district, specs, load_task, task_id, filler, record_id, phone):
    """Type a phone number into the row, as the filler does in the grid."""
    with district.begin() as conn:
        task, _report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, filler)
        version = (
            conn.execute(
                select(TaskRow.version).where(TaskRow.task_id == task_id, TaskRow.record_id == record_id)
            ).scalar()
            or 0
        )
        save_cells(ctx, record_id, {"phone": phone}, expected_version=version)


def _import(district, specs, record_id, phone):
    """Change the record's phone as an import would, in its own transaction."""
    persons = specs.ledgers["person"]
    with district.begin() as conn:
        record = get(conn, persons, record_id)
        update_record(
            conn,
            persons,
            record_id,
            record["_version"],
            {"phone": phone},
            Provenance("import", "民政系统.xlsx"),
            scope=DISTRICT,
        )


def _submit(district, specs, load_task, task_id, filler):
    with district.begin() as conn:
        task, report, spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task, filler)
        return submit_task(ctx, report).written


def _return(district, load_task, actor_of, task_id):
    with Session(district) as session, session.begin():
        task, report, _spec = load_task(session.connection(), task_id)
        return_task(session.connection(), task, report, actor_of(session, "canlian"), "请核实电话")


def _conflicts(district, status="pending"):
    """Return (id, township value, status) of the conflicts in the owners' queue."""
    with district.connect() as conn:
        return conn.execute(
            select(ProposedChange.id, ProposedChange.new_value, ProposedChange.status)
            .where(ProposedChange.source == "conflict", ProposedChange.status == status)
            .order_by(ProposedChange.id)
        ).all()


def _phone(district, specs, record_id):
    with district.connect() as conn:
        return get(conn, specs.ledgers["person"], record_id).get("phone")


def _take(district, specs, conflict_id):
    """Take the township's value, as the administrator confirms it over the ledger's newer one."""
    with district.begin() as conn:
        admin = conn.execute(select(User.id).where(User.username == "admin")).scalar_one()
        return accept(conn, specs, [conflict_id], user_id=admin, confirmed=[conflict_id])


def test_a_resubmitted_value_replaces_the_one_in_its_open_conflict(
    district, specs, load_task, actor_of, task
):
    """Submit T0 against a newer ledger value, get it returned, resubmit T7: the owner decides on T7."""
    task_id, filler, record_id = task
    _type(district, specs, load_task, task_id, filler, record_id, T0)
    _import(district, specs, record_id, LEDGER)
    first = _submit(district, specs, load_task, task_id, filler)
    assert (first.records, first.conflicts) == (0, 1)
    [(first_id, township, _status)] = _conflicts(district)
    assert township == T0
    _return(district, load_task, actor_of, task_id)
    again = _submit(district, specs, load_task, task_id, filler)
    assert _conflicts(district) == [(first_id, T0, "pending")], "the same value submitted again stands"
    _return(district, load_task, actor_of, task_id)
    _type(district, specs, load_task, task_id, filler, record_id, T7)
    again = _submit(district, specs, load_task, task_id, filler)
    assert (again.records, again.conflicts) == (0, 1), "the resubmitted value is still in conflict"
    [(conflict_id, township, _status)] = _conflicts(district)
    assert township == T7, "one conflict in the queue, with T7"
    assert [c.id for c in _conflicts(district, "superseded")] == [first_id]
    assert _take(district, specs, conflict_id).done == [conflict_id]
    assert _phone(district, specs, record_id) == T7


def test_a_resubmission_that_drops_its_value_withdraws_the_conflict(
    district, specs, load_task, actor_of, task
):
    """Resubmitting the ledger's own value asks for nothing: the open conflict is withdrawn."""
    task_id, filler, record_id = task
    _type(district, specs, load_task, task_id, filler, record_id, T0)
    _import(district, specs, record_id, LEDGER)
    _submit(district, specs, load_task, task_id, filler)
    _return(district, load_task, actor_of, task_id)
    _type(district, specs, load_task, task_id, filler, record_id, LEDGER)
    assert _submit(district, specs, load_task, task_id, filler).conflicts == 0
    assert _conflicts(district) == []
    [(conflict_id, _township, _status)] = _conflicts(district, "withdrawn")
    assert _take(district, specs, conflict_id).gone == [conflict_id]
    assert _phone(district, specs, record_id) == LEDGER


def test_a_resubmission_corrects_the_value_its_first_submission_wrote(
    district, specs, load_task, actor_of, task
):
    """T0 written, the task returned, T7 resubmitted: T7 is written (no conflict with its own T0)."""
    task_id, filler, record_id = task
    _type(district, specs, load_task, task_id, filler, record_id, T0)
    assert _submit(district, specs, load_task, task_id, filler).records == 1
    _return(district, load_task, actor_of, task_id)
    _type(district, specs, load_task, task_id, filler, record_id, T7)
    again = _submit(district, specs, load_task, task_id, filler)
    assert (again.records, again.conflicts) == (1, 0)
    assert _phone(district, specs, record_id) == T7
    assert _conflicts(district) == []
    with district.connect() as conn:
        assert [v["new"] for v in history(conn, record_id)[:2]] == [{"phone": T7}, {"phone": T0}]


def test_a_change_committed_between_the_check_and_the_update_becomes_a_conflict(
    district, specs, load_task, task
):
    """The write-back decides on one connection; an import commits on another; nothing is overwritten."""
    task_id, filler, record_id = task
    _type(district, specs, load_task, task_id, filler, record_id, T0)
    with district.connect() as conn:
        task_row, report, _spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task_row, filler)
        planned = plan(ctx)  # the check: the ledger still holds the base value
        _import(district, specs, record_id, LEDGER)  # committed by another connection meanwhile
        written = apply(ctx, planned, report.code)
        conn.commit()
    assert (written.records, written.conflicts) == (0, 1)
    assert _phone(district, specs, record_id) == LEDGER, "the import's value is not overwritten"
    [(_id, township, _status)] = _conflicts(district)
    assert township == T0


def test_a_corrected_name_waits_for_its_owner_while_the_phone_is_written(district, specs, load_task, task):
    """姓名 is 区公安分局's: the township's correction is proposed to it; 联系电话 (direct) is written."""
    task_id, filler, record_id = task
    with district.begin() as conn:
        task_row, _report, _spec = load_task(conn, task_id)
        ctx = make_ctx(conn, specs, task_row, filler)
        name = get(conn, specs.ledgers["person"], record_id)["name"]
        version = conn.execute(
            select(TaskRow.version).where(TaskRow.task_id == task_id, TaskRow.record_id == record_id)
        ).scalar()
        save_cells(ctx, record_id, {"name": name + "华", "phone": T7}, expected_version=version or 0)
    written = _submit(district, specs, load_task, task_id, filler)
    assert (written.records, written.proposed, written.conflicts) == (1, 1, 0)
    with district.begin() as conn:
        record = get(conn, specs.ledgers["person"], record_id)
        assert (record["name"], record["phone"]) == (name, T7)
        proposal = conn.execute(select(ProposedChange)).one()
        assert (proposal.source, proposal.field, proposal.old_value, proposal.new_value) == (
            "writeback",
            "name",
            name,
            name + "华",
        )
        assert proposal.evidence.endswith("中山路街道填报") and proposal.source_ref.endswith(
            f"#task-{task_id}"
        )
        gongan = conn.execute(select(User.id).where(User.username == "gongan")).scalar_one()
        assert accept(conn, specs, [proposal.id], user_id=gongan).done == [proposal.id]
        assert get(conn, specs.ledgers["person"], record_id)["name"] == name + "华"
        newest = history(conn, record_id)[0]
        assert (newest["source"], newest["actor"]) == ("writeback", "区公安分局 吴勇")
