"""Reading the audit log: who reads which entries, the filters, the Chinese wording, the pages."""

from datetime import date, timedelta

import pytest
from sqlalchemy import insert

from runtime.audit.reading import (
    AuditFilter,
    AuditReader,
    actors,
    audit_reader,
    count_entries,
    entry_page,
    iter_entries,
)
from runtime.models import AuditEntry
from tests.conftest import AUDIT_NOW, AUDIT_SAMPLE

ADMIN = AuditReader(None, everything=True)
CANLIAN = AuditReader(None, department="canlian")
MINZHENG = AuditReader(None, department="minzheng")


@pytest.fixture
def log(engine, write_audit_sample):
    """The sample entries in a fresh database: (engine, entry name → id)."""
    return engine, write_audit_sample(engine)


def _names(log, specs, reader, flt=None):
    engine, ids = log
    flt = flt or AuditFilter()
    by_id = {v: k for k, v in ids.items()}
    with engine.connect() as conn:
        return [by_id[e.id] for batch in iter_entries(conn, specs, reader, flt) for e in batch]


def test_an_administrator_reads_every_entry_newest_first(log, specs):
    newest_first = sorted(AUDIT_SAMPLE, key=lambda n: (AUDIT_SAMPLE[n][4], list(AUDIT_SAMPLE).index(n)))
    assert _names(log, specs, ADMIN) == newest_first


def test_a_department_reads_who_read_its_data_and_its_grants_and_proposals(log, specs):
    assert set(_names(log, specs, CANLIAN)) == {
        "minzheng_reads_canlian",  # who read our data
        "canlian_applies",  # as grantee
        "minzheng_approves",
        "canlian_refuses_tuiyi",  # as owner
    }
    assert set(_names(log, specs, MINZHENG)) == {
        "canlian_reads_minzheng",
        "canlian_applies",
        "minzheng_approves",
        "visit_proposes_assistance",
    }


def test_a_filter_never_widens_a_departments_part(log, specs):
    engine, ids = log
    keeper = dict(actors(engine.connect(), ADMIN))
    asked = [
        AuditFilter(action="read.clear"),
        AuditFilter(action="account"),
        AuditFilter(ledger="land"),
        AuditFilter(element="person.assistance_type"),
        AuditFilter(actor=next(i for i, n in keeper.items() if n.startswith("数据管理岗"))),
    ]
    for flt in asked:
        assert set(_names(log, specs, CANLIAN, flt)) <= {
            "minzheng_reads_canlian",
            "canlian_applies",
            "minzheng_approves",
            "canlian_refuses_tuiyi",
        }, flt
    assert _names(log, specs, CANLIAN, AuditFilter(action="read.clear")) == ["minzheng_reads_canlian"]


def test_who_may_read_what_comes_from_the_role_and_the_department(specs):
    departments = specs.departments
    assert audit_reader(1, "admin", None, departments).everything
    assert audit_reader(2, "department", "区残联", departments) == AuditReader(2, department="canlian")
    # Not a role of the audit page, or a department the catalog does not know: nothing.
    assert audit_reader(3, "keeper", None, departments) == AuditReader(3)
    assert audit_reader(4, "department", "区档案馆", departments) == AuditReader(4)


def test_a_reader_of_nothing_reads_nothing(log, specs):
    assert _names(log, specs, AuditReader(None)) == []


def test_the_filters_narrow_by_day_kind_action_actor_ledger_and_element(log, specs):
    engine, ids = log
    today = AUDIT_NOW.date()  # 10:00 in Beijing: the same day in UTC and locally
    assert set(_names(log, specs, ADMIN, AuditFilter(start=today))) == {
        "visit_proposes_assistance",
        "admin_logs_in",
    }
    two_days = AuditFilter(start=today - timedelta(days=2), end=today - timedelta(days=1))
    assert set(_names(log, specs, ADMIN, two_days)) == {
        "minzheng_reads_canlian",
        "visit_proposes_status",
        "keeper_exports",
        "keeper_exports_land",
        "keeper_reveals",
    }
    assert _names(log, specs, ADMIN, AuditFilter(end=date(2026, 10, 1))) == []
    assert set(_names(log, specs, ADMIN, AuditFilter(action="grant"))) == {
        "canlian_applies",
        "minzheng_approves",
        "canlian_refuses_tuiyi",
    }
    assert _names(log, specs, ADMIN, AuditFilter(action="grant.approve")) == ["minzheng_approves"]
    people = {name: uid for uid, name in actors(engine.connect(), ADMIN)}
    wangge = next(uid for name, uid in people.items() if name.endswith("网格员"))
    assert set(_names(log, specs, ADMIN, AuditFilter(actor=wangge))) == {
        "visit_proposes_status",
        "visit_proposes_assistance",
    }
    assert _names(log, specs, ADMIN, AuditFilter(ledger="land")) == ["keeper_exports_land"]
    person = set(_names(log, specs, ADMIN, AuditFilter(ledger="person")))
    assert person == set(AUDIT_SAMPLE) - {"keeper_exports_land", "admin_logs_in"}
    assert set(_names(log, specs, ADMIN, AuditFilter(element="person.assistance_type"))) == {
        "canlian_reads_minzheng",
        "canlian_applies",
        "minzheng_approves",
        "visit_proposes_assistance",
    }
    # A revealed field is found by the element it is bound to.
    assert _names(log, specs, ADMIN, AuditFilter(element="person.id_number")) == ["keeper_reveals"]


def test_a_department_picks_actors_among_those_in_its_part(log, specs):
    engine, _ids = log
    with engine.connect() as conn:
        names = [name for _id, name in actors(conn, CANLIAN)]
    assert sorted(names) == sorted(["区残联 陈静", "区民政局 王强"])


def test_entries_read_in_chinese_with_catalog_names(log, specs):
    engine, ids = log
    with engine.connect() as conn:
        entries = {e.id: e for e in entry_page(conn, specs, ADMIN, AuditFilter()).entries}
    read = entries[ids["canlian_reads_minzheng"]]
    assert (read.label, read.actor, read.unit) == ("明文读取", "区残联 陈静", "区残联")
    assert (read.subject, read.elements, read.records, read.via) == ("人口台账", ("救助类别",), 120, "提取")
    assert read.purpose == "核对残疾人两项补贴对象的救助类别"
    assert "依据授权 #1" in read.note and "500118198503150011" not in read.note
    approve = entries[ids["minzheng_approves"]]
    assert approve.label == "批准授权" and approve.elements == ("救助类别",)
    assert "申请方 区残联，所有者 区民政局" in approve.note
    assert "范围：中山路街道、来苏镇" in approve.note and "有效期至 2026-12-31" in approve.note
    assert "理由：只批准两个试点镇街" in approve.note
    assert entries[ids["canlian_applies"]].note.count("全区") == 1
    proposal = entries[ids["visit_proposes_assistance"]]
    assert (proposal.label, proposal.elements, proposal.note) == (
        "提出修改建议",
        ("救助类别",),
        "低保 → 特困",
    )
    reveal = entries[ids["keeper_reveals"]]
    assert (reveal.label, reveal.elements, reveal.records, reveal.via) == (
        "查看单项明文",
        ("公民身份号码",),
        1,
        "页面",
    )
    export = entries[ids["keeper_exports"]]
    assert (export.label, export.subject, export.records, export.via) == ("导出台账", "人口台账", 300, "导出")
    assert export.unit == "永川区", "a district-level user without a department works for the district"
    login = entries[ids["admin_logs_in"]]
    assert (login.label, login.subject, login.note) == ("登录", "账号：admin", "来自 10.0.0.8")


def test_pages_follow_each_other_without_gaps_or_repeats_even_at_the_same_instant(log, specs):
    engine, ids = log
    with engine.begin() as conn:  # three more entries written at the very same instant
        for n in range(3):
            conn.execute(insert(AuditEntry).values(at=AUDIT_NOW, action="logout", target=f"u{n}"))
    seen, after = [], None
    with engine.connect() as conn:
        while True:
            page = entry_page(conn, specs, ADMIN, AuditFilter(), after=after, size=4)
            seen += [e.id for e in page.entries]
            if page.next_after is None:
                break
            after = page.next_after
        assert count_entries(conn, specs, ADMIN, AuditFilter(), cap=100) == len(seen) == len(AUDIT_SAMPLE) + 3
        assert count_entries(conn, specs, ADMIN, AuditFilter(), cap=5) == 5
    assert len(set(seen)) == len(seen)
    assert seen[:3] == sorted(seen[:3], reverse=True), "the same instant: the later entry first"


def test_a_filter_survives_a_job_s_parameters():
    flt = AuditFilter(start=date(2026, 11, 1), end=None, action="grant", actor=3, ledger="person", element="")
    assert AuditFilter.from_params(flt.as_params()) == flt
