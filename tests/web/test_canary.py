"""The canary: one person's unique values, looked for on every page, fragment and file each role reaches.

A person is seeded whose ID number, phone, bank account, name and disability grade are found
nowhere else in the district. For every role (and departments with and without grants), every
GET route the permission table lets it open is fetched (as a page and as an htmx fragment), and
every export it may start is downloaded; the canary values found in clear must be exactly those
the sharing rules give that viewer:

- the keepers and administrators, and the township and village of the person's own area, read the
  name and the disability grade (personal values), never the ID number, phone or bank account;
- 区残联 owns the grade, and the demo granted it the name in clear for its subsidy survey;
- 区公安分局 owns the name and the ID number, and reads them in clear;
- 区退役军人事务局, granted the phone and name in clear for 中山路街道 (the canary's township), reads them;
- 区农业农村委, granted the phone in clear for 来苏镇 only, reads nothing of the canary;
- 区民政局, the reviewer and the leader read none of them; another township sees nothing at all.
"""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from flask import url_for
from sqlalchemy import select, update

from runtime.demo.report_grants import grant_elements
from runtime.ledgers.store import Provenance, iter_rows, upsert
from runtime.models import Department, Grant, Record, Report, Task, User
from runtime.org_scope import DISTRICT
from runtime.permissions import Action, may
from tests.conftest import make_id_number
from web.auth.guard import PUBLIC, required_action

TOWNSHIP, VILLAGE, LAISU = "500118001", "500118001001", "500118108"
CANARY = {
    "id_number": make_id_number("19770707", 777),
    "phone": "13977770777",
    "bank_account": "6217000077770777",
    "name": "司马璨燚",
    "disability_grade": "四级",
}
#: username → (role, the canary values it reads in clear).
EXPECTED = {
    "admin": {"name", "disability_grade"},
    "keeper": {"name", "disability_grade"},
    "canlian": {"name", "disability_grade"},
    "minzheng": set(),
    "gongan": {"name", "id_number"},
    "tuiyi": {"name", "phone"},
    "nongye": set(),
    "reviewer": set(),
    "leader": set(),
    "zhongshanlu": {"name", "disability_grade"},
    "wangge": {"name", "disability_grade"},
    "laisu": set(),
}
#: Routes that change things or end the session: never walked.
SKIP = {"auth.logout", "static", "jobs.download", "jobs.report"}


@pytest.fixture(scope="module")
def district(specs, tmp_path_factory):
    """A tiny seeded district with the demo reports, the canary, the grants, and a client per user."""
    from runtime.demo.accounts import DEMO_PASSWORD
    from tests.conftest import close_app, demo_district, make_test_app

    tmp = tmp_path_factory.mktemp("canary")
    url, engine = demo_district(specs, tmp, "canary")
    person = specs.ledgers["person"]
    canary = {
        **CANARY,
        "gender": "男",
        "birth_date": "1977-07-07",
        "township_code": TOWNSHIP,
        "village_code": VILLAGE,
        "disability_category": "肢体",
        "relation_to_head": "户主",
    }
    with engine.begin() as conn:
        # Nobody else has the canary's grade, so finding it anywhere means finding the canary's.
        others = [
            {"id_number": r["id_number"], "disability_grade": "三级"}
            for batch in iter_rows(conn, _query(person))
            for r in batch
            if r.get("disability_grade") == CANARY["disability_grade"]
        ]
        upsert(conn, person, [*others, canary], Provenance("seed"), scope=DISTRICT)
        departments = dict(conn.execute(select(Department.code, Department.id)).all())
        phone_name = ["person.phone", "person.name"]
        tuiyi = grant_elements(
            conn, specs, departments["tuiyi"], phone_name, "退役军人走访慰问", clear=phone_name
        )
        conn.execute(update(Grant).where(Grant.id.in_(tuiyi)).values(granted_townships=[TOWNSHIP]))
        (nongye,) = grant_elements(
            conn, specs, departments["nongye"], ["person.phone"], "土地流转核查联系", clear=["person.phone"]
        )
        conn.execute(update(Grant).where(Grant.id == nongye).values(granted_townships=[LAISU]))
        record_id = conn.scalar(select(Record.id).where(Record.key == CANARY["id_number"]))
        survey = conn.execute(select(Report).join(Task, Task.report_id == Report.id).limit(1)).first()
        task_id = conn.scalar(
            select(Task.id).where(Task.report_id == survey.id, Task.org_unit_code == TOWNSHIP)
        )
        extract = conn.scalar(select(Report.code).where(Report.department_id == departments["tuiyi"]))
    app = make_test_app(url, tmp)
    from builder.early_warnings.rules import load_warning_rules

    values = {
        "code": survey.code,
        "extract": extract,
        "task_id": task_id,
        "ref": str(record_id),
        "record_id": record_id,
        "request_id": 1,
        "conflict_id": 1,
        "township": TOWNSHIP,
        "unit": TOWNSHIP,
        "rule": load_warning_rules(specs.root, specs).rules[0].code,
        "job_id": 1,
        "ledger": "person",
        "client_id": 1,
    }
    clients = {}
    for username in EXPECTED:
        clients[username] = app.test_client()
        response = clients[username].post("/login", data={"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 302, username
    with engine.connect() as conn:
        roles = dict(conn.execute(select(User.username, User.role)).all())
    yield app, values, clients, roles
    close_app(app)
    engine.dispose()


def _query(ledger):
    from runtime.ledgers.store import Query

    return Query(ledger, DISTRICT)


def _url(app, endpoint: str, values: dict) -> str:
    rule = next(app.url_map.iter_rules(endpoint))
    args = {}
    for name in rule.arguments:
        if name == "code":
            args[name] = (
                "person"
                if rule.rule.startswith("/ledgers")
                else values["rule"]
                if "warnings" in rule.rule
                else values["code"]
            )
        elif name == "name":
            args[name] = "name"
        else:
            args[name] = values[name]
    with app.test_request_context():
        return url_for(endpoint, **args)


_OPTIONS = re.compile(r"<select\b.*?</select>|<datalist\b.*?</datalist>", re.S)


def _found(text: str) -> set[str]:
    """Return the canary values in clear in a page or file's text (choice lists left out)."""
    text = _OPTIONS.sub("", text)
    return {name for name, value in CANARY.items() if value in text}


def _file_text(client, response) -> str:
    """Follow an export's job to its file and return the file's text (every cell of a workbook)."""
    assert response.status_code == 302, response.status_code
    job = client.get(response.headers["Location"])
    match = re.search(r'href="(/jobs/\d+/download)"', job.get_data(as_text=True))
    assert match, "the export finished with a download"
    download = client.get(match.group(1))
    data = download.data
    download.close()
    if data[:2] == b"PK":
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        return "\n".join(
            str(cell)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for cell in row
            if cell
        )
    return data.decode("utf-8-sig")


def _exports(client, role: str, values: dict) -> list[str]:
    """Start every export the role may start; return the files' texts."""
    texts = []
    if may(role, Action.EXPORT):
        texts.append(
            _file_text(
                client,
                client.post("/ledgers/person/export", data={"fmt": "csv", "q": CANARY["id_number"][-4:]}),
            )
        )
    if may(role, Action.SUMMARY):
        for code, path in ((values["code"], "export"), (values["extract"], "extract")):
            response = client.post(f"/report-data/{code}/{path}", data={"fmt": "xlsx", "include_open": "1"})
            if response.status_code == 302 and "/jobs/" in response.headers["Location"]:
                texts.append(_file_text(client, response))
    if may(role, Action.TASK_FILL):
        response = client.post(f"/tasks/{values['task_id']}/download")
        if response.status_code == 302 and "/jobs/" in response.headers["Location"]:
            texts.append(_file_text(client, response))
    return texts


@pytest.mark.parametrize("username", list(EXPECTED))
def test_each_viewer_reads_in_clear_exactly_what_the_rules_give(district, username):
    app, values, clients, roles = district
    client, role = clients[username], roles[username]
    seen: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        action = required_action(app.view_functions[rule.endpoint])
        if rule.endpoint in SKIP or "GET" not in rule.methods or action == PUBLIC or not may(role, action):
            continue
        url = _url(app, rule.endpoint, values)
        search = {"q": CANARY["id_number"][-4:]} if rule.endpoint in ("ledgers.table", "tasks.grid") else {}
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(url, query_string=search, headers=headers)
            if response.status_code == 200 and response.mimetype in ("text/html", "text/csv"):
                for name in _found(response.get_data(as_text=True)):
                    seen.setdefault(name, set()).add(url)
            response.close()
    for text in _exports(client, role, values):
        for name in _found(text):
            seen.setdefault(name, set()).add("export")
    assert set(seen) == EXPECTED[username], seen


#: A value set or header aliases listed in the API's catalog (a page's choice list, not a value read).
_ENUMS = re.compile(r'"(?:enum|aliases)":\[[^\]]*\]')


def _api_texts(client, token: str, app, values: dict) -> list[str]:
    """Fetch every GET of the exchange API with a department's token, following pages and cursors."""
    headers = {"Authorization": f"Bearer {token}"}
    texts = []
    for rule in app.url_map.iter_rules():
        if (
            not rule.rule.startswith("/api/v1/")
            or "GET" not in rule.methods
            or rule.endpoint.startswith("api_meta")
        ):
            continue
        path = re.sub(r"<(?:\w+:)?ledger>", "person", rule.rule)
        path = re.sub(r"<(?:\w+:)?code>", values["code"], path)
        path = re.sub(r"<(?:\w+:)?job_id>", "1", path)
        query: dict[str, str] = {"limit": "5000"} if "/ledgers/" in path else {}
        for _page in range(100):
            response = client.get(path, query_string=query, headers=headers)
            assert response.status_code in (200, 404), (path, response.get_data(as_text=True))
            texts.append(_ENUMS.sub("", response.get_data(as_text=True)))
            body = response.get_json(silent=True) or {}
            if body.get("next"):
                query["after"] = body["next"]
            elif body.get("more"):
                query["cursor"] = body["next_cursor"]
            else:
                break
    return texts


@pytest.mark.parametrize("department", ["canlian", "minzheng", "gongan", "tuiyi", "nongye"])
def test_a_department_s_client_system_reads_through_the_api_what_its_people_read(district, department):
    """The exchange API decides with the same rules: a client system reads its department's canary values."""
    from tests.web.api.conftest import make_token

    app = district[0]
    token = make_token(app.extensions["yibiaotong"]["engine"], department)
    texts = _api_texts(app.test_client(), token, app, district[1])
    seen = {name for text in texts for name in _found(text)}
    assert seen == EXPECTED[department]


def test_the_canary_is_seen_somewhere_by_those_who_may(district):
    """The walk reaches the canary: the township's task, the owner's record page, an export."""
    _app, values, clients, _roles = district
    record = (
        clients["zhongshanlu"].get(f"/ledgers/person/records/{values['record_id']}").get_data(as_text=True)
    )
    assert CANARY["name"] in record
    assert CANARY["name"] in clients["zhongshanlu"].get(
        f"/tasks/{values['task_id']}", query_string={"q": CANARY["id_number"][-4:]}
    ).get_data(as_text=True)
