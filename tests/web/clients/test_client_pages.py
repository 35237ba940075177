"""The 对接系统 pages (/clients/): register a client system, issue a token shown once, revoke it,
switch the client off and on; administrators only, every step audited, nothing typed lost."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from runtime.clock import local_today
from runtime.models import ApiClient, ApiToken, AuditEntry, Department

TOKEN = re.compile(r"ybt_[A-Za-z0-9_-]{40,}")


def _error(page: str, field: str) -> str:
    """Return the text of a field's error element."""
    found = re.search(rf'id="err-{re.escape(field)}"[^>]*>(.*?)</div>', page, re.S)
    return found.group(1).strip() if found else ""


def _department_id(app, code: str) -> int:
    with app.extensions["yibiaotong"]["engine"].connect() as conn:
        return conn.scalar(select(Department.id).where(Department.code == code))


def _register(client, app, **overrides):
    data = {
        "name": "区残联残疾人管理系统",
        "department": str(_department_id(app, "canlian")),
        "system": "区残联残疾人管理系统",
        "contact": "信息科 王工 023-1234",
        "description": "残疾人证核发",
    } | overrides
    return client.post("/clients/", data=data)


def _actions(app) -> list[str]:
    with app.extensions["yibiaotong"]["engine"].connect() as conn:
        return list(conn.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


@pytest.mark.parametrize("username", ["keeper", "canlian", "zhongshanlu", "leader"])
def test_only_administrators_open_the_client_pages(web, username):
    client, auth = web
    auth.login(username)
    assert client.get("/clients/").status_code == 403
    assert client.post("/clients/", data={"name": "x"}).status_code == 403


def test_register_issue_show_once_revoke(web, blank_app):
    client, auth = web
    auth.login("admin")
    assert "还没有对接系统" in client.get("/clients/").get_data(as_text=True)

    response = _register(client, blank_app)
    assert response.status_code == 302
    client_page = response.headers["Location"]
    page = client.get(client_page).get_data(as_text=True)
    assert "已登记对接系统“区残联残疾人管理系统”" in page
    assert "还没有令牌" in page
    default = (local_today().replace(year=local_today().year + 1)).isoformat()
    assert f'value="{default}"' in page, "a token lasts a year by default"

    issued = client.post(client_page + "/tokens", data={"label": "前置机", "expires_on": default})
    assert issued.status_code == 200
    assert issued.headers["Cache-Control"] == "no-store"
    shown = issued.get_data(as_text=True)
    token = TOKEN.search(shown).group(0)
    assert "令牌只显示这一次" in shown and "data-copy" in shown

    # The token works at the API, and is never shown again: the client's page has its first characters only.
    api = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/catalog", headers=api).status_code == 200
    page = client.get(client_page).get_data(as_text=True)
    assert token not in page and token[:12] + "…" in page
    assert "有效" in page and "前置机" in page
    listing = client.get("/clients/").get_data(as_text=True)
    assert token not in listing
    assert re.search(r"有效令牌'\)? *\}\}\">1<|data-label=\"有效令牌\">1<", listing)

    with blank_app.extensions["yibiaotong"]["engine"].connect() as conn:
        token_id = conn.scalar(select(ApiToken.id))
        assert conn.scalar(select(ApiToken.token_hash)) != token, "stored hashed"
    client_id = int(client_page.rsplit("/", 1)[1])
    assert client.post(f"/clients/{client_id}/tokens/{token_id}/revoke").status_code == 302
    page = client.get(client_page).get_data(as_text=True)
    assert "已吊销令牌" in page and "已吊销" in page
    revoked = client.get("/api/v1/catalog", headers=api)
    assert revoked.status_code == 401 and revoked.content_type == "application/problem+json"
    assert _actions(blank_app)[-3:] == ["client.register", "token.issue", "token.revoke"]


def test_a_switched_off_client_s_tokens_fail_until_it_is_switched_on(web, blank_app):
    client, auth = web
    auth.login("admin")
    client_page = _register(client, blank_app).headers["Location"]
    day = (local_today() + timedelta(days=30)).isoformat()
    token = TOKEN.search(
        client.post(client_page + "/tokens", data={"expires_on": day}).get_data(as_text=True)
    )[0]
    api = {"Authorization": f"Bearer {token}"}
    assert client.post(client_page + "/active", data={"active": "0"}).status_code == 302
    assert "已停用" in client.get(client_page).get_data(as_text=True)
    assert client.get("/api/v1/catalog", headers=api).status_code == 401
    client.post(client_page + "/active", data={"active": "1"})
    assert client.get("/api/v1/catalog", headers=api).status_code == 200
    assert _actions(blank_app).count("client.update") == 2


def test_a_refused_form_keeps_what_was_typed_with_chinese_errors(web, blank_app):
    client, auth = web
    auth.login("admin")
    response = _register(client, blank_app, name="", department="", contact="只写了联系人")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert _error(page, "name") == "请填写对接系统的名称"
    assert _error(page, "department") == "请选择所属部门"
    assert 'value="只写了联系人"' in page and "残疾人证核发" in page

    assert _register(client, blank_app).status_code == 302
    again = _register(client, blank_app, system="不存在的系统")
    assert again.status_code == 422
    page = again.get_data(as_text=True)
    assert _error(page, "name") == "已有名为“区残联残疾人管理系统”的对接系统"
    assert _error(page, "system") == "数据目录中没有这个来源系统，请从列表中选择"

    with blank_app.extensions["yibiaotong"]["engine"].connect() as conn:
        client_id = conn.scalar(select(ApiClient.id))
    for bad, message in (
        ("2027/13/40", "请按“年-月-日”填写日期"),
        ("", "请填写有效期"),
        (local_today().isoformat(), "有效期应晚于今天"),
    ):
        refused = client.post(f"/clients/{client_id}/tokens", data={"label": "备用", "expires_on": bad})
        assert refused.status_code == 422
        page = refused.get_data(as_text=True)
        assert _error(page, "expires_on").startswith(message)
        assert 'value="备用"' in page
        assert not TOKEN.search(page)


def test_unknown_clients_and_tokens_are_404(web, blank_app):
    client, auth = web
    auth.login("admin")
    assert client.get("/clients/999").status_code == 404
    assert client.post("/clients/999/active", data={"active": "0"}).status_code == 404
    client_page = _register(client, blank_app).headers["Location"]
    assert client.post(client_page + "/tokens/999/revoke").status_code == 404


def test_re_posting_the_issue_form_issues_no_second_token(web, blank_app):
    """A reload of the page that showed the token (the browser posts the form again) issues nothing."""
    client, auth = web
    auth.login("admin")
    client_page = _register(client, blank_app).headers["Location"]
    nonce = re.search(
        r'name="nonce" type="hidden" value="([^"]+)"', client.get(client_page).get_data(as_text=True)
    )
    data = {"label": "前置机", "expires_on": "2099-12-31", "nonce": nonce.group(1)}
    first = client.post(client_page + "/tokens", data=data)
    assert first.status_code == 200 and TOKEN.search(first.get_data(as_text=True))
    again = client.post(client_page + "/tokens", data=data, follow_redirects=True)
    page = again.get_data(as_text=True)
    assert "不会再签发一张" in page and not TOKEN.search(page)
    with blank_app.extensions["yibiaotong"]["engine"].connect() as conn:
        assert len(conn.scalars(select(ApiToken.id)).all()) == 1
