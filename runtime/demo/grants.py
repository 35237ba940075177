"""Demo grants, so the grant pages are not empty: one in force, one waiting for its owner.

区退役军人事务局 was granted 区民政局's 救助类别 for 来苏镇 only (it applied for the district and was
narrowed); 区残联's application for 区卫生健康委's 健康状况 waits (the demo has no 卫健委 login: an
administrator may decide it).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, func, select

from builder.catalog.specs import SpecSet
from runtime.clock import local_today
from runtime.models import Grant, User
from runtime.sharing.grants import apply, approve

#: 来苏镇, the one township the veterans' grant runs in.
LAISU = "500118108"


def load_demo_grants(engine: Engine, specs: SpecSet) -> int:
    """Create the demo grants unless someone applied for grants already; return how many.

    (The standing grants the demo reports were filed with, `runtime.demo.report_grants`, were
    applied for by no one here.)
    """
    today = local_today()
    with engine.begin() as conn:
        if conn.scalar(select(func.count()).select_from(Grant).where(Grant.requested_by.is_not(None))):
            return 0
        users = {
            name: (uid, dept)
            for name, uid, dept in conn.execute(select(User.username, User.id, User.department_id))
        }
        if not {"tuiyi", "minzheng", "canlian"} <= set(users):
            return 0
        tuiyi, minzheng, canlian = users["tuiyi"], users["minzheng"], users["canlian"]
        (veterans,) = apply(
            conn,
            specs,
            department=tuiyi[1],
            user_id=tuiyi[0],
            ledger="person",
            elements=["person.assistance_type"],
            townships=None,
            purpose="核对退役军人中的低保、特困对象，落实困难退役军人帮扶",
            starts_on=today - timedelta(days=20),
            today=today - timedelta(days=20),
        )
        approve(
            conn,
            veterans,
            user_id=minzheng[0],
            department=minzheng[1],
            is_admin=False,
            townships=[LAISU] if LAISU in specs.org_units else None,
            reason="先在来苏镇试点，试点结束后再申请扩大范围",
            today=today - timedelta(days=18),
        )
        apply(
            conn,
            specs,
            department=canlian[1],
            user_id=canlian[0],
            ledger="person",
            elements=["person.health_status"],
            townships=None,
            purpose="残疾人健康状况核查，为精准康复服务提供依据",
            today=today,
        )
    return 2
