"""Changes proposed to an element's owner: a grid worker's visit waits for 区公安分局, who decides it.

Spec facts the tests lean on (form_specs/catalog/person.json): 人员状态 (person.residence_status)
and 姓名 belong to 区公安分局, 救助类别 to 区民政局, all `field_edit: proposal`; 联系电话
(person.phone) is `field_edit: direct`, 区大数据发展局's.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from runtime.access import viewer_of
from runtime.errors import InvalidRequest, NotAllowed
from runtime.ledgers.store import Provenance, get, history, update_record
from runtime.models import AuditEntry, ProposedChange, Record, User
from runtime.org_scope import DISTRICT
from runtime.sharing.edits import edit_record
from runtime.sharing.owners import Decider, applies_directly
from runtime.sharing.proposals import accept, reject
from runtime.sharing.queue import NO_OWNER, QueueQuery, for_record, listing, pending_count, pending_counts

VILLAGE = "500118001001"


def _user(conn, username: str) -> int:
    return conn.execute(select(User.id).where(User.username == username)).scalar_one()


def _decider(conn, username: str) -> Decider:
    row = conn.execute(select(User.id, User.role, User.department_id).where(User.username == username)).one()
    return Decider(*row)


@pytest.fixture
def visit(district, specs):
    """Return a function: 网格员 wangge edits the first living person of his village; the person's id."""
    persons = specs.ledgers["person"]

    def edit(changes, *, evidence="入户走访核实", username="wangge"):
        with district.begin() as conn:
            [rid] = _villagers(conn)
            record = get(conn, persons, rid)
            viewer = viewer_of(conn, _user(conn, username))
            done = edit_record(
                conn, specs, persons, record, record["_version"], changes, viewer, evidence=evidence
            )
        return rid, done

    return edit


def _villagers(conn, n: int = 1) -> list[int]:
    """Return the first `n` persons of wangge's village."""
    stmt = select(Record.id).where(Record.ledger == "person", Record.village_code == VILLAGE)
    return conn.execute(stmt.order_by(Record.id).limit(n)).scalars().all()


def _pending(conn, rid: int) -> list:
    return conn.execute(
        select(ProposedChange).where(ProposedChange.record_id == rid, ProposedChange.status == "pending")
    ).all()


def test_a_visit_that_sets_a_death_waits_for_the_public_security_bureau(district, specs, visit):
    """人员状态 → 死亡 on a visit is a proposal to 区公安分局: the ledger is unchanged until it accepts."""
    rid, done = visit({"residence_status": "死亡"})
    assert (done.applied, done.proposed) == ([], {"区公安分局": ["residence_status"]})
    with district.begin() as conn:
        before = get(conn, specs.ledgers["person"], rid)
        assert before.get("residence_status") != "死亡" and before["_version"] == 1
        [proposal] = _pending(conn, rid)
        assert (proposal.source, proposal.new_value, proposal.evidence) == ("visit", "死亡", "入户走访核实")
        assert proposal.old_value == before.get("residence_status")
        gongan = _decider(conn, "gongan")
        assert proposal.owner_id == gongan.department_id
        assert [p["id"] for p in for_record(conn, rid)] == [proposal.id]
        assert [p["id"] for p in listing(conn, gongan, QueueQuery())] == [proposal.id]
        assert listing(conn, _decider(conn, "canlian"), QueueQuery()) == [], "not 区残联's element"
        assert pending_count(conn, gongan) == 1 and pending_count(conn, _decider(conn, "minzheng")) == 0
        assert pending_counts(conn) == {gongan.department_id: 1}

        result = accept(conn, specs, [proposal.id], user_id=gongan.user_id)
        assert (result.done, result.moved, result.gone, result.invalid) == ([proposal.id], [], [], {})
        after = get(conn, specs.ledgers["person"], rid)
        assert (after["residence_status"], after["_version"]) == ("死亡", 2)
        newest = history(conn, rid)[0]
        assert (newest["source"], newest["actor"], newest["new"]) == (
            "visit",
            "区公安分局 吴勇",
            {"residence_status": "死亡"},
        )
        assert newest["source_ref"] == f"变更#{proposal.id}，{specs.org_units[VILLAGE].name}网格员提出", (
            "the version names the proposal and its proposer; its actor is who accepted"
        )
        assert _pending(conn, rid) == [] and pending_count(conn, gongan) == 0


def test_a_rejected_proposal_leaves_the_ledger_and_says_why(district, specs, visit):
    rid, _done = visit({"residence_status": "死亡"})
    with district.begin() as conn:
        [proposal] = _pending(conn, rid)
        gongan = _user(conn, "gongan")
        with pytest.raises(InvalidRequest, match="理由"):
            reject(conn, specs, [proposal.id], "  ", user_id=gongan)
        assert reject(conn, specs, [proposal.id], "户籍系统显示该人员正常", user_id=gongan).done == [
            proposal.id
        ]
        decided = conn.execute(select(ProposedChange).where(ProposedChange.id == proposal.id)).one()
        assert (decided.status, decided.reason, decided.decided_by) == (
            "rejected",
            "户籍系统显示该人员正常",
            gongan,
        )
        assert get(conn, specs.ledgers["person"], rid)["_version"] == 1
        assert accept(conn, specs, [proposal.id], user_id=gongan).gone == [proposal.id], "decided once"


def test_a_phone_from_a_visit_applies_at_once(district, specs, visit):
    """联系电话 is `field_edit: direct`: a visit changes it as before; the death beside it waits."""
    rid, done = visit({"phone": "13811112222", "residence_status": "死亡"})
    assert (done.applied, done.proposed, done.version) == (["phone"], {"区公安分局": ["residence_status"]}, 2)
    with district.begin() as conn:
        record = get(conn, specs.ledgers["person"], rid)
        assert record["phone"] == "13811112222" and record.get("residence_status") != "死亡"
        assert history(conn, rid)[0]["source"] == "visit"
        [proposal] = _pending(conn, rid)
        assert proposal.base_version == 2, "proposed against the version the phone made"


def test_who_applies_directly(district, specs):
    """The owner and administrators decide at once; a keeper's and a grid worker's edits are proposed."""
    status, phone = specs.elements["person.residence_status"], specs.elements["person.phone"]
    with district.connect() as conn:
        viewers = {
            name: viewer_of(conn, _user(conn, name)) for name in ("admin", "keeper", "wangge", "gongan")
        }
    assert applies_directly(viewers["gongan"], status) and applies_directly(viewers["admin"], status)
    assert not applies_directly(viewers["keeper"], status) and not applies_directly(viewers["wangge"], status)
    assert all(applies_directly(v, phone) for v in viewers.values())


def test_a_newer_proposal_supersedes_and_a_moved_value_needs_confirming(district, specs, visit):
    rid, _done = visit({"residence_status": "迁出"})
    visit({"residence_status": "死亡"}, evidence="死亡医学证明")
    persons = specs.ledgers["person"]
    with district.begin() as conn:
        states = conn.execute(
            select(ProposedChange.new_value, ProposedChange.status)
            .where(ProposedChange.record_id == rid)
            .order_by(ProposedChange.id)
        ).all()
        assert states == [("迁出", "superseded"), ("死亡", "pending")]
        [proposal] = _pending(conn, rid)
        record = get(conn, persons, rid)
        update_record(
            conn,
            persons,
            rid,
            record["_version"],
            {"residence_status": "外出"},
            Provenance("sync"),
            scope=DISTRICT,
        )
        gongan = _user(conn, "gongan")
        assert accept(conn, specs, [proposal.id], user_id=gongan).moved == [proposal.id]
        assert get(conn, persons, rid)["residence_status"] == "外出", "not applied over a newer value unasked"
        assert accept(conn, specs, [proposal.id], user_id=gongan, confirmed=[proposal.id]).done == [
            proposal.id
        ]
        assert get(conn, persons, rid)["residence_status"] == "死亡"


def test_only_the_owner_or_an_administrator_decides(district, specs, visit):
    rid, _done = visit({"residence_status": "死亡", "assistance_type": "低保"})
    with district.begin() as conn:
        death, aid = (p.id for p in sorted(_pending(conn, rid), key=lambda p: p.field != "residence_status"))
        for username in ("canlian", "keeper", "wangge", "minzheng"):
            with pytest.raises(NotAllowed):
                accept(conn, specs, [death], user_id=_user(conn, username))
        with pytest.raises(NotAllowed, match="区民政局"):
            reject(conn, specs, [aid], "不是我们的", user_id=_user(conn, "gongan"))
        admin = _decider(conn, "admin")
        assert {p["id"] for p in listing(conn, admin, QueueQuery())} == {death, aid}
        assert listing(conn, admin, QueueQuery(owner=NO_OWNER)) == []
        assert accept(conn, specs, [aid], user_id=_user(conn, "minzheng")).done == [aid]
        assert accept(conn, specs, [death], user_id=admin.user_id).done == [death]


def test_bulk_accept_and_the_audit_trail(district, specs, visit):
    """Several proposals accepted at once; each step is audited, sensitive values left out."""
    persons = specs.ledgers["person"]
    with district.begin() as conn:
        ids = _villagers(conn, 3)
        keeper = viewer_of(conn, _user(conn, "keeper"))
        for rid in ids:
            record = get(conn, persons, rid)
            edit_record(
                conn, specs, persons, record, record["_version"], {"name": record["name"] + "某"}, keeper
            )
        proposals = conn.execute(select(ProposedChange.id).order_by(ProposedChange.id)).scalars().all()
        assert len(proposals) == 3
        gongan = _user(conn, "gongan")
        assert accept(conn, specs, proposals, user_id=gongan).done == proposals
        assert all(get(conn, persons, rid)["name"].endswith("某") for rid in ids)
        entries = conn.execute(
            select(AuditEntry.action, AuditEntry.target, AuditEntry.detail).where(
                AuditEntry.action.like("proposal.%")
            )
        ).all()
        assert [e.action for e in entries] == ["proposal.create"] * 3 + ["proposal.accept"] * 3
        key = get(conn, persons, ids[0])["_key"]
        assert entries[0].target == f"proposal/gongan/person/{key}"
        assert entries[3].detail["new"].endswith("某") and entries[3].detail["element"] == "person.name"
        record = get(conn, persons, ids[0])
        edit_record(
            conn, specs, persons, record, record["_version"], {"bank_account": "6222020200112233445"}, keeper
        )
        created = conn.execute(
            select(AuditEntry.target, AuditEntry.detail)
            .where(AuditEntry.action == "proposal.create")
            .order_by(AuditEntry.id.desc())
        ).first()
        assert created.target == f"proposal/caizheng/person/{key}"
        assert created.detail == {
            "field": "bank_account",
            "element": "person.bank_account",
            "reason": "",
            "source": "edit",
        }, "a secret value stays out of the log"


def test_a_value_no_longer_valid_is_not_accepted(district, specs):
    """A proposal is checked again when accepted: one that would leave the record invalid stays pending."""
    from runtime.sharing.proposals import Offer, propose

    persons = specs.ledgers["person"]
    with district.begin() as conn:
        [rid] = _villagers(conn)
        record = get(conn, persons, rid)
        wangge = _user(conn, "wangge")
        [made] = propose(
            conn,
            persons,
            [Offer(record, "residence_status", "失踪", record.get("residence_status"))],
            source="visit",
            proposed_by=wangge,
        )
        result = accept(conn, specs, [made], user_id=_user(conn, "gongan"))
        assert list(result.invalid) == [made] and "人员状态" in result.invalid[made]
        assert [p.id for p in _pending(conn, rid)] == [made]
        assert get(conn, persons, rid)["_version"] == record["_version"]
