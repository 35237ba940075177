"""Demo client systems and their feeds, so the 对接系统 and 数据对接 pages are not empty.

区残联残疾人管理系统, 区民政局社会救助系统 and 区公安分局户籍系统 are registered with a token each
(the tokens are thrown away: an administrator issues a fresh one on the client's page), and a few
weeks of pushes and pulls are logged: 区残联 and 区民政局 push on time, 区公安分局's person feed
stopped six days ago, so its daily elements are late.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, insert, select

from builder.catalog.specs import SpecSet
from runtime.exchange.clients import issue_token, register_client
from runtime.models import ApiClient, Department, FeedEvent, User, utcnow


@dataclass(frozen=True)
class DemoClient:
    """A demo client system: its department, contact, and how it fed each ledger."""

    system: str
    department: str
    contact: str
    #: ledger → (days between pushes, days since the last push, rows a push).
    pushes: dict[str, tuple[int, int, int]]
    #: Days between its pulls of the changes cursor (0: it does not pull).
    pulls_every: int = 0


CLIENTS = (
    DemoClient("区残联残疾人管理系统", "canlian", "区残联信息科 023-0000-0001", {"person": (7, 3, 420)}, 1),
    DemoClient(
        "区民政局社会救助系统", "minzheng", "区民政局救助科 023-0000-0002", {"person": (14, 9, 1800)}, 7
    ),
    DemoClient(
        "区公安分局户籍系统",
        "gongan",
        "区公安分局户政科 023-0000-0003",
        {"person": (1, 6, 5200), "household": (1, 1, 2100)},
    ),
)
#: How many weeks of feeds the demo logs.
WEEKS = 6


def _events(demo: DemoClient, client_id: int, specs: SpecSet, now: datetime) -> list[dict]:
    """Return the demo's pushes and pulls of one client, oldest first."""
    events = []
    for ledger, (every, last, rows) in demo.pushes.items():
        if ledger not in specs.ledgers:
            continue
        elements = [f.element.code for f in specs.ledgers[ledger].fields if f.element.source == demo.system]
        day = last
        while day <= WEEKS * 7:
            updated = rows // 20 + day % 7
            rejected = day % 5
            events.append(
                {
                    "client_id": client_id,
                    "ledger": ledger,
                    "kind": "push",
                    "at": now - timedelta(days=day, hours=2),
                    "rows": rows,
                    "created": rows // 100,
                    "updated": updated,
                    "unchanged": rows - rows // 100 - updated - rejected,
                    "rejected": rejected,
                    "proposed": 0,
                    "dry_run": False,
                    "elements": elements,
                }
            )
            day += every
    if demo.pulls_every:
        for day in range(0, WEEKS * 7, demo.pulls_every):
            events.append(
                {
                    "client_id": client_id,
                    "ledger": "person",
                    "kind": "changes",
                    "at": now - timedelta(days=day, hours=1),
                    "rows": 150 + day * 3,
                    "created": 0,
                    "updated": 0,
                    "unchanged": 0,
                    "rejected": 0,
                    "proposed": 0,
                    "dry_run": False,
                    "elements": None,
                }
            )
    return sorted(events, key=lambda e: e["at"])


def load_demo_clients(engine: Engine, specs: SpecSet, now: datetime | None = None) -> int:
    """Register the demo client systems with a token each and log their feeds; return how many.

    Does nothing when a client system is registered already (the demo never overwrites real ones).
    """
    now = now or utcnow()
    with engine.begin() as conn:
        if conn.scalar(select(func.count()).select_from(ApiClient)):
            return 0
        departments = {code: id_ for code, id_ in conn.execute(select(Department.code, Department.id))}
        admin = conn.scalar(select(User.id).where(User.role == "admin").order_by(User.id).limit(1))
        made = 0
        for demo in CLIENTS:
            if demo.department not in departments or demo.system not in specs.systems:
                continue
            client_id = register_client(
                conn,
                name=demo.system,
                department_id=departments[demo.department],
                system=demo.system,
                contact=demo.contact,
                description="演示数据",
                actor_id=admin,
            )
            issue_token(
                conn, client_id, actor_id=admin, label="演示令牌", expires_at=now + timedelta(days=365)
            )  # the token itself is dropped: nothing secret is printed or kept
            if events := _events(demo, client_id, specs, now):
                conn.execute(insert(FeedEvent), events)
            made += 1
    return made
