"""Demo reports at every step of admission, so that each demo login finds work waiting.

区残联's disability survey was admitted and dispatched to every township, so each township login
finds a pre-filled task; 区民政局's low-income review waits for review; 区农业农村委's land check
was returned with a reason; 区退役军人事务局's veteran roster, which the ledgers already hold, was
admitted to be answered by extraction.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from builder.gatekeeping import load_rules
from builder.report_spec import load_reports
from builder.specs import SpecSet
from runtime.admission import decide, submit
from runtime.clock import local_today
from runtime.dispatch import dispatch
from runtime.models import Report, User
from runtime.reports import Actor, create_report

#: (sample report, department login, what happens to it, the reviewer's reason).
STORIES = (
    ("disability_survey", "canlian", "dispatch", "依据充分，字段已尽量由台账预填，同意下发各镇街"),
    ("land_transfer_check", "nongye", "return",
     "核查范围请限定为流转面积 50 亩以上的地块，并补充核查人联系电话，以减轻镇街工作量"),
    ("low_income_review", "minzheng", "submit", ""),
    ("veteran_roster", "tuiyi", "admit", "台账已掌握全部字段，同意直接从人口台账提取，不再下发镇街"),
)


def _actor(session: Session, username: str) -> Actor:
    user = session.scalar(select(User).where(User.username == username))
    return Actor(user.id, user.role, user.department_id)


def load_demo_reports(engine: Engine, specs: SpecSet) -> int:
    """Create the demo reports unless the database has reports already; return how many."""
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
            filed = submit(session, specs, rules, report, actor)
            if step in ("return", "admit", "dispatch"):
                decide(session, filed, reviewer, "admit" if step == "dispatch" else step, reason)
            if step == "dispatch":
                dispatch(session, specs, report, actor)
        return len(STORIES)
