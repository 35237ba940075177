"""Login, logout, password changes and the current user, with Flask-Login.

A login opens a session kept on the server (`runtime.accounts.sessions`); the signed session cookie
holds only its token, and every request checks that the session is still live.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import (
    LoginManager,
    UserMixin,
    current_user,
    login_url,
    login_user,
    logout_user,
)
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from runtime import config
from runtime.access import Viewer, grants_of, viewer_for
from runtime.accounts import sessions as login_sessions
from runtime.accounts.passwords import MIN_LENGTH, PasswordRefused, change_password, check_password
from runtime.accounts.sessions import Lifetime
from runtime.audit import record_event
from runtime.models import Department, OrgUnit, User
from runtime.permissions import ROLES, Action
from runtime.reports.store import Actor
from runtime.sharing.sight import NO_GRANTS, Grants
from web import database
from web.auth import throttle as login_throttle
from web.auth.guard import public, requires
from web.site import landing_url

bp = Blueprint("auth", __name__, template_folder="templates")
login_manager = LoginManager()
csrf = CSRFProtect()
#: Where the login session's token sits in Flask's signed session cookie.
SESSION_TOKEN = "login_token"


def district_name() -> str:
    """Return the district's name: the root of the specs' org-unit tree ("" when there is none)."""
    district = database.specs().district()
    return district.name if district else ""


class CurrentUser(UserMixin):
    """The logged-in user as the views need it."""

    def __init__(self, user: User, unit: OrgUnit | None, department: str | None, grants: Grants = NO_GRANTS):
        """Copy what the views need out of the ORM objects (`department`: the name of the user's,
        `grants`: its grants in force)."""
        self.id = user.id
        self.username = user.username
        self.display_name = user.display_name
        self.role = user.role
        self.role_name = ROLES[user.role][0]
        self.org_unit_name = unit.name if unit else district_name()
        self.department_id = user.department_id
        self.viewer: Viewer = viewer_for(
            user.id,
            user.role,
            user.org_unit_code,
            unit.level if unit else None,
            unit.parent_code if unit else None,
            department,
            grants,
        )


def _current(db, user: User) -> CurrentUser:
    """Return `user` as the views need them, with their org unit and department's name."""
    unit = db.get(OrgUnit, user.org_unit_code) if user.org_unit_code else None
    department = db.get(Department, user.department_id) if user.department_id else None
    grants = grants_of(db.connection(), user.department_id)
    return CurrentUser(user, unit, department.name if department else None, grants)


def _lifetime() -> Lifetime:
    return Lifetime(
        idle=timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"]),
        absolute=timedelta(hours=current_app.config["SESSION_MAX_HOURS"]),
    )


@login_manager.user_loader
def _load(user_id: str) -> CurrentUser | None:
    # Also reached from a remember-me cookie: without a live session token it brings no one back.
    token = session.get(SESSION_TOKEN)
    if not token or not user_id.isdigit():
        return None
    db = database.session()
    login = login_sessions.live_session(db, token, int(user_id), _lifetime())
    user = db.get(User, login.user_id) if login else None
    if user is None or not user.active:
        return None
    login_sessions.touch(database.engine(), login)
    return _current(db, user)


@login_manager.unauthorized_handler
def _unauthorized():
    """Send the user to the login page, and back here after it; htmx: the whole page goes there.

    A fragment request of a session that just ended (a cell saved after two idle hours) would
    otherwise get the login page swapped into a table cell.
    """
    flash(login_manager.login_message)
    if request.headers.get("HX-Request"):
        response = make_response("", 401)
        response.headers["HX-Redirect"] = login_url(
            "auth.login", request.headers.get("HX-Current-URL") or request.url
        )
        return response
    return redirect(login_url("auth.login", request.url))


def current_actor() -> Actor:
    """Return the logged-in user as the actor of report operations."""
    return Actor(user_id=current_user.id, role=current_user.role, department_id=current_user.department_id)


def init_app(app: Flask) -> None:
    """Bind Flask-Login, CSRF protection and login throttling to the app."""
    app.config.setdefault("SESSION_IDLE_MINUTES", config.session_idle_minutes())
    app.config.setdefault("SESSION_MAX_HOURS", config.session_max_hours())
    # A page's CSRF token lasts as long as a login may: a form left open all day still saves. It
    # never outlives its login either: logging in and out starts a new session cookie.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", app.config["SESSION_MAX_HOURS"] * 3600)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    csrf.init_app(app)
    login_throttle.init_app(app)


class LoginForm(FlaskForm):
    """Username and password."""

    username = StringField("用户名", validators=[DataRequired("请输入用户名")])
    password = PasswordField("密码", validators=[DataRequired("请输入密码")])


class PasswordForm(FlaskForm):
    """The current password and the new one, twice."""

    current = PasswordField("当前密码", validators=[DataRequired("请输入当前密码")])
    new = PasswordField("新密码", validators=[DataRequired("请输入新密码")])
    repeat = PasswordField("再次输入新密码", validators=[DataRequired("请再次输入新密码")])


def safe_next(target: str | None) -> str | None:
    """Return `target` if it is a path of this site, else None.

    Browsers drop tabs and line breaks from a URL and read a backslash as a slash, so a tab
    between two slashes or a slash and a backslash would leave the site: any control
    character, invisible character or backslash refuses the target.
    """
    if (
        not target
        or len(target) > 2000
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or not target.isprintable()
    ):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


def _throttled(minutes: int) -> str:
    return f"登录失败次数过多，请 {minutes} 分钟后再试"


def _audit_failure(username: str, reason: str, action: str = "login_failed") -> None:
    """Put a refused login on record: the name tried, from where, why (never the password)."""
    record_event(
        database.session().connection(),
        None,
        action,
        username[:60],
        {
            "reason": reason,
            "address": request.remote_addr or "",
            "user_agent": request.user_agent.string[:200],
        },
    )


def _start_session(user: User) -> None:
    """Log `user` in with a new server-side session and a new session cookie."""
    db = database.session()
    # Nothing of an earlier login carries over, its CSRF token included.
    session.clear()
    g.pop("csrf_token", None)
    session[SESSION_TOKEN] = login_sessions.open_session(
        db, user.id, _lifetime(), request.remote_addr or "", request.user_agent.string
    )
    login_user(_current(db, user))


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """Show the login form and log the user in."""
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("login.html", form=form, district=district_name())
    username = form.username.data.strip()
    if minutes := login_throttle.refused_minutes(username):
        _audit_failure(username, "throttled")
        form.password.errors.append(_throttled(minutes))
        return render_template("login.html", form=form, district=district_name()), 429
    db = database.session()
    user = db.scalar(select(User).where(User.username == username))
    if not check_password(user, form.password.data):
        login_throttle.count_failure(username)
        _audit_failure(
            username, "unknown_user" if user is None else "inactive" if not user.active else "wrong_password"
        )
        form.password.errors.append("用户名或密码错误")
        return render_template("login.html", form=form, district=district_name())
    _start_session(user)
    record_event(db.connection(), user.id, "login", user.username, {"address": request.remote_addr or ""})
    return redirect(safe_next(request.args.get("next")) or landing_url(user.role))


@bp.post("/logout")
@public
def logout():
    """End the login session on the server and forget it in the browser."""
    if current_user.is_authenticated:
        db = database.session()
        login_sessions.end_session(db, session[SESSION_TOKEN])
        record_event(db.connection(), current_user.id, "logout", current_user.username)
    session.clear()
    logout_user()  # after clear(): it marks a remember-me cookie for deletion
    flash("已退出登录")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@requires(Action.ACCOUNT)
def password():
    """Let the user change their password; every other login of theirs ends."""
    form = PasswordForm()
    if not form.validate_on_submit():
        return render_template("account/password.html", form=form, min_length=MIN_LENGTH)
    db = database.session()
    user = db.get(User, current_user.id)
    # Guessing the current password here counts as failed logins of the account.
    if minutes := login_throttle.refused_minutes(user.username):
        form.current.errors.append(_throttled(minutes))
        return render_template("account/password.html", form=form, min_length=MIN_LENGTH), 429
    try:
        change_password(db, user, form.current.data, form.new.data, form.repeat.data)
    except PasswordRefused as refused:
        if refused.field == "current":
            login_throttle.count_failure(user.username)
            _audit_failure(user.username, "wrong_password", "password_change_failed")
        getattr(form, refused.field).errors.append(refused.message)
        return render_template("account/password.html", form=form, min_length=MIN_LENGTH)
    _start_session(user)  # this browser goes on, in a new session
    flash("密码已修改；在其他电脑或浏览器上的登录都已退出")
    return redirect(landing_url(user.role))
