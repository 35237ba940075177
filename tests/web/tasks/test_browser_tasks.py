"""The task grid in a real Chromium: dispatch, open a pre-filled task, fill a gap, a message, Enter, phone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
#: Where screenshots go when set (for looking at the pages by eye).
SHOTS = os.environ.get("YIBIAOTONG_SCREENSHOTS")


def _shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"h-{name}.png"), full_page=False)


def test_township_fills_a_prefilled_task_in_the_grid_and_on_a_phone(township_task, engine):
    page, base, code, errors = township_task()
    assert page.locator(".task-grid .cell-gap").count() > 0
    assert page.locator(".task-grid .cell-prefilled[title^='来源：']").count() > 0
    _shot(page, "grid")

    income = page.locator(".task-grid tbody tr").nth(0).locator("input[name=monthly_income]")
    income.click()
    page.keyboard.type("一千")
    page.keyboard.press("Tab")
    message = page.locator(".task-grid tbody tr").nth(0).locator("[id$='-monthly_income'].field-error")
    message.wait_for(state="visible")
    assert message.inner_text().strip()
    rows = page.locator(".task-grid tbody tr")
    assert rows.nth(0).locator("input[name=monthly_income]").input_value() == "一千", "the text is kept"
    page.locator(".task-grid-wrap").evaluate("el => el.scrollLeft = el.scrollWidth")
    _shot(page, "grid-error")

    fixed = page.locator(".task-grid tbody tr").nth(0).locator("input[name=monthly_income]")
    fixed.click()
    page.keyboard.type("1200")  # focusing selects the text: typing replaces it
    page.keyboard.press("Enter")
    below = page.locator(".task-grid tbody tr").nth(1).locator("input[name=monthly_income]")
    page.wait_for_function(
        "document.activeElement && document.activeElement.name === 'monthly_income'"
        " && document.activeElement.closest('tr')"
        " !== document.querySelector('.task-grid tbody tr')"
    )
    assert below.evaluate("el => el === document.activeElement")
    first = page.locator(".task-grid tbody tr").nth(0)
    first.locator(".cell-edited input[name=monthly_income]").wait_for()
    assert first.locator("input[name=monthly_income]").input_value() == "1200"
    page.keyboard.type("800")
    page.keyboard.press("Tab")
    page.locator(".task-grid tbody tr").nth(1).locator(".cell-edited input[name=monthly_income]").wait_for()

    page.set_viewport_size({"width": 375, "height": 800})
    page.reload()
    cards = page.locator(".card-slot")
    assert cards.nth(0).is_visible() and not cards.nth(1).is_visible()
    assert not page.locator("table.task-grid").is_visible()
    _shot(page, "phone")
    cards.nth(0).locator("text=下一条").click()
    assert cards.nth(1).is_visible() and not cards.nth(0).is_visible()
    remark = cards.nth(1).locator("textarea[name=remarks]")
    remark.fill("电话无人接听，已上门核实")
    remark.blur()
    cards.nth(1).locator(".cell-edited textarea[name=remarks]").wait_for()
    _shot(page, "phone-next")
    assert errors == []
