"""In a real Chromium (CSRF and the Content Security Policy on): a visit's 死亡 waits for 区公安分局.

wangge sets 人员状态 to 死亡 on a person of his village; the ledger keeps 在册 until gongan, on a
375 px phone, ticks 全选本页 and accepts what is selected.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from runtime.demo.load import seed
from runtime.ledgers.store import get
from runtime.models import Record

pytestmark = pytest.mark.browser
VILLAGE = "500118001001"


def _sign_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", "yibiaotong")
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_a_death_from_a_visit_changes_the_ledger_only_once_accepted(browser, serve, engine, specs):
    seed(engine, specs, "tiny", 7)
    with engine.connect() as conn:
        rid = conn.execute(
            select(Record.id)
            .where(Record.ledger == "person", Record.village_code == VILLAGE)
            .order_by(Record.id)
        ).first()[0]
    base = serve(engine.url.render_as_string(hide_password=False))
    page = browser.new_page(viewport={"width": 375, "height": 812})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    _sign_in(page, base, "wangge")
    page.goto(f"{base}/ledgers/person/records/{rid}/edit")
    assert "须区公安分局审核" in page.inner_text("label[for=f-residence_status]")
    page.select_option("#f-residence_status", "死亡")
    page.fill("#f-evidence", "家属告知已去世")
    page.click(".form-actions button[type=submit]")
    page.wait_for_url(f"{base}/ledgers/person/records/{rid}")
    assert "已提交区公安分局审核：人员状态" in page.inner_text(".alert")
    assert "死亡" in page.inner_text("#pending")
    with engine.connect() as conn:
        assert get(conn, specs.ledgers["person"], rid).get("residence_status") != "死亡"

    _sign_in(page, base, "gongan")
    page.goto(base + "/proposals/")
    assert page.inner_text("nav.mainnav .nav-count") == "1"
    assert "家属告知已去世" in page.inner_text("table.proposals")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375, "no sideways scrolling"
    page.check("input[data-check-all]")
    assert page.is_checked("input[name=ids]"), "全选本页 ticks the rows (app.js, no inline script)"
    page.click("#bulk button[type=submit]")
    page.wait_for_load_state()
    assert "已采纳 1 条变更" in page.inner_text("main")
    assert page.locator("nav.mainnav .nav-count").count() == 0
    with engine.connect() as conn:
        assert get(conn, specs.ledgers["person"], rid)["residence_status"] == "死亡"
    assert errors == []
