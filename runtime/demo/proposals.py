"""Demo changes waiting for their owners, so that 区公安分局, 区民政局 and 区残联 find a queue.

The grid worker of the first village (wangge) proposes, on visits, that a person moved away
(人员状态, 区公安分局's) and that another is now on 低保 (救助类别, 区民政局's); the keeper
corrects a disability grade by hand (残疾等级, 区残联's). Made through `runtime.sharing.edits`, as
the edit form makes them.
"""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from builder.catalog.specs import SpecSet
from runtime.access import viewer_of
from runtime.ledgers.store import Query, page
from runtime.models import ProposedChange, User
from runtime.org_scope import Scope
from runtime.sharing.edits import edit_record

#: (who, field, the value proposed, the values a record may hold before, the evidence given).
STORIES = (
    ("wangge", "residence_status", "迁出", ("在册",), "入户走访：全家已迁往重庆主城，村委会出具证明"),
    ("wangge", "assistance_type", "低保", (None, "无"), "入户走访：已于本月纳入低保，见镇街民政办审批表"),
    ("keeper", "disability_grade", "二级", ("三级", "四级"), "残疾人证换证后等级调整，依据区残联换证通知"),
)


def load_demo_proposals(engine: Engine, specs: SpecSet) -> int:
    """Propose the demo changes unless proposals exist already; return how many were made."""
    persons = specs.ledgers["person"]
    with engine.begin() as conn:
        if conn.execute(select(func.count()).select_from(ProposedChange)).scalar_one():
            return 0
        users = dict(
            conn.execute(select(User.username, User.id).where(User.username.in_(["wangge", "keeper"]))).all()
        )
        if len(users) < 2:
            return 0
        village = conn.execute(select(User.org_unit_code).where(User.id == users["wangge"])).scalar_one()
        scope = Scope(township=specs.org_units[village].parent, village=village)
        records = page(conn, Query(persons, scope=scope), limit=200)
        made = 0
        for username, name, value, before, evidence in STORIES:
            record = next((r for r in records if r.get(name) in before), None)
            if record is None:
                continue
            records.remove(record)
            viewer = viewer_of(conn, users[username])
            edited = edit_record(
                conn, specs, persons, record, record["_version"], {name: value}, viewer, evidence=evidence
            )
            made += sum(len(names) for names in edited.proposed.values())
    return made
