"""Headers on every response, cookie flags, and templates the Content Security Policy allows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import close_app

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)
WEB = Path(__file__).resolve().parents[2] / "web"


@pytest.mark.parametrize("path", ["/login", "/ledgers", "/static/app.css", "/no-such-page"])
def test_every_response_carries_the_protective_headers(client, auth, path):
    """CSP, no framing, no sniffing, same-origin referrers: on pages, files, redirects and errors."""
    for login in (False, True):
        if login:
            auth.login()
        with client.get(path) as response:
            headers = response.headers
        assert headers["Content-Security-Policy"] == CSP
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in headers


def test_the_session_cookie_is_samesite_and_httponly(client):
    """Over plain HTTP: SameSite=Lax and HttpOnly, not Secure (the browser would drop it)."""
    response = client.post("/login", data={"username": "keeper", "password": "yibiaotong"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_behind_https_cookies_are_secure_and_hsts_is_sent(seeded_url, tmp_path):
    """With HTTPS on (YIBIAOTONG_HTTPS=1), the session and remember cookies are Secure; HSTS is sent."""
    from web import create_app

    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": seeded_url,
            "SECRET_KEY": "test",
            "WTF_CSRF_ENABLED": False,
            "REDIS_URL": None,
            "HTTPS": True,
        }
    )
    try:
        assert app.config["REMEMBER_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
        client = app.test_client()
        response = client.post(
            "/login", data={"username": "keeper", "password": "yibiaotong"}, base_url="https://localhost"
        )
        cookie = response.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    finally:
        close_app(app)


def test_behind_a_proxy_the_client_address_is_the_forwarded_one(seeded_url, tmp_path):
    """With YIBIAOTONG_PROXIES=1 the throttle and the audit see the address the proxy saw."""
    from web import create_app

    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": seeded_url,
            "SECRET_KEY": "test",
            "WTF_CSRF_ENABLED": False,
            "REDIS_URL": None,
            "PROXIES": 1,
            "LOGIN_LIMIT_ADDRESS": "1 per 15 minutes",
        }
    )
    try:

        def attempt(forwarded, password="wrong"):
            return (
                app.test_client()
                .post(
                    "/login",
                    data={"username": "niemand", "password": password},
                    headers={"X-Forwarded-For": forwarded},
                )
                .status_code
            )

        assert attempt("10.1.1.1") == 200
        assert attempt("10.1.1.1") == 429
        assert attempt("10.1.1.2") == 200, "another client behind the same proxy"
    finally:
        close_app(app)


def test_templates_hold_no_inline_script_or_handler():
    """The CSP refuses inline code: no on… handlers, hx-on, javascript: URLs or inline <script>."""
    found = []
    templates = [p for p in WEB.rglob("*.html") if "templates" in p.relative_to(WEB).parts]
    assert len(templates) > 50
    for path in templates:
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"""\son[a-z]+\s*=|\shx-on|javascript:|\sstyle\s*=|<style""", text):
            found.append(f"{path.relative_to(WEB)}: {match.group(0).strip()}")
        for match in re.finditer(r"<script\b([^>]*)>", text):
            attrs = match.group(1)
            if "src=" not in attrs and 'type="application/json"' not in attrs:
                found.append(f"{path.relative_to(WEB)}: inline <script>")
    assert found == []


def test_htmx_evaluates_nothing_and_injects_no_style(client):
    """htmx is told not to eval (hx-on, js:) nor add its indicator <style>; app.css has those rules."""
    page = client.get("/login").get_data(as_text=True)
    config = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'>', page).group(1)
    assert '"allowEval": false' in config and '"includeIndicatorStyles": false' in config
    with client.get("/static/app.css") as css:
        assert b".htmx-request .htmx-indicator" in css.data
