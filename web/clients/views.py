"""对接系统 pages: the list of client systems with the form to register one (/clients/), a client's
page with its tokens (/clients/<id>), the token shown once, revoking, switching a client off and on."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import select

from runtime.clock import local_today
from runtime.errors import ErrorCode, InvalidRequest, NotFound, OperationRefused
from runtime.exchange import clients
from runtime.models import Department, utcnow
from runtime.permissions import Action
from web import database
from web.auth.guard import requires
from web.clients.forms import ClientForm, TokenForm
from web.i18n import gettext as _
from web.site import NavItem, add_nav

bp = Blueprint("clients", __name__, template_folder="templates", url_prefix="/clients")
#: Token state → the badge class the pages share with admission requests.
BADGES = {"valid": "status-admitted", "expired": "status-returned", "revoked": "status-rejected"}
#: The session keeps the nonces of the last token forms used (see TokenForm.nonce).
ISSUED_KEY, ISSUED_KEPT = "issued_token_forms", 20


def _client_form() -> ClientForm:
    """Return the register form with its choices: the departments and the catalog's source systems."""
    conn = database.session().connection()
    departments = [
        (str(i), name)
        for i, name in conn.execute(select(Department.id, Department.name).order_by(Department.id))
    ]
    return ClientForm().offer(departments, sorted(database.specs().systems))


def _index_page(form: ClientForm, status: int = 200):
    """Render the client list with the register form (open when it has errors or nothing is listed)."""
    listed = clients.list_clients(database.session().connection())
    return render_template(
        "clients/index.html", clients=listed, form=form, open_form=bool(form.errors) or not listed
    ), status


@bp.get("/")
@requires(Action.CLIENTS)
def index():
    """List the client systems: department, source system, contact, tokens in force, last use."""
    return _index_page(_client_form())


@bp.post("/")
@requires(Action.CLIENTS)
def register():
    """Register a client system; on errors show the form again with what was typed."""
    form = _client_form()
    valid = form.validate()
    conn = database.session().connection()
    if form.name.data and clients.name_taken(conn, form.name.data):
        form.name.errors = [
            *form.name.errors,
            str(InvalidRequest(ErrorCode.CLIENT_NAME_TAKEN, name=form.name.data.strip())),
        ]
        valid = False
    if not valid:
        return _index_page(form, 422)
    try:
        client_id = clients.register_client(
            database.session().connection(),
            name=form.name.data,
            department_id=int(form.department.data),
            system=form.system.data or None,
            contact=form.contact.data or "",
            description=form.description.data or "",
            actor_id=current_user.id,
        )
    except OperationRefused as exc:
        database.session().rollback()
        form.name.errors = [str(exc)]
        return _index_page(form, 422)
    flash(_("已登记对接系统“%(name)s”：请为它签发令牌", name=form.name.data.strip()))
    return redirect(url_for("clients.client", client_id=client_id))


def _client_page(client_id: int, form: TokenForm | None = None, status: int = 200):
    """Render a client's page: who it is, its tokens, the form to issue one."""
    conn = database.session().connection()
    try:
        found = clients.get_client(conn, client_id)
    except NotFound:
        abort(404)
    return render_template(
        "clients/client.html",
        client=found,
        tokens=clients.tokens_of(conn, client_id),
        form=form or TokenForm(today=local_today(), formdata=None),
        now=utcnow(),
        states=clients.TOKEN_STATES,
        badges=BADGES,
        system=database.specs().systems.get(found.system or ""),
    ), status


@bp.get("/<int:client_id>")
@requires(Action.CLIENTS)
def client(client_id: int):
    """Show a client system and its tokens (never a token itself: only its first characters)."""
    return _client_page(client_id)


@bp.post("/<int:client_id>/tokens")
@requires(Action.CLIENTS)
def issue(client_id: int):
    """Issue a token and show it this once; the page is never cached."""
    form = TokenForm(today=local_today())
    if not form.validate():
        return _client_page(client_id, form, 422)
    conn = database.session().connection()
    try:
        found = clients.get_client(conn, client_id)
    except NotFound:
        abort(404)
    issued = session.get(ISSUED_KEY, [])
    if form.nonce.data and form.nonce.data in issued:
        flash(
            _(
                "这张令牌刚才已经签发（页面被重新提交），不会再签发一张，也不再显示：如果没有复制下来，请吊销它后重新签发"
            )
        )
        return redirect(url_for("clients.client", client_id=client_id))
    if form.nonce.data:
        session[ISSUED_KEY] = [*issued, form.nonce.data][-ISSUED_KEPT:]
    expires_at = clients.expiry_of(form.day)
    token_id, token = clients.issue_token(
        conn, client_id, actor_id=current_user.id, label=form.label.data or "", expires_at=expires_at
    )
    response = render_template(
        "clients/token.html", client=found, token=token, label=form.label.data, expires_on=form.day
    )
    return response, 200, {"Cache-Control": "no-store", "Pragma": "no-cache"}


@bp.post("/<int:client_id>/tokens/<int:token_id>/revoke")
@requires(Action.CLIENTS)
def revoke(client_id: int, token_id: int):
    """Revoke one of the client's tokens: it fails at once and stays listed as 已吊销."""
    conn = database.session().connection()
    if token_id not in {t.id for t in clients.tokens_of(conn, client_id)}:
        abort(404)
    clients.revoke_token(conn, token_id, actor_id=current_user.id)
    flash(_("已吊销令牌：使用它的请求从现在起会被拒绝"))
    return redirect(url_for("clients.client", client_id=client_id))


@bp.post("/<int:client_id>/active")
@requires(Action.CLIENTS)
def set_active(client_id: int):
    """Switch a client system off (all its tokens stop working) or on again."""
    active = request.form.get("active") == "1"
    try:
        clients.set_active(database.session().connection(), client_id, active, actor_id=current_user.id)
    except NotFound:
        abort(404)
    flash(
        _("已恢复对接系统：未吊销、未过期的令牌重新可用")
        if active
        else _("已停用对接系统：它的令牌都不能再使用")
    )
    return redirect(url_for("clients.client", client_id=client_id))


def init_app(app: Flask) -> None:
    """Register the blueprint and its navigation entry (administrators)."""
    app.register_blueprint(bp)
    add_nav(app, NavItem("clients.index", "对接系统"))
