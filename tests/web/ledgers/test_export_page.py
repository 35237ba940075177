"""Exporting the filtered table: a job, then a download that is masked like the page."""

from __future__ import annotations

import csv
import io
import os
import re
import time
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from runtime.models import Job, Record, User

ZHONGSHANLU = "500118001"
MASKED_ID = re.compile(r"^\*{14}[\dX]{4}$")


def _download(client, job_url: str) -> tuple[bytes, str]:
    with client.get(job_url + "/download") as response:
        assert response.status_code == 200
        return response.data, response.headers["Content-Disposition"]


def test_csv_export_is_scoped_and_masked(fresh_client, fresh_auth, engine):
    """A township user's CSV holds only the township's rows, ID numbers and phones masked."""
    fresh_auth.login("zhongshanlu")
    response = fresh_client.post("/ledgers/person/export", data={"fmt": "csv"})
    assert response.status_code == 302
    job_url = response.headers["Location"]
    page = fresh_client.get(job_url).get_data(as_text=True)
    assert "已导出" in page and f'href="{job_url}/download"' in page
    data, disposition = _download(fresh_client, job_url)
    assert ".csv" in disposition
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    with engine.connect() as conn:
        expected = conn.execute(
            select(func.count()).where(Record.ledger == "person", Record.township_code == ZHONGSHANLU)
        ).scalar_one()
    assert len(rows) == expected
    assert {r["所属镇街"] for r in rows} == {"中山路街道"}
    assert all(MASKED_ID.match(r["公民身份号码"]) for r in rows)
    assert all(re.fullmatch(r"\d{3}\*{4}\d{4}", r["联系电话"]) for r in rows if r["联系电话"])
    assert all(re.fullmatch(r"\d{4}年", r["出生日期"]) for r in rows), "beside a masked ID: the year only"
    assert all(re.fullmatch(r"\**", r["残疾人证号"]) for r in rows), "certificate numbers hidden whole"


def test_xlsx_export_keeps_the_filters(fresh_client, fresh_auth):
    """The export button carries the table's filters: only women, masked in Excel too."""
    fresh_auth.login("keeper")
    page = fresh_client.get("/ledgers/person?gender=女&township=500118001").get_data(as_text=True)
    assert '<input type="hidden" name="gender" value="女">' in page
    response = fresh_client.post(
        "/ledgers/person/export",
        data={"fmt": "xlsx", "gender": "女", "township": ZHONGSHANLU},
        headers={"HX-Request": "true"},
    )
    fragment = response.get_data(as_text=True)
    assert "<html" not in fragment
    job_id = re.search(r'id="job-(\d+)"', fragment).group(1)
    data, disposition = _download(fresh_client, f"/jobs/{job_id}")
    assert ".xlsx" in disposition
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    gender, id_col = header.index("性别"), header.index("公民身份号码")
    assert body and {r[gender] for r in body} == {"女"}
    assert all(MASKED_ID.match(r[id_col]) for r in body)


def test_export_download_is_private_to_its_user(fresh_client, fresh_auth):
    """Only the user who exported may download the file."""
    fresh_auth.login("keeper")
    job_url = fresh_client.post("/ledgers/person/export", data={"fmt": "csv"}).headers["Location"]
    fresh_auth.login("zhongshanlu")
    assert fresh_client.get(job_url + "/download").status_code == 404


def test_department_export_masks_names(fresh_client, fresh_auth):
    """Names leave masked for department users in exports as on pages."""
    fresh_auth.login("minzheng")
    job_url = fresh_client.post("/ledgers/person/export", data={"fmt": "csv"}).headers["Location"]
    data, _disposition = _download(fresh_client, job_url)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows and all(re.fullmatch(r"[^*]\*+", r["姓名"]) for r in rows)


def test_an_expired_export_is_deleted_and_its_page_says_so(fresh_app, fresh_client, fresh_auth, engine):
    """The nightly clean-up deletes an export past the retention days; its page asks for a new one."""
    from runtime.jobs.retention import clean_up

    fresh_auth.login("zhongshanlu")
    job_url = fresh_client.post("/ledgers/person/export", data={"fmt": "csv"}).headers["Location"]
    exports = Path(fresh_app.config["EXPORT_DIR"])
    (path,) = exports.iterdir()
    assert path.stat().st_mode & 0o777 == 0o600, "an export holds personal data: its owner's alone"
    folders = {
        "export": exports,
        "report": Path(fresh_app.config["REPORT_DIR"]),
        "upload": Path(fresh_app.config["UPLOAD_DIR"]),
    }
    assert clean_up(engine, folders, days=7).deleted == [], "a fresh export stays"
    week_ago = time.time() - 8 * 24 * 3600
    os.utime(path, (week_ago, week_ago))
    done = clean_up(engine, folders, days=7)
    assert done.deleted == [path.resolve()] and done.jobs == 1 and not path.exists()
    page = fresh_client.get(job_url).get_data(as_text=True)
    assert "文件已过期删除，请重新导出" in page and f'href="{job_url}/download"' not in page
    response = fresh_client.get(job_url + "/download")
    assert response.status_code == 410 and "文件已过期删除，请重新导出" in response.get_data(as_text=True)


@pytest.mark.parametrize("username", ["reviewer", "leader"])
def test_roles_without_bulk_export_get_no_button_and_403(fresh_client, fresh_auth, engine, username):
    """The reviewer and the leader browse ledgers but may not export them in bulk (EXPORT_ROLES)."""
    fresh_auth.login(username)
    page = fresh_client.get("/ledgers/person").get_data(as_text=True)
    assert "<table" in page and "/ledgers/person/export" not in page and "导出 CSV" not in page
    for fmt in ("csv", "xlsx"):
        assert fresh_client.post("/ledgers/person/export", data={"fmt": fmt}).status_code == 403
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Job)).scalar_one() == 0


@pytest.mark.parametrize("username", ["minzheng", "zhongshanlu", "wangge", "keeper"])
def test_roles_with_bulk_export_have_the_button(fresh_client, fresh_auth, username):
    fresh_auth.login(username)
    page = fresh_client.get("/ledgers/person").get_data(as_text=True)
    assert 'action="/ledgers/person/export"' in page and "导出 CSV" in page


def test_an_export_job_of_a_reviewer_does_not_run(engine, specs, tmp_path):
    """A job naming a reviewer (a crafted request, a queue written to by hand) fails and writes nothing."""
    from runtime.jobs import runner as jobs

    with engine.connect() as conn:
        reviewer = conn.execute(select(User.id).where(User.username == "reviewer")).scalar_one()
    job_id = jobs.submit(
        engine,
        "export",
        "导出",
        reviewer,
        "runtime.jobs.work:export_records",
        {
            "ledger": "person",
            "fmt": "csv",
            "target": "crafted.csv",
            "filename": "x.csv",
            "user_id": reviewer,
            "filters": [],
            "search": "",
        },
        background=False,
        specs=specs,
        folders={"export": str(tmp_path)},
    )
    with engine.connect() as conn:
        job = conn.execute(select(Job).where(Job.id == job_id)).one()
    assert job.status == "failed" and "不能批量导出台账" in job.message
    assert not (tmp_path / "crafted.csv").exists()
