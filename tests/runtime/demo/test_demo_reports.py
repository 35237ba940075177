"""The demo reports: one at each step of admission, created once."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from runtime.demo.load import seed
from runtime.demo.reports import load_demo_reports
from runtime.ledgers.holdings import forget
from runtime.models import AdmissionRequest, Report, Task


def test_demo_reports_cover_every_step_and_are_created_once(engine, specs):
    seed(engine, specs, "tiny", 7)
    forget()
    assert load_demo_reports(engine, specs) == 4
    assert load_demo_reports(engine, specs) == 0
    with Session(engine) as session:
        states = {r.code: (r.status, r.mode) for r in session.scalars(select(Report))}
        reasons = [r.reason for r in session.scalars(select(AdmissionRequest)) if r.reason]
    assert sorted(states.values(), key=str) == sorted(
        [("admitted", "dispatch"), ("returned", None), ("submitted", None), ("admitted", "extract")], key=str
    )
    assert len(reasons) == 3
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Task)) == 23
        submitted = session.scalars(select(Task).where(Task.state == "submitted")).all()
    assert sorted(t.org_unit_code for t in submitted) == ["500118002", "500118003", "500118004"]
    assert all(t.totals["whole"]["rows"] == t.rows_total for t in submitted), "with their totals kept"
    assert sum(t.cells_typed for t in submitted) > 0 and sum(t.cells_prefilled for t in submitted) > 0
