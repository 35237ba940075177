"""Early warnings: a table of warning rules × townships with counts, and the records behind each count.

District roles see every township; township and village users only their own. Every value shown
goes through `runtime.masking.present` (inside `runtime.early_warnings.flags.matches`). Counts come from the
database, counted ahead (`runtime.early_warnings.flags.refresh_job`) or by the first page that needed them.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from flask_login import current_user

from builder.early_warnings.rules import WarningRuleSet, load_warning_rules
from runtime.early_warnings.flags import PAGE_SIZE, matches, tally
from runtime.permissions import Action
from web import database
from web.auth.guard import requires
from web.edge import int_arg
from web.site import htmx

bp = Blueprint("warnings", __name__, template_folder="templates", url_prefix="/warnings")


def rules() -> WarningRuleSet:
    """Return the warning rules, loaded once per app."""
    ext = current_app.extensions["yibiaotong"]
    if "warning_rules" not in ext:
        ext["warning_rules"] = load_warning_rules(current_app.config["SPECS_PATH"], database.specs())
    return ext["warning_rules"]


def _conn():
    return database.session().connection()


@bp.get("/")
@requires(Action.WARNINGS)
def index():
    """Show, per rule and township in the viewer's scope, how many records the rule flags."""
    specs = database.specs()
    # Counts not kept yet, or kept before the ledger changed, load row by row: the page comes at once.
    counts = tally(_conn(), specs, rules(), current_user.viewer, cached_only=True)
    return render_template(
        "warnings/index.html",
        tally=counts,
        ledgers=_ledger_titles(),
        district=current_user.viewer.scope.township is None,
    )


@bp.get("/rows/<code>")
@requires(Action.WARNINGS)
def row(code: str):
    """Return one rule's row of counts, counting and keeping them (the fragment a pending row loads)."""
    rule = rules().get(code)
    if rule is None:
        abort(404)
    one = WarningRuleSet(rules().title, (rule,))
    counts = tally(_conn(), database.specs(), one, current_user.viewer)
    return render_template("warnings/_rule_row.html", rule=rule, tally=counts, ledgers=_ledger_titles())


def _ledger_titles() -> dict[str, str]:
    return {code: ledger.title for code, ledger in database.specs().ledgers.items()}


@bp.get("/<code>/<township>")
@requires(Action.WARNINGS)
def records(code: str, township: str):
    """List the records one rule flags in one township, a page at a time, masked."""
    specs = database.specs()
    rule = rules().get(code)
    unit = specs.org_units.get(township)
    if rule is None or unit is None or unit.level != "township":
        abort(404)
    after = int_arg("after")
    try:
        found = matches(_conn(), specs, rule, township, current_user.viewer, after=after, limit=PAGE_SIZE)
    except PermissionError:
        abort(404)
    context = {
        "rule": rule,
        "unit": unit,
        "ledger": specs.ledgers[rule.ledger],
        "page": found,
        "after": after,
    }
    if htmx and not htmx.history_restore_request:
        return render_template("warnings/_rows.html", **context)
    return render_template("warnings/records.html", **context)
