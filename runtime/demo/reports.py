"""Demo reports at every step of admission, so that each demo login finds work waiting.

区残联's disability survey was admitted and dispatched to every township, so each township login
finds a pre-filled task; three townships (not 中山路街道 or 来苏镇, the logins the README names)
have filled and submitted theirs, so the summary and the burden dashboard have figures.
区民政局's low-income review waits for review; 区农业农村委's land check was returned with a reason;
区退役军人事务局's veteran roster, which the ledgers already hold, was admitted to be answered by
extraction.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from builder.admission.gatekeeping import load_rules
from builder.catalog.specs import SpecSet
from builder.reports.spec import load_reports
from runtime.access import Viewer
from runtime.clock import local_today
from runtime.demo.report_grants import grant_for_report
from runtime.ledgers.store import iter_rows
from runtime.models import Report, Task, User
from runtime.permissions import Role
from runtime.reports.admission import decide, submit
from runtime.reports.specs import report_spec
from runtime.reports.store import Actor, create_report
from runtime.tasks.context import TaskContext
from runtime.tasks.dispatch import dispatch
from runtime.tasks.drafts import save_rows
from runtime.tasks.prefill import row_query
from runtime.tasks.submission import submit_task

#: (sample report, department login, what happens to it, the reviewer's reason).
STORIES = (
    ("disability_survey", "canlian", "dispatch", "依据充分，字段已尽量由台账预填，同意下发各镇街"),
    (
        "land_transfer_check",
        "nongye",
        "return",
        "核查范围请限定为流转面积 50 亩以上的地块，并补充核查人联系电话，以减轻镇街工作量",
    ),
    ("low_income_review", "minzheng", "submit", ""),
    ("veteran_roster", "tuiyi", "admit", "台账已掌握全部字段，同意直接从人口台账提取，不再下发镇街"),
)


#: Elements a sample report's department was granted in clear (not only masked): 区残联 pays the
#: two disability subsidies (两项补贴) to named people.
CLEAR = {"disability_survey": ("person.name",)}

#: Townships that have already filled and submitted the dispatched survey.
SUBMITTED = ("500118002", "500118003", "500118004")


def _actor(session: Session, username: str) -> Actor:
    user = session.scalar(select(User).where(User.username == username))
    return Actor(user.id, user.role, user.department_id)


def load_demo_reports(engine: Engine, specs: SpecSet) -> int:
    """Create the demo reports unless the database has reports already; return how many."""
    dispatched = ""
    samples = load_reports(specs.root, specs)
    rules = load_rules(specs.root)
    deadline = (local_today() + timedelta(days=28)).isoformat()
    with Session(engine) as session, session.begin():
        if session.scalar(select(func.count()).select_from(Report)):
            return 0
        reviewer = _actor(session, "reviewer")
        for code, username, step, reason in STORIES:
            actor = _actor(session, username)
            document = {**samples[code].document, "x-deadline": deadline}
            report = create_report(session, actor, document)
            if step == "draft":
                continue
            # Applied for and approved before filing: what the report binds of others' 有条件共享 data.
            grant_for_report(
                session.connection(), specs, actor.department_id, document, clear=CLEAR.get(code, ())
            )
            filed = submit(session, specs, rules, report, actor)
            if step in ("return", "admit", "dispatch"):
                decide(session, filed, reviewer, "admit" if step == "dispatch" else step, reason)
            if step == "dispatch":
                dispatch(session, specs, report, actor)
                dispatched = report.code
    _submit_some(engine, specs, dispatched, SUBMITTED)
    return len(STORIES)


def _answer(f: Any, rng: random.Random, day: date) -> str:
    """Return what a township would type into a field of the survey, by the field's type."""
    kind, schema = f.schema.get("type"), f.schema
    if kind == "array":
        return "、".join(rng.sample(list(schema["items"]["enum"][:-1]), rng.randint(1, 2)))
    if kind == "boolean":
        return rng.choice(("是", "否"))
    if schema.get("format") == "date":
        return (day - timedelta(days=rng.randint(1, 10))).isoformat()
    if kind in ("number", "integer"):
        return str(rng.randrange(800, 4000, 100))
    if "enum" in schema:
        return rng.choice(list(schema["enum"]))
    return "已入户核实"


def _submit_some(engine: Engine, specs: SpecSet, code: str, units: tuple[str, ...]) -> None:
    """Have some townships fill what their task asks of them and submit it (a demo of the summary)."""
    rng = random.Random(20261129)
    day = local_today()
    with engine.begin() as conn:
        report = conn.execute(select(Report).where(Report.code == code)).one()
        for unit in units:
            task = conn.execute(
                select(Task).where(Task.report_id == report.id, Task.org_unit_code == unit)
            ).one()
            spec = report_spec(conn, specs, report.id, task.version)
            filler = conn.scalar(
                select(User.id).where(User.org_unit_code == unit, User.role == Role.TOWNSHIP)
            )
            ctx = TaskContext(conn, specs, spec, task, Viewer(filler, Role.TOWNSHIP, township=unit))
            asked = [f for f in spec.fields if not f.element and not f.compute]
            rows = [
                (r["_id"], {f.name: _answer(f, rng, day) for f in asked}, 0)
                for batch in iter_rows(conn, row_query(ctx))
                for r in batch
            ]
            save_rows(ctx, rows, today=day)
            submit_task(ctx, report, today=day)
