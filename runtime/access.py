"""Who is reading, and which org units each may see (who may do what: `runtime.permissions`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from builder.catalog.specs import Element
from runtime.clock import local_today
from runtime.errors import ErrorCode, NotFound
from runtime.ledgers.store import Scope
from runtime.models import Department, OrgUnit, User
from runtime.permissions import Action, Role, may
from runtime.sharing.sight import NO_GRANTS, Grants, grants_in_force


@dataclass(frozen=True)
class Viewer:
    """Who is reading: enough of a user to decide scope and masking."""

    user_id: int | None
    role: str
    township: str | None = None
    village: str | None = None
    #: The name of the department the viewer works for (区残联 …): the owner of some elements.
    department: str | None = None
    #: The grants in force of the viewer's department: elements it reads in clear, and where.
    grants: Grants = NO_GRANTS
    #: What was decided for this viewer once and asked again (how it sees each ledger's fields).
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

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
    grants: Grants = NO_GRANTS,
) -> Viewer:
    """Build a Viewer from a user's role, the org unit the user is bound to, their department's
    name and its grants in force."""
    if may(role, Action.WHOLE_DISTRICT) or not org_unit_code:
        return Viewer(user_id, role, department=department, grants=grants)
    if org_level == "village":
        return Viewer(user_id, role, township=parent_code, village=org_unit_code)
    return Viewer(user_id, role, township=org_unit_code)


def viewer_of(conn: Connection, user_id: int, today: date | None = None) -> Viewer:
    """Return the Viewer of a user by id, as the web builds it at login (LookupError if none),
    with the grants in force `today` (the district's today by default)."""
    row = conn.execute(
        select(
            User.role,
            User.org_unit_code,
            OrgUnit.level,
            OrgUnit.parent_code,
            Department.name,
            User.department_id,
        )
        .outerjoin(OrgUnit, OrgUnit.code == User.org_unit_code)
        .outerjoin(Department, Department.id == User.department_id)
        .where(User.id == user_id)
    ).one_or_none()
    if row is None:
        raise NotFound(ErrorCode.USER_NOT_FOUND, user=user_id)
    *facts, department_id = row
    return viewer_for(user_id, *facts, grants=grants_of(conn, department_id, today))


def grants_of(conn: Connection, department_id: int | None, today: date | None = None) -> Grants:
    """Return the grants in force of a department (none without one), loaded once per request or job."""
    if department_id is None:
        return NO_GRANTS
    return grants_in_force(conn, department_id, today or local_today())
