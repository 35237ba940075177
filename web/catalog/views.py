"""The data catalog (数据目录): each ledger's elements with owner, sharing type, sensitivity and source.

It also says how the reader sees each element (in clear or masked), from the one masking decision,
so a department knows whose data it reads and what it would have to ask for.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template, request
from flask_login import current_user

from builder.catalog.specs import SHARING, Field
from runtime.masking import is_masked
from runtime.permissions import Action
from web import database
from web.auth.guard import requires
from web.reports.editor_context import SENSITIVITY_LABELS

bp = Blueprint("catalog", __name__, template_folder="templates", url_prefix="/catalog")


@dataclass(frozen=True)
class Line:
    """One element of a ledger as the catalog lists it."""

    field: Field
    sensitivity: str
    #: The reader's own department owns it.
    own: bool
    #: The reader sees its values masked.
    masked: bool


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
    ledgers = []
    for ledger in specs.ledgers.values():
        lines = [
            Line(
                f,
                SENSITIVITY_LABELS.get(f.element.sensitivity, f.element.sensitivity),
                viewer.owns(f.element),
                is_masked(f, viewer),
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
    )
