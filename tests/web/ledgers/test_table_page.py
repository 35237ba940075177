"""The record table: filters, search, keyset pages, the lazy count, a constant query count."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import event, func, select

from runtime.models import Record

ZHONGSHANLU = "500118001"
RECORD_LINK = re.compile(r'href="/ledgers/(\w+)/records/(\d+)"')


def _ids(page: str) -> list[int]:
    return [int(i) for _code, i in dict.fromkeys(RECORD_LINK.findall(page))]


def _cells(page: str, label: str) -> list[str]:
    cells = re.findall(rf'<td data-label="{label}"[^>]*>(.*?)</td>', page, re.S)
    return [re.sub(r"<[^>]+>", "", c).strip() for c in cells]


def _link(page: str, rel: str) -> str | None:
    found = re.search(rf'href="([^"]+)"[^>]*rel="{rel}"', page)
    return found.group(1).replace("&amp;", "&") if found else None


def test_page_has_filters_and_the_fragment_is_only_the_records(client, auth):
    """A full page holds the filter form; htmx requests get only `_records.html`."""
    auth.login("keeper")
    page = client.get("/ledgers/person").get_data(as_text=True)
    assert 'id="filters"' in page and 'name="township"' in page and 'name="village"' in page
    for name in ("gender", "assistance_type", "disability_category"):
        assert f'<select name="{name}">' in page
    assert 'hx-trigger="input changed delay:300ms' in page
    fragment = client.get("/ledgers/person", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and 'id="filters"' not in fragment
    assert 'hx-trigger="load"' in fragment  # the count loads lazily
    assert len(_ids(fragment)) == 50


def test_township_user_gets_no_township_select(client, auth):
    """A township user's table has no township column or select, but a village select."""
    auth.login("zhongshanlu")
    page = client.get("/ledgers/person").get_data(as_text=True)
    assert 'name="township"' not in page and '<th scope="col">所属镇街</th>' not in page
    assert '<option value="500118001001">' in page


@pytest.mark.parametrize(
    ("ledger", "filters"),
    [
        ("person", ["gender", "assistance_type", "disability_category"]),
        ("land", ["is_transferred", "transfer_form"]),
        ("house", ["safety_level"]),
        ("enterprise", ["status"]),
        ("household", ["poverty_status"]),
    ],
)
def test_every_ledger_table_renders(client, auth, ledger, filters):
    """Each ledger's table shows its choice filters and masked rows."""
    auth.login("keeper")
    response = client.get(f"/ledgers/{ledger}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for name in filters:
        assert f'<select name="{name}">' in page
    assert _ids(page)


def test_filter_by_choice_and_boolean(client, auth):
    """Selects filter exactly; a yes/no filter takes true/false."""
    auth.login("keeper")
    page = client.get("/ledgers/person?gender=女").get_data(as_text=True)
    assert set(_cells(page, "性别")) == {"女"}
    page = client.get("/ledgers/land?is_transferred=true").get_data(as_text=True)
    assert set(_cells(page, "是否流转")) == {"是"}
    page = client.get("/ledgers/person?gender=不存在").get_data(as_text=True)
    assert len(_ids(page)) == 50  # an unknown value is ignored, not an error


def test_search_by_name_prefix_and_key(client, auth, seeded_engine):
    """The search box finds names by their start, and a masked key (ID number) only whole, by a keeper."""
    with seeded_engine.connect() as conn:
        name, key = conn.execute(
            select(Record.label, Record.key).where(
                Record.ledger == "person", Record.township_code == ZHONGSHANLU
            )
        ).first()
    auth.login("zhongshanlu")
    page = client.get(f"/ledgers/person?q={name[:2]}", headers={"HX-Request": "true"}).get_data(as_text=True)
    names = _cells(page, "姓名")
    assert name in names and all(n.startswith(name[:2]) for n in names)
    auth.login("keeper")
    page = client.get(f"/ledgers/person?q={key}").get_data(as_text=True)
    assert _cells(page, "公民身份号码") == ["*" * 14 + key[-4:]]
    assert 'value="' + key + '"' in page  # the box keeps the search


def test_search_by_prefix_of_an_unmasked_key(client, auth, seeded_engine):
    """Parcel codes are not masked: their prefix finds every parcel of a village."""
    with seeded_engine.connect() as conn:
        key = conn.execute(select(Record.key).where(Record.ledger == "land")).scalar()
    auth.login("keeper")
    page = client.get(f"/ledgers/land?q={key[:12]}").get_data(as_text=True)
    codes = _cells(page, "地块编码")
    assert key in codes and all(c.startswith(key[:12]) for c in codes)


def test_keyset_pages_go_forward_and_back(client, auth):
    """next/prev links carry after=/before= positions; going back returns the same page."""
    auth.login("keeper")
    first = client.get("/ledgers/person", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert _link(first, "prev") is None
    second_url = _link(first, "next")
    assert re.search(r"after=\d+(%3A|:)\d+", second_url)
    second = client.get(second_url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert set(_ids(first)).isdisjoint(_ids(second))
    back = client.get(_link(second, "prev"), headers={"HX-Request": "true"}).get_data(as_text=True)
    assert _ids(back) == _ids(first)


def test_count_is_lazy_and_capped(client, auth, seeded_engine, monkeypatch):
    """The count fragment counts in scope; past the cap it reads N+ (10万+ at district scale)."""
    with seeded_engine.connect() as conn:
        total = conn.execute(select(func.count()).where(Record.ledger == "person")).scalar_one()
    auth.login("keeper")
    assert f'<span class="count">{total:,}</span>' in client.get("/ledgers/person/count").get_data(
        as_text=True
    )
    monkeypatch.setattr("web.ledgers.views.COUNT_CAP", 100)
    assert '<span class="count">100+</span>' in client.get("/ledgers/person/count").get_data(as_text=True)


def test_a_page_costs_a_constant_number_of_queries(app, client, auth):
    """No query per row: the table page runs the same few statements for 50 rows."""
    auth.login("keeper")
    statements = []
    engine = app.extensions["yibiaotong"]["engine"]

    def count_statement(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count_statement)
    try:
        client.get("/ledgers/person")
        full = len(statements)
        statements.clear()
        client.get("/ledgers/person/records/1")
        record = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count_statement)
    assert full <= 3, full  # the user (and org unit), one page query
    assert record <= 5, record  # the user (and org unit), the record, its history, its pending changes


def test_org_units_shown_by_name(client, auth, seeded_engine):
    """Township and village columns show names, not codes."""
    auth.login("keeper")
    page = client.get("/ledgers/person").get_data(as_text=True)
    assert "中山路街道" in _cells(page, "所属镇街")
    assert not any(c.isdigit() for c in _cells(page, "所属村（社区）"))
    with seeded_engine.connect() as conn:
        data = conn.execute(select(Record.data).where(Record.ledger == "person")).scalar()
    data = json.loads(data) if isinstance(data, str) else data
    assert data["village_code"] not in _cells(page, "所属村（社区）")


def test_village_options_follow_the_township(client, auth):
    """Changing the township reloads the village select's options."""
    auth.login("keeper")
    options = client.get(
        "/ledgers/person/villages?township=500118108", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "全部村（社区）" in options and 'value="500118108' in options
    assert 'value="500118001' not in options
