"""What an application for a grant, or an owner's decision on it, must satisfy: coded problems per field.

Each check returns the problems it found (or appends them); the operations of `runtime.sharing.grants`
gather every problem of a form and refuse it once with `GrantRefused`, so a page can show each
message next to its field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from builder.catalog.specs import Element, Ledger, SpecSet
from runtime.errors import ErrorCode, InvalidRequest

#: The sharing type nobody outside the owner and the keepers reads, so nobody may apply for it.
NOT_SHARED = "不予共享"
#: How long an application runs when it names no expiry; the longest any may run (from today).
DEFAULT_YEARS = 1
MAX_YEARS = 3
#: The length of a purpose or a reason (their columns).
TEXT_LIMIT = 500


@dataclass(frozen=True)
class Problem:
    """One reason an application or a decision is refused, with the form field it belongs to."""

    field: str
    error: ErrorCode
    params: dict[str, Any]

    @property
    def code(self) -> str:
        """Return the stable code of the reason."""
        return self.error.code

    @property
    def message(self) -> str:
        """Return the Chinese message of the reason."""
        return self.error.format(**self.params)


class GrantRefused(InvalidRequest):
    """An application or decision that cannot be made as asked; `errors` says why, per form field."""

    def __init__(self, problems: list[Problem]):
        """Keep every problem; the message joins them all."""
        super().__init__(ErrorCode.GRANT_REFUSED, reasons="；".join(p.message for p in problems))
        self.problems = problems

    @property
    def errors(self) -> dict[str, str]:
        """Return the messages by form field, those of one field joined."""
        errors: dict[str, list[str]] = {}
        for problem in self.problems:
            errors.setdefault(problem.field, []).append(problem.message)
        return {name: "；".join(messages) for name, messages in errors.items()}

    @property
    def codes(self) -> set[str]:
        """Return the codes of every problem."""
        return {p.code for p in self.problems}


def may_apply_for(element: Element, department: str | None) -> bool:
    """Tell whether a department (by name) may apply for an element: another's, and shared at all."""
    return department is not None and element.department != department and element.sharing != NOT_SHARED


def add_years(day: date, years: int) -> date:
    """Return the same day `years` later (29 February: the 28th)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def element_problems(
    spec: Ledger, codes: Sequence[str], department: str, problems: list[Problem]
) -> list[Element]:
    """Return the ledger's elements named by `codes`, in ledger order; note those not to apply for."""
    wanted = set(codes)
    if not wanted:
        problems.append(Problem("elements", ErrorCode.GRANT_NO_ELEMENTS, {}))
        return []
    chosen = [f.element for f in spec.fields if f.element.code in wanted]
    if unknown := sorted(wanted - {e.code for e in chosen}):
        params = {"ledger": spec.title, "elements": "、".join(unknown)}
        problems.append(Problem("elements", ErrorCode.GRANT_UNKNOWN_ELEMENTS, params))
    for element in chosen:
        if element.department == department:
            params = {"element": element.name, "department": department}
            problems.append(Problem("elements", ErrorCode.GRANT_OWN_ELEMENT, params))
        elif element.sharing == NOT_SHARED:
            problems.append(Problem("elements", ErrorCode.GRANT_NOT_SHARED, {"element": element.name}))
    return chosen


def township_problems(
    specs: SpecSet, townships: Sequence[str] | None, problems: list[Problem]
) -> list[str] | None:
    """Return the townships applied for in catalog order (None: the district); note unknown ones."""
    if townships is None:
        return None
    wanted = set(townships)
    known = [t.code for t in specs.townships()]
    if not wanted:
        problems.append(Problem("townships", ErrorCode.GRANT_NO_TOWNSHIPS, {}))
    elif unknown := sorted(wanted - set(known)):
        problems.append(
            Problem("townships", ErrorCode.GRANT_UNKNOWN_TOWNSHIPS, {"townships": "、".join(unknown)})
        )
    return [code for code in known if code in wanted]


def text_problems(field: str, text: str, what: str) -> list[Problem]:
    """Return why a purpose or reason cannot be kept: missing, or longer than its column."""
    if not text:
        return [Problem(field, ErrorCode.GRANT_TEXT_REQUIRED, {"what": what})]
    if len(text) > TEXT_LIMIT:
        return [
            Problem(field, ErrorCode.GRANT_TEXT_TOO_LONG, {"what": what.split("：")[0], "limit": TEXT_LIMIT})
        ]
    return []


def period_problems(starts_on: date, expires_on: date, today: date) -> list[Problem]:
    """Return why a period cannot be granted: it ends before it starts, has ended, or runs too long."""
    if expires_on < starts_on:
        params = {"starts_on": starts_on.isoformat(), "expires_on": expires_on.isoformat()}
        return [Problem("expires_on", ErrorCode.GRANT_EXPIRY_BEFORE_START, params)]
    if expires_on < today:
        return [Problem("expires_on", ErrorCode.GRANT_EXPIRY_PASSED, {"expires_on": expires_on.isoformat()})]
    if expires_on > (latest := add_years(today, MAX_YEARS)):
        params = {"years": MAX_YEARS, "latest": latest.isoformat()}
        return [Problem("expires_on", ErrorCode.GRANT_EXPIRY_TOO_FAR, params)]
    return []
