"""Shared ledgers with grants, end to end in a real Chromium.

区残联 applies for 区民政局's 救助类别 in two townships; 区民政局 approves one of them (来苏镇) with a
reason; 区残联 files a report binding it, and its extraction from the ledgers shows 救助类别 in clear
for the people of 来苏镇 and for no one else.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from builder.admission.gatekeeping import load_rules
from runtime.clock import local_today
from runtime.demo.load import seed
from runtime.reports.admission import decide, submit
from runtime.reports.store import create_report

pytestmark = pytest.mark.browser

LAISU, ZHONGSHANLU = "500118108", "500118001"
#: The values of 救助类别 (person.assistance_type).
ASSISTANCE = ("低保", "特困", "低保边缘", "临时救助", "无")


def _document() -> dict:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "困难残疾人生活补贴核对表",
        "type": "object",
        "x-version": 1,
        "x-department": "canlian",
        "x-purpose": "核对困难残疾人生活补贴发放对象是否仍享受低保或特困供养",
        "x-basis": "《国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见》",
        "x-rows": {"ledger": "person", "filter": [{"element": "person.disability_grade", "op": "present"}]},
        "x-frequency": "once",
        "x-deadline": (local_today() + timedelta(days=20)).isoformat(),
        "x-targets": [],
        "properties": {
            "name": {"x-element": "person.name"},
            "town": {"x-element": "person.township_code"},
            "help": {"x-element": "person.assistance_type"},
        },
        "required": [],
    }


def _admit(engine, specs, actor_of) -> str:
    with Session(engine) as session, session.begin():
        author = actor_of(session, "canlian")
        report = create_report(session, author, _document())
        filed = submit(session, specs, load_rules(specs.root), report, author)
        decide(session, filed, actor_of(session, "reviewer"), "admit", "已获区民政局授权（来苏镇），同意提取")
        return report.code


def _sign_out(page) -> None:
    page.click("header form button[type=submit]")
    page.wait_for_url("**/login**")


def test_a_narrowed_grant_shows_in_clear_for_its_township_only(
    browser, engine, specs, serve, sign_in, actor_of
):
    seed(engine, specs, "tiny", 7)
    url = serve(engine.url.render_as_string(hide_password=False))
    page = browser.new_page(viewport={"width": 1366, "height": 800})
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))

    # 区残联 applies for 救助类别 in 来苏镇 and 中山路街道.
    sign_in(page, url, "canlian", "/reports/")
    page.goto(url + "/grants/?ledger=person&element=person.assistance_type#apply")
    assert page.is_checked("input[value='person.assistance_type']")
    page.fill("#g-purpose", "核对困难残疾人生活补贴发放对象")
    page.check("input[name=scope][value=some]")
    page.check(f"input[name=township][value='{LAISU}']")
    page.check(f"input[name=township][value='{ZHONGSHANLU}']")
    page.click("text=提交申请")
    page.wait_for_selector("text=已提交 1 份申请")
    _sign_out(page)

    # 区民政局 approves 来苏镇 only, with a reason.
    sign_in(page, url, "minzheng", "/reports/")
    page.goto(url + "/grants/inbox")
    card = page.locator(".grant-card").filter(has_text="区残联")
    card.locator(f"input[name=township][value='{ZHONGSHANLU}']").uncheck()
    card.locator("textarea[name=reason]").fill("中山路街道的低保对象正在复核，先授权来苏镇")
    card.locator("button[value=approve]").click()
    page.wait_for_selector("text=已批准申请")
    _sign_out(page)

    # 区残联's report binding 救助类别 is admitted; its extraction shows it for 来苏镇 only.
    code = _admit(engine, specs, actor_of)
    sign_in(page, url, "canlian", "/reports/")
    page.goto(f"{url}/reports/{code}/")
    page.click("button:has-text('从台账提取并下载 .csv')")
    with page.expect_download() as download:
        page.click("a:has-text('下载')")
    with open(download.value.path(), encoding="utf-8-sig") as handle:
        text = handle.read()
    rows = list(csv.reader(io.StringIO(text)))
    header = next(r for r in rows if "救助类别" in r)
    body = rows[rows.index(header) + 1 :]
    town, help_ = header.index("所属镇街"), header.index("救助类别")
    laisu = [r for r in body if r[town] == "来苏镇" and r[help_]]
    others = [r for r in body if r[town] and r[town] != "来苏镇"]
    assert laisu and others, "the report's rows span several townships, some people of 来苏镇 have 救助类别"
    assert [r[help_] for r in laisu if r[help_] not in ASSISTANCE] == [], "in clear in 来苏镇"
    assert all(r[help_] == "" for r in others), "not shown outside the granted township"
    assert problems == []
