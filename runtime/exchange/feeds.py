"""What the feeds page reads: each client's last push and pull per ledger, and each element's freshness.

An element is fresh when a push carried it within the days its update frequency allows (the
frequency → days map of the `stale` warning rules, so the page and the warnings agree). The client
expected to feed it is the one registered as the element's source system (`ApiClient.system`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, String, cast, false, func, select

from builder.catalog.specs import SpecSet
from builder.early_warnings.rules import WarningRuleSet
from runtime.exchange.clients import clients_by_system
from runtime.models import ApiClient, Department, FeedEvent, utcnow

#: Freshness state → label, in the order the page lists them (late first).
STATES = {"late": "逾期", "never": "从未推送", "on_time": "按时", "n/a": "不适用"}
#: Pulls of records and of the changes cursor both count as a pull.
PULLS = ("pull", "changes")


@dataclass(frozen=True)
class Feed:
    """One push or pull as the page shows it."""

    at: datetime
    rows: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    proposed: int


@dataclass(frozen=True)
class ClientFeed:
    """A client's last push and last pull of one ledger."""

    client_id: int
    client: str
    department: str
    active: bool
    ledger: str
    push: Feed | None
    pull: Feed | None


@dataclass(frozen=True)
class Freshness:
    """How fresh one element of a ledger is against its update frequency."""

    ledger: str
    element: str
    title: str
    source: str
    frequency: str
    #: Department owning the element (its authoritative source).
    department: str
    #: Active clients registered as the element's source system.
    clients: tuple[str, ...]
    #: The last push carrying it, and who sent it.
    fed_at: datetime | None
    fed_by: str | None
    #: Days since it was last fed, and the most its frequency allows (None: not checked).
    age_days: int | None
    max_age_days: int | None
    state: str

    @property
    def state_label(self) -> str:
        """Return the state as the page says it."""
        return STATES[self.state]

    @property
    def overdue_days(self) -> int:
        """Return how many days past its allowance the element is (0 when on time)."""
        if self.age_days is None or self.max_age_days is None:
            return 0
        return max(0, self.age_days - self.max_age_days)


def clients_of(
    conn: Connection, department_id: int | None = None
) -> list[tuple[int, str, str, str | None, bool]]:
    """Return (id, name, department, system, active) of the client systems (of one department)."""
    query = (
        select(ApiClient.id, ApiClient.name, Department.name, ApiClient.system, ApiClient.active)
        .join(Department, Department.id == ApiClient.department_id)
        .order_by(Department.id, ApiClient.name)
    )
    if department_id is not None:
        query = query.where(ApiClient.department_id == department_id)
    return [tuple(row) for row in conn.execute(query)]


def last_feeds(conn: Connection, department_id: int | None = None) -> list[ClientFeed]:
    """Return each client's last push and last pull per ledger it touched (dry runs left out)."""
    latest = (
        select(func.max(FeedEvent.id))
        .where(FeedEvent.dry_run == false())
        .group_by(FeedEvent.client_id, FeedEvent.ledger, FeedEvent.kind)
    )
    query = (
        select(
            FeedEvent.client_id,
            FeedEvent.ledger,
            FeedEvent.kind,
            FeedEvent.at,
            FeedEvent.rows,
            FeedEvent.created,
            FeedEvent.updated,
            FeedEvent.unchanged,
            FeedEvent.rejected,
            FeedEvent.proposed,
            ApiClient.name,
            ApiClient.active,
            Department.name.label("department"),
        )
        .join(ApiClient, ApiClient.id == FeedEvent.client_id)
        .join(Department, Department.id == ApiClient.department_id)
        .where(FeedEvent.id.in_(latest))
    )
    if department_id is not None:
        query = query.where(ApiClient.department_id == department_id)
    found: dict[tuple[int, str], dict] = {}
    for row in conn.execute(query):
        entry = found.setdefault(
            (row.client_id, row.ledger),
            {
                "client": row.name,
                "department": row.department,
                "active": row.active,
                "push": None,
                "pull": None,
            },
        )
        slot = "push" if row.kind == "push" else "pull"
        feed = Feed(row.at, row.rows, row.created, row.updated, row.unchanged, row.rejected, row.proposed)
        if entry[slot] is None or entry[slot].at < feed.at:
            entry[slot] = feed
    return [
        ClientFeed(
            client_id,
            entry["client"],
            entry["department"],
            entry["active"],
            ledger,
            entry["push"],
            entry["pull"],
        )
        for (client_id, ledger), entry in sorted(found.items(), key=lambda kv: (kv[1]["client"], kv[0][1]))
    ]


def last_fed(conn: Connection) -> dict[tuple[str, str], tuple[datetime, str]]:
    """Return (ledger, element) → (time of the last push carrying it, the client that sent it).

    Pushes of one client to one ledger carry the same few element sets, so grouping by the set
    keeps this one small query whatever the number of pushes.
    """
    elements = cast(FeedEvent.elements, String)
    rows = conn.execute(
        select(
            FeedEvent.ledger, ApiClient.name, elements.label("elements"), func.max(FeedEvent.at).label("at")
        )
        .join(ApiClient, ApiClient.id == FeedEvent.client_id)
        .where(FeedEvent.kind == "push", FeedEvent.dry_run == false(), FeedEvent.elements.is_not(None))
        .group_by(FeedEvent.ledger, ApiClient.name, elements)
    )
    fed: dict[tuple[str, str], tuple[datetime, str]] = {}
    for row in rows:
        for code in json.loads(row.elements) or ():
            key = (row.ledger, code)
            if key not in fed or fed[key][0] < row.at:
                fed[key] = (row.at, row.name)
    return fed


def freshness(
    conn: Connection,
    specs: SpecSet,
    rules: WarningRuleSet,
    *,
    department: str | None = None,
    ledgers: Iterable[str] | None = None,
    now: datetime | None = None,
) -> list[Freshness]:
    """Return the freshness of every element of the ledgers (a department: the elements it owns), late first.

    Elements whose source is no system (village visits, township entry) or whose frequency has
    no allowance (按需) are 不适用: no push is expected of anyone.
    """
    now = now or utcnow()
    fed = last_fed(conn)
    by_system = clients_by_system(conn)
    found = []
    for code in ledgers or specs.ledgers:
        ledger = specs.ledgers[code]
        allowed: Mapping[str, int] = rules.max_age_days(code)
        for field in ledger.fields:
            element = field.element
            if department is not None and element.department != department:
                continue
            at, by = fed.get((code, element.code), (None, None))
            age = (now - at).days if at is not None else None
            most = allowed.get(element.update_frequency)
            if element.source not in specs.systems or most is None:
                state = "n/a"
            elif at is None:
                state = "never"
            else:
                state = "late" if age > most else "on_time"
            found.append(
                Freshness(
                    code,
                    element.code,
                    field.title,
                    element.source,
                    element.update_frequency,
                    element.department,
                    tuple(by_system.get(element.source, ())),
                    at,
                    by,
                    age,
                    most,
                    state,
                )
            )
    order = list(STATES)
    found.sort(key=lambda f: (order.index(f.state), -f.overdue_days, f.source, f.ledger))
    return found


@dataclass(frozen=True)
class SourceState:
    """A source system's elements counted by state: the line a keeper reads first."""

    source: str
    clients: tuple[str, ...]
    counts: dict[str, int]

    @property
    def worst(self) -> str:
        """Return the worst state among its elements."""
        return next(s for s in STATES if self.counts.get(s))


def by_source(rows: list[Freshness]) -> list[SourceState]:
    """Group freshness by source system (not-applicable ones left out), the latest sources first."""
    groups: dict[str, SourceState] = {}
    for row in rows:
        if row.state == "n/a":
            continue
        group = groups.setdefault(row.source, SourceState(row.source, row.clients, {}))
        group.counts[row.state] = group.counts.get(row.state, 0) + 1
    order = list(STATES)
    return sorted(groups.values(), key=lambda g: (order.index(g.worst), -g.counts.get(g.worst, 0), g.source))
