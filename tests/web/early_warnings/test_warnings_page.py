"""The warnings pages: rules × townships with counts, each count linking to its masked records."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from runtime.early_warnings import flags as warnings
from runtime.ledgers.store import Provenance, upsert
from runtime.models import Record
from runtime.org_scope import DISTRICT

ZS, SL = "500118001", "500118002"
ZS_V, SL_V = "500118001001", "500118002001"


def transfer(n: int, village: str, area: float = 20.0, arrears: float = 300.0) -> dict:
    """Return a transferred parcel of `village` owing rent."""
    return {
        "parcel_code": f"{village}{n:07d}",
        "location": f"{n}号地块",
        "township_code": village[:9],
        "village_code": village,
        "contractor_name": "李四",
        "contract_area_mu": area,
        "is_transferred": True,
        "transferee_name": "永川丰收农业有限公司",
        "transfer_area_mu": area,
        "rent_arrears": arrears,
    }


def store(engine, specs, ledger: str, rows: list[dict]) -> None:
    """Write rows into a ledger through the store."""
    with engine.begin() as conn:
        upsert(conn, specs.ledgers[ledger], rows, Provenance("import"), scope=DISTRICT)


def cells(page: str, rule: str) -> dict[str, str]:
    """Return the count cells of one rule's row: township name → shown text."""
    row = re.search(rf'<tr id="rule-{rule}"[^>]*>(.*?)</tr>', page, re.S).group(1)
    return {
        label: re.sub(r"<[^>]+>", "", text).strip()
        for label, text in re.findall(r'<td data-label="([^"]+)" class="num">(.*?)</td>', row, re.S)
    }


def counted(client) -> str:
    """Open the warnings page, load every pending row as the page would, and open it again."""
    first = client.get("/warnings/").get_data(as_text=True)
    for url in re.findall(r'hx-get="(/warnings/rows/[a-z0-9_]+)"', first):
        row = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
        assert row.lstrip().startswith("<tr") and "hx-get" not in row
    return client.get("/warnings/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("keeper", 200),
        ("admin", 200),
        ("leader", 200),
        ("zhongshanlu", 200),
        ("wangge", 200),
        ("canlian", 403),
        ("reviewer", 403),
    ],
)
def test_who_may_open_the_warnings(client, auth, username, status):
    auth.login(username)
    assert client.get("/warnings/").status_code == status


def test_the_login_comes_first(client):
    response = client.get("/warnings/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_district_roles_see_every_township_and_each_count_links_to_its_records(web, engine, specs):
    client, auth = web
    store(engine, specs, "land", [transfer(1, ZS_V), transfer(2, ZS_V), transfer(3, SL_V, area=250)])
    auth.login("keeper")
    page = counted(client)
    assert "预警" in page and 'href="/warnings/"' in page, "the navigation has the entry"
    arrears = cells(page, "land_rent_arrears")
    assert len(arrears) == 24, "23 townships and the total"
    shown = (arrears["合计"], arrears["中山路街道"], arrears["胜利路街道"], arrears["朱沱镇"])
    assert shown == ("3", "2", "1", "0")
    assert cells(page, "land_large_transfer")["胜利路街道"] == "1"
    assert f'href="/warnings/land_rent_arrears/{ZS}"' in page
    zhutuo = next(u.code for u in specs.townships() if u.name == "朱沱镇")
    assert f'href="/warnings/land_rent_arrears/{zhutuo}"' not in page, "a zero is not a link"
    listing = client.get(f"/warnings/land_rent_arrears/{ZS}").get_data(as_text=True)
    with engine.connect() as conn:
        ids = conn.execute(select(Record.id).where(Record.township_code == ZS)).scalars().all()
    for rid in ids:
        assert f'href="/ledgers/land/records/{rid}"' in listing
    assert "拖欠租金 300 元" in listing and 'class="records cards"' in listing


def test_a_township_sees_only_its_own_column_and_records(web, engine, specs):
    client, auth = web
    store(engine, specs, "land", [transfer(1, ZS_V), transfer(2, SL_V)])
    auth.login("shenglilu")
    page = counted(client)
    assert cells(page, "land_rent_arrears") == {"胜利路街道": "1"}
    assert "中山路街道" not in page
    assert client.get(f"/warnings/land_rent_arrears/{ZS}").status_code == 404
    assert client.get(f"/warnings/land_rent_arrears/{SL}").status_code == 200
    assert client.get(f"/warnings/no_such_rule/{SL}").status_code == 404
    assert client.get(f"/warnings/land_rent_arrears/{SL_V}").status_code == 404, "a village is not a township"


def test_the_list_is_masked_for_the_reader(web, engine, specs, make_person):
    client, auth = web
    person = make_person(name="欧阳明")
    bad = person["id_number"][:17] + ("0" if person["id_number"][17] != "0" else "1")
    store(engine, specs, "person", [make_person(id_number=bad, name="欧阳明", phone="13812345678")])
    auth.login("leader")
    listing = client.get(f"/warnings/person_id_check_digit/{ZS}").get_data(as_text=True)
    assert "*" * 14 + bad[-4:] in listing and "欧**" in listing
    assert bad not in listing and "欧阳明" not in listing and "13812345678" not in listing
    assert "公民身份号码校验位错误" in listing


def test_records_page_by_page(web, engine, specs):
    client, auth = web
    store(engine, specs, "land", [transfer(n, ZS_V) for n in range(1, 53)])
    auth.login("zhongshanlu")
    first = client.get(f"/warnings/land_rent_arrears/{ZS}").get_data(as_text=True)
    assert first.count('href="/ledgers/land/records/') == 2 * 50, "key and label link to the record"
    after = re.search(r'href="/warnings/land_rent_arrears/500118001\?after=(\d+)"', first).group(1)
    second = client.get(f"/warnings/land_rent_arrears/{ZS}?after={after}", headers={"HX-Request": "true"})
    text = second.get_data(as_text=True)
    assert "<html" not in text, "htmx gets the rows fragment"
    assert text.count('href="/ledgers/land/records/') == 2 * 2 and "下一页" not in text


def test_counts_not_computed_yet_load_row_by_row(web, engine, specs):
    client, auth = web
    store(engine, specs, "land", [transfer(1, ZS_V)])
    auth.login("keeper")
    first = client.get("/warnings/").get_data(as_text=True)
    assert 'hx-get="/warnings/rows/land_rent_arrears"' in first and "计算中" in first
    row = client.get("/warnings/rows/land_rent_arrears", headers={"HX-Request": "true"})
    row = row.get_data(as_text=True)
    assert cells(row, "land_rent_arrears")["中山路街道"] == "1"
    again = client.get("/warnings/").get_data(as_text=True)
    assert 'hx-get="/warnings/rows/land_rent_arrears"' not in again, "a computed rule is shown at once"
    assert cells(again, "land_rent_arrears")["中山路街道"] == "1"
    store(engine, specs, "land", [transfer(2, ZS_V)])
    assert 'hx-get="/warnings/rows/land_rent_arrears"' in client.get("/warnings/").get_data(as_text=True), (
        "a changed ledger is counted again"
    )
    assert client.get("/warnings/rows/no_such_rule").status_code == 404


def rule_row(page: str, rule: str) -> str:
    """Return the whole row of one rule, its opening tag included."""
    return re.search(rf'<tr id="rule-{rule}"[^>]*>.*?</tr>', page, re.S).group(0)


def test_kept_counts_say_when_they_were_counted_and_stale_ones_show_marked(web, engine, specs, make_app):
    client, auth = web
    store(engine, specs, "land", [transfer(1, ZS_V)])
    auth.login("keeper")
    row = rule_row(counted(client), "land_rent_arrears")
    assert "统计于" in row and re.search(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d\+0800">', row)
    assert "hx-get" not in row and "正在重新统计" not in row
    # Another web process (no memory of its own) shows the kept counts at once.
    warnings.forget()
    other_app = make_app(engine.url.render_as_string(hide_password=False))
    other = other_app.test_client()
    type(auth)(other).login("keeper")
    elsewhere = other.get("/warnings/").get_data(as_text=True)
    other_app.extensions["yibiaotong"]["engine"].dispose()
    assert "hx-get" not in rule_row(elsewhere, "land_rent_arrears")
    assert cells(elsewhere, "land_rent_arrears")["中山路街道"] == "1"
    store(engine, specs, "land", [transfer(2, ZS_V)])
    page = client.get("/warnings/").get_data(as_text=True)
    row = rule_row(page, "land_rent_arrears")
    assert "台账已更新，正在重新统计…" in row and "统计于" in row
    assert 'hx-get="/warnings/rows/land_rent_arrears"' in row, "the row loads itself again"
    assert cells(page, "land_rent_arrears")["中山路街道"] == "1", "the old count shows meanwhile"
    fresh = client.get("/warnings/rows/land_rent_arrears", headers={"HX-Request": "true"})
    fresh = fresh.get_data(as_text=True)
    assert cells(fresh, "land_rent_arrears")["中山路街道"] == "2"
    assert "统计于" in fresh and "正在重新统计" not in fresh and "hx-get" not in fresh
