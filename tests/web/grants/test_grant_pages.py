"""The grant pages: apply (/grants/), decide and revoke (/grants/inbox), the catalog's grants in force.

区残联 (canlian) applies for 区民政局's 救助类别; 区民政局 (minzheng) decides. Refused forms answer 422
with each message next to its field and everything typed kept.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from runtime.clock import local_today
from runtime.models import AuditEntry, Grant

LAISU, ZHONGSHANLU = "500118108", "500118001"
PURPOSE = "核发困难残疾人生活补贴，需核对救助类别"


def _apply(client, **overrides):
    """Post 区残联's application for 救助类别 (fields overridden) and return the response."""
    data = {
        "ledger": "person",
        "element": ["person.assistance_type"],
        "scope": "some",
        "township": [LAISU, ZHONGSHANLU],
        "purpose": PURPOSE,
        "starts_on": local_today().isoformat(),
        "expires_on": (local_today() + timedelta(days=200)).isoformat(),
    } | overrides
    return client.post("/grants/apply", data=data)


def _error(page: str, field: str) -> str:
    """Return the text of a field's error element."""
    found = re.search(rf'id="err-{re.escape(field)}"[^>]*>(.*?)</div>', page, re.S)
    return found.group(1).strip() if found else ""


def _grant_id(blank_app) -> int:
    with blank_app.extensions["yibiaotong"]["engine"].connect() as conn:
        return conn.scalar(select(Grant.id).order_by(Grant.id.desc()))


def _applied_as(web, blank_app, decider: str, **overrides) -> int:
    """Have 区残联 apply (fields overridden), then log `decider` in; return the application's id."""
    client, auth = web
    auth.login("canlian")
    assert _apply(client, **overrides).status_code == 302
    auth.logout()
    auth.login(decider)
    return _grant_id(blank_app)


def test_the_form_preselects_what_the_catalog_links_to_and_offers_only_what_may_be_applied_for(web):
    client, auth = web
    auth.login("canlian")
    page = client.get("/grants/", query_string={"ledger": "person", "element": "person.assistance_type"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and '<details class="card apply-card" id="apply" open>' in html
    assert re.search(r'value="person.assistance_type"[^>]*checked', html)
    assert "区民政局" in html and "有条件共享" in html
    assert 'value="person.bank_account"' not in html, "不予共享 is never offered"
    assert 'value="person.disability_grade"' not in html, "nor the department's own elements"


def test_changing_the_ledger_re_renders_only_the_form_keeping_what_was_typed(web):
    client, auth = web
    auth.login("canlian")
    page = client.get(
        "/grants/",
        query_string={"ledger": "household", "purpose": "打字中", "scope": "some", "township": LAISU},
        headers={"HX-Request": "true"},
    )
    html = page.get_data(as_text=True)
    assert "<html" not in html and 'id="apply-form"' in html and "本部门的申请" not in html
    assert 'value="household.poverty_status"' in html and 'value="person.assistance_type"' not in html
    assert ">打字中</textarea>" in html
    assert re.search(rf'value="{LAISU}"[^>]*checked', html)


def test_apply_then_the_owner_approves_narrowed_with_a_reason(web, blank_app):
    client, auth = web
    auth.login("canlian")
    response = _apply(client)
    assert response.status_code == 302
    mine = client.get("/grants/").get_data(as_text=True)
    assert "已提交 1 份申请，由所有者部门审批：区民政局（救助类别）" in mine and "待审批" in mine
    grant_id = _grant_id(blank_app)
    auth.logout()

    auth.login("minzheng")
    inbox = client.get("/grants/inbox").get_data(as_text=True)
    assert re.search(r'授权审批 <span class="nav-count"[^>]*>1</span>', inbox), "the nav counts what waits"
    assert "区残联 申请 人口台账 的 1 个数据项" in inbox and PURPOSE in inbox
    narrowed = {"action": "approve", "element": "person.assistance_type", "scope": "some", "township": LAISU}
    refused = client.post(f"/grants/{grant_id}/decide", data=narrowed)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert _error(html, f"d{grant_id}-reason") == "请写明缩小授权范围的理由，申请部门会看到它"
    assert not re.search(rf'value="{ZHONGSHANLU}"[^>]*checked', html), "the unticked township stays unticked"
    approved = client.post(f"/grants/{grant_id}/decide", data=narrowed | {"reason": "先在来苏镇核对"})
    assert approved.status_code == 302
    inbox = client.get("/grants/inbox").get_data(as_text=True)
    assert "已批准申请" in inbox and "生效中的授权" in inbox and "nav-count" not in inbox
    auth.logout()

    auth.login("canlian")
    mine = client.get("/grants/").get_data(as_text=True)
    assert "已授权" in mine and "先在来苏镇核对" in mine
    assert "<del" in mine and "<strong>来苏镇</strong>" in mine, (
        "what was granted against what was applied for"
    )
    catalog = client.get("/catalog/", query_string={"owner": "区民政局"}).get_data(as_text=True)
    assert "生效中 1 项" in catalog and "区残联 · 来苏镇" in catalog
    with blank_app.extensions["yibiaotong"]["engine"].connect() as conn:
        actions = list(conn.scalars(select(AuditEntry.action).where(AuditEntry.action.like("grant.%"))))
    assert actions == ["grant.apply", "grant.approve"]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"purpose": "  "}, "purpose", "请写明用途"),
        ({"element": []}, "elements", "请至少选择一个数据项"),
        ({"element": ["person.disability_grade"]}, "elements", "“残疾等级”是本部门（区残联）所有的数据项"),
        (
            {"element": ["person.bank_account"]},
            "elements",
            "“银行账号”不予共享，只有所有者和台账管理岗可以查看",
        ),
        ({"township": []}, "townships", "请至少选择一个镇街，或选择全区"),
        ({"expires_on": "明年"}, "expires_on", "请按“年-月-日”填写日期"),
        ({"expires_on": "2001-01-01"}, "expires_on", "不能早于开始日期"),
        ({"ledger": ""}, "ledger", "请选择台账"),
    ],
)
def test_a_refused_application_says_why_next_to_the_field_and_keeps_what_was_typed(
    web, overrides, field, message
):
    client, auth = web
    auth.login("canlian")
    response = _apply(client, **overrides)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in _error(html, field)
    assert "申请没有提交" in html
    if "purpose" not in overrides:
        assert f">{PURPOSE}</textarea>" in html
    if "township" not in overrides and "ledger" not in overrides:
        assert re.search(rf'value="{LAISU}"[^>]*checked', html)


def test_refuse_needs_a_reason_and_the_applicant_reads_it(web, blank_app):
    client, auth = web
    grant_id = _applied_as(web, blank_app, "minzheng")
    response = client.post(f"/grants/{grant_id}/decide", data={"action": "refuse", "reason": ""})
    assert response.status_code == 422
    assert (
        _error(response.get_data(as_text=True), f"d{grant_id}-reason") == "请写明拒绝的理由，申请部门会看到它"
    )
    assert (
        client.post(
            f"/grants/{grant_id}/decide", data={"action": "refuse", "reason": "请说明补贴文件依据"}
        ).status_code
        == 302
    )
    auth.logout()
    auth.login("canlian")
    mine = client.get("/grants/").get_data(as_text=True)
    assert "已拒绝" in mine and "请说明补贴文件依据" in mine


def test_revoke_needs_a_reason_next_to_that_grant(web, blank_app):
    client, auth = web
    grant_id = _applied_as(web, blank_app, "minzheng", scope="district", township=[])
    client.post(f"/grants/{grant_id}/decide", data={"action": "approve", "element": "person.assistance_type"})
    response = client.post(f"/grants/{grant_id}/revoke", data={"reason": " "})
    assert response.status_code == 422
    assert (
        _error(response.get_data(as_text=True), f"revoke-{grant_id}")
        == "请写明撤销的理由，被授权部门会看到它"
    )
    assert client.post(f"/grants/{grant_id}/revoke", data={"reason": "补贴已发放"}).status_code == 302
    inbox = client.get("/grants/inbox").get_data(as_text=True)
    assert "已撤销授权" in inbox and "没有生效中的授权" in inbox and "补贴已发放" in inbox


def test_the_applicant_withdraws_a_pending_application_and_no_one_else_may(web, blank_app):
    client, auth = web
    grant_id = _applied_as(web, blank_app, "minzheng")
    refused = client.post(f"/grants/{grant_id}/withdraw", follow_redirects=True)
    assert "只有申请部门可以撤回这份申请" in refused.get_data(as_text=True)
    auth.logout()
    auth.login("canlian")
    assert client.post(f"/grants/{grant_id}/withdraw").status_code == 302
    mine = client.get("/grants/").get_data(as_text=True)
    assert "已撤回申请" in mine and "已撤回" in mine and f'action="/grants/{grant_id}/withdraw"' not in mine


def test_another_department_cannot_decide_and_an_administrator_decides_any(web, blank_app):
    client, auth = web
    grant_id = _applied_as(web, blank_app, "tuiyi")
    assert f"grant-{grant_id}" not in client.get("/grants/inbox").get_data(as_text=True)
    refused = client.post(
        f"/grants/{grant_id}/decide", data={"action": "refuse", "reason": "不是我的"}, follow_redirects=True
    )
    assert "这份申请由区民政局审批，您不能处理" in refused.get_data(as_text=True)
    auth.logout()
    auth.login("admin")
    inbox = client.get("/grants/inbox").get_data(as_text=True)
    assert f'id="grant-{grant_id}"' in inbox and "所有者：区民政局" in inbox
    assert (
        client.post(
            f"/grants/{grant_id}/decide",
            data={
                "action": "approve",
                "element": "person.assistance_type",
                "scope": "some",
                "township": [LAISU, ZHONGSHANLU],
            },
        ).status_code
        == 302
    )
    with blank_app.extensions["yibiaotong"]["engine"].connect() as conn:
        assert conn.scalar(select(Grant.status).where(Grant.id == grant_id)) == "granted"


def test_the_catalog_links_a_department_to_the_form_for_what_it_may_apply_for(web):
    client, auth = web
    auth.login("canlian")
    catalog = client.get("/catalog/").get_data(as_text=True)
    assert 'href="/grants/?ledger=person&amp;element=person.assistance_type#apply"' in catalog
    assert "element=person.disability_grade" not in catalog and "element=person.bank_account" not in catalog
    auth.logout()
    auth.login("keeper")
    assert "/grants/?ledger=" not in client.get("/catalog/").get_data(as_text=True)


def test_the_owner_may_grant_masked_values_only(web, blank_app):
    """Access without clear values: 区残联 reads 救助类别 masked, as 无条件共享 personal data are read."""
    client, auth = web
    auth.login("canlian")
    _apply(client)
    grant_id = _grant_id(blank_app)
    auth.logout()
    auth.login("minzheng")
    decision = {
        "action": "approve",
        "element": "person.assistance_type",
        "scope": "some",
        "township": [LAISU, ZHONGSHANLU],
    }
    refused = client.post(f"/grants/{grant_id}/decide", data=decision | {"masked_only": "1"})
    assert refused.status_code == 422, "giving less than applied for needs a reason"
    assert 'name="masked_only" value="1" checked' in refused.get_data(as_text=True), "the tick is kept"
    client.post(
        f"/grants/{grant_id}/decide", data=decision | {"masked_only": "1", "reason": "只用于核对是否享受救助"}
    )
    auth.logout()
    auth.login("canlian")
    assert "仅可见脱敏值" in client.get("/grants/").get_data(as_text=True)
    catalog = client.get("/catalog/").get_data(as_text=True)
    row = catalog.split("person.assistance_type", 1)[1].split("</tr>", 1)[0]
    assert "部分镇街已授权" in row, "granted in two townships, masked there, not shown elsewhere"
