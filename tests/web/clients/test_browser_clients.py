"""The 对接系统 and 数据对接 pages in a real Chromium, under the Content Security Policy, on a
desktop and a phone: an administrator issues a token, copies it, sees it never again and revokes
it after confirming; a keeper reads the late source first on the feeds page and filters to it."""

from __future__ import annotations

import re

import pytest

from runtime.demo.clients import load_demo_clients

pytestmark = pytest.mark.browser

OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def demo_url(engine, specs, serve):
    """The app on a fresh database with the demo client systems and their feeds, served on a free port."""
    load_demo_clients(engine, specs)
    return serve(engine.url.render_as_string(hide_password=False))


@pytest.mark.parametrize("viewport", [(1366, 800), (375, 812)], ids=["desktop", "phone"])
def test_issue_copy_and_revoke_a_token_then_read_the_feeds(browser, demo_url, sign_in, viewport):
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)

    sign_in(page, demo_url, "admin", "/ledgers")
    page.click(".mainnav >> text=对接系统")
    assert page.evaluate(OVERFLOW) <= 0
    page.click("table.clients a:has-text('区残联残疾人管理系统')")
    page.fill("#label", "残联前置机")
    page.click("#issue button[type=submit]")
    page.wait_for_selector("text=令牌只显示这一次")
    token = page.input_value("#new-token")
    assert re.fullmatch(r"ybt_[A-Za-z0-9_-]{40,}", token)
    assert page.evaluate(OVERFLOW) <= 0
    page.click("button[data-copy]")
    page.wait_for_selector("button[data-copy]:has-text('已复制')")
    page.click("text=我已保存，返回")
    assert token not in page.content()
    row = page.locator("tr").filter(has_text="残联前置机")
    assert token[:12] in row.inner_text() and "有效" in row.inner_text()
    row.locator("summary").click()
    row.locator("text=确认吊销").click()
    page.wait_for_selector("text=已吊销令牌")
    assert "已吊销" in page.locator("tr").filter(has_text="残联前置机").inner_text()
    assert page.evaluate(OVERFLOW) <= 0
    page.click("header form button[type=submit]")

    sign_in(page, demo_url, "keeper", "/ledgers")
    page.click(".mainnav >> text=数据对接")
    first = page.locator(".source-state").first
    assert "区公安分局户籍系统" in first.inner_text() and "逾期" in first.inner_text()
    assert "逾期" in page.locator("table.freshness tbody tr").first.inner_text()
    assert page.evaluate(OVERFLOW) <= 0
    page.select_option("select[name=state]", "late")
    page.wait_for_url(re.compile(r"state=late"))
    states = page.locator("table.freshness tbody tr td[data-label='状态']").all_inner_texts()
    assert states and all(s.startswith("逾期") for s in states)
    assert problems == []
