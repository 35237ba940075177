"""In Chromium: a department admin builds an aggregate report (汇总表) in the editor."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from runtime.models import Report, ReportVersion

pytestmark = pytest.mark.browser


def _add_field(page, title: str, op: str, pick: tuple[str, str]) -> None:
    """Fill the “add a field” form with a formula and add it; wait for the editor to confirm."""
    page.fill("#new-title", title)
    page.select_option("#new-formula-op", op)
    page.select_option(*pick)
    page.click("button[name=action][value=add_custom]")
    page.get_by_text(f"已添加自定义字段“{title}”").wait_for()


def test_an_admin_builds_an_aggregate_report_in_the_editor(browser, engine, serve, sign_in):
    base = serve(engine.url.render_as_string(hide_password=False))
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, base, "nongye", "/reports/")
    page.goto(base + "/reports/new")
    page.fill("#title", "2026年各镇土地流转统计")
    page.click("text=创建并编辑")
    page.wait_for_url("**/edit")
    code = page.url.rstrip("/").split("/")[-2]

    # The rows become one per township, chosen with the arrow key in the radio group.
    page.focus("#rows-ledger")
    page.keyboard.press("ArrowDown")
    page.locator("#new-formula-op").wait_for()
    assert page.is_checked("#rows-township")
    assert page.evaluate("document.activeElement.id") == "rows-township", "focus stays on the choice"

    _add_field(page, "流转地块数", "count", ("#new-formula-ledger", "land"))
    page.click("button[name=action][value='add_where:c1']")
    page.locator("#f-0-w-0-element").wait_for()
    page.select_option("#f-0-w-0-element", "land.is_transferred")
    page.select_option("#f-0-w-0-op", "eq")
    page.fill("#f-0-w-0-value", "是")
    _add_field(page, "流转面积（亩）", "sum", ("#new-formula-element", "land.transfer_area_mu"))
    page.click(".form-actions button[value=save]")
    assert page.inner_text("#formula-text-c1") == "土地承包与流转台账中 是否流转 等于 是 的记录数"
    assert "流转面积（亩）之和" in page.inner_text("#formula-text-c2")
    page.locator("#preview").get_by_text("每个镇街一行（汇总表）").wait_for()

    # On a 375 px phone the editor fits the screen.
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert errors == []

    with Session(engine) as session:
        report = session.scalar(select(Report).where(Report.code == code))
        document = session.scalar(
            select(ReportVersion.document).where(
                ReportVersion.report_id == report.id, ReportVersion.version == report.version
            )
        )
    assert document["x-rows"] == {"unit": "township"}
    assert {name: (p["type"], p["x-formula"]) for name, p in document["properties"].items()} == {
        "c1": (
            "integer",
            {"count": "land", "where": [{"element": "land.is_transferred", "op": "eq", "value": True}]},
        ),
        "c2": ("number", {"sum": "land.transfer_area_mu"}),
    }
