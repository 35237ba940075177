"""Failed logins: throttled per account and per address (only failures count), answered alike for
missing and real users, and put on record."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select, update

from runtime.models import AuditEntry, User
from tests.conftest import close_app

THROTTLED = "登录失败次数过多，请 15 分钟后再试"


def test_the_right_password_after_49_wrong_ones_is_refused(web):
    """Five failures lock the account for 15 minutes; other accounts from the address go on."""
    client, auth = web
    codes = [auth.login("keeper", f"wrong-{n}").status_code for n in range(49)]
    assert codes[:5] == [200] * 5 and set(codes[5:]) == {429}
    response = auth.login("keeper")
    assert response.status_code == 429
    assert f'id="password-error" role="alert">{THROTTLED}<' in response.get_data(as_text=True)
    assert client.get("/ledgers").status_code == 302, "not logged in"
    assert auth.login("canlian").status_code == 302


def test_a_missing_user_is_locked_like_a_real_one(web):
    """The lock tells nothing about which user names exist."""
    _client, auth = web
    assert [auth.login("niemand", "x").status_code for _ in range(6)] == [200] * 5 + [429]


def test_successful_logins_from_one_address_are_never_throttled(web, blank_app):
    """A deadline-day peak: many logins from one NAT address, none of them refused."""
    client, auth = web
    blank_app.config.update(LOGIN_LIMIT_ADDRESS="3 per 15 minutes", LOGIN_LIMIT_ACCOUNT="2 per 15 minutes")
    for _ in range(20):
        assert auth.login("zhongshanlu").status_code == 302
        auth.logout()


def test_failures_from_one_address_lock_it_for_every_account(web, blank_app):
    """The address limit counts failures across accounts; another address is not affected."""
    client, auth = web
    blank_app.config.update(LOGIN_LIMIT_ADDRESS="3 per 15 minutes")
    for username in ("keeper", "canlian", "minzheng"):
        assert auth.login(username, "wrong").status_code == 200
    assert auth.login("nongye").status_code == 429
    elsewhere = blank_app.test_client()
    response = elsewhere.post(
        "/login",
        data={"username": "nongye", "password": "yibiaotong"},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    assert response.status_code == 302


def test_guessing_on_the_password_page_counts_against_the_account(web):
    """Wrong current passwords lock the account like failed logins do."""
    client, auth = web
    auth.login("keeper")
    data = {"current": "wrong", "new": "neues-passwort-1", "repeat": "neues-passwort-1"}
    codes = [client.post("/account/password", data=data).status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]
    data["current"] = "yibiaotong"
    assert client.post("/account/password", data=data).status_code == 429


def test_failed_logins_are_on_record_without_the_password(web, blank_app, engine):
    """The name tried, the address and the reason are audited; the password never is."""
    client, auth = web
    with engine.begin() as conn:
        conn.execute(update(User).where(User.username == "leader").values(active=False))
    blank_app.config.update(LOGIN_LIMIT_ACCOUNT="1 per 15 minutes")
    auth.login("keeper", "geheim-1")
    auth.login("niemand", "geheim-2")
    auth.login("leader")
    auth.login("keeper", "geheim-3")
    with engine.connect() as conn:
        entries = conn.execute(
            select(AuditEntry).where(AuditEntry.action == "login_failed").order_by(AuditEntry.id)
        ).all()
    assert [(e.target, e.detail["reason"]) for e in entries] == [
        ("keeper", "wrong_password"),
        ("niemand", "unknown_user"),
        ("leader", "inactive"),
        ("keeper", "throttled"),
    ]
    assert {e.detail["address"] for e in entries} == {"127.0.0.1"}
    assert not any("geheim" in str(tuple(e)) for e in entries)
    assert client.get("/ledgers").status_code == 302, "an inactive user is not let in"


def test_a_missing_user_costs_the_same_password_hash_as_a_real_one(web, monkeypatch):
    """Unknown, inactive and real users each cost one hash of the same kind: no answer is faster.

    Counted at the hash function werkzeug calls, so the check holds whatever the machine's speed.
    """
    _client, auth = web
    auth.login("niemand", "warm-up")  # a process's first miss also makes the stand-in hash
    calls: list[tuple[str, int]] = []
    real = hashlib.pbkdf2_hmac

    def counted(name, password, salt, iterations, *args):
        calls.append((name, iterations))
        return real(name, password, salt, iterations, *args)

    monkeypatch.setattr(hashlib, "pbkdf2_hmac", counted)
    costs = {}
    for username in ("keeper", "niemand", "a" * 200):
        calls.clear()
        auth.login(username, "wrong")
        costs[username] = list(calls)
    assert costs["keeper"] == [("sha256", 1000)]
    assert costs["niemand"] == costs["keeper"] == costs["a" * 200]


@pytest.fixture
def redis_app(engine, rq_queue, tmp_path):
    """Return a function making apps that keep their login counts on the test Redis."""
    from redis import Redis

    url, queue = rq_queue
    apps = []

    def make():
        from web import create_app

        app = create_app(
            {
                "TESTING": True,
                "DATABASE_URL": engine.url.render_as_string(hide_password=False),
                "SECRET_KEY": "test",
                "WTF_CSRF_ENABLED": False,
                "JOBS_IN_BACKGROUND": False,
                "REDIS_URL": url,
                "JOBS_QUEUE": queue,
            }
        )
        apps.append(app)
        return app

    yield make, url, queue
    client = Redis.from_url(url)
    for key in client.scan_iter(f"{queue}:login*"):
        client.delete(key)
    client.close()
    for app in apps:
        close_app(app)


def test_with_redis_every_process_counts_the_same_failures(redis_app):
    """Failures counted by one process lock the account in another: the counts live in Redis."""
    from redis import Redis

    make, url, queue = redis_app
    first, second = make(), make()
    assert first.extensions["login_throttle"]["limiter"].storage is not (
        second.extensions["login_throttle"]["limiter"].storage
    )
    for n in range(5):
        response = first.test_client().post("/login", data={"username": "keeper", "password": f"w{n}"})
        assert response.status_code == 200
    response = second.test_client().post("/login", data={"username": "keeper", "password": "yibiaotong"})
    assert response.status_code == 429
    client = Redis.from_url(url)
    assert list(client.scan_iter(f"{queue}:login*")), "the counts are under the deployment's prefix"
    client.close()


def test_without_its_redis_the_throttle_counts_in_memory(engine, caplog):
    """Redis gone: logins go on, throttled per process, and the log says why."""
    from web import create_app

    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "SECRET_KEY": "test",
            "WTF_CSRF_ENABLED": False,
            "JOBS_IN_BACKGROUND": False,
            "REDIS_URL": "redis://127.0.0.1:1/0",
        }
    )
    try:
        client = app.test_client()
        codes = [
            client.post("/login", data={"username": "keeper", "password": "w"}).status_code for _ in range(6)
        ]
        assert codes == [200] * 5 + [429]
        assert "登录限流的存储不可用" in caplog.text
        response = client.post("/login", data={"username": "canlian", "password": "yibiaotong"})
        assert response.status_code == 302
    finally:
        close_app(app)
