"""`next` after login: only a path of this site, whatever its encoding; never a 500."""

from __future__ import annotations

import pytest

#: `next` values as they stand in the query string (already percent-encoded where shown).
REFUSED = [
    "/%09/evil/x",  # a tab the browser drops: //evil/x
    "/%0a/evil",  # a newline in the Location header
    "/%0d%0aSet-Cookie:x=1",
    "/%00/evil",
    "%09//evil",
    "/%7f/evil",
    "%5C%5Cevil",  # \\evil
    "/%5Cevil",  # /\evil
    "%5C/evil",
    "https://evil",
    "https:%2F%2Fevil",
    "//evil",
    "///evil",
    "/%2F%2Fevil",  # decodes to ///evil
    "%2F%2Fevil",
    "javascript:alert(1)",
    "http:/evil",
    "evil/x",
    "%20//evil",
    "/%E3%80%80/evil",  # an ideographic space
    "/%E2%80%AE/evil",  # a right-to-left override
    "",
]


#: Control characters (tab, newline, NUL, DEL) are refused at the edge for every URL (web.edge).
CONTROL = ("%09", "%0a", "%0d", "%00", "%7f")


@pytest.mark.parametrize("target", REFUSED)
def test_login_ignores_a_next_that_leaves_the_site(client, target):
    """A `next` that is not a plain path of this site sends the user to their landing page.

    One holding a control character never reaches the login: the edge answers 400, no redirect.
    """
    response = client.post(f"/login?next={target}", data={"username": "keeper", "password": "yibiaotong"})
    if any(c in target.lower() for c in CONTROL):
        assert response.status_code == 400 and "Location" not in response.headers
        assert "请求无效" in response.get_data(as_text=True) or "控制字符" in response.get_data(as_text=True)
    else:
        assert response.status_code == 302
        assert response.headers["Location"] == "/ledgers"


def test_login_follows_a_next_of_this_site(client):
    """A path of this site with its query is where the user goes after logging in."""
    response = client.post(
        "/login?next=%2Ftasks%2F3%3Frow%3D5", data={"username": "zhongshanlu", "password": "yibiaotong"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/tasks/3?row=5"


def test_the_login_redirect_round_trip_keeps_the_page(client):
    """A page that needs a login sends there with `next`, and the login comes back to it."""
    response = client.get("/ledgers/person?q=%E5%BC%A0")
    assert response.status_code == 302
    login_url = response.headers["Location"]
    assert login_url.startswith("/login?next=")
    response = client.post(login_url, data={"username": "keeper", "password": "yibiaotong"})
    assert response.headers["Location"] == "/ledgers/person?q=%E5%BC%A0"
