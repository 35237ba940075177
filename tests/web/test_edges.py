"""No 500s from input: every GET route with oversized ids, odd cursors and control characters, by role.

The walk reads the app's own URL map, so a route added later is walked too. Path ids are tried
past 64 bits (no such page: 404) and as real ids of a dispatched report, with every query
parameter the views read set to oversized or malformed values; a control character anywhere in
the query or path is refused at the edge (400). Every refusal is the Chinese page.
"""

from __future__ import annotations

import io
import json
import re

import pytest
from sqlalchemy import select

from runtime.models import AdmissionRequest, Job, Record, Report, Task

HUGE = "99999999999999999999"  # past 2**64
ROLES = ("admin", "keeper", "canlian", "reviewer", "zhongshanlu", "wangge")
#: Every query parameter a view reads (and some filters), each tried with the malformed values.
PARAMS = (
    "after",
    "before",
    "row",
    "record",
    "department",
    "from",
    "to",
    "q",
    "month",
    "status",
    "decision",
    "township",
    "village",
    "gaps",
    "measure",
    "live",
    "now",
    "ledger",
    "next",
    "gender",
    "unit",
    "fmt",
)
#: Values past 64 bits and shapes the cursors and row references take, with digits Python's int()
#: reads but str.isdigit() alone does not vouch for ("²" is a digit to isdigit, not to int).
MALFORMED = (
    HUGE,
    f"500118001:{HUGE}",
    f"500118001.{HUGE}",
    f"n{HUGE}",
    "²",
    "500118001:²",
    "n²",
    "-1",
    "1e400",
    str(2**63),
)
CHINESE_PAGES = ("页面不存在", "请求无效", "无权访问", "请先登录")
#: What the exchange API answers instead of a page (application/problem+json).
CHINESE_PROBLEMS = ("资源不存在", "请求无效", "缺少有效的接口令牌")


@pytest.fixture
def walked(fresh_app, engine, specs, admit_report, actor_of):
    """The app, with a report dispatched and a job run: real ids for every kind of path parameter."""
    from sqlalchemy.orm import Session

    from builder.early_warnings.rules import load_warning_rules
    from runtime.tasks.dispatch import dispatch
    from tests.conftest import SPECS_ROOT

    fresh_app.config["PROPAGATE_EXCEPTIONS"] = False  # a 500 is an answer to count, not a raise
    code = admit_report(engine)
    with Session(engine) as session, session.begin():
        report = session.scalar(select(Report).where(Report.code == code))
        dispatch(session, specs, report, actor_of(session, "canlian"))
    client = fresh_app.test_client()
    client.post("/login", data={"username": "keeper", "password": "yibiaotong"})
    client.post("/ledgers/person/export", data={"fmt": "csv"})
    with engine.connect() as conn:
        ids = {
            "task_id": conn.scalar(select(Task.id).where(Task.org_unit_code == "500118001")),
            "record_id": conn.scalar(
                select(Record.id).where(Record.ledger == "person", Record.village_code == "500118001001")
            ),
            "job_id": conn.scalar(select(Job.id)),
            "request_id": conn.scalar(select(AdmissionRequest.id)),
        }
    with engine.begin() as conn:
        ids["client_id"] = _client_system(conn)
    rule = load_warning_rules(SPECS_ROOT, specs).rules[0].code
    return fresh_app, code, rule, ids


def _client_system(conn) -> int:
    """Register a client system of 区残联 (the 对接系统 pages' id) and return its id."""
    from runtime.exchange.clients import register_client
    from runtime.models import Department

    department = conn.scalar(select(Department.id).where(Department.code == "canlian"))
    return register_client(conn, name="区残联残疾人管理系统", department_id=department, actor_id=None)


def _urls(app, report: str, rule: str, ids: dict[str, int], *, real: bool) -> list[str]:
    """Return every GET route of the app with its parameters filled (ids real, or past 64 bits)."""
    urls = set()
    for r in app.url_map.iter_rules():
        if "GET" not in r.methods or r.endpoint == "static":
            continue
        # A row reference names a record, or an added row ("n" and its id).
        for ref in [str(ids["record_id"])] if real else [HUGE, f"n{HUGE}", "²", "n²"]:
            url = r.rule
            for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", r.rule):
                if converter == "int":
                    value = str(ids[name]) if real else HUGE
                elif name == "code":
                    value = (
                        "person"
                        if r.rule.startswith("/ledgers")
                        else rule
                        if r.rule.startswith("/warnings")
                        else report
                    )
                elif name == "ledger":
                    value = "person"
                elif name in ("township", "unit"):
                    value = "500118001"
                elif name == "ref":
                    value = ref
                else:
                    value = "phone"
                url = re.sub(rf"<(?:\w+:)?{name}>", value, url, count=1)
            urls.add(url)
    return sorted(urls)


def _get(client, url, query=None) -> tuple[int, str]:
    """Return the status and text of a GET (its file, for a download, closed)."""
    response = client.get(url, query_string=query)
    try:
        binary = response.mimetype.startswith("application/vnd.")  # a workbook download
        return response.status_code, "" if binary else response.get_data(as_text=True)
    finally:
        response.close()


def _login(client, username):
    client.post("/logout")
    assert client.post("/login", data={"username": username, "password": "yibiaotong"}).status_code == 302


def test_oversized_ids_and_odd_cursors_never_answer_500(walked):
    """Every GET route, as each role: ids past 64 bits are no page; malformed parameters are refused."""
    app, report, rule, ids = walked
    client = app.test_client()
    failures = []
    for username in ROLES:
        _login(client, username)
        for url in _urls(app, report, rule, ids, real=False):
            status, text = _get(client, url)
            chinese = CHINESE_PROBLEMS if url.startswith("/api/") else CHINESE_PAGES
            if status >= 500 or (status in (400, 404) and not any(t in text for t in chinese)):
                failures.append((username, url, status))
        for url in _urls(app, report, rule, ids, real=True):
            queries = [{name: value for name in PARAMS} for value in MALFORMED]
            queries += [{name: value} for name in PARAMS for value in (HUGE, "²")]
            for query in queries:
                status, _text = _get(client, url, query)
                if status >= 500:
                    failures.append((username, url, query, status))
    assert failures == [], "\n".join(map(str, failures))


def test_control_characters_are_refused_at_the_edge(walked):
    """A NUL (or another control character) in any query parameter or path: the Chinese 400 page."""
    app, report, rule, ids = walked
    client = app.test_client()
    failures = []
    for username in ROLES:
        _login(client, username)
        for url in _urls(app, report, rule, ids, real=True):
            for query in [{name: "a\x00b"} for name in PARAMS] + [{"q": "\x1b[0m"}, {"a\x00": "1"}]:
                status, text = _get(client, url, query)
                if status != 400 or "请求无效" not in text:
                    failures.append((username, url, query, status))
    assert failures == [], "\n".join(map(str, failures))
    _login(client, "keeper")
    assert _get(client, f"/reports/{report}%00/")[0] == 400
    assert _get(client, "/ledgers/per%01son")[0] == 400


def test_a_control_character_in_a_form_or_json_is_refused_but_tabs_and_newlines_are_text(
    fresh_client, fresh_auth, engine, find_record
):
    fresh_auth.login("keeper")
    person = find_record(engine, "person", township="500118001")
    url = f"/ledgers/person/records/{person}/edit"
    with engine.connect() as conn:
        before = conn.scalar(select(Record.version).where(Record.id == person))
    response = fresh_client.post(url, data={"version": str(before), "occupation": "木\x00匠"})
    assert response.status_code == 400 and "请求无效" in response.get_data(as_text=True)
    assert fresh_client.post(url, json={"occupation": "木\x00匠"}).status_code == 400
    assert fresh_client.post(url, data="[" * 50_000, content_type="application/json").status_code == 400
    upload = fresh_client.post(
        "/ledgers/person/import",
        data={"file": (io.BytesIO(b"x"), "a\x00.csv")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 400
    # (现居住地址 changes at once; 职业 would wait for 区人力社保局, its owner.)
    kept = fresh_client.post(url, data={"version": str(before), "current_address": "来苏镇\r\n\t观音井村3组"})
    assert kept.status_code == 302
    with engine.connect() as conn:
        assert conn.scalar(select(Record.version).where(Record.id == person)) == before + 1


@pytest.mark.parametrize(
    "columns",
    [
        "{not json",
        "[" * 100_000,
        "{}",
        "[]",
        "[1, 2]",
        '[{"label": ["姓名"]}]',
        '[{"label": ""}]',
        '[{"label": "姓名", "parents": "户主"}]',
        '[{"label": "姓名", "element": ["person.name"]}]',
        '[{"label": "姓名", "parents": ["一", "二", "三", "四"]}]',
    ],
)
def test_a_malformed_template_confirmation_is_refused_in_chinese(web, engine, columns):
    client, auth = web
    auth.login("canlian")
    response = client.post("/reports/import/confirm", data={"columns": columns, "title": "表"})
    assert response.status_code == 400
    assert "字段绑定无法读取" in response.get_data(as_text=True)
    with engine.connect() as conn:
        assert conn.scalar(select(Report.id)) is None


def test_a_template_confirmation_keeps_the_upload_limits(web, engine):
    """The columns travel in the form: the confirm step counts them again (the upload allows 500)."""
    client, auth = web
    auth.login("canlian")
    wide = json.dumps([{"label": f"第{i}列"} for i in range(3000)], ensure_ascii=False)
    response = client.post("/reports/import/confirm", data={"columns": wide, "title": "表"})
    assert response.status_code == 400
    assert "超过了 500 列的上限" in response.get_data(as_text=True)
    odd = json.dumps(
        [
            {
                "label": "姓名",
                "confidence": "很高",
                "proposal": "no.such",
                "samples": "x",
                "candidates": [["person.name"]],
                "letter": "ABCDE",
            }
        ],
        ensure_ascii=False,
    )
    response = client.post("/reports/import/confirm", data={"columns": odd, "title": "表" * 101})
    assert response.status_code == 422
    assert "报表名称最长 100 个字符" in response.get_data(as_text=True)
    with engine.connect() as conn:
        assert conn.scalar(select(Report.id)) is None


def test_an_unexpected_error_gets_the_chinese_500_page_without_its_detail(blank_app, caplog):
    """Full page and htmx fragment; the exception is logged, never shown."""
    blank_app.config["PROPAGATE_EXCEPTIONS"] = False

    @blank_app.get("/boom")
    def boom():
        raise RuntimeError("secret detail 110101199001011234")

    client = blank_app.test_client()
    page = client.get("/boom")
    assert page.status_code == 500
    text = page.get_data(as_text=True)
    assert "系统出错" in text and "<html" in text and "secret" not in text and "Internal" not in text
    fragment = client.get("/boom", headers={"HX-Request": "true"})
    assert fragment.status_code == 500 and "<html" not in fragment.get_data(as_text=True)
    assert "系统出错" in fragment.get_data(as_text=True)
    assert any("secret detail" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)
