"""Login, logout, the home redirect and the page frame."""

from __future__ import annotations

import re


def test_login_page_is_chinese(client):
    """The login form is a zh-CN page with its labels."""
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in page
    assert "用户名" in page and "密码" in page and "登录" in page


def test_login_shows_who_and_logout_ends_the_session(client, auth):
    """After login the header names the user, role and org unit; logout needs a POST."""
    response = auth.login("zhongshanlu")
    assert response.status_code == 302
    assert response.headers["Location"] == "/tasks/", "a township user lands on her tasks"
    page = client.get("/ledgers").get_data(as_text=True)
    assert "中山路街道填报员" in page
    assert "镇街填报员 · 中山路街道" in page
    assert re.search(r'<form method="post" action="/logout">', page)
    assert client.get("/logout").status_code == 405
    response = auth.logout()
    assert response.headers["Location"] == "/login"
    assert "已退出登录" in client.get("/login").get_data(as_text=True)
    assert client.get("/ledgers").headers["Location"].startswith("/login")


def test_wrong_password_says_so_next_to_the_field(client, auth):
    """A wrong password re-shows the form with the Chinese message under the password."""
    response = auth.login("keeper", "wrong-password")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert re.search(r'id="password-error" role="alert">用户名或密码错误<', page)
    assert 'value="keeper"' in page


def test_empty_login_names_each_missing_field(client):
    """Each empty field gets its own message."""
    page = client.post("/login", data={"username": "", "password": ""}).get_data(as_text=True)
    assert "请输入用户名" in page and "请输入密码" in page


def test_home_redirects_to_login_or_ledgers(client, auth):
    """`/` sends anonymous users to the login page and others to the ledger list."""
    assert client.get("/").headers["Location"] == "/login"
    auth.login("keeper")
    assert client.get("/").headers["Location"] == "/ledgers"


def test_htmx_requests_carry_the_csrf_token(client, auth):
    """The body passes the CSRF token to every htmx request; htmx is served locally."""
    auth.login("keeper")
    page = client.get("/ledgers").get_data(as_text=True)
    assert re.search(
        r"<body hx-headers='\{&#34;X-CSRFToken&#34;: &#34;[^&]+&#34;\}'|"
        r"<body hx-headers='\{\"X-CSRFToken\": \"[^\"]+\"\}'",
        page,
    )
    assert '<script src="/static/htmx.min.js"' in page
    assert "cdn" not in page.lower()
    with client.get("/static/htmx.min.js") as script:
        assert script.status_code == 200
        assert script.data.startswith(b"var htmx=")
