"""The cross-township summary equals the sum of the submitted rows, by township and by a choice."""

from collections import Counter, defaultdict

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from builder.reports.totals import labels
from runtime.access import Viewer
from runtime.clock import local_today
from runtime.models import User
from runtime.tasks.added import add_row
from runtime.tasks.dispatch import dispatch
from runtime.tasks.drafts import mark_row, save_cells
from runtime.tasks.prefill import task_page
from runtime.tasks.submission import merged_rows, submit_task
from runtime.tasks.summary import EMPTY, summarize
from tests.conftest import make_ctx, make_id_number

#: Persons with a disability: category from the ledger, a subsidy and a yes/no typed by townships.
REPORT = {
    "properties": {
        "id_number": {"x-element": "person.id_number"},
        "name": {"x-element": "person.name"},
        "disability_category": {"x-element": "person.disability_category"},
        "subsidy": {"title": "补贴金额（元）", "type": "number", "minimum": 0},
        "visited": {"title": "是否已走访", "type": "boolean"},
        "needs": {
            "title": "服务需求",
            "type": "array",
            "uniqueItems": True,
            "items": {"type": "string", "enum": ["康复", "辅具", "就业"]},
        },
    },
    "required": ["name"],
    "x-justification": "核对补贴发放",
}
UNITS = ("500118001", "500118002", "500118003")
#: A district-wide reader, for the reads of a task no filler makes.
KEEPER = Viewer(None, "keeper")


@pytest.fixture
def report(district, specs, admit_sample, actor_of, load_task):
    """The report dispatched to all townships; three of them fill, two of those submit."""
    with Session(district) as session, session.begin():
        made = admit_sample(session, **REPORT)
        tasks = {t.org_unit_code: t.id for t in dispatch(session, specs, made, actor_of(session, "canlian"))}
        fillers = {
            code: session.scalar(select(User.id).where(User.org_unit_code == code, User.role == "township"))
            for code in UNITS
        }
    with district.begin() as conn:
        for n, code in enumerate(UNITS):
            task, report_row, _spec = load_task(conn, tasks[code])
            ctx = make_ctx(conn, specs, task, Viewer(fillers[code], "township", township=code))
            rows = task_page(ctx, limit=500).rows
            for i, row in enumerate(rows):
                typed = {"subsidy": str(100 * (i + 1) + n)} if i % 2 == 0 else {"visited": "是"}
                typed["needs"] = ("康复、辅具", "就业", "")[i % 3]
                save_cells(ctx, row.record_id, typed, expected_version=0)
            if len(rows) > 2:
                mark_row(ctx, rows[1].record_id, "已迁出", expected_version=1)
            if n < 2:
                submit_task(ctx, report_row)
    return tasks


def _expected(conn, specs, load_task, task_ids, viewer=KEEPER):
    """Sum the merged rows of some tasks in Python: rows and subsidy per township, categories."""
    rows, subsidy, categories = Counter(), defaultdict(float), Counter()
    for task_id in task_ids:
        task, _report, _spec = load_task(conn, task_id)
        for _record, values in merged_rows(make_ctx(conn, specs, task, viewer), today=local_today()):
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
        sum(subsidy.values())
    )
    assert {line.code: line.rows for line in summary.pivot} == dict(categories)
    assert sum(line.rows for line in summary.pivot) == summary.total.rows
    assert [m.name for m in summary.measures] == ["subsidy"]
    assert {f.name for f in summary.choices} == {"disability_category", "visited", "needs"}


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
    from runtime.ledgers.store import Provenance, get, upsert
    from runtime.org_scope import DISTRICT

    persons = specs.ledgers["person"]
    with district.begin() as conn:
        task, report_row, spec = load_task(conn, report[UNITS[0]])
        before = summarize(conn, specs, spec, report_row, by="disability_category")
        record_id = next(r.record_id for r in task_page(make_ctx(conn, specs, task, KEEPER), limit=1).rows)
        record = get(conn, persons, record_id)
        upsert(
            conn,
            persons,
            [
                {
                    "id_number": record["_key"],
                    "disability_category": "多重" if record.get("disability_category") != "多重" else "视力",
                }
            ],
            Provenance("import", "残联系统同步"),
            scope=DISTRICT,
        )
        after = summarize(conn, specs, spec, report_row, by="disability_category")
    assert [(ln.code, ln.rows) for ln in after.pivot] == [(ln.code, ln.rows) for ln in before.pivot]


def test_a_row_a_township_added_counts_live_as_it_will_when_submitted(district, specs, report, load_task):
    """The live line of an unsubmitted task equals the line its submission then keeps."""
    unit = UNITS[2]
    with district.begin() as conn:
        task, report_row, spec = load_task(conn, report[unit])
        filler = Viewer(task.dispatched_by, "township", township=unit)
        ctx = make_ctx(conn, specs, task, filler)
        before = summarize(conn, specs, spec, report_row, live=True, unit=unit, by="disability_category")
        add_row(
            ctx,
            {"id_number": make_id_number("19800101", 777), "name": "新登记", "subsidy": "777"},
            {
                "village_code": specs.villages(unit)[0].code,
                "household_no": "5001180039999",
                "relation_to_head": "户主",
            },
        )
        live = summarize(conn, specs, spec, report_row, live=True, unit=unit, by="disability_category")
        task, report_row, spec = load_task(conn, report[unit])
        ctx = make_ctx(conn, specs, task, filler)
        submit_task(ctx, report_row)
        kept = summarize(conn, specs, spec, report_row, unit=unit, by="disability_category")
    assert live.total.rows == before.total.rows + 1
    assert live.total.sums["subsidy"] == pytest.approx(before.total.sums["subsidy"] + 777)
    unfilled = {line.code: line.rows for line in live.pivot}.get(EMPTY, 0)
    assert unfilled == {line.code: line.rows for line in before.pivot}.get(EMPTY, 0) + 1
    assert kept.by_unit[0].state == "submitted"
    assert (kept.total.rows, kept.total.sums) == (live.total.rows, live.total.sums)
    assert [(ln.code, ln.rows, ln.sums) for ln in kept.pivot] == [
        (ln.code, ln.rows, ln.sums) for ln in live.pivot
    ]


def test_a_village_task_live_holds_its_village_rows(district, specs, admit_sample, actor_of, load_task):
    township = UNITS[0]
    villages = [v.code for v in specs.villages(township)]
    with Session(district) as session, session.begin():
        made = admit_sample(session, **REPORT, **{"x-targets": [township, *villages]})
        tasks = {t.org_unit_code: t.id for t in dispatch(session, specs, made, actor_of(session, "canlian"))}
    with district.connect() as conn:
        task, report_row, spec = load_task(conn, tasks[township])
        live = summarize(conn, specs, spec, report_row, live=True)
        rows, _subsidy, _categories = _expected(conn, specs, load_task, list(tasks.values()))
    assert {line.code: line.rows for line in live.by_unit} == {code: rows[code] for code in tasks}
    assert sum(rows[code] > 0 for code in villages) >= 2, "villages have rows of their own"


def test_a_multiple_choice_pivots_each_option_live_as_when_submitted(district, specs, report, load_task):
    """Each option counts the rows holding it; the live lines equal what the submission then keeps."""
    unit = UNITS[2]
    with district.begin() as conn:
        task, report_row, spec = load_task(conn, report[unit])
        ctx = make_ctx(conn, specs, task, Viewer(task.dispatched_by, "township", township=unit))
        live = summarize(conn, specs, spec, report_row, live=True, unit=unit, by="needs")
        expected = Counter()
        for _record, values in merged_rows(ctx, today=local_today()):
            expected.update(labels(values.get("needs")))
        submit_task(ctx, report_row)
        kept = summarize(conn, specs, spec, report_row, unit=unit, by="needs")
    assert live.pivot_multi and kept.pivot_multi
    assert {line.code: line.rows for line in live.pivot} == dict(expected)
    assert [line.code for line in live.pivot] == [c for c in ("康复", "辅具", "就业", EMPTY) if c in expected]
    assert sum(line.rows for line in live.pivot) > live.total.rows, "a row with two needs counts twice"
    assert [(ln.code, ln.rows, ln.sums) for ln in kept.pivot] == [
        (ln.code, ln.rows, ln.sums) for ln in live.pivot
    ]
