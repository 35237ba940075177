"""The issue's flow in Chromium: a township opens a pre-filled task, sees the gaps, fills them,
gets a validation message, corrects it and submits; the ledger record then shows the new value
with the report as its source."""

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from runtime.demo.load import seed
from runtime.ledgers.store import get, history
from runtime.models import Report, Task
from runtime.tasks.dispatch import dispatch

pytestmark = pytest.mark.browser
ZHONGSHANLU = "500118001"
#: Persons with a disability: name, current address (which field work may correct directly:
#: `field_edit: direct`) and occupation from the ledger, household size to fill.
ADDRESS = "重庆市永川区中山路街道新村路8号"
REPORT = {
    "properties": {
        "name": {"x-element": "person.name"},
        "current_address": {"x-element": "person.current_address"},
        "occupation": {"x-element": "person.occupation"},
        "people": {"title": "家庭人口（人）", "type": "integer", "minimum": 1, "maximum": 30},
    },
    "required": ["name", "people"],
}


def test_township_fills_the_gaps_submits_and_the_ledger_takes_the_value(township_task, engine, specs):
    page, base, code, errors = township_task(viewport=(1280, 900), **REPORT)
    rows = page.locator(".task-grid tbody tr")
    count = rows.count()
    assert count > 1
    assert rows.nth(0).locator(".cell-gap input[name=people]").count() == 1, "the gap is marked"

    # A wrong value: the message next to the cell, the text kept; then corrected.
    cell = rows.nth(0).locator("input[name=people]")
    cell.click()
    page.keyboard.type("很多")
    page.keyboard.press("Tab")
    message = rows.nth(0).locator("[id$='-people'].field-error")
    message.wait_for(state="visible")
    assert "整数" in message.inner_text() or "数字" in message.inner_text()
    rows.nth(0).locator("input[name=people]").click()
    page.keyboard.type("3")
    page.keyboard.press("Tab")
    rows.nth(0).locator(".cell-edited input[name=people]").wait_for()
    for n in range(1, count):
        rows.nth(n).locator("input[name=people]").click()
        page.keyboard.type("2")
        page.keyboard.press("Tab")
        rows.nth(n).locator(".cell-edited input[name=people]").wait_for()

    # A correction of a ledger value: it will flow back.
    record_id = int(rows.nth(0).get_attribute("id").removeprefix("row-g"))
    rows.nth(0).locator("input[name=current_address]").fill(ADDRESS)
    rows.nth(0).locator("input[name=current_address]").press("Tab")
    rows.nth(0).locator(".cell-edited input[name=current_address]").wait_for()

    page.click("text=提交任务")
    page.wait_for_selector("text=已提交")
    assert "1 条台账记录已更新" in page.inner_text("main")
    page.goto(f"{base}/ledgers/person/records/{record_id}")
    text = page.inner_text("main")
    assert ADDRESS in text and "报表回流" in text
    assert errors == []

    with engine.connect() as conn:
        assert conn.scalar(select(Task.state).where(Task.org_unit_code == ZHONGSHANLU)) == "submitted"
        assert get(conn, specs.ledgers["person"], record_id)["current_address"] == ADDRESS
        newest = history(conn, record_id)[0]
    assert newest["source"] == "writeback" and newest["source_ref"].startswith(code)


def test_a_block_pasted_from_excel_fills_the_cells_below_and_right(
    browser, engine, specs, serve, admit_report, sign_in, actor_of
):
    seed(engine, specs, "tiny", 7)
    code = admit_report(engine, **REPORT)
    with Session(engine) as session, session.begin():
        report = session.scalar(select(Report).where(Report.code == code))
        dispatch(session, specs, report, actor_of(session, "canlian"), [ZHONGSHANLU])
    base = serve(engine.url.render_as_string(hide_password=False))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, base, "zhongshanlu", "/tasks/")
    page.click("table.task-list a")
    page.wait_for_selector("table.task-grid")
    rows = page.locator(".task-grid tbody tr")
    rows.nth(0).locator("input[name=occupation]").focus()
    # Two columns (职业, 家庭人口) of three rows, as Excel puts them on the clipboard.
    page.evaluate(
        """text => {
        const data = new DataTransfer();
        data.setData('text/plain', text);
        document.activeElement.dispatchEvent(
            new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));
    }""",
        "教师\t4\r\n农民\t3\r\n医生\t很多\r\n",
    )
    for n, (job, people) in enumerate((("教师", "4"), ("农民", "3"))):
        rows.nth(n).locator(".cell-edited input[name=people]").wait_for()
        assert rows.nth(n).locator("input[name=occupation]").input_value() == job
        assert rows.nth(n).locator("input[name=people]").input_value() == people
    third = rows.nth(2).locator("[id$='-people'].field-error")
    third.wait_for(state="visible")
    assert rows.nth(2).locator("input[name=people]").input_value() == "很多", "kept as typed"
