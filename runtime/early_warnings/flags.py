"""Early warnings and data quality: which ledger records each warning rule flags, per township.

`tally` counts, for a viewer's scope, the records each rule flags in each township: counts kept
in the database (`runtime.early_warnings.counts`) while current, else one grouped query per rule, kept
for every process; `refresh_job` counts ahead, after imports and write-backs and nightly.
`matches` returns one page of the records one rule flags in one township, in id order after a
position (keyset), masked for the viewer, each with its filled message.

Condition, duplicate and stale rules are SQL over `records` that runs on SQLite and PostgreSQL
(the JSON expressions of `ledger_store`). A check character cannot be tested in a WHERE clause,
so check_digit rules stream only the id and the checked value of the ledger's records through
`builder.checkdigits`. The records check_digit and duplicate rules flag are cached per process
while the ledger's latest `updated_at` (an index lookup) is unchanged, for at most
`CACHE_SECONDS`; after a write, check_digit rules re-check only the records updated since.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, distinct, false, func, or_, select, true
from sqlalchemy.orm import aliased

from builder.catalog.specs import Ledger, SpecSet
from builder.checkdigits import disability_cert_problem, id_problem, uscc_problem
from builder.early_warnings.rules import WarningRule, WarningRuleSet, load_warning_rules
from runtime.access import Viewer
from runtime.early_warnings.counts import (
    Tally,
    fingerprint,
    keep_counts_if_free,
    marks,
    read_counts,
    seen,
    store_counts,
    townships_for,
)
from runtime.early_warnings.messages import Flagged, messages, stale_groups
from runtime.errors import ErrorCode, InvalidRequest, NotAllowed
from runtime.exchange.clients import clients_by_system
from runtime.jobs import runner as jobs
from runtime.ledgers.store import condition
from runtime.masking import present
from runtime.models import Record, utcnow

#: Element format → the check that says what is wrong with a value (None when valid).
CHECKS: dict[str, Callable[[str], str | None]] = {
    "gb11643": id_problem,
    "gb32100": uscc_problem,
    "disability-cert": disability_cert_problem,
}
#: Rows fetched per round trip when streaming values to check.
STREAM_BATCH = 20_000
#: Cached flagged records are recomputed after this long even when their ledger looks unchanged:
#: direct SQL can change values without touching `updated_at`.
CACHE_SECONDS = 3600
PAGE_SIZE = 50
#: The kinds whose flagged records are kept per process for `matches` (the others list by SQL).
FLAGGED_KINDS = ("check_digit", "duplicate_across_townships")
#: The job that counts the rules of some ledgers ahead of the first visit.
REFRESH_JOB = "runtime.early_warnings.flags:refresh_job"


# ---------------------------------------------------------------- SQL pieces


def value_of(ledger: Ledger, name: str, table: Any = Record):
    """Return the SQL text value of a field: the indexed key column for the ledger's key."""
    return table.key if name == ledger.key else table.data[name].as_string()


def _filled(expr):
    return and_(expr.is_not(None), expr != "")


def _condition_clause(ledger: Ledger, rule: WarningRule, now: datetime):
    return and_(*(condition(ledger, c.field, c.op, c.value) for c in rule.conditions))


def _duplicate_clause(ledger: Ledger, rule: WarningRule, now: datetime):
    """Match records whose value is also held by a record of another township."""
    other = aliased(Record)
    value = value_of(ledger, rule.field, other)
    shared = (
        select(value)
        .where(other.ledger == ledger.code, _filled(value))
        .group_by(value)
        .having(func.count(distinct(other.township_code)) > 1)
    )
    return value_of(ledger, rule.field).in_(shared)


def _stale_clause(ledger: Ledger, rule: WarningRule, now: datetime):
    """Match records holding a field of some frequency and not updated within its days."""
    clauses = []
    for frequency, fields in stale_groups(ledger, rule).items():
        cutoff = now - timedelta(days=rule.params["max_age_days"][frequency])
        held = (
            true()
            if any(f.required for f in fields)
            else or_(*(_filled(value_of(ledger, f.name)) for f in fields))
        )
        clauses.append(and_(Record.updated_at < cutoff, held))
    return or_(*clauses) if clauses else false()


_CLAUSES = {
    "condition": _condition_clause,
    "duplicate_across_townships": _duplicate_clause,
    "stale": _stale_clause,
}


def _scope(viewer: Viewer) -> list:
    scope = viewer.scope
    clauses = []
    if scope.township:
        clauses.append(Record.township_code == scope.township)
    if scope.village:
        clauses.append(Record.village_code == scope.village)
    return clauses


# ---------------------------------------------------------------- computed results, cached


@dataclass(frozen=True)
class _Result:
    """What one rule flags: counts per (township, village), and the records for some kinds."""

    mark: Any  # the ledger's latest updated_at when computed
    at: float  # time.monotonic() of the last full computation
    counts: Counter
    flagged: dict[int, Flagged] | None = None


#: Flagged records of FLAGGED_KINDS rules, per database and rule.
_cache: dict[tuple, _Result] = {}


def forget() -> None:
    """Drop every cached record list (tests, and after changing records by direct SQL)."""
    _cache.clear()


def _result(conn: Connection, ledger: Ledger, rule: WarningRule, now: datetime | None, mark: Any) -> _Result:
    """Return what `rule` flags, as of `mark`, the ledger's latest update (read just before).

    The records check_digit and duplicate rules flag come from the cache while the mark is
    unchanged; after a write check_digit rules re-check only the records changed since. Results
    given a fixed `now` are computed afresh and not kept.
    """
    if rule.kind not in FLAGGED_KINDS or now is not None:
        return _compute(conn, ledger, rule, now or utcnow(), mark)
    key = (conn.engine.url.render_as_string(), rule.code, rule.kind, rule.ledger, repr(rule.params))
    cached = _cache.get(key)
    if cached is not None and time.monotonic() - cached.at < CACHE_SECONDS:
        if cached.mark == mark:
            return cached
        if rule.kind == "check_digit" and cached.mark is not None and mark is not None:
            flagged = dict(cached.flagged or {})
            _check(conn, ledger, rule.field, flagged, since=cached.mark)
            _cache[key] = _Result(mark, cached.at, _counted(flagged.values()), flagged)
            return _cache[key]
    _cache[key] = _compute(conn, ledger, rule, utcnow(), mark)
    return _cache[key]


def _counted(flagged: Iterable[Flagged]) -> Counter:
    return Counter((f.township, f.village) for f in flagged)


def _compute(conn: Connection, ledger: Ledger, rule: WarningRule, now: datetime, mark: Any) -> _Result:
    """Compute what a rule flags over the whole ledger."""
    if rule.kind == "check_digit":
        flagged: dict[int, Flagged] = {}
        _check(conn, ledger, rule.field, flagged)
        return _Result(mark, time.monotonic(), _counted(flagged.values()), flagged)
    if rule.kind == "duplicate_across_townships":
        flagged = _duplicates(conn, ledger, rule)
        return _Result(mark, time.monotonic(), _counted(flagged.values()), flagged)
    stmt = (
        select(Record.township_code, Record.village_code, func.count())
        .where(Record.ledger == ledger.code, _CLAUSES[rule.kind](ledger, rule, now))
        .group_by(Record.township_code, Record.village_code)
    )
    return _Result(mark, time.monotonic(), Counter({(t, v): n for t, v, n in conn.execute(stmt)}))


def _check(
    conn: Connection, ledger: Ledger, name: str, flagged: dict[int, Flagged], *, since: Any = None
) -> None:
    """Check the field of every record (or those updated after `since`); update `flagged`.

    Streams only (id, value): the org units are fetched for the invalid records alone. (The
    check in SQL arithmetic was measured no faster than this at district scale.)
    """
    check = CHECKS[ledger.by_name[name].schema["format"]]
    value = value_of(ledger, name)
    stmt = select(Record.id, value).where(Record.ledger == ledger.code)
    stmt = stmt.where(_filled(value)) if since is None else stmt.where(Record.updated_at > since)
    bad: dict[int, str] = {}
    # On the statement: a connection's options would stay on it (and stream the counts' upsert).
    result = conn.execute(stmt.execution_options(yield_per=STREAM_BATCH))
    for batch in result.partitions():
        for rid, text in batch:
            problem = check(str(text)) if text not in (None, "") else None
            if problem is not None:
                bad[rid] = problem
            else:
                flagged.pop(rid, None)
    ids = sorted(bad)
    for start in range(0, len(ids), 5000):
        for r in conn.execute(
            select(Record.id, Record.township_code, Record.village_code).where(
                Record.id.in_(ids[start : start + 5000])
            )
        ):
            flagged[r.id] = Flagged(r.id, r.township_code, r.village_code, bad[r.id])


def _duplicates(conn: Connection, ledger: Ledger, rule: WarningRule) -> dict[int, Flagged]:
    """Return the records whose value another township's record holds too, naming those townships."""
    value = value_of(ledger, rule.field)
    rows = conn.execute(
        select(Record.id, Record.township_code, Record.village_code, value).where(
            Record.ledger == ledger.code, _duplicate_clause(ledger, rule, utcnow())
        )
    ).all()
    holders: dict[str, list[str]] = {}
    for row in rows:
        holders.setdefault(row[3], []).append(row.township_code)
    return {
        row.id: Flagged(
            row.id,
            row.township_code,
            row.village_code,
            tuple(t for t in holders[row[3]] if t != row.township_code),
        )
        for row in rows
    }


# ---------------------------------------------------------------- counts


def tally(
    conn: Connection,
    specs: SpecSet,
    rules: WarningRuleSet,
    viewer: Viewer,
    *,
    now: datetime | None = None,
    cached_only: bool = False,
) -> Tally:
    """Count, per enabled rule and township within the viewer's scope, the records it flags.

    Kept counts that are current are read (one query for all rules); the others are counted and
    kept. With `cached_only` nothing is counted: stale kept counts are given, marked in `stale`,
    and rules never counted (or counted with other parameters) are left out of `counts`, for a
    page to show at once and load them separately. A fixed `now` counts afresh and keeps nothing.
    """
    enabled = rules.enabled
    current = marks(conn, {rule.ledger for rule in enabled})
    kept = read_counts(conn, [rule.code for rule in enabled]) if now is None else {}
    clock = utcnow()
    counts: dict[str, dict[str, int]] = {}
    computed_at: dict[str, datetime] = {}
    stale: dict[str, str] = {}
    for rule in enabled:
        ledger, mark = specs.ledgers[rule.ledger], current[rule.ledger]
        digest = fingerprint(ledger, rule)
        found = kept.get(rule.code)
        if found is not None and found.fingerprint != digest:
            found = None  # counted with other parameters: never shown
        why = found.staleness(mark, clock) if found is not None else None
        if found is not None and (why is None or cached_only):
            per_unit, computed_at[rule.code] = found.counts, found.computed_at
            if why is not None:
                stale[rule.code] = why
        elif cached_only:
            continue
        else:
            per_unit = _result(conn, ledger, rule, now, mark).counts
            if now is None:
                computed_at[rule.code] = keep_counts_if_free(conn, rule, digest, mark, per_unit)
        counts[rule.code] = seen(per_unit, viewer)
    return Tally(enabled, townships_for(specs, viewer), counts, computed_at, stale)


def recount(conn: Connection, specs: SpecSet, rule: WarningRule) -> datetime:
    """Count one rule over its whole ledger and keep the counts; return when they were computed."""
    ledger = specs.ledgers[rule.ledger]
    mark = marks(conn, [ledger.code])[ledger.code]
    result = _result(conn, ledger, rule, None, mark)
    return store_counts(conn, rule, fingerprint(ledger, rule), mark, result.counts)


def refresh_job(ctx: jobs.JobContext, *, ledgers: list[str] | None = None) -> dict[str, Any]:
    """Job: count the enabled rules of some ledgers (of all when None) again and keep the counts."""
    unknown = sorted(set(ledgers or ()) - set(ctx.specs.ledgers))
    if unknown:
        raise InvalidRequest(ErrorCode.UNKNOWN_LEDGERS, ledgers="、".join(unknown))
    rules = [
        rule
        for rule in load_warning_rules(ctx.specs.root, ctx.specs).enabled
        if ledgers is None or rule.ledger in ledgers
    ]
    for done, rule in enumerate(rules):
        ctx.progress(done, len(rules))
        with ctx.engine.begin() as conn:  # one rule, one transaction: kept counts show at once
            recount(conn, ctx.specs, rule)
    ctx.progress(len(rules), len(rules))
    return {"message": f"已重新统计 {len(rules)} 条预警规则", "rules": [rule.code for rule in rules]}


def refresh_after(ctx: jobs.JobContext, ledgers: list[str]) -> int:
    """Start `refresh_job` for ledgers a job has just changed (and committed); return its job id.

    It is a job of its own, started the way the calling job runs: the caller ends (an import says
    it is done) without waiting for the counts.
    """
    titles = "、".join(ctx.specs.ledgers[code].title for code in ledgers)
    return ctx.then("warnings", f"重新统计预警：{titles}", REFRESH_JOB, {"ledgers": ledgers})


# ---------------------------------------------------------------- the records


@dataclass(frozen=True)
class MatchPage:
    """One page of flagged records, masked, and the position of the next page (or None)."""

    rows: list[dict[str, Any]]
    next_after: int | None


def matches(
    conn: Connection,
    specs: SpecSet,
    rule: WarningRule,
    township: str,
    viewer: Viewer,
    *,
    after: int | None = None,
    limit: int = PAGE_SIZE,
    now: datetime | None = None,
) -> MatchPage:
    """Return the records `rule` flags in `township` after record id `after`, masked for `viewer`.

    Raises PermissionError when the township is outside the viewer's scope.
    """
    if viewer.scope.township and township != viewer.scope.township:
        raise NotAllowed(ErrorCode.OTHER_TOWNSHIP_WARNINGS)
    ledger = specs.ledgers[rule.ledger]
    columns = (
        Record.id,
        Record.key,
        Record.data,
        Record.township_code,
        Record.village_code,
        Record.updated_at,
    )
    stmt = select(*columns).where(Record.ledger == ledger.code)
    found: dict[int, Flagged] = {}
    if rule.kind in ("check_digit", "duplicate_across_townships"):
        mark = marks(conn, [ledger.code])[ledger.code]
        flagged = _result(conn, ledger, rule, now, mark).flagged or {}
        found = {
            f.id: f
            for f in sorted(flagged.values(), key=lambda f: f.id)
            if f.township == township
            and viewer.sees(f.township, f.village)
            and (after is None or f.id > after)
        }
        stmt = stmt.where(Record.id.in_(list(found)[: limit + 1]))
    else:
        stmt = stmt.where(
            Record.township_code == township,
            *_scope(viewer),
            _CLAUSES[rule.kind](ledger, rule, now or utcnow()),
        )
        if after is not None:
            stmt = stmt.where(Record.id > after)
    rows = [_raw(r) for r in conn.execute(stmt.order_by(Record.id).limit(limit + 1))]
    more = len(rows) > limit
    rows = rows[:limit]
    shown = present(ledger, rows, viewer)
    feeders = clients_by_system(conn) if rule.kind == "stale" else {}
    said = messages(specs, ledger, rule, rows, shown, found, now or utcnow(), viewer, feeders)
    units = specs.org_units
    out = [
        {
            "id": row["_id"],
            "key": masked.get(ledger.key),
            "label": masked.get(ledger.label) if ledger.label != ledger.key else "",
            "village": units[row["_village"]].name if row["_village"] in units else "",
            "updated_at": row["_updated_at"],
            "message": message,
        }
        for row, masked, message in zip(rows, shown, said, strict=True)
    ]
    return MatchPage(out, rows[-1]["_id"] if more and rows else None)


def _raw(row: Any) -> dict[str, Any]:
    data = row.data if isinstance(row.data, dict) else {}
    return {
        **data,
        "_id": row.id,
        "_key": row.key,
        "_township": row.township_code,
        "_village": row.village_code,
        "_updated_at": row.updated_at,
    }
