"""Write-back conflicts for the ledger keeper: a township's value against a newer ledger value."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from runtime.ledgers.store import StaleRecord
from runtime.masking import is_masked, mask_value
from runtime.models import OrgUnit, Record, Report, Task, WritebackConflict
from runtime.permissions import Action
from runtime.tasks.writeback import open_conflicts, resolve_conflict
from web import database
from web.auth.guard import requires
from web.i18n import gettext as _

bp = Blueprint("conflicts", __name__, template_folder="templates", url_prefix="/ledgers/conflicts")


@bp.get("/")
@requires(Action.CONFLICTS)
def index():
    """List the open conflicts, oldest first, values masked as for any keeper's page."""
    conn = database.session().connection()
    specs = database.specs()
    conflicts = open_conflicts(conn)
    # The report, org unit and record label of every conflict, in one query.
    context = {
        row.id: row
        for row in conn.execute(
            select(WritebackConflict.id, Report.title, OrgUnit.name, Record.label)
            .join(Task, Task.id == WritebackConflict.task_id)
            .join(Report, Report.id == Task.report_id)
            .join(OrgUnit, OrgUnit.code == Task.org_unit_code)
            .join(Record, Record.id == WritebackConflict.record_id)
            .where(WritebackConflict.id.in_([c.id for c in conflicts]))
        )
    }
    items = []
    for c in conflicts:
        ledger = specs.ledgers[c.ledger]
        field = ledger.by_name[c.field]
        masked = is_masked(field, current_user.viewer)

        def show(value, field=field, masked=masked):
            return mask_value(field, value) if masked else value

        row = context[c.id]
        items.append(
            {
                "conflict": c,
                "ledger": ledger,
                "field": field,
                "report": row.title,
                "unit": row.name,
                "label": row.label,
                "base": show(c.base_value),
                "ledger_value": show(c.ledger_value),
                "township": show(c.township_value),
            }
        )
    return render_template("ledgers/conflicts.html", items=items)


@bp.post("/<int:conflict_id>")
@requires(Action.CONFLICTS)
def resolve(conflict_id: int):
    """Take the township's value into the ledger, or keep the ledger's value."""
    take = request.form.get("take") == "township"
    try:
        status = resolve_conflict(
            database.session().connection(), database.specs(), conflict_id, current_user.id, take
        )
    except (ValueError, StaleRecord) as exc:
        database.session().rollback()
        flash(str(exc), "error")
    else:
        flash(_("已采用镇街填报的值") if status == "took_township" else _("已保留台账现有的值"))
    return redirect(url_for("conflicts.index"))
