"""The queue page (待审变更): a grid worker's visit proposes, 区公安分局 reads it in clear and decides.

Spec facts (form_specs/catalog/person.json): 人员状态 and 姓名 are 区公安分局's, 救助类别 区民政局's,
联系电话 区大数据发展局's with `field_edit: direct` (no demo login: the administrator decides).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from runtime.ledgers.store import Provenance, get, history, update_record
from runtime.models import ProposedChange, Record, User
from runtime.org_scope import DISTRICT

VILLAGE = "500118001001"


def _villagers(engine, n: int = 1) -> list[int]:
    """Return the first `n` persons of wangge's village."""
    with engine.connect() as conn:
        stmt = select(Record.id).where(Record.ledger == "person", Record.village_code == VILLAGE)
        return conn.execute(stmt.order_by(Record.id).limit(n)).scalars().all()


def _person(engine, specs, rid: int) -> dict:
    with engine.connect() as conn:
        return get(conn, specs.ledgers["person"], rid)


@pytest.fixture
def visited(fresh_client, fresh_auth, form_values, engine):
    """wangge (left logged in) sets 人员状态 to 死亡, 救助类别 to 低保 on a visit; the person, the answer."""
    [rid] = _villagers(engine)
    fresh_auth.login("wangge")
    form = form_values(fresh_client.get(f"/ledgers/person/records/{rid}/edit").get_data(as_text=True))
    changes = {"residence_status": "死亡", "assistance_type": "低保", "evidence": "家属告知，死亡证明 Y-0412"}
    return rid, fresh_client.post(f"/ledgers/person/records/{rid}/edit", data=form | changes)


def _ids(engine, field: str | None = None) -> list[int]:
    stmt = select(ProposedChange.id).where(ProposedChange.status == "pending").order_by(ProposedChange.id)
    with engine.connect() as conn:
        return conn.execute(stmt.where(ProposedChange.field == field) if field else stmt).scalars().all()


def test_the_grid_worker_is_told_what_waits_for_whom(fresh_client, fresh_auth, engine, specs, visited):
    rid, response = visited
    assert response.status_code == 302
    before = _person(engine, specs, rid)
    assert before.get("residence_status") != "死亡" and before["_version"] == 1, "the ledger waits"
    page = fresh_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已提交区公安分局审核：人员状态；已提交区民政局审核：救助类别；审核通过后台账才会修改" in page
    pending = page[page.index('id="pending"') :]
    assert "<ins>死亡</ins>" in pending and "待区公安分局审核" in pending and "<ins>低保</ins>" in pending
    form = fresh_client.get(f"/ledgers/person/records/{rid}/edit").get_data(as_text=True)
    assert "须区公安分局审核" in form and "已提交待审：死亡" in form
    assert not re.search(r'for="f-phone">联系电话[^<]*<small class="review-by"', form), "phones apply at once"


def test_the_owner_accepts_and_the_version_names_both(fresh_client, fresh_auth, engine, specs, visited):
    rid, _response = visited
    [death] = _ids(engine, "residence_status")
    fresh_auth.logout()
    fresh_auth.login("gongan")
    nav = fresh_client.get("/ledgers").get_data(as_text=True).split('class="mainnav"', 1)[1]
    assert re.search(r'>待审变更\s*<span class="nav-count"[^>]*>1</span>', nav), (
        "the count is 区公安分局's only"
    )
    page = fresh_client.get("/proposals/").get_data(as_text=True)
    person = _person(engine, specs, rid)
    assert person["name"] in page, "区公安分局 owns 姓名: in clear"
    assert "人员状态" in page and "<ins>死亡</ins>" in page and "家属告知，死亡证明 Y-0412" in page
    assert "低保" not in page, "区民政局's proposal is not 区公安分局's to see"
    response = fresh_client.post("/proposals/accept", data={"ids": str(death), "back": ""})
    assert response.status_code == 302 and response.headers["Location"] == "/proposals/"
    assert "已采纳 1 条变更" in fresh_client.get("/proposals/").get_data(as_text=True)
    after = _person(engine, specs, rid)
    assert (after["residence_status"], after["_version"]) == ("死亡", 2)
    with engine.connect() as conn:
        newest = history(conn, rid)[0]
    assert (newest["source"], newest["actor"]) == ("visit", "区公安分局 吴勇")
    assert newest["source_ref"] == f"变更#{death}，{specs.org_units[VILLAGE].name}网格员提出"
    record = fresh_client.get(f"/ledgers/person/records/{rid}").get_data(as_text=True)
    history_part = record[record.index('id="history"') :]
    assert (
        "日常走访" in history_part and "区公安分局 吴勇" in history_part and f"变更#{death}" in history_part
    )


def test_another_department_sees_the_record_masked_and_must_give_a_reason(
    fresh_client, fresh_auth, engine, specs, visited
):
    rid, _response = visited
    [aid] = _ids(engine, "assistance_type")
    person = _person(engine, specs, rid)
    fresh_auth.logout()
    fresh_auth.login("minzheng")
    page = fresh_client.get("/proposals/").get_data(as_text=True)
    assert "<ins>低保</ins>" in page, "its own element in clear"
    assert person["name"] not in page and person["name"][0] + "*" in page, "姓名 masked as on the ledger"
    assert person["_key"] not in page and person["_key"][-4:] in page
    refused = fresh_client.post(f"/proposals/{aid}/reject", data={"reason": " ", "back": "source=visit"})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert re.search(rf'id="err-reason-{aid}" role="alert">请写明不予采纳的理由', text)
    assert re.search(r'<details class="reject" open>', text), "the refused box stays open"
    done = fresh_client.post(
        f"/proposals/{aid}/reject", data={"reason": "经核查未纳入低保", "back": "source=visit"}
    )
    assert done.headers["Location"] == "/proposals/?source=visit"
    with engine.connect() as conn:
        row = conn.execute(
            select(ProposedChange.status, ProposedChange.reason).where(ProposedChange.id == aid)
        ).one()
    assert tuple(row) == ("rejected", "经核查未纳入低保")
    assert _person(engine, specs, rid).get("assistance_type") == person.get("assistance_type")
    decided = fresh_client.get("/proposals/?status=rejected").get_data(as_text=True)
    assert "经核查未纳入低保" in decided and "区民政局 王强" in decided
    assert (
        fresh_client.post(
            "/proposals/accept", data={"ids": str(_ids(engine, "residence_status")[0])}
        ).status_code
        == 403
    )


def test_bulk_accept_of_a_keepers_corrections(fresh_client, fresh_auth, form_values, engine, specs):
    """Three names corrected by hand go to 区公安分局, who accepts them at once."""
    rids = _villagers(engine, 3)
    fresh_auth.login("keeper")
    for rid in rids:
        form = form_values(fresh_client.get(f"/ledgers/person/records/{rid}/edit").get_data(as_text=True))
        assert (
            fresh_client.post(
                f"/ledgers/person/records/{rid}/edit", data=form | {"name": form["name"] + "某"}
            ).status_code
            == 302
        )
    assert fresh_client.get("/proposals/").status_code == 403, "keepers propose; owners decide"
    fresh_auth.logout()
    fresh_auth.login("gongan")
    page = fresh_client.get("/proposals/?source=edit").get_data(as_text=True)
    assert "人口台账 · 手工修改 <strong>3</strong>" in page
    ids = _ids(engine)
    response = fresh_client.post(
        "/proposals/accept", data={"ids": [str(i) for i in ids], "back": "source=edit"}
    )
    assert response.headers["Location"] == "/proposals/?source=edit"
    assert all(_person(engine, specs, rid)["name"].endswith("某") for rid in rids)
    assert "没有待审的变更" in fresh_client.get("/proposals/").get_data(as_text=True)


def _conflict(engine, specs) -> int:
    """Make a write-back conflict: a township changes a phone the ledger changed meanwhile."""
    from builder.admission.gatekeeping import load_rules
    from builder.reports.spec import load_reports
    from runtime.access import Viewer
    from runtime.clock import local_today
    from runtime.demo.report_grants import grant_for_report
    from runtime.reports.admission import decide, submit
    from runtime.reports.specs import document_spec
    from runtime.reports.store import Actor, create_report
    from runtime.tasks.dispatch import dispatch
    from runtime.tasks.drafts import save_cells
    from runtime.tasks.prefill import task_page
    from runtime.tasks.submission import submit_task
    from tests.conftest import make_ctx

    def actor(session, username):
        user = session.scalar(select(User).where(User.username == username))
        return Actor(user.id, user.role, user.department_id)

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
        canlian = actor(session, "canlian")
        report = create_report(session, canlian, document)
        grant_for_report(session.connection(), specs, canlian.department_id, document)
        decide(
            session,
            submit(session, specs, load_rules(specs.root), report, canlian),
            actor(session, "reviewer"),
            "admit",
            "同意",
        )
        task = next(t for t in dispatch(session, specs, report, canlian) if t.org_unit_code == "500118001")
        spec = document_spec(specs, document | {"x-report": report.code})
        filler = Viewer(actor(session, "zhongshanlu").user_id, "township", township="500118001")
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
        assert submit_task(ctx, report).written.conflicts == 1
        return row.record_id


def test_a_write_back_conflict_joins_the_queue(fresh_client, fresh_auth, engine, specs):
    """The phone's owner has no login: an administrator sees the conflict masked and confirms it."""
    rid = _conflict(engine, specs)
    fresh_auth.login("admin")
    page = fresh_client.get("/proposals/?source=conflict").get_data(as_text=True)
    assert "回流冲突" in page and "所有者：区大数据发展局" in page
    assert "139****2222" in page and "137****1111" in page and "13700001111" not in page, "phones stay masked"
    assert "镇街填报时所见为" in page and "仍然采纳" in page
    [conflict] = _ids(engine)
    # Without the confirmation the ledger's newer value is kept and the page says why.
    fresh_client.post("/proposals/accept", data={"ids": str(conflict)})
    assert "台账的值已被改过，未采纳" in fresh_client.get("/proposals/").get_data(as_text=True)
    assert _person(engine, specs, rid)["phone"] == "13911112222"
    fresh_client.post("/proposals/accept", data={"ids": str(conflict), "confirm": str(conflict)})
    assert _person(engine, specs, rid)["phone"] == "13700001111"
    with engine.connect() as conn:
        assert history(conn, rid)[0]["source"] == "conflict"
