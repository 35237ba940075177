"""What the grant pages show for the codes a grant holds: elements, townships, ledgers, scopes."""

from __future__ import annotations

from builder.catalog.specs import SpecSet
from web.i18n import gettext as _


class Names:
    """What the grant templates show for codes: elements, townships, ledgers, scopes."""

    def __init__(self, specs: SpecSet):
        """Keep the spec set the names come from."""
        self.specs = specs

    def element(self, code: str) -> str:
        """Return an element's name (its code if the catalog lost it)."""
        element = self.specs.elements.get(code)
        return element.name if element else code

    def elements(self, codes: tuple[str, ...] | list[str] | None) -> str:
        """Return elements' names joined."""
        return "、".join(self.element(c) for c in codes or ())

    def ledger(self, code: str) -> str:
        """Return a ledger's title."""
        ledger = self.specs.ledgers.get(code)
        return ledger.title if ledger else code

    def scope(self, townships: tuple[str, ...] | list[str] | None) -> str:
        """Return where a grant runs: 全区, or its townships' names."""
        if townships is None:
            return _("全区")
        units = self.specs.org_units
        return "、".join(units[c].name if c in units else c for c in townships)
