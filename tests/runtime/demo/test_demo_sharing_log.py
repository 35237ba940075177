"""The demo's past grants and the audit entries they left: each department finds its story."""

from sqlalchemy import select

from runtime.audit.reading import AuditFilter, AuditReader, iter_entries
from runtime.demo.sharing_log import load_demo_sharing_log
from runtime.models import Grant


def _seen(engine, specs, department):
    with engine.connect() as conn:
        reader = AuditReader(None, department=department)
        return [
            (e.label, e.actor) for batch in iter_entries(conn, specs, reader, AuditFilter()) for e in batch
        ]


def test_each_department_finds_who_read_its_data_and_its_grants(district, specs):
    assert load_demo_sharing_log(district, specs) == 11
    assert load_demo_sharing_log(district, specs) == 0, "written once"
    with district.connect() as conn:
        statuses = conn.execute(select(Grant.status).order_by(Grant.id)).scalars().all()
    assert statuses == ["revoked", "granted", "refused"], "none lets anyone read today"
    canlian = _seen(district, specs, "canlian")
    assert ("明文读取", "区民政局 王强") in canlian, "民政 read 残联's disability grades"
    assert ("明文读取", "区残联 陈静") not in canlian, "its own reads of 民政's data are 民政's to see"
    assert {label for label, _who in canlian} == {"明文读取", "申请授权", "批准授权", "撤销授权", "拒绝授权"}
    minzheng = _seen(district, specs, "minzheng")
    assert minzheng.count(("明文读取", "区残联 陈静")) == 2 and ("撤销授权", "区民政局 王强") in minzheng
    assert [label for label, _who in _seen(district, specs, "tuiyi")] == ["拒绝授权", "申请授权"]
