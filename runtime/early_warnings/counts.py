"""Warning counts kept in the database, so that every process shows what one of them counted.

`warning_counts` holds, per rule, its counts per (township, village), a fingerprint of the rule
they were counted for, the ledger's mark (its latest `updated_at`, an index lookup) at the time,
and when. Counts of another fingerprint are never shown: an edited rule is counted again. Counts
whose mark differs from the ledger's, or older than `MAX_AGE`, are stale: a page still shows them,
marked, while it counts again. The records a rule flags are not kept here (`runtime.early_warnings.flags`
keeps those per process, for the lists).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import astuple, dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

from builder.catalog.specs import Ledger, OrgUnit, SpecSet
from builder.early_warnings.rules import WarningRule
from runtime.access import Viewer
from runtime.db import SQLITE_BUSY_MS
from runtime.models import Record, WarningCount, utcnow

#: Raise when the way rules count changes: counts kept by the old code are then counted again.
COUNTING = 1
#: Counts older than this are counted again even when their ledger looks unchanged: direct SQL can
#: change values without touching `updated_at`, and stale rules move with the clock. A nightly
#: `yibiaotong warnings-refresh` keeps them younger.
MAX_AGE = timedelta(hours=25)


@dataclass(frozen=True)
class Kept:
    """One rule's counts as stored: per (township, village), with what they were counted for."""

    counts: Counter
    fingerprint: str
    mark: datetime | None
    computed_at: datetime

    def staleness(self, mark: datetime | None, now: datetime) -> str | None:
        """Say why the counts are out of date: "ledger" (it changed since), "age", or None."""
        if self.mark != mark:
            return "ledger"
        return "age" if now - self.computed_at > MAX_AGE else None


def fingerprint(ledger: Ledger, rule: WarningRule) -> str:
    """Return a digest of everything a rule's counts depend on besides the records."""
    fields = [
        (f.name, f.required, f.schema.get("format"), f.element.update_frequency, f.element.source)
        for f in ledger.fields
    ]
    basis = {
        "counting": COUNTING,
        "kind": rule.kind,
        "ledger": rule.ledger,
        "params": rule.params,
        "conditions": [astuple(c) for c in rule.conditions],
        "fields": fields,
    }
    text = json.dumps(basis, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def marks(conn: Connection, ledgers: Iterable[str]) -> dict[str, datetime | None]:
    """Return each ledger's latest `updated_at` (None when empty), in one statement."""
    codes = sorted(set(ledgers))
    if not codes:
        return {}
    latest = [
        select(func.max(Record.updated_at)).where(Record.ledger == code).scalar_subquery() for code in codes
    ]
    return dict(zip(codes, conn.execute(select(*latest)).one(), strict=True))


def read_counts(conn: Connection, rules: Iterable[str]) -> dict[str, Kept]:
    """Return the kept counts of some rules by code (one query); rules never counted are absent."""
    stmt = select(WarningCount).where(WarningCount.rule.in_(list(rules)))
    return {
        row.rule: Kept(
            Counter({(t, v): n for t, v, n in row.counts}), row.fingerprint, row.mark, row.computed_at
        )
        for row in conn.execute(stmt)
    }


def store_counts(
    conn: Connection, rule: WarningRule, digest: str, mark: datetime | None, counts: Counter
) -> datetime:
    """Keep a rule's counts, replacing what was kept for it; return when they count as computed.

    An upsert: two processes counting the same rule at once both succeed, the later one's row stays.
    """
    at = utcnow()
    values = {
        "rule": rule.code,
        "fingerprint": digest,
        "ledger": rule.ledger,
        "mark": mark,
        "computed_at": at,
        "counts": [[t, v, n] for (t, v), n in sorted(counts.items(), key=str)],
    }
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(WarningCount).values(**values)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[WarningCount.rule], set_={k: v for k, v in values.items() if k != "rule"}
        )
    )
    return at


def keep_counts_if_free(
    conn: Connection, rule: WarningRule, digest: str, mark: datetime | None, counts: Counter
) -> datetime:
    """Keep a rule's counts unless SQLite's one writer is busy (an import): a page never waits for it.

    The counts are shown either way; left unkept, the next visit or the refresh job keeps them.
    On SQLite the write goes in a savepoint with the busy timeout at zero, and is given up at once
    when another connection holds the write lock; PostgreSQL writes never wait on an import.
    """
    if conn.dialect.name != "sqlite":
        return store_counts(conn, rule, digest, mark, counts)
    conn.exec_driver_sql("PRAGMA busy_timeout=0")
    try:
        with conn.begin_nested():
            return store_counts(conn, rule, digest, mark, counts)
    except OperationalError:  # database is locked
        return utcnow()
    finally:
        conn.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")


# ---------------------------------------------------------------- what a viewer sees


@dataclass(frozen=True)
class Tally:
    """Per rule and township the number of flagged records the viewer may see."""

    rules: tuple[WarningRule, ...]
    townships: tuple[OrgUnit, ...]
    #: rule code → township code → count (townships without hits are absent).
    counts: dict[str, dict[str, int]]
    #: rule code → when its counts were computed (absent: counted for a fixed `now`, not kept).
    computed_at: dict[str, datetime] = field(default_factory=dict)
    #: rule code → why its counts are out of date ("ledger", "age"); they are counted again.
    stale: dict[str, str] = field(default_factory=dict)

    def count(self, rule: str, township: str) -> int:
        """Return the count of one cell."""
        return self.counts.get(rule, {}).get(township, 0)

    def total(self, rule: str) -> int:
        """Return a rule's count over the townships shown."""
        return sum(self.counts.get(rule, {}).values())


def townships_for(specs: SpecSet, viewer: Viewer) -> tuple[OrgUnit, ...]:
    """Return the townships a viewer's warnings cover: all of them, or only the viewer's own."""
    township = viewer.scope.township
    return tuple(u for u in specs.townships() if township is None or u.code == township)


def seen(counts: Counter, viewer: Viewer) -> dict[str, int]:
    """Return counts per (township, village) as counts per township, of the units the viewer sees."""
    per: Counter = Counter()
    for (township, village), n in counts.items():
        if viewer.sees(township, village):
            per[township] += n
    return dict(per)
