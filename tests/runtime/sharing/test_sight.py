"""The one decision of what a viewer sees of an element: clear, masked or hidden, with grants in force."""

from __future__ import annotations

import csv
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from builder.admission.gatekeeping import load_rules
from builder.reports.spec import load_reports
from runtime.access import Viewer, viewer_of
from runtime.clock import local_today
from runtime.demo.report_grants import grant_elements
from runtime.ledgers.exports import export_ledger
from runtime.ledgers.store import Provenance, Query, upsert
from runtime.masking import mask_id, present, sight
from runtime.models import AuditEntry, Department, Grant, User
from runtime.org_scope import DISTRICT
from runtime.reports.admission import check_report_now
from runtime.reports.store import Actor, create_report
from runtime.sharing.sight import Sight, flush_reads
from tests.conftest import make_id_number

ZHONGSHANLU, LAISU = "500118001", "500118108"


def _department(conn, username: str) -> tuple[int, int]:
    return tuple(conn.execute(select(User.id, User.department_id).where(User.username == username)).one())


@pytest.fixture
def two_people(engine, specs, make_person):
    rows = [
        make_person(
            name="郑强",
            township_code=ZHONGSHANLU,
            village_code="500118001001",
            assistance_type="低保",
            phone="13812345678",
            bank_account="6222020200112233445",
        ),
        make_person(
            name="王勇",
            township_code=LAISU,
            village_code="500118108001",
            assistance_type="特困",
            phone="13987654321",
        ),
    ]
    with engine.begin() as conn:
        upsert(conn, specs.ledgers["person"], rows, Provenance("seed"), scope=DISTRICT)
    return rows


def _assistance_in_clear(conn, specs, department: int) -> list[int]:
    """Grant 救助类别 (区民政局's) in clear, district-wide, for a subsidy review."""
    return grant_elements(
        conn, specs, department, ["person.assistance_type"], "两项补贴复核", clear=["person.assistance_type"]
    )


def test_without_a_grant_conditional_elements_are_hidden_and_unconditional_masked(engine, specs, two_people):
    person = specs.ledgers["person"]
    with engine.connect() as conn:
        canlian = viewer_of(conn, _department(conn, "canlian")[0])
    shown = present(person, two_people, canlian)
    assert [r["assistance_type"] for r in shown] == [None, None], "有条件共享, owned by 区民政局"
    assert [r["phone"] for r in shown] == [None, None]
    assert shown[0]["name"] == "郑*" and shown[0]["id_number"] == mask_id(two_people[0]["id_number"])
    assert shown[0]["bank_account"] is None, "不予共享"


def test_a_clear_grant_for_one_township_shows_that_township_only_until_it_expires(engine, specs, two_people):
    person = specs.ledgers["person"]
    today = local_today()
    with engine.begin() as conn:
        user, department = _department(conn, "canlian")
        (grant,) = _assistance_in_clear(conn, specs, department)
        conn.execute(update(Grant).where(Grant.id == grant).values(granted_townships=[LAISU]))
    with engine.connect() as conn:
        canlian = viewer_of(conn, user, today)
        later = viewer_of(conn, user, today + timedelta(days=400))
    shown = present(person, two_people, canlian)
    assert [r["assistance_type"] for r in shown] == [None, "特困"], "中山路街道 is outside the grant"
    field = person.by_name["assistance_type"]
    assert sight(field, canlian, LAISU) is Sight.CLEAR and sight(field, canlian) is Sight.HIDDEN
    assert [r["assistance_type"] for r in present(person, two_people, later)] == [None, None], "expired"


def test_an_access_grant_shows_values_masked_by_their_sensitivity(engine, specs, two_people):
    person = specs.ledgers["person"]
    with engine.begin() as conn:
        user, department = _department(conn, "canlian")
        grant_elements(conn, specs, department, ["person.phone"], "电话联系")
    with engine.connect() as conn:
        canlian = viewer_of(conn, user)
    assert [r["phone"] for r in present(person, two_people, canlian)] == ["138****5678", "139****4321"]


def test_a_revoked_grant_no_longer_shows(engine, specs, two_people):
    person = specs.ledgers["person"]
    with engine.begin() as conn:
        user, department = _department(conn, "canlian")
        (grant,) = grant_elements(
            conn, specs, department, ["person.assistance_type"], "复核", clear=["person.assistance_type"]
        )
        conn.execute(update(Grant).where(Grant.id == grant).values(status="revoked"))
    with engine.connect() as conn:
        canlian = viewer_of(conn, user)
    assert [r["assistance_type"] for r in present(person, two_people, canlian)] == [None, None]


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        (Viewer(1, "department", department="区财政局"), "6222020200112233445"),
        (Viewer(1, "keeper"), "*" * 15 + "3445"),
        (Viewer(1, "admin"), "*" * 15 + "3445"),
        (Viewer(1, "department", department="区民政局"), None),
        (Viewer(1, "township", township=ZHONGSHANLU), None),
        (Viewer(1, "village", township=ZHONGSHANLU, village="500118001001"), None),
        (Viewer(1, "leader"), None),
    ],
)
def test_not_shared_is_shown_to_its_owner_and_the_keepers_only(specs, two_people, viewer, expected):
    assert present(specs.ledgers["person"], two_people[:1], viewer)[0]["bank_account"] == expected


def test_a_birth_date_is_cleared_by_a_grant_only_with_the_id_number_it_completes(engine, specs, make_person):
    person = specs.ledgers["person"]
    row = make_person(birth_date="1966-07-14", id_number=make_id_number("19660714", 611))
    with engine.begin() as conn:
        user, department = _department(conn, "canlian")
        grant_elements(
            conn, specs, department, ["person.birth_date"], "核对年龄", clear=["person.birth_date"]
        )
    with engine.connect() as conn:
        canlian = viewer_of(conn, user)
    assert present(person, [row], canlian)[0]["birth_date"] == "1966年"
    with engine.begin() as conn:
        grant_elements(conn, specs, department, ["person.id_number"], "核对身份", clear=["person.id_number"])
    with engine.connect() as conn:
        canlian = viewer_of(conn, user)
    shown = present(person, [row], canlian)[0]
    assert (shown["birth_date"], shown["id_number"]) == ("1966-07-14", row["id_number"])


def test_an_export_drops_hidden_columns_and_audits_clear_reads_for_the_owner(
    engine, specs, two_people, tmp_path
):
    person = specs.ledgers["person"]
    with engine.begin() as conn:
        user, department = _department(conn, "canlian")
        _assistance_in_clear(conn, specs, department)
    target = tmp_path / "out.csv"
    with engine.begin() as conn:
        canlian = viewer_of(conn, user)
        export_ledger(conn, Query(person, DISTRICT), canlian, "csv", target, {})
    with open(target, encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert "银行账号" not in rows[0] and "联系电话" not in rows[0], "hidden everywhere: no column"
    assert sorted(r["救助类别"] for r in rows) == ["低保", "特困"]
    with engine.connect() as conn:
        entry = conn.execute(select(AuditEntry).where(AuditEntry.action == "read.clear")).one()
    assert entry.target == "minzheng/person" and entry.actor_id == user
    assert entry.detail["elements"] == ["person.assistance_type"] and entry.detail["records"] == 2
    assert entry.detail["via"] == "export" and entry.detail["purpose"] == "两项补贴复核"
    assert set(entry.detail["keys"]) == {r["id_number"] for r in two_people}


def test_reads_in_clear_without_a_grant_are_not_tallied(engine, specs, two_people):
    """What a department reads of its own elements, or of public ones, is not a read through a grant."""
    with engine.begin() as conn:
        minzheng = viewer_of(conn, _department(conn, "minzheng")[0])
        present(specs.ledgers["person"], two_people, minzheng)
        assert flush_reads(conn, minzheng.user_id, minzheng.grants, via="page") == 0


def _file(engine, specs, document):
    with engine.begin() as conn:
        user, department = _department(conn, "canlian")
    from sqlalchemy.orm import Session

    with Session(engine) as session, session.begin():
        report = create_report(session, Actor(user, "department", department), document)
        return check_report_now(session, specs, load_rules(specs.root), report, document)


def test_the_gate_names_the_grant_to_apply_for_and_whom_and_passes_once_granted(engine, specs):
    document = {
        **load_reports(specs.root, specs)["disability_survey"].document,
        "x-deadline": (local_today() + timedelta(days=20)).isoformat(),
    }
    verdict = _file(engine, specs, document)
    rule = next(r for r in verdict.rules if r.id == "grant_required")
    assert rule.outcome == "block"
    assert (
        "“监护人姓名”（区民政局）" in rule.message
        and "向区公安分局、区大数据发展局、区民政局申请" in rule.message
    )
    assert "区残联申请" not in rule.message, "never told to apply to itself"
    with engine.begin() as conn:
        department = conn.scalar(select(Department.id).where(Department.code == "canlian"))
        for code in (
            "person.phone",
            "person.current_address",
            "person.guardian_name",
            "person.guardian_phone",
        ):
            grant_elements(conn, specs, department, [code], "残疾人状况调查")
    rule = next(
        r
        for r in _file(engine, specs, document | {"x-report": "disability_survey_2"}).rules
        if r.id == "grant_required"
    )
    assert rule.outcome == "pass"


def test_the_gate_refuses_rows_chosen_by_an_element_the_department_may_not_read(engine, specs):
    """Which rows a report holds would tell who receives 救助类别, even with the column left out."""
    document = {
        **load_reports(specs.root, specs)["disability_survey"].document,
        "x-report": "assistance_rows",
        "x-deadline": (local_today() + timedelta(days=20)).isoformat(),
        "x-rows": {"ledger": "person", "filter": [{"element": "person.assistance_type", "op": "present"}]},
        "properties": {"name": {"x-element": "person.name"}},
        "required": [],
    }
    rule = next(r for r in _file(engine, specs, document).rules if r.id == "grant_required")
    assert rule.outcome == "block" and "按“救助类别”（区民政局）筛选" in rule.message


def test_a_name_granted_in_clear_is_masked_again_once_the_grant_expires(engine, specs, two_people):
    """无条件共享 values are masked by sensitivity: a grant clears them until it expires."""
    person = specs.ledgers["person"]
    today = local_today()
    with engine.begin() as conn:
        user, department = _department(conn, "minzheng")
        grant_elements(
            conn, specs, department, ["person.name"], "低保复核", clear=["person.name"], today=today
        )
    with engine.connect() as conn:
        now, later = viewer_of(conn, user, today), viewer_of(conn, user, today + timedelta(days=366))
    assert [r["name"] for r in present(person, two_people, now)] == ["郑强", "王勇"]
    assert [r["name"] for r in present(person, two_people, later)] == ["郑*", "王*"]
