"""Roles, what each may do, and which org units each may see."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from runtime.errors import ErrorCode, NotFound
from runtime.ledgers.store import Scope
from runtime.models import OrgUnit, User

#: Role code → (Chinese name, what the role does).
ROLES = {
    "admin": ("系统管理员", "用户、组织机构与授权"),
    "keeper": ("数据管理岗", "导入与维护台账，管理数据元目录"),
    "department": ("部门管理员", "设计临时报表、申请准入、下派与汇总"),
    "reviewer": ("准入审核员", "审核报表准入申请"),
    "township": ("镇街填报员", "查看本镇街台账，填报任务"),
    "village": ("村（社区）网格员", "走访更新本村（社区）台账"),
    "leader": ("领导", "查看减负成效与数据看板"),
}
#: Roles that see the whole district; the others see only their own org unit.
DISTRICT_ROLES = {"admin", "keeper", "department", "reviewer", "leader"}
#: Roles that may change ledgers by hand and import files.
KEEPER_ROLES = {"admin", "keeper"}
#: Roles that may correct single records by hand: keepers anywhere, grid workers in their village
#: during door-to-door visits (日常走访).
RECORD_EDIT_ROLES = KEEPER_ROLES | {"village"}
#: Roles that work with people face to face and so see personal values (names, addresses).
FIELD_ROLES = {"admin", "keeper", "township", "village"}
#: Roles that may export ledgers in bulk (their own scope, masked as on their pages): not the
#: reviewer, who judges report requests, nor the leader, who reads dashboards.
EXPORT_ROLES = {"admin", "keeper", "department", "township", "village"}


@dataclass(frozen=True)
class Viewer:
    """Who is reading: enough of a user to decide scope and masking."""

    user_id: int | None
    role: str
    township: str | None = None
    village: str | None = None

    @property
    def scope(self) -> Scope:
        """Return the org units this viewer may see."""
        if self.role in DISTRICT_ROLES:
            return Scope()
        return Scope(township=self.township, village=self.village)

    @property
    def can_edit(self) -> bool:
        """Tell whether the viewer may edit ledger records and import files."""
        return self.role in KEEPER_ROLES

    @property
    def can_edit_records(self) -> bool:
        """Tell whether the viewer may correct single records of their scope by hand."""
        return self.role in RECORD_EDIT_ROLES

    @property
    def edit_source(self) -> str:
        """Return the provenance of the viewer's hand edits: a village visit or a keeper's edit."""
        return "visit" if self.role == "village" else "edit"

    @property
    def can_export(self) -> bool:
        """Tell whether the viewer may export ledgers in bulk."""
        return self.role in EXPORT_ROLES

    @property
    def can_reveal(self) -> bool:
        """Tell whether the viewer may ask for a sensitive value in clear (audited)."""
        return self.role in KEEPER_ROLES

    def sees(self, township: str | None, village: str | None) -> bool:
        """Tell whether a record of this township/village is within the viewer's scope."""
        scope = self.scope
        if scope.township and township != scope.township:
            return False
        return not (scope.village and village != scope.village)


def viewer_for(
    user_id: int | None, role: str, org_unit_code: str | None, org_level: str | None, parent_code: str | None
) -> Viewer:
    """Build a Viewer from a user's role and the org unit the user is bound to."""
    if role in DISTRICT_ROLES or not org_unit_code:
        return Viewer(user_id, role)
    if org_level == "village":
        return Viewer(user_id, role, township=parent_code, village=org_unit_code)
    return Viewer(user_id, role, township=org_unit_code)


def viewer_of(conn: Connection, user_id: int) -> Viewer:
    """Return the Viewer of a user by id, as the web builds it at login (LookupError if none)."""
    row = conn.execute(
        select(User.role, User.org_unit_code, OrgUnit.level, OrgUnit.parent_code)
        .outerjoin(OrgUnit, OrgUnit.code == User.org_unit_code)
        .where(User.id == user_id)
    ).one_or_none()
    if row is None:
        raise NotFound(ErrorCode.USER_NOT_FOUND, user=user_id)
    return viewer_for(user_id, *row)
