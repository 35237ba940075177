"""Demo grants that have run their course, and the audit entries they left, so the audit page has a story.

区残联 was granted 区民政局's 救助类别 for two townships to check its subsidy list, extracted and
read it in clear, and 民政 revoked the grant when the check was done; 区民政局 was granted 区残联's
残疾等级 district-wide for a low-income review, exported and read it, and the grant has expired;
区退役军人事务局's application for 残疾等级 was refused. None of them lets anyone read anything
today. The entries are written as the grant and read paths write them (issue 12's conventions),
backdated; once those paths exist the demo may make them by acting instead.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine, func, insert, select

from builder.catalog.specs import SpecSet
from runtime.clock import LOCAL_TZ, local_today
from runtime.models import AuditEntry, Department, Grant, Record, User

#: Two townships of 区残联's narrowed grant: 中山路街道 and 来苏镇 (the logins the README names).
TOWNSHIPS = ["500118001", "500118108"]


def _at(day: date, hour: int) -> datetime:
    """Return `hour` o'clock of a local day as naive UTC."""
    return datetime.combine(day, time(hour), LOCAL_TZ).astimezone(UTC).replace(tzinfo=None)


def load_demo_sharing_log(engine: Engine, specs: SpecSet) -> int:
    """Write the demo's past grants and their audit entries unless a grant was refused or revoked
    already (they are that past); return the entries."""
    today = local_today()
    with engine.begin() as conn:
        past = select(func.count()).select_from(Grant).where(Grant.status.in_(("refused", "revoked")))
        if conn.execute(past).scalar_one():
            return 0
        users = dict(conn.execute(select(User.username, User.id)).all())
        departments = dict(conn.execute(select(Department.code, Department.id)).all())
        if not {"canlian", "minzheng", "tuiyi"} <= set(users) or not {"canlian", "minzheng", "tuiyi"} <= set(
            departments
        ):
            return 0
        keys = {
            unit: conn.execute(
                select(Record.key).where(Record.ledger == "person", Record.township_code == unit).limit(10)
            )
            .scalars()
            .all()
            for unit in TOWNSHIPS
        }
        grants = _grants(today, users, departments)
        ids = [conn.execute(insert(Grant).values(**g).returning(Grant.id)).scalar_one() for g in grants]
        entries = _entries(today, users, ids, keys)
        conn.execute(insert(AuditEntry), entries)
    return len(entries)


def _grants(today: date, users: dict[str, int], departments: dict[str, int]) -> list[dict[str, Any]]:
    """Return the three grants: revoked, expired, refused."""
    return [
        {
            "grantee_id": departments["canlian"],
            "owner_id": departments["minzheng"],
            "ledger": "person",
            "elements": ["person.assistance_type"],
            "townships": None,
            "purpose": "核对残疾人两项补贴发放对象的救助类别",
            "starts_on": today - timedelta(days=19),
            "expires_on": today + timedelta(days=60),
            "status": "revoked",
            "granted_elements": ["person.assistance_type"],
            "granted_townships": TOWNSHIPS,
            "granted_expires_on": today + timedelta(days=30),
            "requested_by": users["canlian"],
            "requested_at": _at(today - timedelta(days=20), 9),
            "decided_by": users["minzheng"],
            "decided_at": _at(today - timedelta(days=19), 15),
            "reason": "先在中山路街道、来苏镇两个试点镇街核对，期限缩短为 30 天",
            "revoked_by": users["minzheng"],
            "revoked_at": _at(today - timedelta(days=10), 11),
            "revoke_reason": "试点核对已完成，收回授权",
        },
        {
            "grantee_id": departments["minzheng"],
            "owner_id": departments["canlian"],
            "ledger": "person",
            "elements": ["person.disability_grade", "person.disability_category"],
            "townships": None,
            "purpose": "低保年度复核：残疾人家庭收入核减",
            "starts_on": today - timedelta(days=39),
            "expires_on": today - timedelta(days=5),
            "status": "granted",
            "granted_elements": ["person.disability_grade", "person.disability_category"],
            "granted_townships": None,
            "granted_expires_on": today - timedelta(days=5),
            "requested_by": users["minzheng"],
            "requested_at": _at(today - timedelta(days=40), 10),
            "decided_by": users["canlian"],
            "decided_at": _at(today - timedelta(days=39), 16),
        },
        {
            "grantee_id": departments["tuiyi"],
            "owner_id": departments["canlian"],
            "ledger": "person",
            "elements": ["person.disability_grade"],
            "townships": None,
            "purpose": "优抚对象信息核对",
            "starts_on": today - timedelta(days=7),
            "expires_on": today + timedelta(days=180),
            "status": "refused",
            "requested_by": users["tuiyi"],
            "requested_at": _at(today - timedelta(days=8), 9),
            "decided_by": users["canlian"],
            "decided_at": _at(today - timedelta(days=7), 14),
            "reason": "用途不够具体：请说明涉及哪些优抚对象，是否需要全区范围",
        },
    ]


def _entries(
    today: date, users: dict[str, int], ids: list[int], keys: dict[str, list[str]]
) -> list[dict[str, Any]]:
    """Return the audit entries the grants' steps and the clear reads under them wrote, oldest first."""
    revoked, expired, refused = ids
    to_canlian, to_minzheng, to_tuiyi = (
        f"grant/minzheng/canlian/{revoked}",
        f"grant/canlian/minzheng/{expired}",
        f"grant/canlian/tuiyi/{refused}",
    )
    assistance = ["person.assistance_type"]
    disability = ["person.disability_grade", "person.disability_category"]
    sample = [k for unit in TOWNSHIPS for k in keys[unit]][:20]

    def entry(
        days: int, hour: int, who: str, action: str, target: str, detail: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "at": _at(today - timedelta(days=days), hour),
            "actor_id": users[who],
            "action": action,
            "target": target,
            "detail": detail,
        }

    apply_minzheng = {"ledger": "person", "elements": disability, "townships": None}
    apply_canlian = {"ledger": "person", "elements": assistance, "townships": None}
    return [
        entry(
            40,
            10,
            "minzheng",
            "grant.apply",
            to_minzheng,
            apply_minzheng
            | {
                "expires_on": (today - timedelta(days=5)).isoformat(),
                "purpose": "低保年度复核：残疾人家庭收入核减",
            },
        ),
        entry(
            39,
            16,
            "canlian",
            "grant.approve",
            to_minzheng,
            apply_minzheng
            | {
                "expires_on": (today - timedelta(days=5)).isoformat(),
            },
        ),
        entry(
            30,
            9,
            "minzheng",
            "read.clear",
            "canlian/person",
            {
                "elements": disability,
                "records": 1342,
                "keys": sample,
                "purpose": "低保年度复核：残疾人家庭收入核减",
                "grants": [expired],
                "via": "export",
                "path": "/ledgers/person/export",
            },
        ),
        entry(
            20,
            9,
            "canlian",
            "grant.apply",
            to_canlian,
            apply_canlian
            | {
                "expires_on": (today + timedelta(days=60)).isoformat(),
                "purpose": "核对残疾人两项补贴发放对象的救助类别",
            },
        ),
        entry(
            19,
            15,
            "minzheng",
            "grant.approve",
            to_canlian,
            apply_canlian
            | {
                "townships": TOWNSHIPS,
                "expires_on": (today + timedelta(days=30)).isoformat(),
                "reason": "先在中山路街道、来苏镇两个试点镇街核对，期限缩短为 30 天",
            },
        ),
        entry(
            18,
            10,
            "canlian",
            "read.clear",
            "minzheng/person",
            {
                "elements": assistance,
                "records": 86,
                "keys": sample,
                "purpose": "核对残疾人两项补贴发放对象的救助类别",
                "grants": [revoked],
                "via": "extract",
                "path": "/reports/disability_survey/extract",
            },
        ),
        entry(
            16,
            11,
            "canlian",
            "read.clear",
            "minzheng/person",
            {
                "elements": assistance,
                "records": 1,
                "keys": sample[:1],
                "purpose": "核对残疾人两项补贴发放对象的救助类别",
                "grants": [revoked],
                "via": "page",
                "path": "/ledgers/person/records",
            },
        ),
        entry(
            12,
            14,
            "minzheng",
            "read.clear",
            "canlian/person",
            {
                "elements": ["person.disability_grade"],
                "records": 50,
                "keys": sample,
                "purpose": "低保年度复核：残疾人家庭收入核减",
                "grants": [expired],
                "via": "page",
                "path": "/ledgers/person",
            },
        ),
        entry(
            10,
            11,
            "minzheng",
            "grant.revoke",
            to_canlian,
            {
                "ledger": "person",
                "elements": assistance,
                "reason": "试点核对已完成，收回授权",
            },
        ),
        entry(
            8,
            9,
            "tuiyi",
            "grant.apply",
            to_tuiyi,
            {
                "ledger": "person",
                "elements": ["person.disability_grade"],
                "townships": None,
                "expires_on": (today + timedelta(days=180)).isoformat(),
                "purpose": "优抚对象信息核对",
            },
        ),
        entry(
            7,
            14,
            "canlian",
            "grant.refuse",
            to_tuiyi,
            {
                "ledger": "person",
                "elements": ["person.disability_grade"],
                "reason": "用途不够具体：请说明涉及哪些优抚对象，是否需要全区范围",
            },
        ),
    ]
