"""In a real Chromium: add a row for a person the ledger lacks, fill it, delete it; correct a masked cell."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from runtime.models import TaskRow
from tests.conftest import make_id_number

pytestmark = pytest.mark.browser


def test_township_adds_fills_and_deletes_a_row_and_corrects_a_masked_phone(township_task, engine):
    page, _base, _code, errors = township_task()
    ledger_rows = page.locator("#task-rows tr").count()
    page.click("#add-row summary")
    page.fill("#add-id_number", "110101199001011234")
    page.fill("#add-name", "王小新")
    page.click(".add-row-form button[type=submit]")
    page.locator("#err-add-id_number").filter(has_text="校验").wait_for()
    assert page.input_value("#add-name") == "王小新", "what was typed stays"

    key = make_id_number("19850607", 912)
    page.fill("#add-id_number", key)
    page.select_option("#add-r-village_code", index=1)
    page.fill("#add-r-household_no", "5001180019999")
    page.select_option("#add-r-relation_to_head", "户主")
    page.click(".add-row-form button[type=submit]")
    page.locator("#add-row .alert").filter(has_text="已新增").wait_for()
    added = page.locator("#task-rows tr").first
    assert (added.get_attribute("id") or "").startswith("row-gn")
    assert page.locator("#task-rows tr").count() == ledger_rows + 1
    assert added.locator("[data-field=gender] select").input_value() == "女", "taken from the ID number"
    assert key not in added.inner_text(), "the ID number shows masked"

    added.locator("input[name=monthly_income]").fill("800")
    added.locator("input[name=monthly_income]").press("Tab")
    page.locator("#task-rows tr").first.locator("[data-field=monthly_income] .cell-edited").wait_for()

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#task-rows tr").first.locator("text=删除新增的行").click()
    page.wait_for_function(f"() => document.querySelectorAll('#task-rows tr').length == {ledger_rows}")
    with engine.connect() as conn:
        assert conn.scalars(select(TaskRow.id).where(TaskRow.status == "added")).all() == []

    first = page.locator("#task-rows tr").first
    first.locator("[data-field=phone] summary").click()
    first.locator("[data-field=phone] input[name=phone]").fill("13912345678")
    first.locator("[data-field=phone] input[name=phone]").press("Enter")
    page.locator("#task-rows tr").first.locator("[data-field=phone] .cell-edited").wait_for()
    phone = page.locator("#task-rows tr").first.locator("[data-field=phone] input[name=phone]")
    assert phone.input_value() == "13912345678", "her own new value, which she may see"

    # A person of her own township the report's filter left out: only the ID number, no new record.
    person = _left_out(engine)
    page.fill("#add-id_number", person["_key"])
    page.fill("#add-name", "")
    page.click(".add-row-form button[type=submit]")
    page.locator("#add-row .alert").filter(has_text="已把这条记录加入本表").wait_for()
    included = page.locator("#task-rows tr").first
    assert included.get_attribute("id") == f"row-g{person['_id']}"
    assert included.locator("input[name=name]").input_value() == person["name"], "pre-filled from the ledger"
    assert errors == []


def _left_out(engine):
    """Return a person of 中山路街道 without a disability grade (the survey's filter leaves them out)."""
    from builder.catalog.specs import load_specs
    from runtime.config import specs_path
    from runtime.ledgers.store import get
    from runtime.models import Record

    persons = load_specs(specs_path()).ledgers["person"]
    with engine.connect() as conn:
        ids = conn.scalars(
            select(Record.id).where(Record.ledger == "person", Record.township_code == "500118001")
        )
        return next(r for r in (get(conn, persons, i) for i in ids) if not r.get("disability_grade"))
