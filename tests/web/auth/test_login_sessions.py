"""Login sessions live on the server: logout, a password change, idleness and age end them, and a
saved cookie (or a remember-me cookie) cannot bring an ended one back."""

from __future__ import annotations

import re
from datetime import timedelta

from flask_login.utils import encode_cookie
from sqlalchemy import select, update

from runtime.accounts.passwords import check_password
from runtime.models import AuditEntry, LoginSession, User, utcnow


def _record_and_reveal(client, rid: int) -> tuple[int, int]:
    """Open a person record and reveal its ID number; the two status codes."""
    page = client.get(f"/ledgers/person/records/{rid}")
    reveal = client.post(f"/ledgers/person/records/{rid}/reveal/id_number")
    return page.status_code, reveal.status_code


def test_a_cookie_saved_before_logout_opens_nothing_after_it(
    fresh_app, fresh_client, fresh_auth, engine, find_record
):
    """Replaying the session cookie of a logged-out user reads no record and reveals no ID."""
    rid = find_record(engine, "person", has="id_number")
    fresh_auth.login("keeper")
    assert _record_and_reveal(fresh_client, rid) == (200, 200)
    saved = fresh_client.get_cookie("session").value
    fresh_auth.logout()

    for client in (fresh_client, fresh_app.test_client()):  # the same browser, or someone else's
        client.set_cookie("session", saved)
        page = client.get(f"/ledgers/person/records/{rid}")
        assert page.status_code == 302 and page.headers["Location"].startswith("/login")
        reveal = client.post(f"/ledgers/person/records/{rid}/reveal/id_number")
        assert reveal.status_code == 302 and reveal.headers["Location"].startswith("/login")


def test_a_remember_me_cookie_does_not_bring_an_ended_session_back(
    fresh_app, fresh_client, fresh_auth, engine, find_record
):
    """Flask-Login's remember cookie, even a valid one, logs no one in without a live session."""
    rid = find_record(engine, "person")
    fresh_auth.login("keeper")
    saved = fresh_client.get_cookie("session").value
    fresh_auth.logout()
    with engine.connect() as conn:
        keeper = conn.scalar(select(User.id).where(User.username == "keeper"))
    with fresh_app.test_request_context():
        remember = encode_cookie(str(keeper))
    client = fresh_app.test_client()
    client.set_cookie("remember_token", remember)
    assert client.get(f"/ledgers/person/records/{rid}").status_code == 302
    client.set_cookie("session", saved)
    assert client.get(f"/ledgers/person/records/{rid}").status_code == 302


def test_an_idle_session_ends_and_a_used_one_goes_on(fresh_client, fresh_auth, engine):
    """Two hours without a request end a login; a request within them keeps it going."""
    fresh_auth.login("keeper")
    with engine.begin() as conn:
        conn.execute(update(LoginSession).values(last_seen_at=utcnow() - timedelta(minutes=119)))
    assert fresh_client.get("/ledgers").status_code == 200
    with engine.connect() as conn:
        seen = conn.scalar(select(LoginSession.last_seen_at))
    assert utcnow() - seen < timedelta(minutes=1), "the request was noted"

    with engine.begin() as conn:
        conn.execute(update(LoginSession).values(last_seen_at=utcnow() - timedelta(minutes=121)))
    response = fresh_client.get("/ledgers")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_session_ends_after_twelve_hours_however_busy(fresh_client, fresh_auth, engine):
    """The absolute lifetime ends a login that was used all along."""
    fresh_auth.login("keeper")
    with engine.begin() as conn:
        conn.execute(update(LoginSession).values(created_at=utcnow() - timedelta(hours=12, minutes=1)))
    response = fresh_client.get("/ledgers")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_the_lifetimes_are_settings(fresh_app, fresh_client, fresh_auth, engine):
    """SESSION_IDLE_MINUTES and SESSION_MAX_HOURS decide when a session ends."""
    fresh_app.config.update(SESSION_IDLE_MINUTES=5, SESSION_MAX_HOURS=1)
    fresh_auth.login("keeper")
    with engine.begin() as conn:
        conn.execute(update(LoginSession).values(last_seen_at=utcnow() - timedelta(minutes=6)))
    assert fresh_client.get("/ledgers").status_code == 302
    fresh_auth.login("keeper")
    with engine.begin() as conn:
        conn.execute(
            update(LoginSession)
            .where(LoginSession.revoked_at.is_(None))
            .values(created_at=utcnow() - timedelta(minutes=61))
        )
    assert fresh_client.get("/ledgers").status_code == 302


def test_a_page_view_is_not_a_write(fresh_client, fresh_auth, engine):
    """Within a minute of the last noted request, a request leaves the session row alone."""
    fresh_auth.login("keeper")
    earlier = utcnow() - timedelta(seconds=20)
    with engine.begin() as conn:
        conn.execute(update(LoginSession).values(last_seen_at=earlier))
    assert fresh_client.get("/ledgers").status_code == 200
    with engine.connect() as conn:
        assert conn.scalar(select(LoginSession.last_seen_at)) == earlier


def test_logout_ends_the_session_on_the_server(fresh_client, fresh_auth, engine):
    """The session row is marked ended; the cookie holds no user id or token any more."""
    fresh_auth.login("keeper")
    with engine.connect() as conn:
        assert conn.scalar(select(LoginSession.revoked_at)) is None
    fresh_auth.logout()
    with engine.connect() as conn:
        assert conn.scalar(select(LoginSession.revoked_at)) is not None
        actions = conn.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["login", "logout"]
    with fresh_client.session_transaction() as session:
        assert "_user_id" not in session and "login_token" not in session


def test_the_session_cookie_holds_no_token_the_database_could_give(fresh_client, fresh_auth, engine):
    """The table keeps a digest of the token: a database read gives no cookie to replay."""
    fresh_auth.login("keeper")
    with fresh_client.session_transaction() as session:
        token = session["login_token"]
    with engine.connect() as conn:
        stored = conn.scalar(select(LoginSession.id))
    assert token and stored and token not in stored


# ---------------------------------------------------------------- changing the password


def _change(client, current="yibiaotong", new="neues-passwort-1", repeat=None):
    return client.post(
        "/account/password",
        data={"current": current, "new": new, "repeat": new if repeat is None else repeat},
    )


def test_a_password_change_ends_every_other_login(fresh_app, fresh_client, fresh_auth, engine):
    """The other browser is logged out, this one goes on; the new password works, the old does not."""
    other = fresh_app.test_client()
    type(fresh_auth)(other).login("zhongshanlu")
    assert other.get("/tasks/").status_code == 200
    fresh_auth.login("zhongshanlu")
    page = fresh_client.get("/account/password").get_data(as_text=True)
    assert "当前密码" in page and "再次输入新密码" in page
    assert 'href="/account/password"' in page, "every page links to it"

    response = _change(fresh_client)
    assert response.status_code == 302 and response.headers["Location"] == "/tasks/"
    page = fresh_client.get("/tasks/")
    assert page.status_code == 200 and "密码已修改" in page.get_data(as_text=True)
    assert other.get("/tasks/").headers["Location"].startswith("/login")

    with engine.connect() as conn:
        user = conn.execute(select(User).where(User.username == "zhongshanlu")).one()
        assert check_password(user, "neues-passwort-1") and not check_password(user, "yibiaotong")
        entry = conn.execute(select(AuditEntry).where(AuditEntry.action == "password_changed")).one()
    assert entry.target == "zhongshanlu" and entry.detail == {"sessions_ended": 2}
    assert fresh_auth.login("zhongshanlu").status_code == 200, "the old password no longer logs in"


def test_a_refused_password_change_says_why_next_to_the_field(fresh_client, fresh_auth, engine):
    """Wrong current password, too short, the same twice not typed: each message by its field."""
    fresh_auth.login("keeper")
    cases = [
        ({"current": "falsch"}, "current", "当前密码不正确"),
        ({"new": "kurz"}, "new", "新密码至少需要 8 个字符"),
        ({"new": "yibiaotong"}, "new", "新密码不能与当前密码相同"),
        ({"new": "keeper"}, "new", "新密码至少需要 8 个字符"),
        ({"new": "neues-passwort-1", "repeat": "neues-passwort-2"}, "repeat", "两次输入的新密码不一致"),
    ]
    for data, field, message in cases:
        page = _change(fresh_client, **data).get_data(as_text=True)
        assert re.search(rf'id="{field}-error" role="alert">{message}<', page), (data, message)
    page = fresh_client.post("/account/password", data={}).get_data(as_text=True)
    assert "请输入当前密码" in page and "请输入新密码" in page and "请再次输入新密码" in page
    assert fresh_client.get("/ledgers").status_code == 200, "a refused change logs no one out"
    with engine.connect() as conn:
        assert (
            conn.scalar(select(AuditEntry.detail).where(AuditEntry.action == "password_change_failed"))
            is not None
        )


def test_the_password_page_needs_a_login(client):
    """Anonymous visitors are sent to the login page."""
    assert client.get("/account/password").headers["Location"].startswith("/login")


def test_an_htmx_request_of_an_ended_session_sends_the_whole_page_to_login(fresh_client, fresh_auth):
    """Not the login form swapped into a fragment: htmx is told to go to the login page."""
    fresh_auth.login("keeper")
    fresh_auth.logout()
    response = fresh_client.get(
        "/ledgers/person",
        headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/ledgers/person?q=%E5%BC%A0"},
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=%2Fledgers%2Fperson%3Fq%3D%25E5%25BC%25A0"
    response = fresh_client.get("/ledgers/person")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=%2Fledgers%2Fperson"
