"""Sensitive values leave the server masked on every page and fragment."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from runtime.models import Record

ZHONGSHANLU = "500118001"
MASKED_ID = re.compile(r"^\*{14}[\dX]{4}$")
MASKED_PHONE = re.compile(r"^\d{3}\*{4}\d{4}$")


def _cells(page: str, label: str) -> list[str]:
    """Return the text of the table cells of one column (links unwrapped)."""
    cells = re.findall(rf'<td data-label="{label}"[^>]*>(.*?)</td>', page, re.S)
    return [re.sub(r"<[^>]+>", "", c).strip() for c in cells]


def _data(engine, rid: int) -> dict:
    with engine.connect() as conn:
        data = conn.execute(select(Record.data).where(Record.id == rid)).scalar_one()
    return json.loads(data) if isinstance(data, str) else data


@pytest.mark.parametrize("username", ["zhongshanlu", "keeper", "minzheng", "leader"])
def test_table_masks_id_numbers_and_phones(client, auth, username):
    """ID numbers keep their last 4 characters; phones the first 3 and last 4; birth dates the year.

    A phone is 有条件共享: a department (and the leader) without a grant has no phone column at all.
    """
    auth.login(username)
    page = client.get("/ledgers/person").get_data(as_text=True)
    ids = _cells(page, "公民身份号码")
    phones = [p for p in _cells(page, "联系电话") if p]
    assert len(ids) == 50
    assert all(MASKED_ID.match(v) for v in ids), ids
    if username in ("minzheng", "leader"):
        assert not phones and "联系电话" not in page
    else:
        assert phones and all(MASKED_PHONE.match(v) for v in phones), phones
    assert all(re.fullmatch(r"\d{4}年", v) for v in _cells(page, "出生日期")), "beside a masked ID: the year"


def test_department_users_see_only_the_first_character_of_names(client, auth):
    """Names are personal data: a department user reads 王** where a township user reads 王小明."""
    auth.login("minzheng")
    names = _cells(client.get("/ledgers/person").get_data(as_text=True), "姓名")
    assert names and all(re.fullmatch(r"[^*]\*+", n) for n in names), names
    auth.login("zhongshanlu")
    names = _cells(client.get("/ledgers/person").get_data(as_text=True), "姓名")
    assert names and not any("*" in n for n in names)


@pytest.mark.parametrize("username", ["zhongshanlu", "keeper", "minzheng", "admin"])
def test_record_page_and_history_never_show_clear_sensitive_values(
    client, auth, seeded_engine, find_record, username
):
    """Neither the fields nor the version history hold the clear ID number or phone."""
    rid = find_record(seeded_engine, "person", township=ZHONGSHANLU, has="phone")
    data = _data(seeded_engine, rid)
    auth.login(username)
    page = client.get(f"/ledgers/person/records/{rid}").get_data(as_text=True)
    assert "第 1 版" in page
    for name in ("id_number", "phone", "birth_date"):
        assert data[name] not in page
    assert "*" * 14 + data["id_number"][-4:] in page
    assert data["birth_date"][:4] + "年" in page
    # A 有条件共享 phone: masked for those who see it, not shown to a department without a grant.
    assert (data["phone"][:3] + "****" + data["phone"][-4:] in page) is (username != "minzheng")
    if username == "minzheng":
        assert data["name"] not in page
        assert data["name"][0] + "*" * (len(data["name"]) - 1) in page


@pytest.mark.parametrize("username", ["keeper", "minzheng", "zhongshanlu"])
def test_search_results_are_masked_too(client, auth, seeded_engine, find_record, username):
    """Fragments are masked like pages: a search by the ID's last 4 finds the record, masked."""
    rid = find_record(seeded_engine, "person", township=ZHONGSHANLU)
    id_number = _data(seeded_engine, rid)["id_number"]
    auth.login(username)
    fragment = client.get(f"/ledgers/person?q={id_number[-4:]}", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert "<html" not in fragment
    ids = _cells(fragment, "公民身份号码")
    assert "*" * 14 + id_number[-4:] in ids and all(i.endswith(id_number[-4:]) for i in ids)
    assert id_number not in fragment


@pytest.mark.parametrize("username", ["keeper", "zhongshanlu"])
def test_a_masked_value_cannot_be_searched_by_prefix(client, auth, seeded_engine, find_record, username):
    """Prefix searches on a masked value would reveal it digit by digit: they find nothing."""
    rid = find_record(seeded_engine, "person", township=ZHONGSHANLU)
    id_number = _data(seeded_engine, rid)["id_number"]
    auth.login(username)
    fragment = client.get(f"/ledgers/person?q={id_number[:12]}", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert _cells(fragment, "公民身份号码") == []


def test_fields_masked_for_the_viewer_are_not_offered_as_filters(client, auth):
    """区残联 sees 救助类别 (区民政局's) masked, so cannot filter by it either; its owner can."""
    auth.login("canlian")
    page = client.get("/ledgers/person").get_data(as_text=True)
    assert 'name="assistance_type"' not in page
    assert 'name="disability_category"' in page, "its own element"
    assert client.get("/ledgers/person?assistance_type=低保&q=").status_code == 200
    auth.logout()
    auth.login("minzheng")
    page = client.get("/ledgers/person").get_data(as_text=True)
    assert 'name="assistance_type"' in page and 'name="disability_category"' not in page
    auth.logout()
    auth.login("zhongshanlu")
    assert 'name="assistance_type"' in client.get("/ledgers/person").get_data(as_text=True)


def test_reveal_button_only_for_keepers(client, auth, seeded_engine, find_record):
    """Keepers get a 显示明文 button per masked field; others do not."""
    rid = find_record(seeded_engine, "person", township=ZHONGSHANLU)
    auth.login("keeper")
    assert "显示明文" in client.get(f"/ledgers/person/records/{rid}").get_data(as_text=True)
    auth.login("zhongshanlu")
    assert "显示明文" not in client.get(f"/ledgers/person/records/{rid}").get_data(as_text=True)


def test_a_department_sees_its_own_elements_in_clear_and_others_masked(client, auth):
    """A department reads and filters its own elements in clear; another department's stay masked."""
    auth.login("minzheng")
    mine = _cells(client.get("/ledgers/person?assistance_type=低保").get_data(as_text=True), "救助类别")
    assert mine and set(mine) == {"低保"}, "区民政局's own 救助类别"
    auth.logout()
    auth.login("canlian")
    page = client.get("/ledgers/person?disability_category=肢体").get_data(as_text=True)
    assert all("*" in value for value in _cells(page, "救助类别") if value), "区民政局's element"
    record = re.search(r'href="(/ledgers/person/records/\d+)', page)
    assert record, "its own element filters the list"
    detail = client.get(record.group(1)).get_data(as_text=True)
    assert '<span class="value" id="v-disability_category">肢体</span>' in detail, "区残联's own, in clear"
