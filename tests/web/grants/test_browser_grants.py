"""The grant flow in a real Chromium, under the Content Security Policy, on a desktop and a phone.

区残联 goes from the catalog's 申请 link to the form, switches ledgers (htmx) without losing what it
typed, applies for 区民政局's 救助类别 in two townships; 区民政局 sees the count in its navigation and
approves one township only, with a reason; 区残联 reads what was granted against what it applied for.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

LAISU, ZHONGSHANLU = "500118108", "500118001"


@pytest.fixture
def blank_url(engine, serve):
    """The app on a fresh database with users but no ledger records, served on a free port."""
    return serve(engine.url.render_as_string(hide_password=False))


@pytest.mark.parametrize("viewport", [(1366, 800), (375, 812)], ids=["desktop", "phone"])
def test_apply_from_the_catalog_and_the_owner_approves_one_township(browser, blank_url, sign_in, viewport):
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)

    sign_in(page, blank_url, "canlian", "/reports/")
    page.goto(blank_url + "/catalog/?owner=区民政局")
    page.click("a[href*='element=person.assistance_type']")
    assert page.is_checked("input[value='person.assistance_type']")
    page.fill("#g-purpose", "核发困难残疾人生活补贴")
    page.select_option("#g-ledger", "household")
    page.wait_for_selector("input[value='household.poverty_status']")
    assert page.input_value("#g-purpose") == "核发困难残疾人生活补贴", "typed text survives the ledger change"
    page.select_option("#g-ledger", "person")
    page.wait_for_selector("input[value='person.assistance_type']")
    page.check("input[value='person.assistance_type']")
    page.check("input[name=scope][value=some]")
    page.check(f"input[name=township][value='{LAISU}']")
    page.check(f"input[name=township][value='{ZHONGSHANLU}']")
    page.click("text=提交申请")
    page.wait_for_selector("text=已提交 1 份申请")
    page.click("header form button[type=submit]")

    sign_in(page, blank_url, "minzheng", "/reports/")
    assert page.inner_text(".mainnav .nav-count") == "1"
    page.goto(blank_url + "/grants/inbox")
    card = page.locator(".grant-card").filter(has_text="区残联")
    card.locator(f"input[name=township][value='{ZHONGSHANLU}']").uncheck()
    card.locator("button[value=approve]").click()
    card = page.locator(".grant-card").filter(has_text="区残联")
    assert "请写明缩小授权范围的理由" in card.inner_text()
    assert not card.locator(f"input[name=township][value='{ZHONGSHANLU}']").is_checked()
    card.locator("textarea[name=reason]").fill("先在来苏镇核对")
    card.locator("button[value=approve]").click()
    page.wait_for_selector("text=已批准申请")
    page.click("header form button[type=submit]")

    sign_in(page, blank_url, "canlian", "/reports/")
    page.goto(blank_url + "/grants/")
    row = page.locator("table.grants tbody tr").first
    assert "已授权" in row.inner_text() and "先在来苏镇核对" in row.inner_text()
    assert row.locator("del").first.inner_text() == "中山路街道、来苏镇"
    assert problems == []
