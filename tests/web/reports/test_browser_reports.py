"""The admission flow in a real Chromium: import a template, bind, submit, return, revise, admit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from runtime.clock import local_today
from runtime.demo.report_grants import grant_elements
from runtime.demo.templates import sample_templates
from runtime.models import Report, ReportVersion, User

TEMPLATE = "困难残疾人生活补贴和重度残疾人护理补贴申请汇总表.xlsx"


pytestmark = pytest.mark.browser


@pytest.fixture
def blank_url(engine, serve):
    """The app on a fresh database with users but no ledger records, served on a free port."""
    return serve(engine.url.render_as_string(hide_password=False))


def _logout(page) -> None:
    page.click("header form button[type=submit]")
    page.wait_for_url("**/login")


def _binding(page, label: str):
    """Return the binding select of the proposals table row whose header is `label`."""
    return page.locator(f'tr.binding[data-label="{label}"] select')


def test_department_imports_submits_is_returned_revises_and_is_admitted(
    browser, blank_url, engine, tmp_path, sign_in, specs
):
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    path = tmp_path / TEMPLATE
    # What the template asks of others' 有条件共享 data, 区残联 applied for and was granted before.
    with engine.begin() as conn:
        canlian = conn.scalar(select(User.department_id).where(User.username == "canlian"))
        conditional = [
            "person.phone",
            "person.current_address",
            "person.guardian_name",
            "person.guardian_phone",
        ]
        grant_elements(conn, specs, canlian, conditional, "残疾人两项补贴资格核实")
    path.write_bytes(sample_templates()[TEMPLATE])

    # The department admin imports the template and changes one proposed binding.
    sign_in(page, blank_url, "canlian", "/reports/")
    page.click("text=导入 Excel 模板")
    page.set_input_files("#file", str(path))
    page.click("button:has-text('分析模板')")
    page.wait_for_selector("text=确认字段绑定")
    assert _binding(page, "身份证号码").input_value() == "person.id_number"
    assert _binding(page, "监护人电话").input_value() == "person.guardian_phone"
    father_id = page.locator('tr.binding[data-label="身份证号"]').first
    assert father_id.locator("select").input_value() == ""  # the father's ID is not the applicant's
    assert "父亲" in father_id.inner_text()
    _binding(page, "户籍地址").select_option("person.current_address")
    page.click("button:has-text('生成报表草稿')")
    page.wait_for_url("**/edit")
    code = page.url.rstrip("/").split("/")[-2]

    # Filed as it came from the template: no basis, purpose or deadline yet.
    page.goto(f"{blank_url}/reports/{code}/")
    assert "阻断" in page.inner_text("#submit")
    page.click("#submit button[type=submit]")
    page.wait_for_selector("text=已提交准入审核")
    _logout(page)

    # The reviewer returns it with a reason.
    sign_in(page, blank_url, "reviewer", "/review/")
    page.click(f"text={TEMPLATE.removesuffix('.xlsx')}")
    page.check("input[name=action][value=return]")
    page.click("#decide button[type=submit]")
    assert page.eval_on_selector("#reason", "e => e.validity.valueMissing")  # the browser asks for it
    page.fill("#reason", "请写明依据、用途和截止日期，并说明为何需要身份证号和电话")
    page.click("#decide button[type=submit]")
    page.wait_for_selector("text=已退回修改")
    _logout(page)

    # The department reads the reason, revises (a new version) and resubmits.
    sign_in(page, blank_url, "canlian", "/reports/")
    page.goto(f"{blank_url}/reports/{code}/")
    assert "请写明依据、用途和截止日期" in page.inner_text("#decision")
    page.click("text=编辑报表")
    page.fill("#m-purpose", "核定2027年度困难残疾人生活补贴和重度残疾人护理补贴发放对象")
    page.fill(
        "#m-basis",
        "《国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见》（国发〔2015〕52号）",
    )
    page.fill("#m-deadline", (local_today() + timedelta(days=30)).isoformat())
    page.fill("#m-justification", "核对补贴对象身份、发放时电话联系本人或监护人，数据仅用于补贴审核")
    page.click(".form-actions button[value=save]")
    page.wait_for_selector("text=已保存")
    page.goto(f"{blank_url}/reports/{code}/")
    assert "阻断" not in page.inner_text("#submit")
    page.fill("#note", "已按审核意见补充")
    page.click("#submit button[type=submit]")
    page.wait_for_selector("text=已提交准入审核（第 2 版）")
    _logout(page)

    # The reviewer sees what changed and admits it.
    sign_in(page, blank_url, "reviewer", "/review/")
    page.click(f"text={TEMPLATE.removesuffix('.xlsx')}")
    assert "第 1 版 → 第 2 版的修改" in page.inner_text("main")
    page.check("input[name=action][value=admit]")
    page.fill("#reason", "依据充分，敏感数据已说明用途")
    page.click("#decide button[type=submit]")
    page.wait_for_selector("text=已准入")
    # On a 375 px phone the queue and the request page fit the screen (tables become cards).
    page.set_viewport_size({"width": 375, "height": 800})
    for path in ("/review/?status=", "/review/1", "/review/2"):
        page.goto(blank_url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
    assert errors == []

    with Session(engine) as session:
        report = session.scalar(select(Report).where(Report.code == code))
        document = session.scalar(
            select(ReportVersion.document).where(
                ReportVersion.report_id == report.id, ReportVersion.version == 2
            )
        )
    assert (report.status, report.version, report.mode) == ("admitted", 2, "dispatch")
    bound = [p.get("x-element") for p in document["properties"].values()]
    assert "person.current_address" in bound and "person.household_address" not in bound
