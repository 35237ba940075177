"""The burden figures from a scripted sequence of events: dispatch, submissions, extraction, summary."""

from datetime import datetime

import pytest
from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from builder.admission.gatekeeping import load_rules
from runtime.models import AdmissionRequest, AuditEntry, Task
from runtime.reports.admission import decide, submit
from runtime.reports.burden import burden, month_of
from runtime.reports.store import create_report
from runtime.tasks.dispatch import dispatch

ZHONGSHANLU, SHENGLILU = "500118001", "500118002"
REPORT = {
    "properties": {
        "name": {"x-element": "person.name"},
        "visited": {"title": "是否已走访", "type": "boolean"},
    },
    "required": ["name"],
    "x-justification": "核对走访情况",
}


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture
def scripted(district, specs, admit_sample, actor_of):
    """One report dispatched 10 Oct; two townships submit (one across the local month end); one
    extraction; the summary opened before and after completion; a second department's request
    rejected."""
    with Session(district) as session, session.begin():
        report = admit_sample(session, **REPORT)
        dispatch(session, specs, report, actor_of(session, "canlian"))
        minzheng = actor_of(session, "minzheng")
        other = create_report(
            session,
            minzheng,
            {**report_document(specs), "x-report": "minzheng_visits", "x-department": "minzheng"},
        )
        decide(
            session,
            submit(session, specs, load_rules(specs.root), other, minzheng),
            actor_of(session, "reviewer"),
            "reject",
            "与已有报表重复",
        )
        code = report.code
    with district.begin() as conn:
        conn.execute(update(Task).values(dispatched_at=_utc("2026-10-10 02:00")))
        conn.execute(
            update(Task)
            .where(Task.org_unit_code == ZHONGSHANLU)
            .values(
                state="submitted", submitted_at=_utc("2026-10-11 02:00"), cells_prefilled=80, cells_typed=20
            )
        )
        # 17:00 UTC on 31 October is 01:00 on 1 November in Yongchuan.
        conn.execute(
            update(Task)
            .where(Task.org_unit_code == SHENGLILU)
            .values(
                state="submitted", submitted_at=_utc("2026-10-31 17:00"), cells_prefilled=30, cells_typed=30
            )
        )
        conn.execute(update(AdmissionRequest).values(submitted_at=_utc("2026-10-05 02:00")))
        conn.execute(
            insert(AuditEntry),
            [
                {
                    "at": _utc("2026-11-05 02:00"),
                    "action": "report.extract",
                    "target": "R-x",
                    "detail": {"units": [ZHONGSHANLU], "rows": 10},
                },
                {
                    "at": _utc("2026-11-06 02:00"),
                    "action": "report.extract",
                    "target": "R-x",
                    "detail": {"units": [ZHONGSHANLU], "rows": 10, "format": "csv"},
                },
                {
                    "at": _utc("2026-11-06 03:00"),
                    "action": "report.extract",
                    "target": code,
                    "detail": {"units": [ZHONGSHANLU], "rows": 10},
                },
                {
                    "at": _utc("2026-10-12 02:00"),
                    "action": "summary.open",
                    "target": code,
                    "detail": {"complete": False, "live": False},
                },
                {
                    "at": _utc("2026-11-02 02:00"),
                    "action": "summary.open",
                    "target": code,
                    "detail": {"complete": True, "live": False},
                },
                {
                    "at": _utc("2026-11-03 02:00"),
                    "action": "summary.open",
                    "target": code,
                    "detail": {"complete": True, "live": False},
                },
            ],
        )
    return code


def report_document(specs):
    from builder.reports.spec import load_reports

    return {
        **load_reports(specs.root, specs)["disability_survey"].document,
        **REPORT,
        "x-deadline": "2026-12-31",
    }


def test_months_are_local_calendar_months():
    assert month_of(_utc("2026-10-31 15:59")) == "2026-10"
    assert month_of(_utc("2026-10-31 16:00")) == "2026-11"


def test_figures_follow_the_recorded_events(district, specs, scripted):
    with district.connect() as conn:
        figures = burden(conn, specs)
    by = {(u.month, u.unit): u for u in figures.units}
    october, november = by[("2026-10", ZHONGSHANLU)], by[("2026-11", SHENGLILU)]
    assert october.received == 1 and by[("2026-10", SHENGLILU)].received == 1
    assert (october.prefilled, october.typed, october.prefill_rate) == (80, 20, 0.8)
    assert october.median_hours == 24
    assert (november.prefilled, november.typed, november.prefill_rate) == (30, 30, 0.5)
    assert november.median_hours == pytest.approx(21 * 24 + 15)
    assert by[("2026-11", ZHONGSHANLU)].extracted == 1, "downloaded twice, and the dispatched report's"
    assert by[("2026-11", ZHONGSHANLU)].received == 0
    months = {m.month: m for m in figures.months}
    assert months["2026-10"].received == 23 and months["2026-10"].prefill_rate == 0.8
    assert months["2026-11"].extracted == 1
    assert figures.summary_hours == {"2026-10": 23 * 24}, "the first complete summary counts"
    departments = {(d.month, d.department): d for d in figures.departments}
    canlian = next(d for (m, name), d in departments.items() if "残联" in name)
    assert (canlian.month, canlian.filed, canlian.admitted, canlian.rejected) == ("2026-10", 1, 1, 0)
    rejected = [d for d in figures.departments if d.rejected]
    assert len(rejected) == 1 and rejected[0].filed == 1 and "民政" in rejected[0].department
