"""Who may open what: login, roles, and one township never seeing another's rows."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from runtime.models import Record

ZHONGSHANLU = "500118001"
LAISU = "500118108"
RECORD_LINK = re.compile(r'href="/ledgers/person/records/(\d+)"')


@pytest.mark.parametrize(
    "url",
    [
        "/ledgers",
        "/ledgers/person",
        "/ledgers/person/count",
        "/ledgers/person/records/1",
        "/ledgers/person/records/1/edit",
        "/ledgers/import",
        "/ledgers/person/import",
        "/jobs/1",
        "/jobs/1/download",
    ],
)
def test_anonymous_users_are_sent_to_login(client, url):
    """Every ledger and job page needs a login."""
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


KEEPER_ONLY = [
    ("get", "/ledgers/import"),
    ("get", "/ledgers/person/import"),
    ("post", "/ledgers/person/import"),
    ("get", "/ledgers/person/records/{id}/edit"),
    ("post", "/ledgers/person/records/{id}/edit"),
    ("post", "/ledgers/person/records/{id}/check/name"),
    ("post", "/ledgers/person/records/{id}/reveal/id_number"),
]


@pytest.mark.parametrize("username", ["zhongshanlu", "wangge", "minzheng", "reviewer", "leader"])
@pytest.mark.parametrize(("method", "url"), KEEPER_ONLY)
def test_only_keepers_edit_import_and_reveal(client, auth, seeded_engine, find_record, username, method, url):
    """Everyone else gets 403 on edit, import and reveal (a grid worker edits only her village)."""
    rid = find_record(seeded_engine, "person", township=ZHONGSHANLU)
    edits = "/edit" in url or "/check/" in url
    if username == "wangge" and edits:
        with seeded_engine.connect() as conn:  # a record of another village of her township
            rid = conn.execute(
                select(Record.id)
                .where(
                    Record.ledger == "person",
                    Record.township_code == ZHONGSHANLU,
                    Record.village_code != "500118001001",
                )
                .limit(1)
            ).scalar_one()
    auth.login(username)
    response = getattr(client, method)(url.format(id=rid), data={"version": "1"})
    assert response.status_code == (404 if username == "wangge" and edits else 403)


@pytest.mark.parametrize("username", ["keeper", "admin"])
def test_keepers_open_edit_and_import(client, auth, seeded_engine, find_record, username):
    """Keepers and admins reach the edit form and the upload page."""
    rid = find_record(seeded_engine, "person")
    auth.login(username)
    assert client.get(f"/ledgers/person/records/{rid}/edit").status_code == 200
    assert client.get("/ledgers/person/import").status_code == 200
    assert client.get("/ledgers/import").status_code == 200


def test_township_user_cannot_open_another_townships_record(client, auth, seeded_engine, find_record):
    """A record of another township is "not found", exactly like one that does not exist."""
    own = find_record(seeded_engine, "person", township=ZHONGSHANLU)
    other = find_record(seeded_engine, "person", not_township=ZHONGSHANLU)
    auth.login("zhongshanlu")
    assert client.get(f"/ledgers/person/records/{own}").status_code == 200
    hidden = client.get(f"/ledgers/person/records/{other}")
    missing = client.get("/ledgers/person/records/99999999")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_data(as_text=True) == missing.get_data(as_text=True)
    assert client.get(f"/ledgers/house/records/{own}").status_code == 404  # wrong ledger


def _townships_of(engine, ids):
    with engine.connect() as conn:
        return set(conn.execute(select(Record.township_code).where(Record.id.in_(ids))).scalars())


def _all_ids(client, url):
    """Follow the next links through every page of a table; return all record ids."""
    ids = []
    while url:
        page = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
        ids += [int(i) for i in dict.fromkeys(RECORD_LINK.findall(page))]
        found = re.search(r'href="([^"]+)"[^>]*rel="next"', page)
        url = found.group(1).replace("&amp;", "&") if found else None
    return ids


def test_table_lists_only_the_users_township(client, auth, seeded_engine):
    """Every page of a township user's table holds only that township's records, all of them."""
    auth.login("zhongshanlu")
    ids = _all_ids(client, "/ledgers/person")
    with seeded_engine.connect() as conn:
        expected = conn.execute(
            select(func.count()).where(Record.ledger == "person", Record.township_code == ZHONGSHANLU)
        ).scalar_one()
    assert len(ids) == len(set(ids)) == expected
    assert _townships_of(seeded_engine, ids) == {ZHONGSHANLU}


@pytest.mark.parametrize("query", [f"township={LAISU}", f"township={LAISU}&village={LAISU}001"])
def test_query_string_cannot_widen_the_scope(client, auth, query):
    """Naming another township in the URL narrows to nothing instead of showing its rows."""
    auth.login("zhongshanlu")
    page = client.get(f"/ledgers/person?{query}").get_data(as_text=True)
    assert not RECORD_LINK.search(page)
    assert "没有符合条件的记录" in page
    count = client.get(f"/ledgers/person/count?{query}").get_data(as_text=True)
    assert '<span class="count">0</span>' in count


def test_foreign_village_filter_is_ignored_within_scope(client, auth, seeded_engine):
    """A village of another township is not a filter a township user can use: still own rows."""
    auth.login("zhongshanlu")
    ids = _all_ids(client, f"/ledgers/person?village={LAISU}001")
    assert _townships_of(seeded_engine, ids) <= {ZHONGSHANLU}


def test_village_user_sees_only_the_village(client, auth, seeded_engine):
    """The grid worker's table holds only the records of his village."""
    auth.login("wangge")
    ids = _all_ids(client, "/ledgers/person")
    with seeded_engine.connect() as conn:
        villages = set(conn.execute(select(Record.village_code).where(Record.id.in_(ids))).scalars())
    assert ids and villages == {ZHONGSHANLU + "001"}


def test_district_user_can_filter_by_township(client, auth, seeded_engine):
    """A district user picks a township from the select and gets only its rows."""
    auth.login("keeper")
    page = client.get("/ledgers/person").get_data(as_text=True)
    assert f'<option value="{LAISU}">来苏镇</option>' in page
    ids = _all_ids(client, f"/ledgers/person?township={LAISU}")
    assert ids and _townships_of(seeded_engine, ids) == {LAISU}


def test_ledger_list_counts_within_scope(client, auth, seeded_engine):
    """The ledger list shows how many records the viewer may see."""
    with seeded_engine.connect() as conn:
        own = conn.execute(
            select(func.count()).where(Record.ledger == "person", Record.township_code == ZHONGSHANLU)
        ).scalar_one()
        everyone = conn.execute(select(func.count()).where(Record.ledger == "person")).scalar_one()
    auth.login("zhongshanlu")
    assert f"<strong>{own:,}</strong>" in client.get("/ledgers").get_data(as_text=True)
    auth.login("leader")
    assert f"<strong>{everyone:,}</strong>" in client.get("/ledgers").get_data(as_text=True)
