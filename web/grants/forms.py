"""The grant pages' forms: what was typed, kept as typed for a refused form, and read for the runtime."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from werkzeug.datastructures import MultiDict

from builder.catalog.specs import Element, SpecSet
from runtime.sharing.grant_checks import DEFAULT_YEARS, add_years, may_apply_for
from runtime.sharing.grant_lists import Application
from web.i18n import gettext as _

#: What a date field says when it holds no date.
BAD_DATE = "请按“年-月-日”填写日期，如 2027-12-31"


def _day(text: str) -> date | None:
    """Return the date written as YYYY-MM-DD, or None."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def _townships(values: MultiDict[str, str]) -> tuple[str, list[str]]:
    """Return the scope chosen (`district` or `some`) and the townships ticked."""
    scope = "some" if values.get("scope") == "some" else "district"
    return scope, values.getlist("township")


@dataclass
class ApplyForm:
    """The application form (申请授权) as typed."""

    ledger: str
    elements: list[str]
    #: `district` (全区) or `some` (the ticked townships).
    scope: str
    townships: list[str]
    purpose: str
    starts_on: str
    expires_on: str
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, values: MultiDict[str, str], specs: SpecSet, today: date) -> ApplyForm:
        """Read the form (or a query that pre-selects a ledger and elements); defaults for the rest."""
        ledger = values.get("ledger", "")
        scope, townships = _townships(values)
        return cls(
            ledger=ledger if ledger in specs.ledgers else "",
            elements=values.getlist("element"),
            scope=scope,
            townships=townships,
            purpose=values.get("purpose", ""),
            starts_on=values.get("starts_on", today.isoformat()),
            expires_on=values.get("expires_on", add_years(today, DEFAULT_YEARS).isoformat()),
        )

    def arguments(self) -> dict[str, object] | None:
        """Return the keywords of `runtime.sharing.grants.apply`, or None with `errors` set for bad dates."""
        starts_on, expires_on = _day(self.starts_on), _day(self.expires_on)
        for name, text, day in (
            ("starts_on", self.starts_on, starts_on),
            ("expires_on", self.expires_on, expires_on),
        ):
            if day is None:
                self.errors[name] = _(BAD_DATE) if text.strip() else _("请填写日期")
        if self.errors:
            return None
        return {
            "ledger": self.ledger,
            "elements": self.elements,
            "townships": self.townships if self.scope == "some" else None,
            "purpose": self.purpose,
            "starts_on": starts_on,
            "expires_on": expires_on,
        }


@dataclass(frozen=True)
class Choice:
    """An element the application form offers, with what the department holds of it already."""

    element: Element
    checked: bool
    #: The department's grants of it in force (or to come), as the page lists them.
    held: tuple[Application, ...]


def choices(specs: SpecSet, form: ApplyForm, department: str | None, held: list[Application]) -> list[Choice]:
    """Return the elements of the form's ledger the department may apply for, in ledger order."""
    ledger = specs.ledgers.get(form.ledger)
    if ledger is None:
        return []
    wanted = set(form.elements)
    return [
        Choice(
            f.element,
            f.element.code in wanted,
            tuple(a for a in held if f.element.code in (a.granted_elements or ())),
        )
        for f in ledger.fields
        if may_apply_for(f.element, department)
    ]


@dataclass
class DecideForm:
    """An owner's decision on one application, as typed: approve (as applied or narrowed) or refuse."""

    action: str
    elements: list[str]
    scope: str
    townships: list[str]
    expires_on: str
    reason: str
    errors: dict[str, str] = field(default_factory=dict)
    #: Approve the values masked by their sensitivity only, not in clear.
    masked_only: bool = False

    @classmethod
    def read(cls, values: MultiDict[str, str]) -> DecideForm:
        """Read the posted decision."""
        scope, townships = _townships(values)
        return cls(
            action=values.get("action", ""),
            elements=values.getlist("element"),
            scope=scope,
            townships=townships,
            expires_on=values.get("expires_on", ""),
            reason=values.get("reason", ""),
            masked_only=values.get("masked_only") == "1",
        )

    @classmethod
    def of(cls, application: Application) -> DecideForm:
        """Return the form as it first shows: everything applied for, ticked."""
        return cls(
            action="",
            elements=list(application.elements),
            scope="district" if application.townships is None else "some",
            townships=list(application.townships or ()),
            expires_on=application.expires_on.isoformat(),
            reason="",
        )

    def approval(self, application: Application) -> dict[str, object] | None:
        """Return the narrowing keywords of `approve`, or None with `errors` set for a bad date."""
        expires_on = _day(self.expires_on) if self.expires_on.strip() else application.expires_on
        if expires_on is None:
            self.errors["expires_on"] = _(BAD_DATE)
            return None
        district = application.townships is None and self.scope == "district"
        return {
            "elements": self.elements,
            "townships": None if district else self.townships,
            "expires_on": expires_on,
            "reason": self.reason,
            "in_clear": not self.masked_only,
        }
