"""Who owns a data element, and who decides the changes others propose to it.

An element's owner is a department (`Element.department`, a name, found in the `departments`
table); an element whose owner is not there is the administrators'. A change by the owner or an
administrator, or to an element field work may change directly (`field_edit: direct`), applies at
once (`applies_directly`); any other is proposed (`runtime.sharing.proposals`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, select

from builder.catalog.specs import Element
from runtime.access import Viewer
from runtime.errors import ErrorCode, NotAllowed
from runtime.models import Department, User
from runtime.permissions import Action, may


def applies_directly(viewer: Viewer, element: Element) -> bool:
    """Tell whether a change by `viewer` to `element` applies at once rather than being proposed.

    It does for the element's owner, for an administrator (who decides every proposal anyway) and
    for the elements field work may change directly (`field_edit: direct`: phones, addresses).
    """
    return element.direct_edit or viewer.owns(element) or may(viewer.role, Action.ANY_DEPARTMENT)


@dataclass(frozen=True)
class Owner:
    """Who decides the proposals of an element: a department, or the administrators (`id` None)."""

    id: int | None
    #: The department's code, "admin" for the administrators (as audit targets name them).
    code: str
    name: str


#: The decider of an element whose owner is not a department of the database.
ADMINS = Owner(None, "admin", "系统管理员")


def owners(conn: Connection) -> dict[str, Owner]:
    """Return department name → Owner, for the elements' owners (`Element.department` is a name)."""
    return {
        name: Owner(did, code, name)
        for did, code, name in conn.execute(select(Department.id, Department.code, Department.name))
    }


def owner_of(found: Mapping[str, Owner], element: Element) -> Owner:
    """Return who decides the proposals of `element`."""
    return found.get(element.department, ADMINS)


@dataclass(frozen=True)
class Decider:
    """A user deciding proposals: a department decides its own elements', an administrator all."""

    user_id: int | None
    role: str
    department_id: int | None = None

    @property
    def decides_all(self) -> bool:
        """Tell whether the user decides every proposal (an administrator), ownerless ones included."""
        return may(self.role, Action.PROPOSALS) and may(self.role, Action.ANY_DEPARTMENT)

    def decides(self, owner_id: int | None) -> bool:
        """Tell whether the user decides proposals to the owner `owner_id` (None: the administrators)."""
        if not may(self.role, Action.PROPOSALS):
            return False
        return self.decides_all or (owner_id is not None and owner_id == self.department_id)


def decider_of(conn: Connection, user_id: int) -> Decider:
    """Return a user as a Decider (NotAllowed for an unknown user)."""
    row = conn.execute(select(User.role, User.department_id).where(User.id == user_id)).one_or_none()
    if row is None:
        raise NotAllowed(ErrorCode.USER_NOT_FOUND, user=user_id)
    return Decider(user_id, row.role, row.department_id)
