"""Grant pages: a department's applications and the application form (/grants/), and the owner's
inbox of applications to decide and grants in force to revoke (/grants/inbox)."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from runtime.clock import local_today
from runtime.errors import OperationRefused
from runtime.permissions import Action, may
from runtime.sharing import grant_lists, grants
from runtime.sharing.grant_checks import GrantRefused
from runtime.sharing.grant_lists import Application
from web import database
from web.auth.guard import requires
from web.grants.forms import ApplyForm, DecideForm, choices
from web.grants.names import Names
from web.i18n import gettext as _
from web.reports.editor_context import SENSITIVITY_LABELS
from web.site import NavItem, add_nav

bp = Blueprint("grants", __name__, template_folder="templates", url_prefix="/grants")
#: Application state → the badge class the pages share with admission requests.
BADGES = {
    "pending": "status-submitted",
    "granted": "status-admitted",
    "refused": "status-rejected",
    "revoked": "status-rejected",
    "withdrawn": "status-draft",
    "expired": "status-returned",
}
#: How many decided applications the inbox lists under the pending ones.
HISTORY = 30


def _department_id() -> int | None:
    return current_user.department_id


def _is_admin() -> bool:
    return may(current_user.role, Action.ANY_DEPARTMENT)


def _common() -> dict[str, object]:
    """Return what every grant page shows: names, badges, today, the pending count for the tabs."""
    today = local_today()
    specs = database.specs()
    return {
        "names": Names(specs),
        "badges": BADGES,
        "today": today,
        "sensitivity": SENSITIVITY_LABELS,
        "townships": specs.townships(),
        "may_decide": may(current_user.role, Action.GRANT_DECIDE),
        "may_apply": may(current_user.role, Action.GRANT_APPLY),
        "waiting": pending_to_me(),
    }


def pending_to_me() -> int:
    """Return how many applications wait for the current user's decision (the nav's count), once a request."""
    if "grants_waiting" not in g:
        conn = database.session().connection()
        g.grants_waiting = grant_lists.pending_count(conn, None if _is_admin() else _department_id())
    return g.grants_waiting


# --- my applications ------------------------------------------------------------------------------


def _index_page(form: ApplyForm, *, status: int = 200, open_form: bool = False):
    """Render my applications with the application form (only the form for htmx)."""
    conn = database.session().connection()
    today = local_today()
    mine = grant_lists.applications_of(conn, _department_id()) if _department_id() else []
    held = [a for a in mine if a.state(today) == "granted"]
    context = {
        "form": form,
        "choices": choices(database.specs(), form, current_user.viewer.department, held),
        "ledgers": database.specs().ledgers.values(),
        "department": current_user.viewer.department,
        **_common(),
    }
    if request.headers.get("HX-Request") and request.method == "GET":
        return render_template("grants/_apply.html", **context)
    return render_template(
        "grants/index.html", applications=mine, open_form=open_form or not mine, **context
    ), status


@bp.get("/")
@requires(Action.GRANT_APPLY)
def index():
    """List the department's applications; the form pre-selects `?ledger=…&element=…`."""
    form = ApplyForm.read(request.args, database.specs(), local_today())
    return _index_page(form, open_form="ledger" in request.args)


@bp.post("/apply")
@requires(Action.GRANT_APPLY)
def apply():
    """Apply for the chosen elements: one application per owner; errors next to their fields."""
    form = ApplyForm.read(request.form, database.specs(), local_today())
    arguments = form.arguments()
    if arguments is None:
        return _index_page(form, status=422, open_form=True)
    conn = database.session().connection()
    try:
        made = grants.apply(
            conn, database.specs(), department=_department_id(), user_id=current_user.id, **arguments
        )
    except GrantRefused as refused:
        form.errors.update(refused.errors)
        return _index_page(form, status=422, open_form=True)
    except OperationRefused as exc:
        form.errors["elements"] = str(exc)
        return _index_page(form, status=422, open_form=True)
    flash(_("已提交 %(n)s 份申请，由所有者部门审批：%(which)s", n=len(made), which=_made(made)))
    return redirect(url_for("grants.index"))


def _made(made: list[int]) -> str:
    """Say which owner decides each new application, and on what: 区民政局（救助类别）；…"""
    names = Names(database.specs())
    mine = {a.id: a for a in grant_lists.applications_of(database.session().connection(), _department_id())}
    return "；".join(
        f"{mine[i].owner or grants.ADMINISTRATORS}（{names.elements(mine[i].elements)}）" for i in made
    )


@bp.post("/<int:grant_id>/withdraw")
@requires(Action.GRANT_APPLY)
def withdraw(grant_id: int):
    """Withdraw one of the department's pending applications."""
    try:
        grants.withdraw(
            database.session().connection(), grant_id, user_id=current_user.id, department=_department_id()
        )
    except OperationRefused as exc:
        database.session().rollback()
        flash(str(exc), "error")
    else:
        flash(_("已撤回申请"))
    return redirect(url_for("grants.index"))


# --- the owner's inbox ----------------------------------------------------------------------------


def _inbox_page(
    forms: dict[int, DecideForm] | None = None, revoking: dict[int, tuple[str, str]] | None = None
):
    """Render the applications to decide, the grants in force and the decided ones."""
    conn = database.session().connection()
    today = local_today()
    everything = grant_lists.applications_to(conn, None if _is_admin() else _department_id())
    pending = [a for a in reversed(everything) if a.status == "pending"]
    forms = forms or {}
    return render_template(
        "grants/inbox.html",
        pending=[(a, forms.get(a.id) or DecideForm.of(a)) for a in pending],
        in_force=grant_lists.in_force(everything, today),
        history=[a for a in everything if a.state(today) not in ("pending", "granted")][:HISTORY],
        revoking=revoking or {},
        is_admin=_is_admin(),
        **_common(),
    ), (422 if forms or revoking else 200)


def _application(grant_id: int) -> Application:
    """Return an application the user may see in the inbox, or 404."""
    conn = database.session().connection()
    found = grant_lists.applications_to(conn, None if _is_admin() else _department_id())
    application = next((a for a in found if a.id == grant_id), None)
    if application is None:
        abort(404)
    return application


@bp.get("/inbox")
@requires(Action.GRANT_DECIDE)
def inbox():
    """List the applications to the department (administrators: all), oldest pending first."""
    return _inbox_page()


@bp.post("/<int:grant_id>/decide")
@requires(Action.GRANT_DECIDE)
def decide(grant_id: int):
    """Approve an application as applied or narrowed, or refuse it, with the reason."""
    form = DecideForm.read(request.form)
    conn = database.session().connection()
    actor = {"user_id": current_user.id, "department": _department_id(), "is_admin": _is_admin()}
    try:
        if form.action == "refuse":
            grants.refuse(conn, grant_id, reason=form.reason, **actor)
        elif form.action == "approve":
            arguments = form.approval(_application(grant_id))
            if arguments is None:
                return _inbox_page({grant_id: form})
            grants.approve(conn, grant_id, **arguments, **actor)
        else:
            form.errors["action"] = _("请选择批准或拒绝")
            return _inbox_page({grant_id: form})
    except GrantRefused as refused:
        database.session().rollback()
        form.errors.update(refused.errors)
        return _inbox_page({grant_id: form})
    except OperationRefused as exc:
        database.session().rollback()
        flash(str(exc), "error")
        return redirect(url_for("grants.inbox"))
    flash(_("已批准申请") if form.action == "approve" else _("已拒绝申请"))
    return redirect(url_for("grants.inbox"))


@bp.post("/<int:grant_id>/revoke")
@requires(Action.GRANT_DECIDE)
def revoke(grant_id: int):
    """Revoke a grant in force, with the reason the grantee reads."""
    reason = request.form.get("reason", "")
    conn = database.session().connection()
    try:
        grants.revoke(
            conn,
            grant_id,
            user_id=current_user.id,
            department=_department_id(),
            is_admin=_is_admin(),
            reason=reason,
        )
    except GrantRefused as refused:
        database.session().rollback()
        return _inbox_page(revoking={grant_id: (reason, refused.errors.get("reason", str(refused)))})
    except OperationRefused as exc:
        database.session().rollback()
        flash(str(exc), "error")
        return redirect(url_for("grants.inbox"))
    flash(_("已撤销授权"))
    return redirect(url_for("grants.inbox"))


def init_app(app: Flask) -> None:
    """Register the blueprint and its navigation entries (the inbox with its count of pending ones)."""
    app.register_blueprint(bp)
    add_nav(
        app, NavItem("grants.index", "授权申请", section=("grants.index", "grants.apply", "grants.withdraw"))
    )
    add_nav(
        app,
        NavItem(
            "grants.inbox",
            "授权审批",
            section=("grants.inbox", "grants.decide", "grants.revoke"),
            count=pending_to_me,
        ),
    )
