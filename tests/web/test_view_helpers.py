"""Filters, navigation, translation hook and error pages."""

from __future__ import annotations

from datetime import datetime

import pytest

from web.i18n import gettext as _
from web.site import count_label, local_time, thousands


def test_times_are_shown_in_beijing_time():
    """Naive UTC datetimes are shown in Asia/Shanghai."""
    assert local_time(datetime(2026, 11, 1, 8, 0)) == "2026-11-01 16:00"
    assert local_time(datetime(2026, 12, 31, 20, 30)) == "2027-01-01 04:30"
    assert local_time(None) == ""


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (1150000, "1,150,000"),
        (0, "0"),
        (12.5, "12.5"),
        (3.0, "3"),
        (None, ""),
        ("x", "x"),
    ],
)
def test_numbers_get_thousands_separators(value, shown):
    """Counts read easily."""
    assert thousands(value) == shown


def test_capped_counts_read_as_ten_thousands():
    """A count that reached the cap shows as 10万+."""
    assert count_label(100_000) == "10万+"
    assert count_label(99_999) == "99,999"
    assert count_label(10, cap=10) == "10+"


def test_translation_hook_fills_parameters():
    """`_` is a passthrough that fills %(name)s parameters."""
    assert _("台账") == "台账"
    assert _("共 %(n)s 条", n=3) == "共 3 条"


@pytest.mark.parametrize(
    ("username", "visible", "hidden"),
    [
        ("keeper", ["台账", "导入"], []),
        ("admin", ["台账", "导入"], []),
        ("zhongshanlu", ["台账"], ["导入"]),
        ("minzheng", ["台账"], ["导入"]),
        ("leader", ["台账"], ["导入"]),
    ],
)
def test_navigation_depends_on_role(client, auth, username, visible, hidden):
    """Only keepers and admins see the import entry."""
    auth.login(username)
    page = client.get("/ledgers").get_data(as_text=True)
    nav = page[page.index('class="mainnav"') : page.index("</nav>")]
    for label in visible:
        assert f">{label}</a>" in nav
    for label in hidden:
        assert f">{label}</a>" not in nav


def test_error_pages_are_chinese(client, auth):
    """404 and 403 explain themselves in Chinese; htmx gets only the message."""
    auth.login("zhongshanlu")
    response = client.get("/ledgers/nothing")
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)
    response = client.get("/ledgers/import")
    assert response.status_code == 403
    assert "无权访问" in response.get_data(as_text=True)
    fragment = client.get("/ledgers/nothing", headers={"HX-Request": "true"})
    assert fragment.status_code == 404
    assert "<html" not in fragment.get_data(as_text=True)


def test_too_large_upload_is_refused_in_chinese(app, client, auth):
    """An upload over the size limit gets a Chinese 413 page."""
    app.config["MAX_CONTENT_LENGTH"] = 2048
    auth.login("keeper")
    response = client.post(
        "/ledgers/person/import",
        data={"file": (__import__("io").BytesIO(b"x" * 10_000), "big.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "文件太大" in response.get_data(as_text=True)


def test_navigation_picks_up_later_blueprints_by_role(app, client, auth):
    """Entries for later features appear once their endpoint exists, for the roles its guard lets in."""
    from flask import Blueprint

    from runtime.permissions import Action
    from web.auth.guard import requires
    from web.site import NavItem, add_nav

    add_nav(app, NavItem("later.index", "以后"))
    add_nav(app, NavItem("never.index", "没有"))
    later = Blueprint("later", __name__, url_prefix="/later")
    later.add_url_rule("/", "index", requires(Action.DASHBOARD)(lambda: "later"))
    app.register_blueprint(later)
    auth.login("leader")
    page = client.get("/ledgers/person").get_data(as_text=True)
    assert '<a href="/later/">以后</a>' in page and '<a href="/dashboard/">看板</a>' in page
    assert "没有</a>" not in page, "an entry whose endpoint is not registered is left out"
    assert '<a href="/ledgers" class="active" aria-current="page">台账</a>' in page
    auth.login("zhongshanlu")
    page = client.get("/ledgers").get_data(as_text=True)
    assert "以后</a>" not in page and "看板</a>" not in page
