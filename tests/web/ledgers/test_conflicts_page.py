"""The keeper's page of write-back conflicts, with a real conflict made through the runtime."""

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from builder.admission.gatekeeping import load_rules
from builder.reports.spec import load_reports
from runtime.access import Viewer
from runtime.clock import local_today
from runtime.ledgers.store import Provenance, get, update_record
from runtime.models import User, WritebackConflict
from runtime.org_scope import DISTRICT
from runtime.reports.admission import decide, submit
from runtime.reports.specs import document_spec
from runtime.reports.store import Actor, create_report
from runtime.tasks.dispatch import dispatch
from runtime.tasks.drafts import save_cells
from runtime.tasks.prefill import task_page
from runtime.tasks.submission import submit_task
from tests.conftest import make_ctx

ZHONGSHANLU = "500118001"


def _actor(session, username):
    user = session.scalar(select(User).where(User.username == username))
    return Actor(user.id, user.role, user.department_id)


def _conflict(engine, specs) -> int:
    """Make one conflict: a township changes a phone the ledger changed meanwhile."""
    with Session(engine) as session, session.begin():
        document = {
            **load_reports(specs.root, specs)["disability_survey"].document,
            "x-deadline": (local_today() + timedelta(days=20)).isoformat(),
            "properties": {
                "name": {"x-element": "person.name"},
                "phone": {"x-element": "person.phone"},
                "visited": {"title": "是否已走访", "type": "boolean"},
            },
            "required": ["name"],
        }
        canlian = _actor(session, "canlian")
        report = create_report(session, canlian, document)
        decide(
            session,
            submit(session, specs, load_rules(specs.root), report, canlian),
            _actor(session, "reviewer"),
            "admit",
            "同意",
        )
        task = next(t for t in dispatch(session, specs, report, canlian) if t.org_unit_code == ZHONGSHANLU)
        spec = document_spec(specs, document | {"x-report": report.code})
        filler = Viewer(_actor(session, "zhongshanlu").user_id, "township", township=ZHONGSHANLU)
        conn = session.connection()
        ctx = make_ctx(conn, specs, task, filler, spec)
        row = task_page(ctx, limit=1).rows[0]
        save_cells(ctx, row.record_id, {"phone": "13700001111"}, expected_version=0)
        persons = specs.ledgers["person"]
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
        submit_task(ctx, report)
        return row.record_id


def test_the_keeper_sees_the_conflict_masked_and_takes_the_townships_value(
    fresh_app, fresh_client, fresh_auth, engine, specs
):
    record_id = _conflict(engine, specs)
    fresh_auth.login("keeper")
    page = fresh_client.get("/ledgers/conflicts/").get_data(as_text=True)
    assert "联系电话" in page and "137****1111" in page and "139****2222" in page
    assert "13700001111" not in page, "phones stay masked on the keeper's list too"
    with engine.connect() as conn:
        conflict = conn.execute(select(WritebackConflict.id)).scalar_one()
    fresh_client.post(f"/ledgers/conflicts/{conflict}", data={"take": "township"})
    with engine.connect() as conn:
        assert get(conn, specs.ledgers["person"], record_id)["phone"] == "13700001111"
    assert "没有待处理的回流冲突" in fresh_client.get("/ledgers/conflicts/").get_data(as_text=True)
