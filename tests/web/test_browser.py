"""The pages in a real Chromium: a township user's table, search, a record, a 375 px phone."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from runtime.models import Record

ZHONGSHANLU = "500118001"
MASKED_ID = r"^\*{14}[\dX]{4}$"

pytestmark = pytest.mark.browser


@pytest.fixture
def live_url(seeded_url, serve):
    """The app on the seeded database, served on a free port."""
    return serve(seeded_url)


def _login(page, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", "yibiaotong")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/tasks/")  # a township user lands on her tasks
    page.click("nav.mainnav >> text=台账")
    page.wait_for_url(base + "/ledgers")


def _record_ids(page) -> list[int]:
    hrefs = page.eval_on_selector_all("table.records td.key a", "els => els.map(e => e.href)")
    return [int(h.rsplit("/", 1)[1]) for h in hrefs]


def test_township_user_browses_searches_and_opens_a_record(browser, live_url, seeded_engine, specs):
    """The table holds only 中山路街道's rows with masked IDs; search and a record work."""
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _login(page, live_url, "zhongshanlu")
    assert "中山路街道填报员" in page.inner_text("header")
    page.click("text=人口台账")
    page.wait_for_selector("table.records tbody tr")
    # Arrow functions, not bare expressions: Playwright polls an expression with eval(), which
    # the Content Security Policy refuses.
    page.wait_for_function(
        "() => document.querySelector('#records .count') && "
        "!document.querySelector('#records .count').classList.contains('is-loading')"
    )

    ids = _record_ids(page)
    with seeded_engine.connect() as conn:
        townships = set(conn.execute(select(Record.township_code).where(Record.id.in_(ids))).scalars())
    assert len(ids) == 50 and townships == {ZHONGSHANLU}
    villages = {u.name for u in specs.villages(ZHONGSHANLU)}
    assert set(page.locator("td[data-label='所属村（社区）']").all_inner_texts()) <= villages
    id_cells = page.locator("td[data-label='公民身份号码']").all_inner_texts()
    assert id_cells and all(re.match(MASKED_ID, t.strip()) for t in id_cells)

    name = page.locator("td[data-label='姓名']").first.inner_text().strip()
    page.fill("input[name=q]", name[:2])
    page.wait_for_url(re.compile(r"q="))
    page.wait_for_function(
        "prefix => [...document.querySelectorAll(\"td[data-label='姓名']\")]"
        ".every(td => td.innerText.trim().startsWith(prefix))",
        arg=name[:2],
    )
    names = page.locator("td[data-label='姓名']").all_inner_texts()
    assert name in [n.strip() for n in names]

    page.select_option("select[name=gender]", "女")
    page.wait_for_url(re.compile(r"gender="))
    page.wait_for_function(
        "() => [...document.querySelectorAll(\"td[data-label='性别']\")].every(td => td.innerText === '女')"
    )

    page.fill("input[name=q]", "")
    page.wait_for_function("() => !location.search.includes('q=%')")
    page.locator("table.records td.key a").first.click()
    page.wait_for_selector("#history")
    assert "第 1 版" in page.inner_text("#history")
    assert "演示数据生成" in page.inner_text("table.fields")
    value = page.inner_text("#v-id_number").strip()
    assert re.match(MASKED_ID, value)
    assert page.locator("text=显示明文").count() == 0

    page.click("header button[type=submit]")  # logout: a POST with the CSRF token
    page.wait_for_url(re.compile(r"/login"))
    assert errors == []


def test_phone_width_has_no_horizontal_overflow(browser, live_url, tmp_path):
    """At 375 px the table turns into cards and the page never scrolls sideways."""
    context = browser.new_context(viewport={"width": 375, "height": 812}, device_scale_factor=2)
    page = context.new_page()
    _login(page, live_url, "zhongshanlu")
    for path, shot in (
        ("/ledgers/person", "yibiaotong-375-table.png"),
        ("/ledgers", "yibiaotong-375-ledgers.png"),
    ):
        page.goto(live_url + path)
        page.wait_for_load_state("networkidle")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} overflows by {overflow}px"
        page.screenshot(path=str(tmp_path / shot))
    page.goto(live_url + "/ledgers/person")
    page.locator("table.records td.key a").first.click()
    page.wait_for_selector("#history")
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    page.screenshot(path=str(tmp_path / "yibiaotong-375-record.png"), full_page=False)
    first_row = page.locator("table.records tr, table.fields tbody tr").first.bounding_box()
    assert first_row is None or first_row["width"] <= 375
    context.close()
