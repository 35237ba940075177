"""Warnings are counted ahead after work that changes a ledger: an import, a task's write-back."""

from __future__ import annotations

import io

from sqlalchemy import select

from builder.checkdigits import id_check_char
from builder.early_warnings.rules import load_warning_rules
from runtime.models import Job, Task, WarningCount
from tests.conftest import SPECS_ROOT

ZHONGSHANLU = "500118001"
CSV = "\n".join(
    [
        "姓名,身份证号,性别,出生日期,所属镇街,所属村（社区）,户编号,与户主关系",
        f"张三,50011819900102011{id_check_char('50011819900102011')},男,1990-01-02,中山路街道,萱花社区,"
        "5001180019990001,户主",
    ]
).encode("utf-8")
#: A report whose phone flows back into the person ledger (and one field no ledger holds).
SMALL = {
    "properties": {
        "name": {"x-element": "person.name"},
        "phone": {"x-element": "person.phone"},
        "visited": {"title": "是否已走访", "type": "boolean"},
    },
    "required": ["name"],
    "x-justification": "电话回访核实",
}


def kept(engine) -> dict[str, list]:
    """Return the kept counts by rule."""
    with engine.connect() as conn:
        return dict(conn.execute(select(WarningCount.rule, WarningCount.counts)).all())


def refresh_jobs(engine) -> list[tuple[str, str]]:
    """Return (status, message) of the jobs that counted warnings."""
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(Job.status, Job.message).where(Job.kind == "warnings"))]


def test_an_import_counts_the_ledgers_warnings_after_it(fresh_client, fresh_auth, engine, specs):
    fresh_auth.login("keeper")
    response = fresh_client.post(
        "/ledgers/person/import",
        data={"file": (io.BytesIO(CSV), "人口.csv")},
        content_type="multipart/form-data",
    )
    assert "新增 1" in fresh_client.get(response.headers["Location"]).get_data(as_text=True)
    rules = load_warning_rules(SPECS_ROOT, specs).enabled
    person_rules = {rule.code for rule in rules if rule.ledger == "person"}
    assert refresh_jobs(engine) == [("done", f"已重新统计 {len(person_rules)} 条预警规则")]
    assert set(kept(engine)) == person_rules
    page = fresh_client.get("/warnings/").get_data(as_text=True)
    for rule in person_rules:
        assert f'hx-get="/warnings/rows/{rule}"' not in page, "counted before the first visit"
    assert 'hx-get="/warnings/rows/land_rent_arrears"' in page, "other ledgers' rules wait for the page"


def test_a_write_back_counts_the_ledgers_warnings_after_it(fresh_client, fresh_auth, engine, admit_report):
    code = admit_report(engine, **SMALL)
    fresh_auth.login("canlian")
    fresh_client.post(f"/tasks/dispatch/{code}", data={"scope": "chosen", "unit": [ZHONGSHANLU]})
    fresh_auth.logout()
    fresh_auth.login("zhongshanlu")
    with engine.connect() as conn:
        task_id = conn.scalar(select(Task.id))
    html = fresh_client.get(f"/tasks/{task_id}").get_data(as_text=True)
    record_id = html.split('id="row-g', 1)[1].split('"', 1)[0]
    fresh_client.post(
        f"/tasks/{task_id}/rows/{record_id}",
        headers={"HX-Request": "true"},
        data={"_field": ["phone"], "_version": "0", "phone": "13700001111"},
    )
    assert refresh_jobs(engine) == []
    fresh_client.post(f"/tasks/{task_id}/submit")
    assert refresh_jobs(engine) == [("done", f"已重新统计 {len(kept(engine))} 条预警规则")]
    assert {rule.split("_")[0] for rule in kept(engine)} == {"person"}, "the person ledger's rules"
