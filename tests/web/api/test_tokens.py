"""Tokens of client systems: their life (issued, used, expired, revoked, client switched off), what is
kept of them (never the token itself), the rate limit per token, and the API's problems for paths and
methods no view serves."""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from runtime.exchange.clients import revoke_token, token_hash
from runtime.models import ApiClient, ApiToken, utcnow
from tests.conftest import close_app, make_test_app
from tests.web.api.conftest import ApiCaller, make_token, served

CATALOG = "/api/v1/catalog"
PROBLEM_MEMBERS = {"type", "title", "status", "code", "detail", "instance"}


@pytest.fixture
def api_app(engine, tmp_path):
    """Return a factory of apps on the fresh database of `engine`, with config on top."""
    apps = []

    def build(**config):
        apps.append(make_test_app(engine.url.render_as_string(hide_password=False), tmp_path, **config))
        return apps[-1]

    yield build
    for app in apps:
        close_app(app)


def _token_row(engine, token: str):
    with engine.connect() as conn:
        return conn.execute(select(ApiToken).where(ApiToken.token_hash == token_hash(token))).one()


def _refused(response) -> dict:
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"
    body = response.get_json()
    assert body["code"] == "token_invalid"
    return body


def test_a_token_works_until_it_expires_is_revoked_or_its_client_is_switched_off(engine, api_app):
    client = api_app().test_client()
    token = make_token(engine, "canlian")
    assert _token_row(engine, token).last_used_at is None
    assert ApiCaller(client, token).get(CATALOG).status_code == 200
    assert _token_row(engine, token).last_used_at is not None

    expired = make_token(engine, "canlian", expires_at=utcnow() - timedelta(seconds=1))
    _refused(ApiCaller(client, expired).get(CATALOG))
    later = make_token(engine, "canlian", expires_at=utcnow() + timedelta(days=30))
    assert ApiCaller(client, later).get(CATALOG).status_code == 200

    with engine.begin() as conn:
        revoke_token(conn, _token_row(engine, later).id, actor_id=None)
    _refused(ApiCaller(client, later).get(CATALOG))
    assert ApiCaller(client, token).get(CATALOG).status_code == 200  # the client's other token still works

    other = make_token(engine, "minzheng")
    with engine.begin() as conn:
        conn.execute(update(ApiClient).where(ApiClient.name == "canlian 测试系统").values(active=False))
    _refused(ApiCaller(client, token).get(CATALOG))
    assert ApiCaller(client, other).get(CATALOG).status_code == 200


def test_the_token_itself_is_stored_nowhere(engine, api_app):
    client = api_app().test_client()
    token = make_token(engine, "canlian")
    assert ApiCaller(client, token).get(CATALOG).status_code == 200
    with engine.begin() as conn:
        revoke_token(conn, _token_row(engine, token).id, actor_id=None)
    secret = token[len("ybt_") + 8 :]  # what follows the prefix kept to tell tokens apart
    with Session(engine) as session:
        stored = [
            str(value)
            for table in ("api_tokens", "audit_log", "api_clients")
            for row in session.execute(text(f"SELECT * FROM {table}"))  # noqa: S608 - fixed names
            for value in row
        ]
    assert stored
    assert not [value for value in stored if token in value or secret in value]
    assert _token_row(engine, token).prefix == token[: len("ybt_") + 8]


def test_the_rate_limit_answers_429_with_retry_after_per_token(engine, api_app):
    client = api_app(API_RATE_LIMIT="3 per minute").test_client()
    first, second = make_token(engine, "canlian"), make_token(engine, "minzheng")
    assert [ApiCaller(client, first).get(CATALOG).status_code for _ in range(3)] == [200] * 3
    response = ApiCaller(client, first).get(CATALOG)
    assert response.status_code == 429
    assert response.content_type == "application/problem+json"
    body = response.get_json()
    assert PROBLEM_MEMBERS <= body.keys()
    assert (body["status"], body["code"]) == (429, "rate_limited")
    assert 0 < int(response.headers["Retry-After"]) <= 60
    # Another token is counted on its own.
    assert ApiCaller(client, second).get(CATALOG).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/api/v1/nothing-here", 404, "not_found"),
        ("GET", "/api/v2/catalog", 404, "not_found"),
        ("POST", CATALOG, 405, "method_not_allowed"),
        ("DELETE", CATALOG, 405, "method_not_allowed"),
    ],
)
def test_paths_and_methods_no_view_serves_are_problems(client, method, path, status, code):
    response = client.open(path, method=method, headers={"Authorization": "Bearer ybt_whatever"})
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    body = response.get_json()
    assert PROBLEM_MEMBERS <= body.keys()
    assert (body["status"], body["code"], body["instance"]) == (status, code, path)
    assert any("\u4e00" <= c <= "\u9fff" for c in body["detail"])  # said in Chinese


def test_the_token_never_reaches_the_logs(engine, api_app, caplog):
    app = api_app()
    token = make_token(engine, "canlian")
    caplog.set_level(logging.DEBUG)
    with served(app) as base:
        for sent in (token, token[:-1] + "x"):
            httpx.get(base + CATALOG, headers={"Authorization": f"Bearer {sent}"})
        httpx.get(base + "/api/v1/nothing-here", headers={"Authorization": f"Bearer {token}"})
    lines = [record.getMessage() for record in caplog.records]
    # werkzeug's request log line for each call is among what was captured …
    assert sum(CATALOG in line and '" 200 ' in line for line in lines) == 1
    assert sum(CATALOG in line and '" 401 ' in line for line in lines) == 1
    # … and neither the token nor the wrong one is in any record.
    secret = token[len("ybt_") + 8 : -1]
    assert not [line for line in lines if secret in line]
    assert caplog.text and secret not in caplog.text
