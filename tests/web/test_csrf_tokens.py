"""CSRF tokens (with CSRF protection on): bound to one login session, and expiring."""

from __future__ import annotations

import re
import time

import pytest


@pytest.fixture
def csrf_client(fresh_app):
    """A client of the fresh app with CSRF protection on, as in production."""
    fresh_app.config["WTF_CSRF_ENABLED"] = True
    return fresh_app.test_client()


def _token(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]* value="([^"]+)"', page).group(1)


def _login(client, username="keeper") -> None:
    token = _token(client, "/login")
    response = client.post(
        "/login", data={"username": username, "password": "yibiaotong", "csrf_token": token}
    )
    assert response.status_code == 302


def test_a_token_of_one_login_fails_after_logout_and_a_new_login(csrf_client, engine, find_record):
    """Logging out and in again gives new tokens; the earlier page's token is refused."""
    rid = find_record(engine, "person", has="id_number")
    reveal = f"/ledgers/person/records/{rid}/reveal/id_number"
    _login(csrf_client)
    earlier = _token(csrf_client, f"/ledgers/person/records/{rid}")
    assert csrf_client.post(reveal, headers={"X-CSRFToken": earlier}).status_code == 200
    assert csrf_client.post("/logout", data={"csrf_token": earlier}).status_code == 302
    _login(csrf_client)
    assert csrf_client.post(reveal, headers={"X-CSRFToken": earlier}).status_code == 400
    now = _token(csrf_client, f"/ledgers/person/records/{rid}")
    assert now != earlier
    assert csrf_client.post(reveal, headers={"X-CSRFToken": now}).status_code == 200


def test_a_token_from_before_the_login_is_not_one_after_it(csrf_client):
    """The login page's token (perhaps planted by someone else) does not carry into the login."""
    before = _token(csrf_client, "/login")
    csrf_client.post("/login", data={"username": "keeper", "password": "yibiaotong", "csrf_token": before})
    assert csrf_client.post("/logout", data={"csrf_token": before}).status_code == 400


def test_tokens_expire(fresh_app, csrf_client):
    """A token lives as long as a login may (12 hours by default), then it is refused."""
    assert fresh_app.config["WTF_CSRF_TIME_LIMIT"] == 12 * 3600
    fresh_app.config["WTF_CSRF_TIME_LIMIT"] = 1
    _login(csrf_client)
    token = _token(csrf_client, "/ledgers")
    time.sleep(2.1)
    assert csrf_client.post("/logout", data={"csrf_token": token}).status_code == 400
