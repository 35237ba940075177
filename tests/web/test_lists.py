"""The list table and pager macros (`_lists.html`) as the list pages render them: first, middle, last page."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from runtime.models import Task

ZHONGSHANLU = "500118001"
#: Every person of a township is a row: 中山路街道 has more than one page of them in the tiny district.
PERSON_REPORT = {
    "properties": {
        "name": {"x-element": "person.name"},
        "id_number": {"x-element": "person.id_number"},
        "subsidy": {"title": "补贴金额（元）", "type": "number", "minimum": 0},
    },
    "required": ["name"],
    "x-rows": {"ledger": "person", "filter": []},
    "x-justification": "核对补贴发放",
}


def _pager(page: str) -> list[dict[str, str]]:
    """Return the pager's links as their attributes plus `label`; [] when the page has no pager."""
    navs = re.findall(r'<nav class="pager" aria-label="翻页">(.*?)</nav>', page, re.S)
    assert len(navs) <= 1 and page.count('class="pager"') == len(navs)
    links = []
    for attrs, label in re.findall(r"<a ([^>]*)>(.*?)</a>", navs[0] if navs else "", re.S):
        link = {name: unescape(value) for name, value in re.findall(r'([\w-]+)="([^"]*)"', attrs)}
        links.append({**link, "label": label})
    return links


def test_ledger_pager_first_middle_and_last_page(client, auth):
    """The ledger table pages by htmx: next only, then previous and next, then previous only."""
    auth.login("keeper")
    first = client.get("/ledgers/house").get_data(as_text=True)
    assert '<div class="table-wrap">' in first and '<th scope="col">' in first
    (nxt,) = _pager(first)
    assert nxt["label"] == "下一页 ›" and nxt["rel"] == "next" and nxt["class"] == "btn"
    assert nxt["hx-get"] == nxt["href"]
    assert nxt["hx-target"] == "#records" and nxt["hx-push-url"] == "true"

    middle = client.get(nxt["href"], headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in middle
    prev, nxt = _pager(middle)
    assert (prev["label"], prev["rel"], prev["hx-target"]) == ("‹ 上一页", "prev", "#records")
    assert "before=" in prev["href"] and "after=" in nxt["href"]

    page, seen = middle, 1
    while len(links := _pager(page)) == 2:
        page = client.get(links[1]["href"], headers={"HX-Request": "true"}).get_data(as_text=True)
        seen += 1
        assert seen < 20, "the tiny district's houses fit in a few pages"
    (prev,) = _pager(page)
    assert prev["rel"] == "prev" and seen >= 3

    # Back from the second page is the first page again: no link back.
    again = client.get(_pager(middle)[0]["href"], headers={"HX-Request": "true"}).get_data(as_text=True)
    assert [link["rel"] for link in _pager(again)] == ["next"]


def test_one_page_and_empty_lists_have_no_pager(client, auth):
    """A list that fits one page has no pager; an empty one shows its message instead of a table."""
    auth.login("zhongshanlu")
    page = client.get("/ledgers/enterprise").get_data(as_text=True)
    assert "<table" in page and _pager(page) == []
    empty = client.get("/ledgers/enterprise", query_string={"q": "没有这个名字"}).get_data(as_text=True)
    assert '<p class="empty">没有符合条件的记录。</p>' in empty
    assert 'class="records"' not in empty and _pager(empty) == []


@pytest.fixture
def person_task(fresh_client, fresh_auth, engine, admit_report):
    """A report with a row per person, dispatched to 中山路街道; its code and task id."""
    code = admit_report(engine, **PERSON_REPORT)
    fresh_auth.login("canlian")
    fresh_client.post(f"/tasks/dispatch/{code}", data={"scope": "chosen", "unit": [ZHONGSHANLU]})
    with engine.connect() as conn:
        task_id = conn.scalar(select(Task.id).where(Task.org_unit_code == ZHONGSHANLU))
    return code, task_id


def test_task_grid_pager_goes_back_to_the_first_page(fresh_client, fresh_auth, person_task):
    """The task grid's pager is plain links: next on the first page, back to the first on the last."""
    _code, task_id = person_task
    fresh_auth.login("zhongshanlu")
    first = fresh_client.get(f"/tasks/{task_id}").get_data(as_text=True)
    (nxt,) = _pager(first)
    assert (nxt["label"], nxt["rel"], nxt["class"]) == ("下一页", "next", "btn") and "hx-get" not in nxt
    # The phone cards' last card links the same next page.
    assert f'<a class="btn btn-primary" href="{nxt["href"].replace("&", "&amp;")}">下一页</a>' in first

    last = fresh_client.get(nxt["href"]).get_data(as_text=True)
    (back,) = _pager(last)
    assert (back["label"], back["class"], back["href"]) == (
        "回到第一页",
        "btn btn-quiet",
        f"/tasks/{task_id}",
    )
    assert "rel" not in back

    searched = fresh_client.get(f"/tasks/{task_id}", query_string={"q": "没有这个名字"}).get_data(
        as_text=True
    )
    assert 'id="row-' not in searched and _pager(searched) == []  # one page, even if empty: no pager


def test_summary_unit_rows_page_and_keep_their_table(fresh_client, fresh_auth, person_task):
    """The summary's rows of one township page like the grid, in a captioned table."""
    code, _task_id = person_task
    fresh_auth.login("canlian")
    url = f"/reports/{code}/summary/{ZHONGSHANLU}"
    first = fresh_client.get(url).get_data(as_text=True)
    assert '<table class="records cards summary-rows">' in first and "<caption>明细" in first
    (nxt,) = _pager(first)
    assert nxt["label"] == "下一页" and nxt["href"].startswith(url + "?after=")
    last = fresh_client.get(nxt["href"]).get_data(as_text=True)
    assert [(link["label"], link["href"]) for link in _pager(last)] == [("回到第一页", url)]


@pytest.mark.browser
def test_a_phone_pages_the_ledger_table(browser, seeded_url, serve, sign_in):
    """At 375 px the ledger table's pager shows and pages forward and back (the grid's alone hides)."""
    base = serve(seeded_url)
    page = browser.new_page(viewport={"width": 375, "height": 800})
    sign_in(page, base, "keeper", "/ledgers")
    page.goto(base + "/ledgers/house")
    first = page.inner_text("table.records tbody tr td.key")
    assert page.is_visible("nav.pager a[rel=next]")
    page.click("nav.pager a[rel=next]")
    page.wait_for_url(re.compile(r"after="))
    page.wait_for_function("() => document.querySelector('nav.pager a[rel=prev]') !== null")
    assert page.inner_text("table.records tbody tr td.key") != first
    page.click("nav.pager a[rel=prev]")
    page.wait_for_url(re.compile(r"before="))
    page.wait_for_function("() => document.querySelector('nav.pager a[rel=prev]') === null")
    assert page.inner_text("table.records tbody tr td.key") == first
