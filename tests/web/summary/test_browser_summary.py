"""Issue acceptance in Chromium: three townships submit; the department opens the summary, sees the
totals and a chart, downloads the .xlsx; the file holds the submitted rows."""

from __future__ import annotations

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from runtime.access import Viewer
from runtime.demo.load import seed
from runtime.models import Report, Task, User
from runtime.tasks.dispatch import dispatch
from runtime.tasks.drafts import save_cells
from runtime.tasks.prefill import task_page
from runtime.tasks.submission import submit_task
from tests.conftest import make_ctx

pytestmark = pytest.mark.browser
UNITS = ("500118001", "500118002", "500118003")
REPORT = {
    "properties": {
        "name": {"x-element": "person.name"},
        "disability_category": {"x-element": "person.disability_category"},
        "subsidy": {"title": "补贴金额（元）", "type": "number", "minimum": 0},
    },
    "required": ["name"],
    "x-justification": "核对补贴发放",
}


def _submit_three(engine, specs, code, actor_of) -> tuple[int, float]:
    """Dispatch the report; three townships type subsidies and submit. Return (rows, subsidy sum)."""
    with Session(engine) as session, session.begin():
        report = session.scalar(select(Report).where(Report.code == code))
        dispatch(session, specs, report, actor_of(session, "canlian"))
    rows, subsidy = 0, 0.0
    with engine.begin() as conn:
        report = conn.execute(select(Report).where(Report.code == code)).one()
        for n, unit in enumerate(UNITS):
            task = conn.execute(
                select(Task).where(Task.report_id == report.id, Task.org_unit_code == unit)
            ).one()
            filler = conn.scalar(select(User.id).where(User.org_unit_code == unit, User.role == "township"))
            ctx = make_ctx(conn, specs, task, Viewer(filler, "township", township=unit))
            for i, row in enumerate(task_page(ctx, limit=3).rows):
                amount = 100 * (n + 1) + i
                save_cells(ctx, row.record_id, {"subsidy": str(amount)}, expected_version=0)
                subsidy += amount
            rows += submit_task(ctx, report).rows
    return rows, subsidy


def test_department_opens_the_summary_sees_a_chart_and_downloads_the_xlsx(
    browser, engine, specs, serve, admit_report, sign_in, actor_of, tmp_path
):
    seed(engine, specs, "tiny", 7)
    code = admit_report(engine, **REPORT)
    rows, subsidy = _submit_three(engine, specs, code, actor_of)
    base = serve(engine.url.render_as_string(hide_password=False))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, base, "canlian", "/reports/")
    page.goto(f"{base}/reports/{code}/")
    page.click("text=查看汇总")
    page.wait_for_selector("text=已提交 3 / 23 个镇街")
    assert page.locator("#totals-title").inner_text().startswith(f"合计：{rows:,} 行")
    assert f"{subsidy:,.0f}" in page.locator("#totals-title").inner_text()
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('chart-units'))")
    bars = page.evaluate("Chart.getChart(document.getElementById('chart-units')).data.datasets[0].data")
    assert sum(bars) == rows and len(bars) == 3
    assert page.locator(".summary-table").first.locator("tbody tr").count() == 3

    page.click("text=下载汇总数据 .xlsx")
    link = page.locator("a", has_text="下载 ")
    link.wait_for()
    with page.expect_download() as download:
        link.click()
    target = tmp_path / "summary.xlsx"
    download.value.save_as(target)
    sheet = openpyxl.load_workbook(target).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    header_at = next(i for i, row in enumerate(values) if "补贴金额（元）" in [str(c) for c in row])
    above = [str(c) for row in values[:header_at] for c in row if c]
    assert any("残疾" in c for c in above), "a title row names the report"
    header = [str(c) for c in values[header_at]]
    body = [row for row in values[header_at + 1 :] if any(c not in (None, "") for c in row)]
    assert len(body) == rows
    column = header.index("补贴金额（元）")
    assert sum(float(r[column]) for r in body if r[column] not in (None, "")) == subsidy

    # The live summary reads every row: the page comes first, its figures and charts after, by htmx.
    page.goto(f"{base}/reports/{code}/summary")
    page.check("input[name=live]")
    page.locator(".summary-table").first.filter(has_text="未提交，实时数据").wait_for()
    page.wait_for_function(
        "() => (Chart.getChart(document.getElementById('chart-units'))"
        "|| {data: {labels: []}}).data.labels.length === 23"
    )
    assert page.locator("#summary-results[aria-busy]").count() == 0
    assert errors == []
