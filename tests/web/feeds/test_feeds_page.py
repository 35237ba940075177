"""The 数据对接 page (/feeds/): the late source first, filters by ledger and state, and a department
sees only its own client systems and elements. Feeds are the demo's (runtime/demo/clients.py)."""

from __future__ import annotations

import re

import pytest

from runtime.demo.clients import load_demo_clients


@pytest.fixture
def feeds_web(web, blank_app, engine, specs):
    """The blank app with the demo client systems and their feeds."""
    load_demo_clients(engine, specs)
    return web


def _rows(page: str) -> list[str]:
    """Return the freshness table's rows as text."""
    table = page.split('class="cards freshness"', 1)[1].split("</table>", 1)[0]
    return [re.sub(r"<[^>]+>|\s+", " ", row) for row in table.split("<tr")[2:]]


@pytest.mark.parametrize("username", ["zhongshanlu", "wangge", "reviewer", "leader"])
def test_townships_reviewers_and_leaders_do_not_open_it(feeds_web, username):
    client, auth = feeds_web
    auth.login(username)
    assert client.get("/feeds/").status_code == 403


def test_a_keeper_sees_the_late_source_first(feeds_web):
    client, auth = feeds_web
    auth.login("keeper")
    page = client.get("/feeds/").get_data(as_text=True)
    first_source = page.split('class="source-state', 1)[1].split("</li>", 1)[0]
    assert "state-late" in first_source and "区公安分局户籍系统" in first_source
    rows = _rows(page)
    assert "逾期" in rows[0] and "区公安分局户籍系统" in rows[0] and "超期 4 天" in rows[0]
    assert any("区残联残疾人管理系统" in r and "按时" in r for r in rows)
    # Each client's last push and pull, with the counts.
    feeds = page.split('class="cards feeds"', 1)[1]
    assert "区民政局社会救助系统" in feeds and "1800 行" in feeds

    late = client.get("/feeds/", query_string={"state": "late", "ledger": "person"}).get_data(as_text=True)
    assert all("逾期" in r for r in _rows(late)) and _rows(late)
    assert "区残联残疾人管理系统" not in "".join(_rows(late))
    # Unknown filters are ignored, not errors.
    assert client.get("/feeds/", query_string={"state": "x", "ledger": "nope"}).status_code == 200


def test_a_department_sees_its_own_clients_and_elements(feeds_web):
    client, auth = feeds_web
    auth.login("canlian")
    page = client.get("/feeds/").get_data(as_text=True)
    rows = _rows(page)
    assert rows and all("区残联残疾人管理系统" in r for r in rows)
    assert "区公安分局户籍系统" not in page and "区民政局社会救助系统" not in page
