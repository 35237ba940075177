"""Grants: apply, approve (as applied or narrowed), refuse, revoke, withdraw; what is read in clear, audited.

The departments are the demo's (区残联 applies, 区民政局 owns 救助类别); `today` is passed, so expiry
is tested without waiting.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from runtime.errors import InvalidRequest, NotAllowed, NotFound
from runtime.models import AuditEntry, Department, User
from runtime.sharing.grant_checks import GrantRefused
from runtime.sharing.grant_lists import (
    applications_of,
    applications_to,
    grants_by_element,
    grants_for_element,
    pending_count,
)
from runtime.sharing.grants import (
    apply,
    approve,
    refuse,
    revoke,
    withdraw,
)
from runtime.sharing.sight import grants_in_force

TODAY = date(2026, 12, 1)
LAISU, ZHONGSHANLU = "500118108", "500118001"
PURPOSE = "核对残疾人中的低保对象，发放两项补贴"


def _clear(conn, department_id, today):
    """Element code → townships granted in clear (None: the district), as the decision point reads them."""
    return dict(grants_in_force(conn, department_id, today).clear)


def _via(conn, department_id, today):
    return dict(grants_in_force(conn, department_id, today).via)


class Ids:
    """The demo's ids: `dept[code]` of departments, `user[username]` of logins."""

    def __init__(self, engine):
        """Read them from the database."""
        with engine.connect() as conn:
            self.dept = dict(conn.execute(select(Department.code, Department.id)).all())
            self.user = dict(conn.execute(select(User.username, User.id)).all())


@pytest.fixture
def ids(engine):
    """The demo's department and user ids."""
    return Ids(engine)


@pytest.fixture
def applied(engine, specs, ids):
    """Return a function: 区残联 applies (overrides: apply's keywords); the ids made."""

    def make(**overrides):
        arguments = {
            "department": ids.dept["canlian"],
            "user_id": ids.user["canlian"],
            "ledger": "person",
            "elements": ["person.assistance_type"],
            "townships": None,
            "purpose": PURPOSE,
            "starts_on": TODAY,
            "expires_on": None,
            "today": TODAY,
        } | overrides
        with engine.begin() as conn:
            return apply(conn, specs, **arguments)

    return make


def _as(ids, username: str, department: str | None = None) -> dict:
    """Return the actor keywords of a decision by a demo user of `department` (None: an administrator)."""
    return {
        "user_id": ids.user[username],
        "department": ids.dept[department] if department else None,
        "is_admin": department is None,
    }


def _audit(engine) -> list[tuple[str, str, dict]]:
    with engine.connect() as conn:
        return [
            tuple(r) for r in conn.execute(select(AuditEntry.action, AuditEntry.target, AuditEntry.detail))
        ]


def test_apply_approve_read_in_clear_until_expiry(engine, applied, ids):
    (grant_id,) = applied()
    with engine.connect() as conn:
        assert _clear(conn, ids.dept["canlian"], TODAY) == {}, "pending grants nothing"
        assert (
            pending_count(conn, ids.dept["minzheng"]) == 1 and pending_count(conn, ids.dept["canlian"]) == 0
        )
        (mine,) = applications_of(conn, ids.dept["canlian"])
    assert (mine.owner, mine.grantee, mine.state(TODAY), mine.expires_on) == (
        "区民政局",
        "区残联",
        "pending",
        date(2027, 12, 1),
    ), "a year by default"
    with engine.begin() as conn:
        approve(conn, grant_id, **_as(ids, "minzheng", "minzheng"), today=TODAY)
    with engine.connect() as conn:
        assert _clear(conn, ids.dept["canlian"], TODAY) == {"person.assistance_type": None}
        assert _via(conn, ids.dept["canlian"], TODAY) == {"person.assistance_type": (grant_id, PURPOSE)}
        last_day, after = date(2027, 12, 1), date(2027, 12, 2)
        assert _clear(conn, ids.dept["canlian"], last_day) == {"person.assistance_type": None}
        assert _clear(conn, ids.dept["canlian"], after) == {}, "expired"
        assert _clear(conn, ids.dept["minzheng"], TODAY) == {}, "the grantee reads, not the owner"
        (granted,) = applications_to(conn, ids.dept["minzheng"])
        assert [g.id for g in grants_for_element(conn, "person.assistance_type")] == [grant_id]
        assert [g.id for g in grants_by_element(conn, TODAY)["person.assistance_type"]] == [grant_id]
        assert grants_by_element(conn, after) == {}
    assert (granted.state(TODAY), granted.state(after), granted.label(after), granted.narrowed) == (
        "granted",
        "expired",
        "已过期",
        False,
    )
    assert granted.decided_by == "区民政局 王强" and granted.requested_by == "区残联 陈静"
    entries = _audit(engine)
    assert [(a, t) for a, t, _d in entries] == [
        ("grant.apply", f"grant/minzheng/canlian/{grant_id}"),
        ("grant.approve", f"grant/minzheng/canlian/{grant_id}"),
    ]
    assert entries[0][2] == {
        "ledger": "person",
        "elements": ["person.assistance_type"],
        "townships": None,
        "purpose": PURPOSE,
        "starts_on": "2026-12-01",
        "expires_on": "2027-12-01",
    }
    assert entries[1][2]["narrowed"] is False and entries[1][2]["expires_on"] == "2027-12-01"


def test_a_grant_not_started_yet_reads_nothing(engine, applied, ids):
    (grant_id,) = applied(starts_on=TODAY + timedelta(days=10))
    with engine.begin() as conn:
        approve(conn, grant_id, **_as(ids, "minzheng", "minzheng"), today=TODAY)
        assert _clear(conn, ids.dept["canlian"], TODAY) == {}
        assert _clear(conn, ids.dept["canlian"], TODAY + timedelta(days=10)) == {
            "person.assistance_type": None
        }


def test_the_owner_narrows_elements_townships_and_expiry_with_a_reason(engine, applied, ids):
    (grant_id,) = applied(elements=["person.assistance_type", "person.guardian_name"])
    narrowed = {"elements": ["person.assistance_type"], "townships": [LAISU], "expires_on": date(2027, 6, 30)}
    with engine.begin() as conn, pytest.raises(GrantRefused) as caught:
        approve(conn, grant_id, **_as(ids, "minzheng", "minzheng"), **narrowed, today=TODAY)
    assert caught.value.codes == {"grant_text_required"} and "reason" in caught.value.errors
    with engine.begin() as conn:
        approve(
            conn,
            grant_id,
            **_as(ids, "minzheng", "minzheng"),
            **narrowed,
            reason="只核来苏镇试点",
            today=TODAY,
        )
    with engine.connect() as conn:
        assert _clear(conn, ids.dept["canlian"], TODAY) == {"person.assistance_type": frozenset({LAISU})}
        assert _clear(conn, ids.dept["canlian"], date(2027, 7, 1)) == {}
        (grant,) = applications_of(conn, ids.dept["canlian"])
    assert grant.narrowed and grant.reason == "只核来苏镇试点"
    assert (grant.elements, grant.granted_elements) == (
        ("person.assistance_type", "person.guardian_name"),
        ("person.assistance_type",),
    )
    detail = _audit(engine)[-1][2]
    assert detail == {
        "elements": ["person.assistance_type"],
        "townships": [LAISU],
        "expires_on": "2027-06-30",
        "in_clear": True,
        "narrowed": True,
        "reason": "只核来苏镇试点",
    }


def test_grants_in_force_merge_their_townships(engine, applied, ids):
    first, second, third = (
        applied(townships=[LAISU])[0],
        applied(townships=[ZHONGSHANLU])[0],
        applied(elements=["person.guardian_name"])[0],
    )
    with engine.begin() as conn:
        for grant_id in (first, second, third):
            approve(conn, grant_id, **_as(ids, "minzheng", "minzheng"), today=TODAY)
        assert _clear(conn, ids.dept["canlian"], TODAY) == {
            "person.assistance_type": frozenset({LAISU, ZHONGSHANLU}),
            "person.guardian_name": None,
        }
        # The audit log names the first grant in force that covers it.
        assert _via(conn, ids.dept["canlian"], TODAY)["person.assistance_type"] == (
            first,
            PURPOSE,
        )


def test_narrowing_never_widens(engine, applied, ids):
    (grant_id,) = applied(elements=["person.assistance_type"], townships=[LAISU])
    wider = {
        "elements": ["person.assistance_type", "person.guardian_name"],
        "townships": [LAISU, ZHONGSHANLU],
        "expires_on": date(2028, 1, 1),
        "reason": "想多给些",
    }
    with engine.begin() as conn, pytest.raises(GrantRefused) as caught:
        approve(conn, grant_id, **_as(ids, "minzheng", "minzheng"), **wider, today=TODAY)
    assert caught.value.codes == {
        "grant_elements_not_applied",
        "grant_townships_not_applied",
        "grant_expiry_later_than_applied",
    }
    assert set(caught.value.errors) == {"elements", "townships", "expires_on"}
    with engine.begin() as conn, pytest.raises(GrantRefused) as caught:
        approve(
            conn,
            grant_id,
            **_as(ids, "minzheng", "minzheng"),
            elements=[],
            townships=[],
            reason="无",
            today=TODAY,
        )
    assert caught.value.codes == {"grant_no_elements", "grant_no_townships"}


def test_choosing_every_township_of_a_district_application_is_no_narrowing(engine, applied, ids, specs):
    (grant_id,) = applied()
    every = [t.code for t in specs.townships()]
    with engine.begin() as conn:
        approve(conn, grant_id, **_as(ids, "minzheng", "minzheng"), townships=every, today=TODAY)
        assert _clear(conn, ids.dept["canlian"], TODAY) == {"person.assistance_type": None}


def test_refuse_needs_a_reason_and_grants_nothing(engine, applied, ids):
    (grant_id,) = applied()
    with engine.begin() as conn, pytest.raises(GrantRefused) as caught:
        refuse(conn, grant_id, **_as(ids, "minzheng", "minzheng"), reason="  ")
    assert caught.value.errors == {"reason": "请写明拒绝的理由，申请部门会看到它"}
    with engine.begin() as conn:
        refuse(conn, grant_id, **_as(ids, "minzheng", "minzheng"), reason="用途与救助类别无关")
    with engine.connect() as conn:
        assert _clear(conn, ids.dept["canlian"], TODAY) == {}
        (grant,) = applications_of(conn, ids.dept["canlian"])
    assert (grant.label(TODAY), grant.reason, grant.decided_by) == (
        "已拒绝",
        "用途与救助类别无关",
        "区民政局 王强",
    )
    with engine.begin() as conn, pytest.raises(InvalidRequest, match="已处理（已拒绝）"):
        approve(conn, grant_id, **_as(ids, "minzheng", "minzheng"), today=TODAY)
    assert _audit(engine)[-1][:2] == ("grant.refuse", f"grant/minzheng/canlian/{grant_id}")


def test_revoke_ends_a_grant_in_force(engine, applied, ids):
    (grant_id,) = applied()
    with engine.begin() as conn:
        approve(conn, grant_id, **_as(ids, "minzheng", "minzheng"), today=TODAY)
    with engine.begin() as conn, pytest.raises(NotAllowed, match="由区民政局审批"):
        revoke(conn, grant_id, **_as(ids, "tuiyi", "tuiyi"), reason="不是我的")
    with engine.begin() as conn, pytest.raises(GrantRefused, match="撤销的理由"):
        revoke(conn, grant_id, **_as(ids, "minzheng", "minzheng"), reason="")
    with engine.begin() as conn:
        revoke(conn, grant_id, **_as(ids, "minzheng", "minzheng"), reason="补贴已发放完毕")
    with engine.connect() as conn:
        assert _clear(conn, ids.dept["canlian"], TODAY) == {}
        (grant,) = applications_of(conn, ids.dept["canlian"])
        assert grants_for_element(conn, "person.assistance_type") == []
    assert (grant.label(TODAY), grant.revoke_reason, grant.revoked_by) == (
        "已撤销",
        "补贴已发放完毕",
        "区民政局 王强",
    )
    with engine.begin() as conn, pytest.raises(InvalidRequest, match="已撤销"):
        revoke(conn, grant_id, **_as(ids, "admin"), reason="再撤一次")
    assert _audit(engine)[-1] == (
        "grant.revoke",
        f"grant/minzheng/canlian/{grant_id}",
        {"reason": "补贴已发放完毕"},
    )


def test_the_applicant_withdraws_while_pending(engine, applied, ids):
    (grant_id,) = applied()
    with engine.begin() as conn, pytest.raises(NotAllowed, match="只有申请部门"):
        withdraw(conn, grant_id, user_id=ids.user["minzheng"], department=ids.dept["minzheng"])
    with engine.begin() as conn:
        withdraw(conn, grant_id, user_id=ids.user["canlian"], department=ids.dept["canlian"])
    with engine.begin() as conn, pytest.raises(InvalidRequest, match="已撤回"):
        approve(conn, grant_id, **_as(ids, "minzheng", "minzheng"), today=TODAY)
    with engine.begin() as conn, pytest.raises(InvalidRequest, match="已撤回"):
        withdraw(conn, grant_id, user_id=ids.user["canlian"], department=ids.dept["canlian"])
    with engine.connect() as conn:
        assert [a.label(TODAY) for a in applications_of(conn, ids.dept["canlian"])] == ["已撤回"]
        assert pending_count(conn, ids.dept["minzheng"]) == 0
    assert _audit(engine)[-1] == ("grant.withdraw", f"grant/minzheng/canlian/{grant_id}", {})


def test_only_the_owner_or_an_administrator_decides(engine, applied, ids):
    (grant_id,) = applied()
    with engine.begin() as conn, pytest.raises(NotAllowed) as caught:
        approve(conn, grant_id, **_as(ids, "tuiyi", "tuiyi"), today=TODAY)
    assert str(caught.value) == "这份申请由区民政局审批，您不能处理"
    with engine.begin() as conn, pytest.raises(NotAllowed):
        refuse(conn, grant_id, **_as(ids, "canlian", "canlian"), reason="自己批自己")
    with engine.begin() as conn, pytest.raises(NotFound):
        approve(conn, grant_id + 100, **_as(ids, "admin"), today=TODAY)
    with engine.begin() as conn:
        approve(conn, grant_id, **_as(ids, "admin"), today=TODAY)
        assert applications_to(conn, None)[0].decided_by == "系统管理员"


def test_elements_of_several_owners_split_into_one_application_each(engine, applied, ids):
    made = applied(elements=["person.assistance_type", "person.health_status", "person.guardian_name"])
    with engine.connect() as conn:
        mine = {a.owner: a.elements for a in applications_of(conn, ids.dept["canlian"])}
        assert [a.elements for a in applications_to(conn, ids.dept["weijian"])] == [("person.health_status",)]
        assert len(applications_to(conn, None)) == 2
    assert mine == {
        "区民政局": ("person.assistance_type", "person.guardian_name"),
        "区卫生健康委": ("person.health_status",),
    }
    assert sorted(t for _a, t, _d in _audit(engine)) == [
        f"grant/minzheng/canlian/{made[1]}",
        f"grant/weijian/canlian/{made[0]}",
    ], "in ledger order: 健康状况 comes first"


def test_elements_no_department_owns_go_to_the_administrators(engine, applied, ids):
    with engine.begin() as conn:
        conn.execute(Department.__table__.delete().where(Department.code == "weijian"))
    (grant_id,) = applied(elements=["person.health_status"])
    with engine.connect() as conn:
        (grant,) = applications_to(conn, None)
        assert grant.owner_id is None and pending_count(conn, None) == 1
    with engine.begin() as conn, pytest.raises(NotAllowed, match="由系统管理员审批"):
        approve(conn, grant_id, **_as(ids, "minzheng", "minzheng"), today=TODAY)
    with engine.begin() as conn:
        approve(conn, grant_id, **_as(ids, "admin"), today=TODAY)
    assert [t for _a, t, _d in _audit(engine)] == [f"grant/admin/canlian/{grant_id}"] * 2


@pytest.mark.parametrize(
    ("overrides", "field", "code", "message"),
    [
        (
            {"elements": ["person.disability_grade"]},
            "elements",
            "grant_own_element",
            "“残疾等级”是本部门（区残联）所有的数据项，本部门本来就能查看明文，无需申请",
        ),
        (
            {"elements": ["person.bank_account"]},
            "elements",
            "grant_not_shared",
            "“银行账号”不予共享，只有所有者和台账管理岗可以查看",
        ),
        ({"elements": []}, "elements", "grant_no_elements", "请至少选择一个数据项"),
        (
            {"elements": ["person.nickname", "land.parcel_code"]},
            "elements",
            "grant_unknown_elements",
            "人口台账中没有这些数据项：land.parcel_code、person.nickname",
        ),
        ({"ledger": "pets"}, "ledger", "grant_unknown_ledger", "没有“pets”这个台账，请选择台账"),
        ({"ledger": ""}, "ledger", "grant_no_ledger", "请选择台账"),
        ({"townships": ["999"]}, "townships", "grant_unknown_townships", "没有这些镇街：999"),
        ({"townships": []}, "townships", "grant_no_townships", "请至少选择一个镇街，或选择全区"),
        (
            {"purpose": " \n "},
            "purpose",
            "grant_text_required",
            "请写明用途：申请这些数据做什么（如核发残疾人两项补贴）",
        ),
        ({"purpose": "补" * 501}, "purpose", "grant_text_too_long", "用途不能超过 500 个字"),
        (
            {"expires_on": TODAY - timedelta(days=1)},
            "expires_on",
            "grant_expiry_before_start",
            "截止日期（2026-11-30）不能早于开始日期（2026-12-01）",
        ),
        (
            {"starts_on": date(2026, 1, 1), "expires_on": date(2026, 6, 1)},
            "expires_on",
            "grant_expiry_passed",
            "截止日期（2026-06-01）已经过去",
        ),
        (
            {"expires_on": date(2029, 12, 2)},
            "expires_on",
            "grant_expiry_too_far",
            "授权期限最长 3 年：截止日期不能晚于 2029-12-01",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and v.startswith("grant_") else "",
)
def test_what_cannot_be_applied_for(engine, applied, overrides, field, code, message):
    with pytest.raises(GrantRefused) as caught:
        applied(**overrides)
    assert caught.value.codes == {code}
    assert caught.value.errors == {field: message}
    assert _audit(engine) == [], "nothing refused is audited as applied"


def test_every_problem_of_an_application_is_named_at_once(applied):
    with pytest.raises(GrantRefused) as caught:
        applied(elements=["person.disability_grade", "person.bank_account"], purpose="", townships=[])
    assert set(caught.value.errors) == {"elements", "purpose", "townships"}
    assert "残疾等级" in caught.value.errors["elements"] and "银行账号" in caught.value.errors["elements"]


def test_only_a_department_applies(applied, ids):
    with pytest.raises(NotAllowed, match="只有部门账号"):
        applied(department=None)
