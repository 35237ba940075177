"""The department's report pages and the reviewer's queue, through the app's real routes."""

import io
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from runtime.clock import local_today
from runtime.demo.templates import sample_templates
from runtime.models import AdmissionRequest, Report, ReportVersion


def _doc(title="康复需求调查表", basis="《残疾人保障法》第十五条"):
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "type": "object",
        "x-version": 1,
        "x-department": "canlian",
        "x-purpose": "安排年度康复服务",
        "x-basis": basis,
        "x-rows": {"ledger": "person", "filter": []},
        "x-frequency": "once",
        "x-deadline": (local_today() + timedelta(days=30)).isoformat(),
        "x-targets": [],
        "properties": {"name": {"x-element": "person.name"}, "need": {"title": "康复需求", "type": "string"}},
        "required": [],
    }


def _create(engine, username="canlian", **kw) -> str:
    from runtime.models import User
    from runtime.reports.store import Actor, create_report

    with Session(engine) as session, session.begin():
        user = session.scalar(select(User).where(User.username == username))
        report = create_report(session, Actor(user.id, user.role, user.department_id), _doc(**kw))
        return report.code


@pytest.mark.parametrize(
    ("username", "path", "status"),
    [
        ("laisu", "/reports/", 403),
        ("reviewer", "/reports/", 403),
        ("laisu", "/review/", 403),
        ("canlian", "/review/", 403),
        ("canlian", "/reports/", 200),
        ("reviewer", "/review/", 200),
        ("admin", "/review/", 200),
        ("canlian", "/reports/import", 200),
    ],
)
def test_pages_are_for_their_roles(web, username, path, status):
    client, auth = web
    auth.login(username)
    assert client.get(path).status_code == status


def test_a_department_sees_only_its_own_reports(web, engine):
    client, auth = web
    code = _create(engine, title="残联的表")
    auth.login("minzheng")
    assert "残联的表" not in client.get("/reports/").get_data(as_text=True)
    assert client.get(f"/reports/{code}/").status_code == 403
    auth.logout()
    auth.login("canlian")
    assert "残联的表" in client.get("/reports/").get_data(as_text=True)


def test_new_report_needs_a_title_and_opens_the_editor(web, engine):
    client, auth = web
    auth.login("canlian")
    page = client.post("/reports/new", data={"title": " ", "ledger": "person"})
    assert "请填写报表名称" in page.get_data(as_text=True)
    response = client.post("/reports/new", data={"title": "困难残疾人补贴复核", "ledger": "person"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/edit")
    with Session(engine) as session:
        report = session.scalar(select(Report).where(Report.title == "困难残疾人补贴复核"))
        assert (report.status, report.ledger) == ("draft", "person")


def test_importing_a_template_proposes_bindings_and_the_admin_changes_one(web, engine):
    client, auth = web
    auth.login("canlian")
    name, data = next((n, d) for n, d in sample_templates().items() if "残疾" in n)
    page = client.post(
        "/reports/import",
        data={"file": (io.BytesIO(data), name), "ledger": ""},
        content_type="multipart/form-data",
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "确认字段绑定" in html
    columns = json.loads(
        re.search(r'name="columns" value="([^"]*)"', html)
        .group(1)
        .replace("&#34;", '"')
        .replace("&quot;", '"')
        .replace("&amp;", "&")
    )
    labels = [c["label"] for c in columns]
    form = {"columns": json.dumps(columns, ensure_ascii=False), "title": "补贴申请汇总", "ledger": "person"}
    for i, column in enumerate(columns):
        form[f"bind-{i}"] = column["element"] or ""
        if column["kind"] == "layout":
            form[f"layout-{i}"] = "1"
    phone = next(i for i, c in enumerate(columns) if c["element"] == "person.phone")
    form[f"bind-{phone}"] = ""  # the admin decides the phone is asked anew, not pre-filled
    response = client.post("/reports/import/confirm", data=form)
    assert response.status_code == 302
    with Session(engine) as session:
        report = session.scalar(select(Report).where(Report.title == "补贴申请汇总"))
        document = session.scalar(select(ReportVersion.document).where(ReportVersion.report_id == report.id))
    bound = [p.get("x-element") for p in document["properties"].values()]
    assert "person.phone" not in bound and "person.id_number" in bound
    assert "序号" in labels and all(p.get("title") != "序号" for p in document["properties"].values())


def test_binding_two_columns_to_one_element_is_refused_next_to_the_column(web):
    client, auth = web
    auth.login("canlian")
    columns = [
        {"label": "姓名", "parents": [], "kind": "data", "element": "person.name"},
        {"label": "申请人姓名", "parents": [], "kind": "data", "element": None},
    ]
    page = client.post(
        "/reports/import/confirm",
        data={
            "columns": json.dumps(columns),
            "title": "表",
            "ledger": "person",
            "bind-0": "person.name",
            "bind-1": "person.name",
        },
    )
    assert page.status_code == 422
    assert "绑定了同一个数据元" in page.get_data(as_text=True)


def test_submit_then_review_return_and_admit(web, engine):
    client, auth = web
    code = _create(engine)
    auth.login("canlian")
    overview = client.get(f"/reports/{code}/").get_data(as_text=True)
    assert "提交前自检" in overview and "建议准入" in overview
    client.post(f"/reports/{code}/submit", data={"note": "请审核"})
    auth.logout()

    auth.login("reviewer")
    queue = client.get("/review/").get_data(as_text=True)
    assert "康复需求调查表" in queue
    with Session(engine) as session:
        request_id = session.scalar(select(AdmissionRequest.id))
    page = client.post(f"/review/{request_id}/decide", data={"action": "return", "reason": ""})
    assert page.status_code == 422 and "请填写理由" in page.get_data(as_text=True)
    client.post(f"/review/{request_id}/decide", data={"action": "return", "reason": "请写明服务范围"})
    auth.logout()

    auth.login("canlian")
    overview = client.get(f"/reports/{code}/").get_data(as_text=True)
    assert "退回修改" in overview and "请写明服务范围" in overview


def test_the_verdict_of_a_blocked_report_shows_the_blocking_rule(web, engine):
    client, auth = web
    code = _create(engine, basis="")
    auth.login("canlian")
    html = client.get(f"/reports/{code}/").get_data(as_text=True)
    assert "阻断" in html and "建议不予准入" in html


def test_consolidating_templates_shows_the_union_and_the_proposed_extension(web):
    client, auth = web
    auth.login("minzheng")
    files = [(io.BytesIO(data), name) for name, data in sample_templates().items()]
    page = client.post(
        "/reports/consolidate", data={"files": files, "ledger": ""}, content_type="multipart/form-data"
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "3 张模板共要" in html and "建议扩展" in html
    assert "<code>land.parcel_code</code>" in html and "<code>person.id_number</code>" in html
    assert "补贴类别" in html and ".ext_1</code>" in html
    empty = client.post("/reports/consolidate", data={}, content_type="multipart/form-data")
    assert empty.status_code == 422 and "请至少选择" in empty.get_data(as_text=True)


def test_write_back_conflicts_are_the_owners_to_settle_not_the_keepers(web):
    """The keeper's conflicts page is gone: conflicts wait in the owner's queue (待审变更)."""
    client, auth = web
    auth.login("keeper")
    assert client.get("/ledgers/conflicts/").status_code == 404
    assert client.get("/proposals/").status_code == 403
    auth.logout()
    auth.login("canlian")
    page = client.get("/proposals/")
    assert page.status_code == 200 and "没有待审的变更" in page.get_data(as_text=True)
    assert "待审变更</a>" in page.get_data(as_text=True), "no count when nothing waits"


def test_a_bomb_uploaded_as_a_template_is_refused_in_chinese(web):
    """A template is small: a file that inflates to millions of cells is refused before it is parsed."""
    from tests import bombs

    client, auth = web
    auth.login("canlian")
    for data, name in (
        (bombs.cell_bomb(40), "模板.xlsx"),
        (bombs.corner_bomb(), "模板.xlsx"),
        (bombs.xls_corners(), "模板.xls"),
    ):
        page = client.post(
            "/reports/import",
            data={"file": (io.BytesIO(data), name), "ledger": ""},
            content_type="multipart/form-data",
        )
        assert page.status_code == 422 and "的上限" in page.get_data(as_text=True)
        page = client.post(
            "/reports/consolidate",
            data={"files": [(io.BytesIO(data), name)]},
            content_type="multipart/form-data",
        )
        assert page.status_code == 422 and "的上限" in page.get_data(as_text=True)
