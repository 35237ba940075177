"""Who is reading, and which org units each may see (who may do what: `runtime.permissions`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from builder.catalog.specs import Element
from runtime.errors import ErrorCode, NotFound
from runtime.ledgers.store import Scope
from runtime.models import Department, OrgUnit, User
from runtime.permissions import Action, Role, may


@dataclass(frozen=True)
class Viewer:
    """Who is reading: enough of a user to decide scope and masking."""

    user_id: int | None
    role: str
    township: str | None = None
    village: str | None = None
    #: The name of the department the viewer works for (区残联 …): the owner of some elements.
    department: str | None = None

    @property
    def scope(self) -> Scope:
        """Return the org units this viewer may see."""
        if may(self.role, Action.WHOLE_DISTRICT):
            return Scope()
        return Scope(township=self.township, village=self.village)

    @property
    def can_edit(self) -> bool:
        """Tell whether the viewer may edit ledger records and import files."""
        return may(self.role, Action.LEDGER_IMPORT)

    @property
    def can_edit_records(self) -> bool:
        """Tell whether the viewer may correct single records of their scope by hand."""
        return may(self.role, Action.RECORD_EDIT)

    @property
    def edit_source(self) -> str:
        """Return the provenance of the viewer's hand edits: a village visit or a keeper's edit."""
        return "visit" if self.role == Role.VILLAGE else "edit"

    @property
    def can_export(self) -> bool:
        """Tell whether the viewer may export ledgers in bulk."""
        return may(self.role, Action.EXPORT)

    @property
    def can_reveal(self) -> bool:
        """Tell whether the viewer may ask for a sensitive value in clear (audited)."""
        return may(self.role, Action.REVEAL)

    def owns(self, element: Element) -> bool:
        """Tell whether the viewer's department owns `element` (and so reads it in clear, district-wide)."""
        return self.department is not None and element.department == self.department

    def sees(self, township: str | None, village: str | None) -> bool:
        """Tell whether a record of this township/village is within the viewer's scope."""
        scope = self.scope
        if scope.township and township != scope.township:
            return False
        return not (scope.village and village != scope.village)


def viewer_for(
    user_id: int | None,
    role: str,
    org_unit_code: str | None,
    org_level: str | None,
    parent_code: str | None,
    department: str | None = None,
) -> Viewer:
    """Build a Viewer from a user's role, the org unit the user is bound to and their department's name."""
    if may(role, Action.WHOLE_DISTRICT) or not org_unit_code:
        return Viewer(user_id, role, department=department)
    if org_level == "village":
        return Viewer(user_id, role, township=parent_code, village=org_unit_code)
    return Viewer(user_id, role, township=org_unit_code)


def viewer_of(conn: Connection, user_id: int) -> Viewer:
    """Return the Viewer of a user by id, as the web builds it at login (LookupError if none)."""
    row = conn.execute(
        select(User.role, User.org_unit_code, OrgUnit.level, OrgUnit.parent_code, Department.name)
        .outerjoin(OrgUnit, OrgUnit.code == User.org_unit_code)
        .outerjoin(Department, Department.id == User.department_id)
        .where(User.id == user_id)
    ).one_or_none()
    if row is None:
        raise NotFound(ErrorCode.USER_NOT_FOUND, user=user_id)
    return viewer_for(user_id, *row)
