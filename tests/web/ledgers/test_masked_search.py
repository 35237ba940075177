"""Searches and messages never confirm a masked value: by what a viewer sees only, and never where."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from sqlalchemy import select

from runtime.models import Record, Task

ZHONGSHANLU, LAISU = "500118001", "500118108"
HX = {"HX-Request": "true"}


def _person(engine, township: str = ZHONGSHANLU) -> dict:
    """Return the first person of a township whose name is also the start of no other's."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(Record.id, Record.key, Record.label, Record.data)
            .where(Record.ledger == "person", Record.township_code == township)
            .order_by(Record.id)
        ).all()
        labels = conn.scalars(select(Record.label).where(Record.ledger == "person")).all()
    rid, key, label, data = next(r for r in rows if sum(x.startswith(r.label) for x in labels) == 1)
    return {"_id": rid, "_key": key, "name": label, **(json.loads(data) if isinstance(data, str) else data)}


def _ids(fragment: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r'href="/ledgers/person/records/(\d+)"', fragment)))


def _search(client, text: str) -> str:
    return client.get("/ledgers/person", query_string={"q": text}, headers=HX).get_data(as_text=True)


def test_a_department_cannot_find_a_person_by_the_name_it_sees_masked(client, auth, seeded_engine):
    """区民政局 sees 郑* for 郑强: typing 郑强 (or 郑强's start) must not confirm him."""
    person = _person(seeded_engine)
    auth.login("minzheng")
    for text in (person["name"], person["name"][:2], person["name"][:1]):
        fragment = _search(client, text)
        assert _ids(fragment) == [], text
        assert "姓名对您脱敏，不能按姓名查找" in fragment, "said next to the search box"
    page = client.get("/ledgers/person", query_string={"q": person["name"]}).get_data(as_text=True)
    assert _ids(page) == [] and re.search(r'id="search-notice"[^>]*>姓名对您脱敏，不能按姓名查找<', page)
    auth.login("keeper")
    for text in (person["name"], person["name"][:2]):
        assert str(person["_id"]) in _ids(_search(client, text)), "a keeper sees names and finds them"


def test_a_whole_id_number_is_found_only_by_those_who_may_reveal_it(client, auth, seeded_engine):
    person = _person(seeded_engine)
    for username in ("zhongshanlu", "minzheng", "leader"):
        auth.login(username)
        fragment = _search(client, person["_key"])
        assert _ids(fragment) == [], username
        assert "公民身份号码对您脱敏，只能按末 4 位查找" in fragment
        assert str(person["_id"]) in _ids(_search(client, person["_key"][-4:])), "by what is seen: the last 4"
    auth.login("keeper")
    assert _ids(_search(client, person["_key"])) == [str(person["_id"])]


def test_an_export_searches_as_the_table_does(fresh_client, fresh_auth, engine):
    """The export job runs the table's search again for its user: a masked name matches nothing."""
    person = _person(engine)
    fresh_auth.login("minzheng")
    job = fresh_client.post("/ledgers/person/export", data={"fmt": "csv", "q": person["name"]})
    with fresh_client.get(job.headers["Location"] + "/download") as download:
        rows = list(csv.DictReader(io.StringIO(download.data.decode("utf-8-sig"))))
    assert rows == []
    fresh_auth.login("keeper")
    job = fresh_client.post("/ledgers/person/export", data={"fmt": "csv", "q": person["name"]})
    with fresh_client.get(job.headers["Location"] + "/download") as download:
        rows = list(csv.DictReader(io.StringIO(download.data.decode("utf-8-sig"))))
    assert len(rows) == 1 and rows[0]["公民身份号码"].endswith(person["_key"][-4:])


@pytest.fixture
def survey_task(fresh_client, fresh_auth, engine, admit_report):
    """The disability survey dispatched to every township: 中山路街道's task id."""
    code = admit_report(engine)
    fresh_auth.login("canlian")
    fresh_client.post(f"/tasks/dispatch/{code}", data={"scope": "all"})
    with engine.connect() as conn:
        return conn.scalar(select(Task.id).where(Task.org_unit_code == ZHONGSHANLU))


def test_adding_another_townships_person_says_only_not_in_your_area(
    fresh_client, fresh_auth, fresh_app, engine, survey_task
):
    from web import database

    elsewhere = _person(engine, LAISU)["_key"]
    fresh_auth.login("zhongshanlu")
    answer = fresh_client.post(f"/tasks/{survey_task}/added", data={"id_number": elsewhere}, headers=HX)
    assert answer.status_code == 422
    message = re.search(r'role="alert">([^<]*不在您的辖区[^<]*)<', answer.get_data(as_text=True)).group(1)
    assert message == "该公民身份号码不在您的辖区，不能加入本任务；如有出入请联系数据管理岗核实"
    with fresh_app.app_context():
        units = [u.name for u in database.specs().org_units.values()]
    assert not [name for name in units if name in message], "no org unit is named"
    assert "台账中已有" not in message and elsewhere[-4:] not in message
