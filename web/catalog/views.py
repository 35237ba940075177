"""The data catalog (数据目录): each ledger's elements with owner, sharing type, sensitivity and source.

It also says how the reader sees each element (in clear or masked), from the one masking decision,
so a department knows whose data it reads and what it would have to ask for; the grants in force of
each element (to whom, where, until when), and for a department a link to apply for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template, request
from flask_login import current_user

from builder.catalog.specs import SHARING, Field
from runtime.clock import local_today
from runtime.masking import field_sight
from runtime.permissions import Action, may
from runtime.sharing.grant_checks import may_apply_for
from runtime.sharing.grant_lists import Application, grants_by_element
from web import database
from web.auth.guard import requires
from web.grants.names import Names
from web.reports.editor_context import SENSITIVITY_LABELS

bp = Blueprint("catalog", __name__, template_folder="templates", url_prefix="/catalog")


@dataclass(frozen=True)
class Line:
    """One element of a ledger as the catalog lists it."""

    field: Field
    sensitivity: str
    #: The reader's own department owns it.
    own: bool
    #: How the reader sees its values: clear, masked, hidden, or partly (a grant in some townships).
    seen: str
    #: The grants of it in force today.
    grants: list[Application]
    #: The reader's department may apply for it (the apply form's link).
    may_apply: bool


@bp.get("/")
@requires(Action.CATALOG)
def index():
    """List the ledgers' elements, optionally of one owner or one sharing type."""
    specs = database.specs()
    viewer = current_user.viewer
    owners = sorted({f.element.department for ledger in specs.ledgers.values() for f in ledger.fields})
    owner = request.args.get("owner", "")
    sharing = request.args.get("sharing", "")
    owner = owner if owner in owners else ""
    sharing = sharing if sharing in SHARING else ""
    in_force = grants_by_element(database.session().connection(), local_today())
    applies = may(current_user.role, Action.GRANT_APPLY)
    ledgers = []
    for ledger in specs.ledgers.values():
        lines = [
            Line(
                f,
                SENSITIVITY_LABELS.get(f.element.sensitivity, f.element.sensitivity),
                viewer.owns(f.element),
                field_sight(f, viewer).overall,
                in_force.get(f.element.code, []),
                applies and may_apply_for(f.element, viewer.department),
            )
            for f in ledger.fields
            if (not owner or f.element.department == owner) and (not sharing or f.element.sharing == sharing)
        ]
        if lines:
            ledgers.append((ledger, lines))
    return render_template(
        "catalog/index.html",
        ledgers=ledgers,
        owners=owners,
        owner=owner,
        sharing=sharing,
        sharing_types=SHARING,
        department=viewer.department,
        scope=Names(specs).scope,
    )
