"""Set up a database: org units, departments and the demo users."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from builder.catalog.specs import SpecSet
from runtime.accounts.passwords import hash_password
from runtime.demo.accounts import DEMO_PASSWORD, DEPARTMENTS, DISTRICT_USERS, TOWNSHIP_LOGINS
from runtime.models import Department, OrgUnit, User


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


def demo_logins(specs: SpecSet) -> list[tuple[str, str, str, str, str | None, str | None]]:
    """Return every demo login as (username, display name, role, where, department, org unit)."""
    names = dict(DEPARTMENTS)
    logins = [
        (username, name, role, names[dept] if dept else "永川区", dept, None)
        for username, name, role, dept in DISTRICT_USERS
    ]
    for login, township in zip(TOWNSHIP_LOGINS, specs.townships(), strict=True):
        logins.append((login, f"{township.name}填报员", "township", township.name, None, township.code))
    village = specs.villages(specs.townships()[0].code)[0]
    logins.append(("wangge", f"{village.name}网格员", "village", village.name, None, village.code))
    return logins


def create_demo_users(session: Session, specs: SpecSet) -> list[tuple[str, str, str]]:
    """Create the demo logins that do not exist yet; return (username, role, where) of all."""
    load_departments(session)
    departments = {d.code: d.id for d in session.scalars(select(Department))}
    have = set(session.scalars(select(User.username)))
    logins = demo_logins(specs)
    for username, name, role, _where, dept, unit in logins:
        if username not in have:  # each hash with a salt of its own: equal passwords never show
            session.add(
                User(
                    username=username,
                    display_name=name,
                    password_hash=hash_password(DEMO_PASSWORD),
                    role=role,
                    department_id=departments[dept] if dept else None,
                    org_unit_code=unit,
                )
            )
    session.flush()
    return [(username, role, where) for username, _n, role, where, _d, _u in logins]
