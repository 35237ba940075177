"""The admission workflow on a real database: drafts, filing, the stored verdict, decisions, audit."""

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from builder.admission.gatekeeping import load_rules
from runtime.clock import local_today
from runtime.demo.report_grants import grant_elements
from runtime.ledgers.holdings import forget
from runtime.ledgers.store import Provenance, upsert
from runtime.models import AdmissionRequest, Department, User
from runtime.org_scope import DISTRICT
from runtime.reports.admission import can_dispatch, decide, queue, submit
from runtime.reports.audit_trail import report_trail
from runtime.reports.store import (
    Actor,
    ReportError,
    StaleDraft,
    create_report,
    latest_version,
    save_draft,
    version_changes,
    versions,
)


@pytest.fixture
def rules(specs):
    return load_rules(specs.root)


@pytest.fixture
def session(engine):
    with Session(engine) as session:
        yield session


def _actor(session, username):
    user = session.scalar(select(User).where(User.username == username))
    return Actor(user_id=user.id, role=user.role, department_id=user.department_id)


def make_doc(title="残疾人康复需求调查表", fields=None, **meta):
    """Return a small valid report document; keyword arguments override x- keywords."""
    properties = fields or {
        "name": {"x-element": "person.name"},
        "need": {"title": "康复需求", "type": "string", "enum": ["康复训练", "辅助器具", "无"]},
    }
    doc = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "type": "object",
        "x-version": 1,
        "x-department": "canlian",
        "x-purpose": "掌握残疾人康复需求，安排年度康复服务",
        "x-basis": "《残疾人保障法》第十五条",
        "x-rows": {"ledger": "person", "filter": []},
        "x-frequency": "once",
        "x-deadline": (local_today() + timedelta(days=30)).isoformat(),
        "x-targets": [],
        "properties": properties,
        "required": [],
    }
    doc.update({f"x-{k}": v for k, v in meta.items()})
    return doc


def test_a_draft_is_saved_in_place_and_a_stale_save_is_refused(session):
    canlian = _actor(session, "canlian")
    report = create_report(session, canlian, make_doc())
    draft = latest_version(session, report)
    assert (report.status, report.version, draft.edits) == ("draft", 1, 0)
    save_draft(session, report, canlian, make_doc(title="改名后的调查表"), version=1, edits=0)
    assert (report.title, latest_version(session, report).edits, report.version) == ("改名后的调查表", 1, 1)
    with pytest.raises(StaleDraft, match="别处保存"):
        save_draft(session, report, canlian, make_doc(title="另一个窗口"), version=1, edits=0)
    assert report.title == "改名后的调查表"


def test_another_department_may_not_change_or_file_the_report(session, rules, specs):
    report = create_report(session, _actor(session, "canlian"), make_doc())
    minzheng = _actor(session, "minzheng")
    with pytest.raises(ReportError, match="所属部门"):
        save_draft(session, report, minzheng, make_doc(), version=1, edits=0)
    with pytest.raises(ReportError, match="所属部门"):
        submit(session, specs, rules, report, minzheng)


def test_filing_freezes_the_version_and_stores_the_verdict(session, rules, specs):
    canlian = _actor(session, "canlian")
    report = create_report(session, canlian, make_doc())
    filed = submit(session, specs, rules, report, canlian, note="首次提交")
    assert report.status == "submitted"
    assert latest_version(session, report).submitted_at is not None
    assert filed.verdict_decision == "admit"
    assert filed.verdict["coverage"]["data_fields"] == 2
    assert {r["id"] for r in filed.verdict["rules"]} >= {"basis_required", "purpose_required"}
    assert [c["label"] for c in filed.verdict["coverage"]["columns"]] == ["姓名", "康复需求"]
    with pytest.raises(ReportError, match="不能重复提交"):
        submit(session, specs, rules, report, canlian)


def test_a_spec_with_problems_cannot_be_filed(session, rules, specs):
    canlian = _actor(session, "canlian")
    report = create_report(session, canlian, make_doc(fields={"name": {"x-element": "person.no_such"}}))
    with pytest.raises(ReportError, match="不能提交审核"):
        submit(session, specs, rules, report, canlian)
    assert report.status == "draft"


def test_return_revise_resubmit_admit_with_reasons_and_a_trail(session, rules, specs):
    canlian, reviewer = _actor(session, "canlian"), _actor(session, "reviewer")
    report = create_report(session, canlian, make_doc())
    first = submit(session, specs, rules, report, canlian)
    with pytest.raises(ReportError, match="理由"):
        decide(session, first, reviewer, "return", "  ")
    with pytest.raises(ReportError, match="审核员"):
        decide(session, first, canlian, "admit", "自己准入")
    decide(session, first, reviewer, "return", "请补充联系电话字段")
    assert (first.status, report.status) == ("returned", "returned")

    revised = make_doc(
        fields={
            "name": {"x-element": "person.name"},
            "need": {"title": "康复需求", "type": "string", "enum": ["康复训练", "辅助器具", "无"]},
            "phone": {"x-element": "person.phone"},
        },
        justification="核实康复服务对象需电话联系",
    )
    save_draft(session, report, canlian, revised, version=1, edits=0)
    assert report.version == 2 and [v.version for v in versions(session, report)] == [2, 1]
    messages = [c.message for c in version_changes(session, report, 1, 2, specs.elements)]
    assert any("联系电话" in m for m in messages)

    # A 有条件共享 phone: applied for and granted by its owner before filing again.
    grant_elements(
        session.connection(), specs, canlian.department_id, ["person.phone"], "电话联系康复服务对象"
    )
    second = submit(session, specs, rules, report, canlian)
    assert second.version == 2
    assert [r.id for r, _report, _dept in queue(session)] == [second.id]
    decide(session, second, reviewer, "admit", "依据充分，字段精简")
    assert (report.status, report.mode) == ("admitted", "dispatch")
    assert can_dispatch(report)
    with pytest.raises(ReportError, match="已处理"):
        decide(session, second, reviewer, "reject", "再审一次")
    steps = [(e.action, e.detail.get("reason")) for e in report_trail(session, report.code)]
    assert steps == [
        ("report.create", None),
        ("admission.submit", None),
        ("admission.return", "请补充联系电话字段"),
        ("report.revise", None),
        ("admission.submit", None),
        ("admission.admit", "依据充分，字段精简"),
    ]


def test_a_request_with_a_blocking_rule_cannot_be_admitted(session, rules, specs):
    canlian, reviewer = _actor(session, "canlian"), _actor(session, "reviewer")
    report = create_report(session, canlian, make_doc(basis=""))
    filed = submit(session, specs, rules, report, canlian)
    assert filed.verdict_decision == "reject"
    with pytest.raises(ReportError, match="阻断"):
        decide(session, filed, reviewer, "admit", "领导同意")
    decide(session, filed, reviewer, "reject", "没有依据")
    assert report.status == "rejected" and not can_dispatch(report)


def test_a_report_the_ledgers_cover_is_decided_extract(session, rules, specs, make_person):
    with session.begin():
        upsert(
            session.connection(),
            specs.ledgers["person"],
            [make_person(is_veteran=True) for _ in range(5)],
            Provenance("import", "t.csv"),
            scope=DISTRICT,
        )
    forget()
    canlian, reviewer = _actor(session, "canlian"), _actor(session, "reviewer")
    report = create_report(
        session,
        canlian,
        make_doc(
            fields={
                "name": {"x-element": "person.name"},
                "gender": {"x-element": "person.gender"},
                "birth": {"x-element": "person.birth_date"},
            }
        ),
    )
    filed = submit(session, specs, rules, report, canlian)
    coverage = filed.verdict["coverage"]
    assert (coverage["data_fields"], coverage["bound"], coverage["ratio"]) == (3, 3, 1.0)
    assert filed.verdict_decision == "extract"
    decide(session, filed, reviewer, "admit", "直接从台账提取")
    assert report.mode == "extract" and not can_dispatch(report)


def test_a_report_repeating_a_live_one_is_blocked_naming_it(session, rules, specs):
    canlian = _actor(session, "canlian")
    first = create_report(session, canlian, make_doc(title="第一张康复调查表"))
    submit(session, specs, rules, first, canlian)
    minzheng = _actor(session, "minzheng")
    second = create_report(session, minzheng, make_doc(title="第二张", department="minzheng"))
    filed = submit(session, specs, rules, second, minzheng)
    overlap = next(r for r in filed.verdict["rules"] if r["id"] == "live_report_overlap")
    assert overlap["outcome"] == "block" and "第一张康复调查表" in overlap["message"]
    assert filed.verdict["overlaps"][0]["title"] == "第一张康复调查表"


def test_the_monthly_quota_counts_the_departments_other_reports(session, rules, specs):
    canlian = _actor(session, "canlian")
    outcomes = []
    for n, label in enumerate(["甲", "乙", "丙"]):
        report = create_report(
            session,
            canlian,
            make_doc(title=f"报表{label}", fields={f"q{n}": {"title": f"问题{label}", "type": "string"}}),
        )
        filed = submit(session, specs, rules, report, canlian)
        outcomes.append(next(r["outcome"] for r in filed.verdict["rules"] if r["id"] == "department_quota"))
    assert outcomes == ["pass", "pass", "block"]
    department = session.scalar(select(Department).where(Department.code == "canlian"))
    assert session.scalar(select(AdmissionRequest.department_id).limit(1)) == department.id
