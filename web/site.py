"""App-wide view glue: Jinja filters, navigation by what each role may open, error pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, g, redirect, render_template, request, url_for
from flask_htmx import HTMX
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from runtime.clock import LOCAL_TZ
from runtime.permissions import Action, Role, may
from runtime.sharing.sight import flush_reads
from web import database, edge
from web.api.problems import is_api_request, problem
from web.auth.guard import PUBLIC, public, required_action
from web.i18n import gettext as _

#: Counts are capped at this on large tables and shown as "10万+".
COUNT_CAP = 100_000

htmx = HTMX()


@dataclass(frozen=True)
class NavItem:
    """One entry of the main navigation: where it goes and its label.

    Who sees it is who may open its endpoint: the action its view requires (`web.auth.guard`).
    """

    endpoint: str
    label: str
    #: Endpoints (or "blueprint." prefixes) that highlight the entry; default: its blueprint.
    section: tuple[str, ...] = ()
    #: What waits there for the user (shown on the entry when not 0), asked only of those who may open it.
    count: Callable[[], int] | None = None

    def is_active(self, endpoint: str) -> bool:
        """Tell whether the current endpoint belongs to this entry's section."""
        section = self.section or (self.endpoint.split(".", 1)[0] + ".",)
        return endpoint == self.endpoint or any(
            endpoint == s or (s.endswith(".") and endpoint.startswith(s)) for s in section
        )


#: The main navigation; entries whose endpoint is not registered (yet) are left out.
NAV = (
    NavItem(
        "ledgers.index", "台账", section=("ledgers.index", "ledgers.table", "ledgers.record", "ledgers.edit")
    ),
    NavItem("ledgers.import_index", "导入", section=("ledgers.import_index", "ledgers.import_upload")),
    NavItem("reports.index", "报表", section=("reports.", "report_import.", "editor.")),
    NavItem("review.index", "审核"),
    NavItem("tasks.index", "任务"),
    NavItem("dashboard.index", "看板"),
    NavItem("warnings.index", "预警"),
    NavItem("catalog.index", "数据目录"),
    NavItem("audit.index", "审计日志"),
)


#: Where each role lands after logging in (when that page exists).
HOME_BY_ROLE = {
    Role.DEPARTMENT: "reports.index",
    Role.REVIEWER: "review.index",
    Role.TOWNSHIP: "tasks.index",
    Role.VILLAGE: "tasks.index",
    Role.LEADER: "dashboard.index",
}


def landing_url(role: str) -> str:
    """Return the page a role starts on (the ledgers until its own page exists)."""
    start = HOME_BY_ROLE.get(role, "ledgers.index")
    return url_for(start if start in current_app.view_functions else "ledgers.index")


def add_nav(app: Flask, item: NavItem) -> None:
    """Add an entry to the app's navigation (for blueprints registered later)."""
    app.extensions["nav"].append(item)


def nav_items(role: str) -> list[dict[str, Any]]:
    """Return the navigation entries a role sees, marking the active one."""
    endpoint = request.endpoint or ""
    items = []
    for item in current_app.extensions["nav"]:
        view = current_app.view_functions.get(item.endpoint)
        if view is None or not _opens(role, view):
            continue
        items.append(
            {
                "url": url_for(item.endpoint),
                "label": item.label,
                "active": item.is_active(endpoint),
                "count": item.count() if item.count else 0,
            }
        )
    return items


def _opens(role: str, view: Any) -> bool:
    """Tell whether a user of `role` may open a view, by the action its guard requires."""
    action = required_action(view)
    return action == PUBLIC or (isinstance(action, Action) and may(role, action))


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Show a naive UTC datetime in Beijing time."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LOCAL_TZ).strftime(fmt)


def thousands(value: Any) -> str:
    """Show a number with thousands separators."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{int(value):,}"


def count_label(value: int, cap: int = COUNT_CAP) -> str:
    """Show a capped count: the number, or "10万+" when the cap was reached."""
    if value >= cap:
        return _("%(n)s万+", n=cap // 10_000) if cap % 10_000 == 0 else f"{cap:,}+"
    return thousands(value)


def _navigation() -> dict[str, Any]:
    if not current_user.is_authenticated:
        return {"nav": []}
    return {"nav": nav_items(current_user.role)}


def _error(code: int, title: str, message: str):
    if is_api_request():  # an API path no view matched (404, 405 …): a problem, not a page
        return problem(code)
    template = "_error.html" if htmx and not htmx.history_restore_request else "error.html"
    return render_template(template, code=code, title=title, message=message), code


def init_app(app: Flask) -> None:
    """Register the translation hook, filters, navigation, error pages and the home route."""
    htmx.init_app(app)
    app.extensions["nav"] = list(NAV)
    app.jinja_env.globals["_"] = _
    app.jinja_env.filters["localtime"] = local_time
    app.jinja_env.filters["thousands"] = thousands
    app.jinja_env.filters["count_label"] = count_label
    app.context_processor(_navigation)

    edge.init_app(app)

    @app.errorhandler(400)
    def bad_request(exc):
        """Tell the user the request could not be understood (a bad id, a control character …)."""
        if isinstance(exc, CSRFError):
            return _error(400, _("页面已过期"), _("页面已过期或来源不明，请刷新页面后重新提交。"))
        return _error(
            400,
            _("请求无效"),
            _(
                "请求中的参数无效（例如编号超出范围，或含有不可见的控制字符）。"
                "请返回上一页重新操作；如果是从书签或链接打开的，请检查地址是否完整。"
            ),
        )

    @app.errorhandler(HTTPException)
    def other_http_error(exc):
        """Answer any other refusal (405 …) with the Chinese page too."""
        return _error(
            exc.code or 500,
            _("请求未能完成"),
            _("该地址不支持这样的请求（错误代码 %(code)s），请从页面上的链接和按钮进入。", code=exc.code),
        )

    @app.errorhandler(500)
    def server_error(exc):
        """Tell the user something went wrong on our side, in Chinese, without any detail of it."""
        # Flask has logged the exception with its traceback (log_exception) before calling this.
        return _error(
            500,
            _("系统出错"),
            _(
                "处理您的请求时出现了错误，您刚才的操作没有保存。请稍后重试；"
                "如果一再出现，请把出错的时间告诉系统管理员。"
            ),
        )

    @app.errorhandler(403)
    def forbidden(_exc):
        """Tell the user the page is not for their role."""
        return _error(403, _("无权访问"), _("您的账号没有访问该页面或执行该操作的权限。"))

    @app.errorhandler(404)
    def not_found(_exc):
        """Tell the user the page or record does not exist (or is outside their scope)."""
        return _error(404, _("页面不存在"), _("您要找的页面或记录不存在，或不在您的管辖范围内。"))

    @app.errorhandler(413)
    def too_large(_exc):
        """Tell the user the upload exceeds the size limit."""
        limit = app.config["MAX_UPLOAD_BYTES"] // (1024 * 1024)
        return _error(
            413, _("文件太大"), _("上传的文件超过了 %(mb)s MB 的上限，请拆分成几个文件分批导入。", mb=limit)
        )

    @app.route("/")
    @public
    def home():
        """Send the user to the ledger list, or to the login page."""
        if current_user.is_authenticated:
            return redirect(landing_url(current_user.role))
        return redirect(url_for("auth.login"))

    @app.after_request
    def audit_clear_reads(response):
        """Log the values this request showed in clear through grants (one entry per owner and ledger)."""
        user = g.get("_login_user")  # only a user this request loaded: no query for anonymous pages
        viewer = getattr(user, "viewer", None)
        if viewer is not None and viewer.grants.reads.counts and response.status_code < 400:
            flush_reads(
                database.session().connection(), viewer.user_id, viewer.grants, via="page", path=request.path
            )
        return response

    @app.after_request
    def vary_on_htmx(response):
        """Keep caches from mixing up full pages and htmx fragments of one URL."""
        response.vary.add("HX-Request")
        return response
