"""The demo district's logins, all with the public demo password: made by `yibiaotong seed` only.

The administrator is not among them: `yibiaotong init` makes it with the operator's password.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from builder.catalog.specs import SpecSet
from runtime.accounts.bootstrap import ADMIN_USERNAME, load_departments
from runtime.accounts.passwords import check_password, hash_password
from runtime.models import Department, User
from runtime.permissions import Role

#: The password of every demo login; it is public, so the demo accounts never go into production.
DEMO_PASSWORD = "yibiaotong"

#: Pinyin login names of the 23 townships, in catalog order.
TOWNSHIP_LOGINS = (
    "zhongshanlu",
    "shenglilu",
    "nandajie",
    "chashanzhuhai",
    "daan",
    "chenshi",
    "weixinghu",
    "qingfeng",
    "jinlong",
    "linjiang",
    "hegeng",
    "songgai",
    "xianlong",
    "jian",
    "wujian",
    "laisu",
    "baofeng",
    "shuangshi",
    "honglu",
    "yongrong",
    "sanjiao",
    "banqiao",
    "zhutuo",
)

#: (username, display name, role, department code) of the district-level demo users.
DISTRICT_USERS = (
    ("keeper", "数据管理岗 刘敏", Role.KEEPER, None),
    ("minzheng", "区民政局 王强", Role.DEPARTMENT, "minzheng"),
    ("canlian", "区残联 陈静", Role.DEPARTMENT, "canlian"),
    ("nongye", "区农业农村委 赵刚", Role.DEPARTMENT, "nongye"),
    ("tuiyi", "区退役军人事务局 李军", Role.DEPARTMENT, "tuiyi"),
    ("gongan", "区公安分局 吴勇", Role.DEPARTMENT, "gongan"),
    ("reviewer", "改革办审核员 周涛", Role.REVIEWER, "gaigeban"),
    ("leader", "区领导 孙伟", Role.LEADER, None),
)

#: A demo login: (username, display name, role, where, department code, org unit code).
Login = tuple[str, str, str, str, str | None, str | None]


def demo_logins(specs: SpecSet) -> list[Login]:
    """Return every demo login as (username, display name, role, where, department, org unit)."""
    names = {d.code: d.name for d in specs.departments.values()}
    district = specs.district()
    logins = [
        (username, name, role, names[dept] if dept else district.name if district else "", dept, None)
        for username, name, role, dept in DISTRICT_USERS
    ]
    for login, township in zip(TOWNSHIP_LOGINS, specs.townships(), strict=True):
        logins.append((login, f"{township.name}填报员", Role.TOWNSHIP, township.name, None, township.code))
    village = specs.villages(specs.townships()[0].code)[0]
    logins.append(("wangge", f"{village.name}网格员", Role.VILLAGE, village.name, None, village.code))
    return logins


def create_demo_users(session: Session, specs: SpecSet) -> list[tuple[str, str, str]]:
    """Create the demo logins that do not exist yet; return (username, role, where) of all."""
    load_departments(session, specs)
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


def existing_demo_logins(session: Session, specs: SpecSet) -> list[Login]:
    """Return the logins that the demo password opens: the demo accounts that exist, in `demo_logins` order.

    The administrator is listed first when its password is the demo password too (as `make run` sets it).
    """
    logins = demo_logins(specs)
    have = set(
        session.scalars(select(User.username).where(User.username.in_([login[0] for login in logins])))
    )
    found = [login for login in logins if login[0] in have]
    admin = session.scalar(select(User).where(User.username == ADMIN_USERNAME))
    if admin is not None and admin.role == Role.ADMIN and check_password(admin, DEMO_PASSWORD):
        district = specs.district()
        found.insert(
            0, (admin.username, admin.display_name, Role.ADMIN, district.name if district else "", None, None)
        )
    return found
