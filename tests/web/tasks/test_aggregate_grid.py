"""The task grid of an aggregate report: one row per org unit, computed cells, corrections, submission."""

import re

import pytest
from sqlalchemy import select

from runtime.ledgers.store import Scope
from runtime.models import Task, TaskRow
from runtime.tasks.aggregate import formula_values

QINGFENG = "500118100"


@pytest.fixture
def summary_task(fresh_app, fresh_client, fresh_auth, engine, admit_report):
    """The land transfer summary admitted, dispatched by the department; 青峰镇's task id."""
    code = admit_report(engine, "land_transfer_summary", "nongye")
    fresh_auth.login("nongye")
    assert fresh_client.post(f"/tasks/dispatch/{code}", data={"scope": "all"}).status_code == 302
    fresh_auth.login("qingfeng")
    with engine.connect() as conn:
        return conn.scalar(select(Task.id).where(Task.org_unit_code == QINGFENG))


def _cell(html: str, field: str) -> str:
    """Return the value shown in the input of 青峰镇's grid cell of `field`."""
    block = re.search(rf'id="cell-gu{QINGFENG}-{field}".*?</div>', html, re.S).group(0)
    return re.search(rf'name="{field}" value="([^"]*)"', block).group(1)


def test_grid_shows_the_township_row_computed_from_the_ledgers(
    fresh_client, engine, specs, summary_task, load_task_spec
):
    html = fresh_client.get(f"/tasks/{summary_task}").get_data(as_text=True)
    assert f'id="row-gu{QINGFENG}"' in html and "青峰镇" in html and "汇总报表" in html
    assert "新增一行" not in html and "标记不适用" not in html
    spec = load_task_spec(engine, summary_task)
    with engine.connect() as conn:
        expected = formula_values(conn, specs, spec, Scope(township=QINGFENG), "township").get(QINGFENG, {})
    assert _cell(html, "transferred_parcels") == str(expected.get("transferred_parcels", 0))
    area = expected.get("transferred_area", 0)
    assert _cell(html, "transferred_area") == str(int(area) if float(area).is_integer() else area)
    assert "来源：台账汇总" in html
    totals = fresh_client.get(f"/tasks/{summary_task}/counts").get_data(as_text=True)
    assert re.search(r'id="total-rows">1<', totals) and re.search(r'id="total-prefilled">12<', totals)


def test_a_correction_is_saved_shown_and_submitted(fresh_client, engine, summary_task):
    answer = fresh_client.post(
        f"/tasks/{summary_task}/rows/u{QINGFENG}",
        data={"_field": ["rent_parcels"], "_version": "0", "rent_parcels": "9"},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200 and "cell-edited" in answer.get_data(as_text=True)
    html = fresh_client.get(f"/tasks/{summary_task}?row=u{QINGFENG}").get_data(as_text=True)
    assert _cell(html, "rent_parcels") == "9"
    with engine.connect() as conn:
        draft = conn.execute(select(TaskRow.row_key, TaskRow.status, TaskRow.values)).one()
    assert tuple(draft) == (QINGFENG, "unit", {"rent_parcels": 9})
    refused = fresh_client.post(
        f"/tasks/{summary_task}/rows/u{QINGFENG}",
        data={"_field": ["rent_parcels"], "_version": "0", "rent_parcels": "8"},
        headers={"HX-Request": "true"},
    )
    assert refused.status_code == 409, "a save over a newer draft is refused"
    done = fresh_client.post(f"/tasks/{summary_task}/submit", follow_redirects=True).get_data(as_text=True)
    assert "已提交：1 行" in done
    with engine.connect() as conn:
        assert conn.scalar(select(Task.state).where(Task.id == summary_task)) == "submitted"


def test_a_refused_submission_links_to_the_org_unit_row(fresh_client, summary_task):
    fresh_client.post(
        f"/tasks/{summary_task}/rows/u{QINGFENG}",
        data={"_field": ["rent_area"], "_version": "0", "rent_area": "-1"},
        headers={"HX-Request": "true"},
    )
    page = fresh_client.post(f"/tasks/{summary_task}/submit")
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert f"row=u{QINGFENG}" in html and "青峰镇" in html


def test_another_townships_row_is_not_found(fresh_client, summary_task):
    answer = fresh_client.post(
        f"/tasks/{summary_task}/rows/u500118101",
        data={"_field": ["rent_parcels"], "_version": "0", "rent_parcels": "1"},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 404
    html = fresh_client.get(f"/tasks/{summary_task}?row=u500118101").get_data(as_text=True)
    assert 'id="row-gu500118101"' not in html


@pytest.fixture
def load_task_spec(specs):
    """Return a function reading a task's spec from the database."""
    from runtime.reports.specs import report_spec

    def load(engine, task_id):
        with engine.connect() as conn:
            task = conn.execute(select(Task).where(Task.id == task_id)).one()
            return report_spec(conn, specs, task.report_id, task.version)

    return load


def test_the_reviewer_reads_rows_by_org_unit_and_each_formula(fresh_client, fresh_auth, engine, admit_report):
    from runtime.models import AdmissionRequest

    admit_report(engine, "land_transfer_summary", "nongye")
    with engine.connect() as conn:
        request_id = conn.scalar(select(AdmissionRequest.id))
    fresh_auth.login("reviewer")
    html = fresh_client.get(f"/review/{request_id}").get_data(as_text=True)
    assert "汇总报表：每个镇街一行，各列由台账统计，镇街核对确认" in html and "由镇街逐行填报" not in html
    assert "＝土地承包与流转台账中 是否流转 等于 是 且 流转方式 等于 出租 的记录的流转面积（亩）之和" in html
