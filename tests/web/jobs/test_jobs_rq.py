"""The pages' background jobs on RQ: with REDIS_URL set they wait for a worker, then finish."""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from builder.checkdigits import id_check_char
from runtime.jobs import runner as jobs
from runtime.models import AuditEntry, Job, Record, Task, User

ZHONGSHANLU = "500118001"
MASKED_ID = re.compile(r"^\*{14}[\dX]{4}$")
#: A report over every person of the township (as in test_task_actions).
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
def rq_app(fresh_app, rq_queue):
    """The fresh app putting its jobs on a queue of its own; a function running a burst worker."""
    url, queue = rq_queue
    fresh_app.config.update(REDIS_URL=url, JOBS_QUEUE=queue)
    return lambda: jobs.work(url, queue, burst=True, fork=False)


def _status(engine, job_id) -> str:
    with engine.connect() as conn:
        return conn.execute(select(Job.status).where(Job.id == job_id)).scalar_one()


def test_an_export_waits_for_the_worker_then_downloads(rq_app, fresh_client, fresh_auth, engine):
    """The export is queued (the page polls), a worker runs it, the filtered masked file downloads."""
    fresh_auth.login("keeper")
    response = fresh_client.post(
        "/ledgers/person/export",
        headers={"HX-Request": "true"},
        data={"fmt": "xlsx", "gender": "女", "township": ZHONGSHANLU},
    )
    fragment = response.get_data(as_text=True)
    job_id = int(re.search(r'id="job-(\d+)"', fragment).group(1))
    assert _status(engine, job_id) == "queued"
    assert 'hx-trigger="every 500ms"' in fragment and "正在准备" in fragment
    assert fresh_client.get(f"/jobs/{job_id}/download").status_code == 404
    rq_app()
    page = fresh_client.get(f"/jobs/{job_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'hx-trigger="every 500ms"' not in page and "已导出" in page
    with fresh_client.get(f"/jobs/{job_id}/download") as download:
        assert download.status_code == 200 and ".xlsx" in download.headers["Content-Disposition"]
        data = download.data
    rows = list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    with engine.connect() as conn:
        women = conn.execute(
            select(func.count()).where(
                Record.ledger == "person",
                Record.township_code == ZHONGSHANLU,
                Record.data["gender"].as_string() == "女",
            )
        ).scalar_one()
    assert len(body) == women > 0
    assert {r[header.index("性别")] for r in body} == {"女"}
    assert all(MASKED_ID.match(r[header.index("公民身份号码")]) for r in body)
    with engine.connect() as conn:
        audited = conn.execute(
            select(User.username, AuditEntry.detail)
            .join(User, User.id == AuditEntry.actor_id)
            .where(AuditEntry.action == "export")
        ).all()
    assert [(who, detail["rows"], detail["filters"]["gender"]) for who, detail in audited] == [
        ("keeper", women, "女")
    ]


def _csv() -> bytes:
    first17 = "500118" + "19900102" + "011"
    return "\n".join(
        [
            "姓名,身份证号,性别,出生日期,所属镇街,所属村（社区）,户编号,与户主关系",
            f"张三,{first17 + id_check_char(first17)},男,1990-01-02,中山路街道,萱花社区,"
            "5001180019990001,户主",
        ]
    ).encode("utf-8")


def test_an_import_hands_its_upload_to_the_worker(rq_app, fresh_app, fresh_client, fresh_auth, engine):
    """The upload waits in the shared folder for the worker, which imports it and deletes it."""
    fresh_auth.login("keeper")
    with engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(Record)).scalar_one()
    response = fresh_client.post(
        "/ledgers/person/import",
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(_csv()), "一户.csv")},
    )
    job_url = response.headers["Location"]
    uploads = list((Path(fresh_app.config["UPLOAD_DIR"])).iterdir())
    assert len(uploads) == 1 and "正在准备" in fresh_client.get(job_url).get_data(as_text=True)
    rq_app()
    page = fresh_client.get(job_url).get_data(as_text=True)
    assert "<dt>新增</dt><dd>1</dd>" in page
    assert not uploads[0].exists()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Record)).scalar_one() == before + 1


def test_the_task_workbook_is_written_by_the_worker(rq_app, fresh_client, fresh_auth, engine, admit_report):
    """A township's pre-filled .xlsx comes from the worker, with its rows and the IDs masked."""
    code = admit_report(engine, **SMALL)
    fresh_auth.login("canlian")
    fresh_client.post(f"/tasks/dispatch/{code}", data={"scope": "chosen", "unit": [ZHONGSHANLU]})
    fresh_auth.logout()
    fresh_auth.login("zhongshanlu")
    with engine.connect() as conn:
        task_id = conn.execute(select(Task.id)).scalar_one()
    job_url = fresh_client.post(f"/tasks/{task_id}/download").headers["Location"]
    rq_app()
    written = re.search(r"已生成 ([\d,]+) 行的预填表格", fresh_client.get(job_url).get_data(as_text=True))
    with fresh_client.get(job_url + "/download") as download:
        data = download.data
    rows = list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert rows[0][0] == "系统编号（请勿修改）"
    assert len(rows) - 1 == int(written.group(1).replace(",", "")) > 0
    assert not any(str(v).isdigit() and len(str(v)) == 18 for row in rows for v in row), "IDs stay masked"
