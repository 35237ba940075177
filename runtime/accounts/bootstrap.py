"""Set up a database for production: the org units, the district departments and one administrator.

The demo accounts are not made here: `runtime.demo.accounts` makes them, for `yibiaotong seed`.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from builder.catalog.specs import SpecSet
from runtime.accounts.passwords import check_new_password, hash_password
from runtime.models import Department, OrgUnit, User
from runtime.permissions import Role

#: The user name of the administrator `yibiaotong init` creates.
ADMIN_USERNAME = "admin"


def load_org_units(session: Session, specs: SpecSet) -> int:
    """Insert the org units of the specs that the database lacks; return how many were added."""
    have = set(session.scalars(select(OrgUnit.code)))
    added = 0
    for unit in specs.org_units.values():  # parents come before their children
        if unit.code not in have:
            session.add(
                OrgUnit(
                    code=unit.code, name=unit.name, level=unit.level, parent_code=unit.parent, kind=unit.kind
                )
            )
            added += 1
            session.flush()  # keep parent rows ahead of children for the foreign key
    return added


def load_departments(session: Session, specs: SpecSet) -> None:
    """Insert the district departments of the specs (`departments.json`) that the database lacks."""
    have = set(session.scalars(select(Department.code)))
    for department in specs.departments.values():
        if department.code not in have:
            session.add(Department(code=department.code, name=department.name))
    session.flush()


def has_administrator(session: Session) -> bool:
    """Tell whether the database has an administrator already (or a user holds the administrator's name)."""
    found = select(User.id).where(or_(User.role == Role.ADMIN, User.username == ADMIN_USERNAME)).limit(1)
    return session.scalar(found) is not None


def new_administrator(password: str, repeat: str | None = None, username: str = ADMIN_USERNAME) -> User:
    """Return an unsaved administrator with `password`, refused (PasswordRefused) like any new password."""
    user = User(username=username, display_name="系统管理员", role=Role.ADMIN)
    check_new_password(user, password, repeat)
    user.password_hash = hash_password(password)
    return user


def create_administrator(session: Session, password: str, username: str = ADMIN_USERNAME) -> User:
    """Create the administrator `username` with `password` (checked as a new password); return it."""
    user = new_administrator(password, username=username)
    session.add(user)
    session.flush()
    return user
