"""Adding a row for a person the ledger lacks, from the task grid (htmx and plain forms)."""

import re

import pytest
from sqlalchemy import select

from runtime.models import Task, TaskRow
from tests.conftest import make_id_number

ZHONGSHANLU = "500118001"


@pytest.fixture
def task_id(fresh_client, fresh_auth, engine, admit_report):
    """The disability survey dispatched; 中山路街道's filler signed in."""
    code = admit_report(engine)
    fresh_auth.login("canlian")
    fresh_client.post(f"/tasks/dispatch/{code}", data={"scope": "all"})
    fresh_auth.login("zhongshanlu")
    with engine.connect() as conn:
        return conn.scalar(select(Task.id).where(Task.org_unit_code == ZHONGSHANLU))


def _village(fresh_app):
    from web import database

    with fresh_app.app_context():
        return database.specs().villages(ZHONGSHANLU)[0].code


def _form(key, village, **over):
    return {
        "id_number": key,
        "name": "新登记",
        "r:village_code": village,
        "r:household_no": "5001180019999",
        "r:relation_to_head": "户主",
        **over,
    }


HX = {"HX-Request": "true"}


def test_the_grid_offers_the_add_form_with_what_a_new_record_needs(fresh_client, task_id):
    page = fresh_client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "新增一行：表中没有的" in page
    for name in ("r:household_no", "r:village_code"):
        tag = re.search(rf'<[^>]*name="{name}"[^>]*>', page).group(0)
        assert "required" not in tag, "the server asks for them for a new record; a known key needs none"
    assert 'name="id_number"' in page and 'name="r:village_code"' in page
    assert 'name="r:household_no"' in page and 'name="r:relation_to_head"' in page
    assert "性别、出生日期 按公民身份号码自动填写" in page or "出生日期、性别 按公民身份号码自动填写" in page


def test_a_key_of_the_townships_own_ledger_includes_that_record(fresh_client, fresh_app, task_id, engine):
    from runtime.ledgers.store import get
    from runtime.models import Record
    from web import database

    with fresh_app.app_context():
        persons = database.specs().ledgers["person"]
    with engine.connect() as conn:
        ids = conn.scalars(
            select(Record.id).where(Record.ledger == "person", Record.township_code == ZHONGSHANLU)
        )
        person = next(r for r in (get(conn, persons, i) for i in ids) if not r.get("disability_grade"))
    answer = fresh_client.post(f"/tasks/{task_id}/added", data={"id_number": person["_key"]}, headers=HX)
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert "已把这条记录加入本表" in html
    assert f'id="row-g{person["_id"]}"' in html and 'hx-swap-oob="afterbegin:#task-rows"' in html
    page = fresh_client.get(f"/tasks/{task_id}", query_string={"q": person["name"]}).get_data(as_text=True)
    assert f'id="row-g{person["_id"]}"' in page


def test_a_refused_add_comes_back_with_messages_and_everything_typed(
    fresh_client, fresh_app, task_id, engine
):
    sent = _form("110101199001011234", _village(fresh_app), **{"r:household_no": "12"})
    answer = fresh_client.post(f"/tasks/{task_id}/added", data=sent, headers=HX)
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert "校验" in html, "the ID number's check character is wrong"
    assert 'value="110101199001011234"' in html and 'value="新登记"' in html and 'value="12"' in html
    assert "hx-swap-oob" not in html
    with engine.connect() as conn:
        assert conn.scalars(select(TaskRow.id)).all() == []


def test_an_added_row_appears_on_top_and_is_filled_and_removed_like_others(
    fresh_client, fresh_app, task_id, engine
):
    key = make_id_number("19850607", 912)
    answer = fresh_client.post(f"/tasks/{task_id}/added", data=_form(key, _village(fresh_app)), headers=HX)
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert "已新增这一行" in html
    ref = re.search(r'id="row-g(n\d+)"', html).group(1)
    assert 'hx-swap-oob="afterbegin:#task-rows"' in html and 'hx-swap-oob="afterbegin:#task-cards"' in html
    assert key not in html, "the ID number is shown masked, as the ledger's would be"

    page = fresh_client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert page.index(f'id="row-g{ref}"') < page.index('id="row-g', page.index(f'id="row-g{ref}"') + 1)
    assert "新增</span>" in page and "删除新增的行" in page
    version = int(re.search(rf'id="ver-g{ref}" value="(\d+)"', page).group(1))
    saved = fresh_client.post(
        f"/tasks/{task_id}/rows/{ref}",
        headers=HX,
        data={"_field": ["phone"], "_version": str(version), "phone": "1380000"},
    )
    assert saved.status_code == 200 and "cell-error" in saved.get_data(as_text=True)
    one = fresh_client.get(f"/tasks/{task_id}", query_string={"row": ref}).get_data(as_text=True)
    assert 'value="1380000"' in one, "kept as typed"
    refused = fresh_client.post(f"/tasks/{task_id}/rows/{ref}/remove", headers=HX, data={"_version": "0"})
    assert refused.status_code == 409
    gone = fresh_client.post(
        f"/tasks/{task_id}/rows/{ref}/remove", headers=HX, data={"_version": str(version + 1)}
    )
    assert gone.status_code == 200 and 'hx-swap-oob="delete"' in gone.get_data(as_text=True)
    with engine.connect() as conn:
        assert conn.scalars(select(TaskRow.id).where(TaskRow.status == "added")).all() == []


def test_without_scripts_an_add_goes_back_to_the_grid_with_the_new_row(fresh_client, fresh_app, task_id):
    key = make_id_number("19850607", 914)
    answer = fresh_client.post(f"/tasks/{task_id}/added", data=_form(key, _village(fresh_app)))
    assert answer.status_code == 302 and "row=n" in answer.headers["Location"]
    page = fresh_client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "已新增这一行" in page and re.search(r'id="row-gn\d+"', page)


def test_a_refused_submission_links_to_the_added_row(fresh_client, fresh_app, task_id):
    key = make_id_number("19850607", 916)
    fresh_client.post(f"/tasks/{task_id}/added", data=_form(key, _village(fresh_app)), headers=HX)
    refused = fresh_client.post(f"/tasks/{task_id}/submit")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert re.search(r'href="/tasks/\d+\?row=n\d+#row-gn\d+">新登记（新增）</a>', html)
