"""The audit log page: an administrator reads every entry, a department who read its data and its grants'
steps, filtered, a page at a time, exported as CSV; a crafted URL or form never shows another's entries."""

import csv
import re

import pytest
from sqlalchemy import insert, select

from runtime.models import AuditEntry, User

#: What 区残联 (canlian) reads of the sample: who read its data, the grants it applied for or owns.
CANLIAN_PART = {"minzheng_reads_canlian", "canlian_applies", "minzheng_approves", "canlian_refuses_tuiyi"}


@pytest.fixture
def audit(web, engine, write_audit_sample):
    """A client of a fresh app whose log holds the sample entries: (client, login helper, name → id)."""
    client, auth = web
    return client, auth, write_audit_sample(engine)


def _shown(page: str, ids: dict[str, int]) -> set[str]:
    """Return the names of the sample entries a page lists."""
    by_id = {v: k for k, v in ids.items()}
    return {by_id[int(n)] for n in re.findall(r'<tr id="entry-(\d+)"', page) if int(n) in by_id}


def _cells(page: str, entry_id: int) -> dict[str, str]:
    """Return column label → text of one entry's row."""
    row = re.search(rf'<tr id="entry-{entry_id}">(.*?)</tr>', page, re.S).group(1)
    cells = re.findall(r'<td data-label="([^"]+)"[^>]*>(.*?)</td>', row, re.S)
    return {label: " ".join(re.sub(r"<[^>]+>", " ", text).split()) for label, text in cells}


def _exported(client, response) -> list[list[str]]:
    """Download what an export job (the answer to its POST) wrote; return its CSV lines, BOM checked."""
    assert response.status_code == 302 and response.headers["Location"].startswith("/jobs/")
    download = client.get(response.headers["Location"] + "/download")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    raw = download.get_data()
    download.close()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, so Excel opens it"
    return list(csv.reader(raw.decode("utf-8-sig").splitlines()))


def _user_id(engine, username: str) -> int:
    with engine.connect() as conn:
        return conn.execute(select(User.id).where(User.username == username)).scalar_one()


def test_an_administrator_reads_every_entry_in_chinese(audit):
    client, auth, ids = audit
    auth.login("admin")
    page = client.get("/audit/").get_data(as_text=True)
    assert _shown(page, ids) == set(ids)
    assert '符合条件的日志 <span class="count">12</span>' in page, "the sample and this login"
    row = _cells(page, ids["canlian_reads_minzheng"])
    assert row["时间"] == "2026-10-30 10:00:00"
    assert row["操作人"] == "区残联 陈静"
    assert row["操作"] == "明文读取"
    assert row["台账与数据项"] == "人口台账 救助类别"
    assert (row["记录数"], row["途径"]) == ("120", "提取")
    assert row["用途"] == "核对残疾人两项补贴对象的救助类别"
    assert "依据授权 #1" in row["说明"]
    assert "500118198503150011" not in page, "record keys (ID numbers) are not shown"


def test_a_department_reads_who_read_its_data_and_its_grants_steps(audit):
    client, auth, ids = audit
    auth.login("canlian")
    page = client.get("/audit/").get_data(as_text=True)
    assert _shown(page, ids) == CANLIAN_PART
    assert "谁读取了本部门（区残联）所有的数据项的明文" in page
    row = _cells(page, ids["minzheng_reads_canlian"])
    assert (row["操作人"], row["台账与数据项"]) == ("区民政局 王强", "人口台账 残疾等级、残疾类别")
    # Only the kinds of entry a department can have are offered; its actors only.
    assert 'value="grant"' in page and 'value="account"' not in page and "登录失败" not in page
    assert "数据管理岗 刘敏" not in page
    auth.logout()
    auth.login("minzheng")
    page = client.get("/audit/").get_data(as_text=True)
    assert _shown(page, ids) == {
        "canlian_reads_minzheng",
        "canlian_applies",
        "minzheng_approves",
        "visit_proposes_assistance",
    }


def test_a_crafted_url_shows_a_department_nothing_of_anothers(audit, engine):
    client, auth, ids = audit
    auth.login("canlian")
    keeper, canlian = _user_id(engine, "keeper"), _user_id(engine, "canlian")
    crafted = [
        {"action": "read.clear"},
        {"action": "account"},
        {"action": "export", "ledger": "land"},
        {"actor": keeper},
        {"actor": canlian, "element": "person.assistance_type"},
        {"ledger": "person", "action": "read"},
    ]
    for query in crafted:
        page = client.get("/audit/", query_string=query).get_data(as_text=True)
        assert _shown(page, ids) <= CANLIAN_PART, query
    # An actor it was not offered is dropped, not used: the list is its whole part again.
    page = client.get("/audit/", query_string={"actor": keeper}).get_data(as_text=True)
    assert _shown(page, ids) == CANLIAN_PART
    mine = client.get("/audit/", query_string={"actor": canlian}).get_data(as_text=True)
    assert _shown(mine, ids) == {"canlian_applies", "canlian_refuses_tuiyi"}
    # The export decides again from the user: a crafted form exports its part only.
    response = client.post("/audit/export", data={"fmt": "csv", "action": "account", "actor": str(keeper)})
    lines = _exported(client, response)
    assert {int(line[0]) for line in lines[1:]} <= {ids[n] for n in CANLIAN_PART}


def test_the_filters_narrow_the_list_and_keep_their_values(audit, engine):
    client, auth, ids = audit
    auth.login("admin")
    wangge = _user_id(engine, "wangge")
    query = {
        "start": "2026-10-29",
        "end": "2026-11-02",
        "action": "proposal",
        "actor": str(wangge),
        "ledger": "person",
    }
    page = client.get("/audit/", query_string=query).get_data(as_text=True)
    assert _shown(page, ids) == {"visit_proposes_status", "visit_proposes_assistance"}
    assert 'name="start" value="2026-10-29"' in page and 'name="end" value="2026-11-02"' in page
    assert '<option value="proposal" selected>' in page
    assert f'<option value="{wangge}" selected>' in page
    assert '<option value="person" selected>人口台账</option>' in page
    page = client.get("/audit/", query_string={"element": "person.disability_grade"}).get_data(as_text=True)
    assert _shown(page, ids) == {"minzheng_reads_canlian", "canlian_refuses_tuiyi"}
    assert '<option value="person.disability_grade" selected>残疾等级</option>' in page
    page = client.get("/audit/", query_string={"end": "2026-10-01"}).get_data(as_text=True)
    assert _shown(page, ids) == set() and "没有符合条件的日志。" in page


def test_a_bad_date_is_refused_next_to_its_field_and_kept(audit):
    client, auth, ids = audit
    auth.login("admin")
    page = client.get("/audit/", query_string={"start": "2026-13-01", "action": "grant"}).get_data(
        as_text=True
    )
    assert re.search(
        r'value="2026-13-01" aria-describedby="error-start" aria-invalid="true">\s*'
        r'<span id="error-start" class="field-error">请输入有效的日期',
        page,
    )
    assert '<option value="grant" selected>' in page and _shown(page, ids) == set()
    page = client.get("/audit/", query_string={"start": "2026-11-02", "end": "2026-11-01"}).get_data(
        as_text=True
    )
    assert '<span id="error-end" class="field-error">结束日期不能早于开始日期</span>' in page


def test_htmx_gets_the_entries_and_the_date_messages_out_of_band(audit):
    client, auth, ids = audit
    auth.login("admin")
    headers = {"HX-Request": "true"}
    page = client.get("/audit/", query_string={"action": "grant"}, headers=headers).get_data(as_text=True)
    assert 'id="filters"' not in page and "<html" not in page
    assert _shown(page, ids) == {"canlian_applies", "minzheng_approves", "canlian_refuses_tuiyi"}
    assert '<span id="error-start" class="field-error" hx-swap-oob="true"></span>' in page
    page = client.get("/audit/", query_string={"end": "2026-02-30"}, headers=headers).get_data(as_text=True)
    assert 'id="error-end" class="field-error" hx-swap-oob="true">请输入有效的日期' in page


def test_the_csv_export_holds_the_filtered_entries_in_chinese_and_is_logged(audit):
    client, auth, ids = audit
    auth.login("admin")
    page = client.get("/audit/", query_string={"action": "grant"}).get_data(as_text=True)
    assert '<input type="hidden" name="action" value="grant">' in page, "the export form carries the filter"
    lines = _exported(client, client.post("/audit/export", data={"fmt": "csv", "action": "grant"}))
    assert lines[0][:5] == ["编号", "时间", "操作人", "部门或单位", "操作"]
    assert {int(line[0]) for line in lines[1:]} == {
        ids["canlian_applies"],
        ids["minzheng_approves"],
        ids["canlian_refuses_tuiyi"],
    }
    approve = next(line for line in lines if line[0] == str(ids["minzheng_approves"]))
    assert approve[4:7] == ["批准授权", "人口台账", "救助类别"]
    page = client.get("/audit/", query_string={"action": "audit.export"}).get_data(as_text=True)
    assert "导出审计日志" in page and "格式 CSV" in page
    assert client.post("/audit/export", data={"fmt": "pdf"}).status_code == 400
    assert client.post("/audit/export", data={"fmt": "csv", "start": "someday"}).status_code == 400


def test_pages_of_fifty_newest_first_with_the_house_pager(web, engine):
    client, auth = web
    with engine.begin() as conn:
        conn.execute(
            insert(AuditEntry), [{"action": "login", "target": f"u{n}", "detail": None} for n in range(60)]
        )
        newest = conn.execute(select(AuditEntry.id).order_by(AuditEntry.id.desc())).scalars().all()
    auth.login("admin")
    first = client.get("/audit/").get_data(as_text=True)
    listed = [int(n) for n in re.findall(r'<tr id="entry-(\d+)"', first)]
    assert len(listed) == 50 and listed[0] > listed[-1]
    after = re.search(r'href="(/audit/\?after=\d+)"[^>]*rel="next"', first).group(1)
    second = client.get(after).get_data(as_text=True)
    rest = [int(n) for n in re.findall(r'<tr id="entry-(\d+)"', second)]
    assert set(listed) | set(rest) >= set(newest[:60]) and not set(listed) & set(rest)
    assert 'rel="next"' not in second and "‹ 第一页" in second
