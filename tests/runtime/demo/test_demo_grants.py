"""The demo grants: one in force (narrowed to a township), one waiting; created once."""

from sqlalchemy import select

from runtime.clock import local_today
from runtime.demo.grants import LAISU, load_demo_grants
from runtime.models import Department
from runtime.sharing.grant_lists import applications_to
from runtime.sharing.sight import grants_in_force


def _clear(conn, department_id, today):
    """Element code → townships granted in clear (None: the district), as the decision point reads them."""
    return dict(grants_in_force(conn, department_id, today).clear)


def test_demo_grants_are_one_in_force_and_one_pending_created_once(engine, specs):
    assert load_demo_grants(engine, specs) == 2
    assert load_demo_grants(engine, specs) == 0
    today = local_today()
    with engine.connect() as conn:
        ids = dict(conn.execute(select(Department.code, Department.id)).all())
        assert _clear(conn, ids["tuiyi"], today) == {"person.assistance_type": frozenset({LAISU})}
        (granted,) = applications_to(conn, ids["minzheng"])
        (pending,) = applications_to(conn, ids["weijian"])
    assert granted.narrowed and granted.reason
    assert (pending.grantee, pending.elements, pending.state(today)) == (
        "区残联",
        ("person.health_status",),
        "pending",
    )
