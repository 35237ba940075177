"""The department's summary page: totals, charts' data, a pivot, drill-down, masking, access."""

import json
import re

import pytest
from sqlalchemy import func, select

from runtime.models import AuditEntry, Record, Task

ZHONGSHANLU, SHENGLILU = "500118001", "500118002"
REPORT = {
    "properties": {
        "name": {"x-element": "person.name"},
        "id_number": {"x-element": "person.id_number"},
        "disability_category": {"x-element": "person.disability_category"},
        "subsidy": {"title": "补贴金额（元）", "type": "number", "minimum": 0},
    },
    "required": ["name"],
    "x-justification": "核对补贴发放",
}


@pytest.fixture
def summed(fresh_client, fresh_auth, engine, admit_report):
    """The report dispatched to two townships; 中山路街道 typed one subsidy of 250 and submitted."""
    code = admit_report(engine, **REPORT)
    fresh_auth.login("canlian")
    fresh_client.post(f"/tasks/dispatch/{code}", data={"scope": "chosen", "unit": [ZHONGSHANLU, SHENGLILU]})
    fresh_auth.login("zhongshanlu")
    with engine.connect() as conn:
        task_id = conn.scalar(select(Task.id).where(Task.org_unit_code == ZHONGSHANLU))
    grid = fresh_client.get(f"/tasks/{task_id}").get_data(as_text=True)
    rid = re.search(r'id="row-g(\d+)"', grid).group(1)
    fresh_client.post(
        f"/tasks/{task_id}/rows/{rid}",
        headers={"HX-Request": "true"},
        data={"_field": ["subsidy"], "_version": "0", "subsidy": "250"},
    )
    assert fresh_client.post(f"/tasks/{task_id}/submit").status_code == 302
    fresh_auth.login("canlian")
    return code, task_id


def test_the_summary_shows_submitted_totals_charts_and_a_pivot(fresh_client, engine, summed):
    code, task_id = summed
    page = fresh_client.get(f"/reports/{code}/summary")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "已提交 1 / 2 个镇街" in html and "中山路街道" in html and "胜利路街道" not in html
    with engine.connect() as conn:
        rows = conn.scalar(select(Task.rows_total).where(Task.id == task_id))
    data = json.loads(re.search(r'id="summary-data">(.+?)</script>', html, re.S).group(1))
    assert data["units"] == ["中山路街道"] and data["rows"] == [rows] and data["sums"] == [250]
    assert data["pivot"] == "残疾类别" and sum(data["shares"]) == rows
    assert "vendor/chart.umd.min.js" in html
    shell = fresh_client.get(f"/reports/{code}/summary", query_string={"live": "1"}).get_data(as_text=True)
    assert "正在从台账汇总" in shell and "胜利路街道" not in shell, "a live summary reads every row: later"
    assert re.search(r'hx-get="/reports/[^"]+/summary\?live=1"[^>]*hx-trigger="load"', shell)
    live = fresh_client.get(
        f"/reports/{code}/summary", query_string={"live": "1"}, headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "胜利路街道" in live and "未提交，实时数据" in live
    assert "<html" not in live and 'id="summary-data"' in live, "the figures alone"
    waited = fresh_client.get(f"/reports/{code}/summary", query_string={"live": "1", "now": "1"})
    assert "胜利路街道" in waited.get_data(as_text=True), "without script, the page waits for them"
    with engine.connect() as conn:
        opened = conn.scalars(select(AuditEntry.detail).where(AuditEntry.action == "summary.open")).all()
    assert opened and opened[0] == {"complete": False, "live": False}


def test_drill_down_to_a_township_and_a_row_shows_masked_values(fresh_client, engine, summed):
    code, _task_id = summed
    page = fresh_client.get(f"/reports/{code}/summary/{ZHONGSHANLU}").get_data(as_text=True)
    assert "本镇街合计" in page and ">250<" in page
    with engine.connect() as conn:
        keys = conn.scalars(
            select(Record.key).where(Record.ledger == "person", Record.township_code == ZHONGSHANLU)
        ).all()
    assert not [k for k in keys if k in page], "ID numbers are masked for the department"
    ref = re.search(rf"/reports/{code}/summary/{ZHONGSHANLU}/rows/(\d+)", page).group(1)
    one = fresh_client.get(f"/reports/{code}/summary/{ZHONGSHANLU}/rows/{ref}")
    assert one.status_code == 200 and "公民身份号码" in one.get_data(as_text=True)


def test_another_department_and_townships_cannot_open_the_summary(fresh_client, fresh_auth, summed):
    code, _task_id = summed
    fresh_auth.login("minzheng")
    assert fresh_client.get(f"/reports/{code}/summary").status_code == 403
    fresh_auth.login("zhongshanlu")
    assert fresh_client.get(f"/reports/{code}/summary").status_code == 403


def test_a_report_answered_from_the_ledgers_has_the_same_summary_without_townships(
    fresh_client, fresh_auth, engine, admit_report
):
    code = admit_report(engine, **REPORT)
    fresh_auth.login("canlian")
    overview = fresh_client.get(f"/reports/{code}/").get_data(as_text=True)
    assert "查看汇总（台账直接提取）" in overview
    shell = fresh_client.get(f"/reports/{code}/summary").get_data(as_text=True)
    assert "台账直接提取（未下派镇街）" in shell and "包含未提交镇街" not in shell
    assert "正在从台账汇总" in shell and 'id="summary-data"' not in shell
    with engine.connect() as conn:
        assert conn.scalars(select(AuditEntry.id).where(AuditEntry.action == "report.extract")).all() == [], (
            "nothing read yet"
        )
    html = fresh_client.get(f"/reports/{code}/summary", headers={"HX-Request": "true"}).get_data(as_text=True)
    with engine.connect() as conn:
        assert conn.scalars(select(Task.id)).all() == [], "nothing was dispatched"
        persons = conn.scalar(
            select(func.count())
            .select_from(Record)
            .where(
                Record.ledger == "person",
                Record.data["disability_grade"].as_string().is_not(None),
                Record.data["disability_grade"].as_string() != "",
            )
        )
        events = conn.scalars(select(AuditEntry.detail).where(AuditEntry.action == "report.extract")).all()
    data = json.loads(re.search(r'id="summary-data">(.+?)</script>', html, re.S).group(1))
    assert sum(data["rows"]) == persons and len(data["units"]) == 23
    assert events and events[0]["mode"] == "summary" and events[0]["rows"] == persons


def test_a_value_the_township_typed_reaches_the_department_masked_as_the_ledger_s(
    fresh_client, fresh_auth, engine, admit_report
):
    """A phone typed into a task is the township's own, in clear to it; the department sees it masked."""
    code = admit_report(
        engine,
        properties={
            "name": {"x-element": "person.name"},
            "phone": {"x-element": "person.phone"},
            "subsidy": {"title": "补贴金额（元）", "type": "number", "minimum": 0},
        },
        required=["name"],
        **{"x-justification": "核对联系电话"},
    )
    fresh_auth.login("canlian")
    fresh_client.post(f"/tasks/dispatch/{code}", data={"scope": "chosen", "unit": [ZHONGSHANLU]})
    fresh_auth.login("zhongshanlu")
    with engine.connect() as conn:
        task_id = conn.scalar(select(Task.id).where(Task.org_unit_code == ZHONGSHANLU))
    grid = fresh_client.get(f"/tasks/{task_id}").get_data(as_text=True)
    rid = re.search(r'id="row-g(\d+)"', grid).group(1)
    saved = fresh_client.post(
        f"/tasks/{task_id}/rows/{rid}",
        headers={"HX-Request": "true"},
        data={"_field": ["phone"], "_version": "0", "phone": "13900001234"},
    )
    assert saved.status_code == 200 and "13900001234" in saved.get_data(as_text=True), "the typist's own"
    fresh_auth.login("canlian")
    rows = fresh_client.get(f"/reports/{code}/summary/{ZHONGSHANLU}").get_data(as_text=True)
    one = fresh_client.get(f"/reports/{code}/summary/{ZHONGSHANLU}/rows/{rid}").get_data(as_text=True)
    exported = fresh_client.post(f"/report-data/{code}/export", data={"fmt": "csv", "include_open": "1"})
    job = fresh_client.get(exported.headers["Location"]).get_data(as_text=True)
    got = fresh_client.get(re.search(r'href="(/jobs/\d+/download)"', job).group(1))
    csv_text = got.data.decode("utf-8-sig")
    got.close()
    for shown in (rows, one, csv_text):
        assert "13900001234" not in shown and "139****1234" in shown
