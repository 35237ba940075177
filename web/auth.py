"""Login, logout and the current user, with Flask-Login."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import select
from werkzeug.security import check_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from runtime.access import ROLES, Viewer, viewer_for
from runtime.audit import record_event
from runtime.models import OrgUnit, User
from runtime.reports import Actor
from web import database
from web.views import landing_url

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
csrf = CSRFProtect()


class CurrentUser(UserMixin):
    """The logged-in user as the views need it."""

    def __init__(self, user: User, unit: OrgUnit | None):
        """Copy what the views need out of the ORM objects."""
        self.id = user.id
        self.username = user.username
        self.display_name = user.display_name
        self.role = user.role
        self.role_name = ROLES[user.role][0]
        self.org_unit_name = unit.name if unit else "永川区"
        self.department_id = user.department_id
        self.viewer: Viewer = viewer_for(
            user.id, user.role, user.org_unit_code,
            unit.level if unit else None, unit.parent_code if unit else None)


@login_manager.user_loader
def _load(user_id: str) -> CurrentUser | None:
    db = database.session()
    user = db.get(User, int(user_id))
    if user is None or not user.active:
        return None
    return CurrentUser(user, db.get(OrgUnit, user.org_unit_code) if user.org_unit_code else None)


def current_actor() -> Actor:
    """Return the logged-in user as the actor of report operations."""
    return Actor(user_id=current_user.id, role=current_user.role,
                 department_id=current_user.department_id)


def init_app(app: Flask) -> None:
    """Bind Flask-Login and CSRF protection to the app."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    csrf.init_app(app)


def roles_required(*roles: str):
    """Allow a view only to users with one of `roles` (403 otherwise)."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


class LoginForm(FlaskForm):
    """Username and password."""

    username = StringField("用户名", validators=[DataRequired("请输入用户名")])
    password = PasswordField("密码", validators=[DataRequired("请输入密码")])


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form and log the user in."""
    form = LoginForm()
    if form.validate_on_submit():
        db = database.session()
        user = db.scalar(select(User).where(User.username == form.username.data.strip()))
        if user and user.active and check_password_hash(user.password_hash, form.password.data):
            unit = db.get(OrgUnit, user.org_unit_code) if user.org_unit_code else None
            login_user(CurrentUser(user, unit))
            record_event(db.connection(), user.id, "login", user.username)
            target = request.args.get("next", "")
            if not target.startswith("/") or target.startswith("//"):
                target = landing_url(user.role)
            return redirect(target)
        form.password.errors.append("用户名或密码错误")
    return render_template("login.html", form=form)


@bp.post("/logout")
def logout():
    """Log the user out."""
    logout_user()
    flash("已退出登录")
    return redirect(url_for("auth.login"))
