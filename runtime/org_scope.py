"""Scope: the org units a user reads and writes, and the check every ledger write passes.

A field that decides scope (a ledger's township and village fields, and any field bound to an
org-unit element) changes only within the writer's own scope: a village worker keeps a record in
her village, a township keeps its records in its township (in villages of that township), and a
district-wide writer (keepers, imports) moves them anywhere. `ledger_store`'s update and upsert
check every record they write (`outside`) and refuse one they may not touch; forms and task
cells ask `cell_problem` first, so the message stands next to the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from builder.catalog.specs import Ledger
from runtime.errors import ErrorCode, OperationRefused

#: Why a value of an org-unit field is refused (never saying where the record or unit lies).
MOVED_TOWNSHIP = "所选镇街不在您的管辖范围内：只能在本镇街范围内修改，不能把记录移到其他镇街"
MOVED_VILLAGE = "所选村（社区）不在您的管辖范围内：只能在本村（社区）范围内修改，不能把记录移到其他村（社区）"
FOREIGN_VILLAGE = "所选村（社区）不在您的管辖范围内：只能选择本镇街的村（社区）"
NOT_YOURS = "这条记录不在您的管辖范围内，不能修改"


@dataclass(frozen=True)
class Scope:
    """The org units a reader may see: the whole district, one township or one village."""

    township: str | None = None
    village: str | None = None

    def holds(self, township: str | None, village: str | None) -> bool:
        """Tell whether a record of this township and village lies within the scope."""
        if self.township and township != self.township:
            return False
        return not (self.village and village != self.village)


#: The whole district: the scope of keepers and of what they decide (imports, conflicts).
DISTRICT = Scope()


class OutOfScope(OperationRefused):
    """A write that would take a record out of the writer's scope, or touch one outside it."""

    def __init__(self, errors: dict[str, str]):
        """Keep the messages by field name."""
        super().__init__(ErrorCode.OUT_OF_SCOPE, reasons="；".join(dict.fromkeys(errors.values())))
        self.errors = errors


def cell_problem(
    level: str | None, value: Any, scope: Scope, parents: Mapping[str, str | None]
) -> str | None:
    """Return why a value of an org-unit field of `level` lies outside `scope`, or None.

    `parents` maps a village's code to its township's (only needed for a township's scope).
    """
    if not scope.township or level not in ("township", "village") or value in (None, ""):
        return None
    if level == "township":
        return None if value == scope.township else MOVED_TOWNSHIP
    if scope.village:
        return None if value == scope.village else MOVED_VILLAGE
    return None if parents.get(str(value)) == scope.township else FOREIGN_VILLAGE


def outside(
    ledger: Ledger, scope: Scope, data: Mapping[str, Any], parents: Mapping[str, str | None]
) -> dict[str, str]:
    """Return, by org-unit field, why a record with these values lies outside `scope` (empty: inside)."""
    if not scope.township:
        return {}
    errors = {}
    township = data.get(ledger.township_field)
    if township != scope.township:
        errors[ledger.township_field] = MOVED_TOWNSHIP
    village = data.get(ledger.village_field) if ledger.village_field else None
    if scope.village and village != scope.village:
        errors[ledger.village_field or ledger.township_field] = MOVED_VILLAGE
    elif ledger.village_field and (problem := cell_problem("village", village, scope, parents)):
        errors[ledger.village_field] = problem
    return {name: message for name, message in errors.items() if name}


def parents_of(org_units: Mapping[str, Any]) -> dict[str, str | None]:
    """Return org-unit code → its parent's code, from a spec set's org units."""
    return {code: unit.parent for code, unit in org_units.items()}


@dataclass(frozen=True)
class CellScope:
    """The org-unit cells of a report's rows (cell → org level) and the scope their values keep to."""

    levels: Mapping[str, str]
    scope: Scope
    parents: Mapping[str, str | None]

    def problem(self, name: str, value: Any) -> str | None:
        """Return why a cell's value lies outside the scope, or None (also for other cells)."""
        return cell_problem(self.levels.get(name), value, self.scope, self.parents)

    def problems(self, values: Mapping[str, Any]) -> dict[str, str]:
        """Return, by cell, why the org-unit values of a row lie outside the scope."""
        return {name: problem for name in self.levels if (problem := self.problem(name, values.get(name)))}


def cell_scope(plan: Mapping[str, Any], scope: Scope, org_units: Mapping[str, Any]) -> CellScope:
    """Return the org-unit cells of a report (its bindings: field → Binding) and the scope they keep to."""
    levels = {name: level for name, b in plan.items() if (level := b.ledger_field.element.org_level)}
    return CellScope(levels, scope, parents_of(org_units))
