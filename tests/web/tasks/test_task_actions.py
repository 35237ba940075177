"""Whole-task actions in the web: submit (refused with every bad cell, or written back), the
pre-filled .xlsx and its upload, and the department's return."""

import io
import re

import openpyxl
import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import select

from runtime.models import RecordVersion, Task

ZHONGSHANLU = "500118001"
#: Two write-back fields and an optional custom one: a task that can be submitted as it is.
SMALL = {
    "properties": {
        "name": {"x-element": "person.name"},
        "phone": {"x-element": "person.phone"},
        "visited": {"title": "是否已走访", "type": "boolean"},
    },
    "required": ["name"],
    "x-justification": "电话回访核实",
}


@pytest.fixture
def small_task(fresh_app, fresh_client, fresh_auth, engine, admit_report):
    """The small report dispatched to 中山路街道, the filler logged in; (code, task id)."""
    code = admit_report(engine, **SMALL)
    fresh_auth.login("canlian")
    fresh_client.post(f"/tasks/dispatch/{code}", data={"scope": "chosen", "unit": [ZHONGSHANLU]})
    fresh_auth.logout()
    fresh_auth.login("zhongshanlu")
    with engine.connect() as conn:
        return code, conn.scalar(select(Task.id))


def _first_record(client, task_id) -> int:
    import re

    html = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    return int(re.search(r'id="row-g(\d+)"', html).group(1))


def _save(client, task_id, record_id, version, **cells):
    return client.post(
        f"/tasks/{task_id}/rows/{record_id}",
        headers={"HX-Request": "true"},
        data={"_field": list(cells), "_version": str(version), **cells},
    )


def test_a_bad_cell_refuses_the_submission_and_links_to_its_row(fresh_client, small_task, engine):
    _code, task_id = small_task
    rid = _first_record(fresh_client, task_id)
    _save(fresh_client, task_id, rid, 0, phone="12345")
    page = fresh_client.post(f"/tasks/{task_id}/submit")
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and "还有 1 处填写有误" in html
    assert f"/tasks/{task_id}?row={rid}#row-g{rid}" in html and "联系电话" in html
    one = fresh_client.get(f"/tasks/{task_id}", query_string={"record": rid}).get_data(as_text=True)
    assert one.count('id="row-g') == 1 and f'id="row-g{rid}"' in one


def test_submit_writes_back_and_the_department_can_return(fresh_client, fresh_auth, small_task, engine):
    code, task_id = small_task
    rid = _first_record(fresh_client, task_id)
    _save(fresh_client, task_id, rid, 0, phone="13700001111")
    done = fresh_client.post(f"/tasks/{task_id}/submit", follow_redirects=True).get_data(as_text=True)
    assert "已提交" in done and "1 条台账记录已更新" in done
    with engine.connect() as conn:
        source, ref = conn.execute(
            select(RecordVersion.source, RecordVersion.source_ref)
            .where(RecordVersion.record_id == rid)
            .order_by(RecordVersion.version.desc())
        ).first()
    assert (source, ref) == ("writeback", f"{code}#task-{task_id}")
    fresh_auth.logout()
    fresh_auth.login("canlian")
    overview = fresh_client.get(f"/reports/{code}/").get_data(as_text=True)
    assert "退回" in overview
    fresh_client.post(f"/tasks/{task_id}/return", data={"reason": "请核实走访情况"})
    with engine.connect() as conn:
        assert conn.execute(select(Task.state, Task.returned_reason)).one() == ("returned", "请核实走访情况")


def test_the_prefilled_workbook_round_trip(fresh_client, small_task, engine, tmp_path):
    _code, task_id = small_task
    started = fresh_client.post(f"/tasks/{task_id}/download")
    assert started.status_code == 302 and "/jobs/" in started.headers["Location"]
    job_id = started.headers["Location"].rstrip("/").split("/")[-1]
    response = fresh_client.get(f"/jobs/{job_id}/download")
    data = response.data
    response.close()
    (tmp_path / "t.xlsx").write_bytes(data)
    rows = CalamineWorkbook.from_path(str(tmp_path / "t.xlsx")).get_sheet_by_index(0).to_python()
    assert rows[0][0] == "系统编号（请勿修改）" and len(rows) > 1
    assert not any(str(v).isdigit() and len(str(v)) == 18 for row in rows for v in row), "IDs stay masked"
    book = openpyxl.load_workbook(io.BytesIO(data))
    visited = [c.value for c in book.active[1]].index("是否已走访") + 1
    book.active.cell(row=2, column=visited, value="是")
    book.active.cell(row=3, column=visited, value="也许")
    filled = io.BytesIO()
    book.save(filled)
    result = fresh_client.post(
        f"/tasks/{task_id}/upload",
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(filled.getvalue()), "已填.xlsx")},
    )
    html = result.get_data(as_text=True)
    assert result.status_code == 200 and "已保存 1 行，1 行有错误" in html and "是否已走访" in html


def test_the_grid_shows_only_rows_with_gaps_on_request(fresh_client, small_task):
    _code, task_id = small_task
    rid = _first_record(fresh_client, task_id)
    fresh_client.post(
        f"/tasks/{task_id}/rows/{rid}/mark",
        headers={"HX-Request": "true"},
        data={"reason": "已迁出", "_version": "0"},
    )
    everything = fresh_client.get(f"/tasks/{task_id}").get_data(as_text=True)
    gaps = fresh_client.get(f"/tasks/{task_id}", query_string={"gaps": "1"}).get_data(as_text=True)
    assert f'id="row-g{rid}"' in everything and f'id="row-g{rid}"' not in gaps
    assert 'name="gaps" value="1" checked' in gaps


def test_the_whole_task_counters_load_after_the_grid(fresh_client, small_task):
    _code, task_id = small_task
    grid = fresh_client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert f'hx-get="/tasks/{task_id}/counts"' in grid
    totals = fresh_client.get(f"/tasks/{task_id}/counts").get_data(as_text=True)
    assert "全任务行数" in totals and 'id="total-to-fill"' in totals


def test_a_bomb_uploaded_as_the_task_workbook_is_refused_and_saves_nothing(fresh_client, small_task, engine):
    """The task's workbook may hold its rows and a few more: a bomb is refused before it is parsed."""
    from sqlalchemy import func

    from runtime.models import AuditEntry
    from tests import bombs

    _code, task_id = small_task
    for data, name, message in (
        (bombs.cell_bomb(100), "已填.xlsx", "的上限"),
        (bombs.corner_bomb(), "已填.xlsx", "行的上限"),
        (bombs.xls_corners(), "已填.xls", "个的上限"),
    ):
        result = fresh_client.post(
            f"/tasks/{task_id}/upload",
            content_type="multipart/form-data",
            data={"file": (io.BytesIO(data), name)},
            follow_redirects=True,
        )
        html = result.get_data(as_text=True)
        assert message in html, re.findall(r"alert[^>]*>([^<]*)", html)
    with engine.connect() as conn:
        uploads = conn.execute(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "task.upload")
        ).scalar_one()
    assert uploads == 0, "nothing was read, nothing saved"
