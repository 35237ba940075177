"""The cross-township summary equals the sum of the submitted rows, by township and by a choice."""

from collections import Counter, defaultdict

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from runtime.access import Viewer
from runtime.clock import local_today
from runtime.dispatch import dispatch
from runtime.models import User
from runtime.prefill import task_page
from runtime.submission import merged_rows, submit_task
from runtime.summary import EMPTY, summarize
from runtime.task_drafts import mark_row, save_cells

#: Persons with a disability: category from the ledger, a subsidy and a yes/no typed by townships.
REPORT = {"properties": {"name": {"x-element": "person.name"},
                         "disability_category": {"x-element": "person.disability_category"},
                         "subsidy": {"title": "补贴金额（元）", "type": "number", "minimum": 0},
                         "visited": {"title": "是否已走访", "type": "boolean"}},
          "required": ["name"], "x-justification": "核对补贴发放"}
UNITS = ("500118001", "500118002", "500118003")


@pytest.fixture
def report(district, specs, admit_sample, actor_of, load_task):
    """The report dispatched to all townships; three of them fill, two of those submit."""
    with Session(district) as session, session.begin():
        made = admit_sample(session, **REPORT)
        tasks = {t.org_unit_code: t.id for t in dispatch(session, specs, made, actor_of(session, "canlian"))}
        fillers = {code: session.scalar(select(User.id).where(User.org_unit_code == code,
                                                              User.role == "township")) for code in UNITS}
    with district.begin() as conn:
        for n, code in enumerate(UNITS):
            task, report_row, spec = load_task(conn, tasks[code])
            viewer = Viewer(fillers[code], "township", township=code)
            rows = task_page(conn, specs, spec, task, viewer, limit=500).rows
            for i, row in enumerate(rows):
                typed = {"subsidy": str(100 * (i + 1) + n)} if i % 2 == 0 else {"visited": "是"}
                save_cells(conn, specs, spec, task, viewer, row.record_id, typed, expected_version=0)
            if len(rows) > 2:
                mark_row(conn, specs, spec, task, viewer, rows[1].record_id, "已迁出", expected_version=1)
            if n < 2:
                submit_task(conn, specs, spec, task, viewer, report_row)
    return tasks


def _expected(conn, specs, load_task, task_ids):
    """Sum the merged rows of some tasks in Python: rows and subsidy per township, categories."""
    rows, subsidy, categories = Counter(), defaultdict(float), Counter()
    for task_id in task_ids:
        task, _report, spec = load_task(conn, task_id)
        for _record, values in merged_rows(conn, specs, spec, task, today=local_today()):
            rows[task.org_unit_code] += 1
            subsidy[task.org_unit_code] += values.get("subsidy") or 0
            categories[values.get("disability_category") or EMPTY] += 1
    return rows, subsidy, categories


def test_summary_totals_equal_the_submitted_rows(district, specs, report, load_task):
    with district.connect() as conn:
        task, report_row, spec = load_task(conn, report[UNITS[0]])
        summary = summarize(conn, specs, spec, report_row, by="disability_category")
        rows, subsidy, categories = _expected(conn, specs, load_task, [report[u] for u in UNITS[:2]])
    assert (summary.submitted, summary.tasks) == (2, 23)
    assert [line.code for line in summary.by_unit] == list(UNITS[:2])
    assert {line.code: line.rows for line in summary.by_unit} == dict(rows)
    assert {line.code: line.sums["subsidy"] for line in summary.by_unit} == pytest.approx(dict(subsidy))
    assert summary.total.rows == sum(rows.values()) and summary.total.sums["subsidy"] == pytest.approx(
        sum(subsidy.values()))
    assert {line.code: line.rows for line in summary.pivot} == dict(categories)
    assert sum(line.rows for line in summary.pivot) == summary.total.rows
    assert [m.name for m in summary.measures] == ["subsidy"]
    assert {f.name for f in summary.choices} == {"disability_category", "visited"}


def test_live_rows_are_included_on_request_and_marked(district, specs, report, load_task):
    with district.connect() as conn:
        task, report_row, spec = load_task(conn, report[UNITS[0]])
        live = summarize(conn, specs, spec, report_row, live=True, by="visited")
        rows, subsidy, _categories = _expected(conn, specs, load_task, list(report.values()))
    assert len(live.by_unit) == 23 and live.live
    states = {line.code: line.state for line in live.by_unit}
    assert (states[UNITS[0]], states[UNITS[2]], states["500118004"]) == ("submitted", "in_progress", "new")
    assert {line.code: line.rows for line in live.by_unit if line.rows} == dict(rows)
    assert live.total.sums["subsidy"] == pytest.approx(sum(subsidy.values()))
    yes = next(line for line in live.pivot if line.code == "是")
    assert yes.rows > 0 and yes.sums["subsidy"] == 0, "visited rows were the ones without a subsidy"


def test_one_township_drills_down(district, specs, report, load_task):
    with district.connect() as conn:
        task, report_row, spec = load_task(conn, report[UNITS[1]])
        one = summarize(conn, specs, spec, report_row, unit=UNITS[1])
        rows, subsidy, _categories = _expected(conn, specs, load_task, [report[UNITS[1]]])
    assert [line.code for line in one.by_unit] == [UNITS[1]]
    assert one.total.rows == rows[UNITS[1]] and one.total.sums["subsidy"] == pytest.approx(subsidy[UNITS[1]])


def test_a_submitted_township_stays_as_submitted_when_the_ledger_changes(district, specs, report, load_task):
    from runtime.ledger_store import Provenance, get, upsert

    persons = specs.ledgers["person"]
    with district.begin() as conn:
        task, report_row, spec = load_task(conn, report[UNITS[0]])
        before = summarize(conn, specs, spec, report_row, by="disability_category")
        record_id = next(r.record_id for r in task_page(conn, specs, spec, task,
                                                         Viewer(None, "keeper"), limit=1).rows)
        record = get(conn, persons, record_id)
        upsert(conn, persons, [{"id_number": record["_key"], "disability_category": "多重"
                                if record.get("disability_category") != "多重" else "视力"}],
               Provenance("import", "残联系统同步"))
        after = summarize(conn, specs, spec, report_row, by="disability_category")
    assert [(ln.code, ln.rows) for ln in after.pivot] == [(ln.code, ln.rows) for ln in before.pivot]
