"""The department downloads its report's data from the overview: a summary of the tasks, or an extraction."""

import io
import re

import openpyxl
import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from builder.reports.spec import load_reports
from runtime.models import AuditEntry, User
from runtime.reports.store import Actor, create_report

ZHONGSHANLU = "500118001"


def _download(client, response):
    """Follow an export's redirect to its job page, then its download link; return the file's bytes."""
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    link = re.search(r'href="(/jobs/\d+/download)"', page)
    assert link, page
    got = client.get(link.group(1))
    assert got.status_code == 200
    data, disposition = got.data, got.headers["Content-Disposition"]
    got.close()
    return data, disposition


def test_an_extract_decided_report_is_downloaded_from_the_ledgers(
    fresh_client, fresh_auth, engine, admit_report
):
    code = admit_report(engine, "veteran_roster", "tuiyi")
    fresh_auth.login("tuiyi")
    overview = fresh_client.get(f"/reports/{code}/").get_data(as_text=True)
    assert "从台账提取并下载 .xlsx" in overview and "下载汇总数据" not in overview
    data, disposition = _download(
        fresh_client, fresh_client.post(f"/report-data/{code}/extract", data={"fmt": "xlsx"})
    )
    assert "%E5%8F%B0%E8%B4%A6%E6%8F%90%E5%8F%96.xlsx" in disposition  # 台账提取.xlsx
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).active
    lines = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert "退役军人" in lines[0][0] and "数据来源：台账直接提取" in lines[1][0]
    assert lines[2][:2] == ["镇街", "姓名"] and len(lines) > 3
    names = [line[1] for line in lines[3:]]
    assert all("*" in n for n in names if n and len(n) > 1)
    with engine.connect() as conn:
        assert conn.scalar(select(AuditEntry.target).where(AuditEntry.action == "report.extract")) == code


def test_a_dispatched_report_downloads_its_summary_with_open_tasks_marked(
    fresh_client, fresh_auth, engine, admit_report
):
    code = admit_report(engine)
    fresh_auth.login("canlian")
    fresh_client.post(f"/tasks/dispatch/{code}", data={"scope": "chosen", "unit": [ZHONGSHANLU]})
    overview = fresh_client.get(f"/reports/{code}/").get_data(as_text=True)
    assert "下载汇总数据 .xlsx" in overview and "include_open" in overview
    submitted_only, _name = _download(
        fresh_client, fresh_client.post(f"/report-data/{code}/export", data={"fmt": "xlsx"})
    )
    assert (
        len(CalamineWorkbook.from_filelike(io.BytesIO(submitted_only)).get_sheet_by_index(0).to_python()) == 3
    ), "nothing submitted yet: the heading and the header only"
    data, _name = _download(
        fresh_client,
        fresh_client.post(f"/report-data/{code}/export", data={"fmt": "csv", "include_open": "1"}),
    )
    text = data.decode("utf-8-sig")
    header, first = text.splitlines()[:2]
    assert header.startswith("镇街,状态,") and first.startswith("中山路街道,未提交")


@pytest.mark.parametrize(("username", "status"), [("minzheng", 403), ("zhongshanlu", 403), ("keeper", 403)])
def test_no_one_else_may_export_or_extract(fresh_client, fresh_auth, engine, admit_report, username, status):
    code = admit_report(engine, "veteran_roster", "tuiyi")
    fresh_auth.login(username)
    assert fresh_client.post(f"/report-data/{code}/extract", data={"fmt": "xlsx"}).status_code == status
    assert fresh_client.post(f"/report-data/{code}/export", data={"fmt": "xlsx"}).status_code == status
    assert fresh_client.post("/report-data/nosuch/extract").status_code in (403, 404)


def test_an_extraction_runs_on_a_worker_when_the_app_has_a_queue(
    fresh_app, fresh_client, fresh_auth, engine, admit_report, rq_queue
):
    from runtime.jobs import runner as jobs
    from runtime.models import Job

    url, queue = rq_queue
    fresh_app.config.update(REDIS_URL=url, JOBS_QUEUE=queue)
    code = admit_report(engine, "veteran_roster", "tuiyi")
    fresh_auth.login("tuiyi")
    started = fresh_client.post(f"/report-data/{code}/extract", data={"fmt": "csv"})
    with engine.connect() as conn:
        assert conn.scalar(select(Job.status)) == "queued"
    jobs.work(url, queue, burst=True, fork=False)
    data, disposition = _download(fresh_client, started)
    assert disposition.endswith(".csv") and data.decode("utf-8-sig").startswith("镇街,姓名,")


def test_an_undispatched_report_says_why_it_has_nothing_to_export(
    fresh_client, fresh_auth, engine, admit_report
):
    code = admit_report(engine)
    fresh_auth.login("canlian")
    response = fresh_client.post(f"/report-data/{code}/export", data={"fmt": "xlsx"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/reports/{code}/")
    page = fresh_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "这份报表还没有下派，没有可导出的汇总数据" in page


def test_a_draft_report_says_why_it_cannot_be_extracted(fresh_client, fresh_auth, engine, specs):
    document = {**load_reports(specs.root, specs)["veteran_roster"].document, "x-report": "draft_roster"}
    with Session(engine) as session, session.begin():
        user = session.scalar(select(User).where(User.username == "tuiyi"))
        create_report(session, Actor(user.id, user.role, user.department_id), document)
    fresh_auth.login("tuiyi")
    response = fresh_client.post("/report-data/draft_roster/extract", data={"fmt": "xlsx"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/reports/draft_roster/")
    page = fresh_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "只有已准入的报表才能从台账直接提取" in page
