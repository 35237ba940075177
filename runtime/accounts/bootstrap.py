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

#: (code, name) of the district departments.
DEPARTMENTS = (
    ("gaigeban", "区委办（改革办）"),
    ("minzheng", "区民政局"),
    ("canlian", "区残联"),
    ("nongye", "区农业农村委"),
    ("gongan", "区公安分局"),
    ("zhujian", "区住建委"),
    ("shichang", "区市场监管局"),
    ("renshe", "区人力社保局"),
    ("tuiyi", "区退役军人事务局"),
)


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


def load_departments(session: Session) -> None:
    """Insert the district departments the database lacks."""
    have = set(session.scalars(select(Department.code)))
    for code, name in DEPARTMENTS:
        if code not in have:
            session.add(Department(code=code, name=name))
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
