"""Where a report's cells come from (a ledger field of the row's record or household); a task's scope."""

from __future__ import annotations

from dataclasses import dataclass

from builder.catalog.specs import Field, SpecSet
from builder.reports.spec import ReportField, ReportSpec
from runtime.ledgers.store import Scope
from runtime.models import Task

#: The household ledger's key field on a person record (person rows may bind household elements).
HOUSEHOLD_LINK = {"person": ("household", "household_no")}


@dataclass(frozen=True)
class Binding:
    """Where a report field's pre-fill value comes from."""

    report_field: ReportField
    ledger_field: Field
    #: None: the row's own record; "household": the record's household.
    via: str | None = None


def bindings(spec: ReportSpec, specs: SpecSet) -> dict[str, Binding]:
    """Return report field → where its value comes from (fields no ledger can fill are absent)."""
    if not spec.rows.ledger:
        return {}
    ledger = specs.ledgers[spec.rows.ledger]
    own = {f.element.code: f for f in ledger.fields}
    linked = HOUSEHOLD_LINK.get(ledger.code)
    other = {f.element.code: f for f in specs.ledgers[linked[0]].fields} if linked else {}
    found = {}
    for f in spec.fields:
        if f.element in own:
            found[f.name] = Binding(f, own[f.element])
        elif f.element in other:
            found[f.name] = Binding(f, other[f.element], via=linked[0])
    return found


def key_field(spec: ReportSpec, specs: SpecSet, plan: dict[str, Binding]) -> str | None:
    """Return the report field bound to the row ledger's key (ID number, parcel code …) in `plan`, if any."""
    if not spec.rows.ledger:
        return None
    key = specs.ledgers[spec.rows.ledger].key
    return next((name for name, b in plan.items() if b.via is None and b.ledger_field.name == key), None)


def task_scope(specs: SpecSet, task: Task) -> Scope:
    """Return the org units a task covers (a township, or one village)."""
    unit = specs.org_units[task.org_unit_code]
    if unit.level == "village":
        return Scope(township=unit.parent, village=unit.code)
    return Scope(township=unit.code)
