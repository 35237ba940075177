"""The audit page in Chromium: the filter narrows through htmx with a clean address, a refused date says
why beside the field, and a phone reads each entry as a card."""

import pytest

pytestmark = pytest.mark.browser


def test_a_department_filters_its_part_of_the_log_on_a_desktop_and_a_phone(
    browser, engine, serve, sign_in, write_audit_sample
):
    write_audit_sample(engine)
    base = serve(engine.url.render_as_string(hide_password=False))
    for width, height in ((1366, 800), (375, 812)):
        page = browser.new_page(viewport={"width": width, "height": height})
        problems = []
        page.on("pageerror", lambda exc, problems=problems: problems.append(str(exc)))
        page.on(
            "console",
            lambda m, problems=problems: (
                problems.append(m.text) if "Content Security Policy" in m.text else None
            ),
        )
        sign_in(page, base, "canlian", "/reports/")
        page.goto(base + "/audit/")
        rows = page.locator("tr[id^=entry-]")
        assert rows.count() == 4, "who read its data, and the grants it applied for or owns"
        page.select_option("#filters select[name=action]", "grant")
        page.wait_for_url(base + "/audit/?action=grant")
        page.wait_for_function("document.querySelectorAll('tr[id^=entry-]').length === 3")
        page.fill("#filters input[name=start]", "2026-11-02")
        page.fill("#filters input[name=end]", "2026-10-01")
        page.locator("#filters input[name=end]").dispatch_event("change")
        page.wait_for_selector("#error-end:has-text('结束日期不能早于开始日期')")
        assert page.locator("#filters input[name=end]").input_value() == "2026-10-01", "what was typed stays"
        assert page.locator("text=筛选条件有误").is_visible()
        page.goto(base + "/audit/?action=read")
        assert page.locator("tr[id^=entry-] td.via").inner_text() == "页面"
        assert page.locator("table.audit-log thead").is_visible() == (width > 640), "a phone shows cards"
        assert problems == []
        page.close()
