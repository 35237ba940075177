"""Early warnings and data quality: which ledger records each warning rule flags, per township.

`tally` counts, for a viewer's scope, the records each rule flags in each township (one grouped
query per rule); `matches` returns one page of the records one rule flags in one township, in id
order after a position (keyset), masked for the viewer, each with its filled message.

Condition, duplicate and stale rules are SQL over `records` that runs on SQLite and PostgreSQL
(the JSON expressions of `ledger_store`). A check character cannot be tested in a WHERE clause,
so check_digit rules stream only the id and the checked value of the ledger's records through
`builder.checkdigits`. Every rule's result is cached per process while its ledger's latest
`updated_at` (an index lookup) is unchanged, for at most `CACHE_SECONDS`; after a write,
check_digit rules re-check only the records updated since.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, distinct, false, func, or_, select, true
from sqlalchemy.orm import aliased

from builder.admission_rules import cn_date, fill, quoted
from builder.checkdigits import disability_cert_problem, id_problem, uscc_problem
from builder.specs import Field, Ledger, OrgUnit, SpecSet
from builder.warning_rules import FREQUENCIES, WarningRule, WarningRuleSet
from runtime.access import Viewer
from runtime.clock import LOCAL_TZ
from runtime.ledger_store import condition
from runtime.masking import present
from runtime.models import Record, utcnow

#: Element format → the check that says what is wrong with a value (None when valid).
CHECKS: dict[str, Callable[[str], str | None]] = {
    "gb11643": id_problem, "gb32100": uscc_problem, "disability-cert": disability_cert_problem,
}
#: Rows fetched per round trip when streaming values to check.
STREAM_BATCH = 20_000
#: A cached result is recomputed after this long even when its ledger looks unchanged: direct SQL
#: can change values without touching `updated_at`, and stale rules move with the clock.
CACHE_SECONDS = 3600
PAGE_SIZE = 50


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
    shared = (select(value).where(other.ledger == ledger.code, _filled(value))
              .group_by(value).having(func.count(distinct(other.township_code)) > 1))
    return value_of(ledger, rule.field).in_(shared)


def stale_groups(ledger: Ledger, rule: WarningRule) -> dict[str, list[Field]]:
    """Return, per update frequency the rule checks, the ledger fields of that frequency."""
    ages, sources = rule.params["max_age_days"], rule.params["sources"]
    groups: dict[str, list[Field]] = {}
    for field in ledger.fields:
        frequency = field.element.update_frequency
        if frequency in ages and (sources is None or field.element.source in sources):
            groups.setdefault(frequency, []).append(field)
    return groups


def _stale_clause(ledger: Ledger, rule: WarningRule, now: datetime):
    """Match records holding a field of some frequency and not updated within its days."""
    clauses = []
    for frequency, fields in stale_groups(ledger, rule).items():
        cutoff = now - timedelta(days=rule.params["max_age_days"][frequency])
        held = true() if any(f.required for f in fields) else or_(
            *(_filled(value_of(ledger, f.name)) for f in fields))
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
class Flagged:
    """A record a check_digit or duplicate rule flags, with what is wrong with it."""

    id: int
    township: str
    village: str | None
    #: check_digit: the problem in Chinese; duplicate: the other townships holding the value.
    detail: Any = None


@dataclass(frozen=True)
class _Result:
    """What one rule flags: counts per (township, village), and the records for some kinds."""

    mark: Any  # the ledger's latest updated_at when computed
    at: float  # time.monotonic() of the last full computation
    counts: Counter
    flagged: dict[int, Flagged] | None = None


_cache: dict[tuple, _Result] = {}


def forget() -> None:
    """Drop every cached result (tests, and after changing records by direct SQL)."""
    _cache.clear()


def _lookup(conn: Connection, ledger: Ledger, rule: WarningRule) -> tuple[tuple, Any, _Result | None]:
    """Return the cache key, the ledger's latest update and the cached result still in time."""
    mark = conn.execute(select(func.max(Record.updated_at)).where(Record.ledger == ledger.code)).scalar()
    key = (conn.engine.url.render_as_string(), rule.code, rule.kind, rule.ledger, repr(rule.params))
    cached = _cache.get(key)
    if cached is not None and time.monotonic() - cached.at >= CACHE_SECONDS:
        cached = None
    return key, mark, cached


def _result(conn: Connection, ledger: Ledger, rule: WarningRule, now: datetime | None) -> _Result:
    """Return what `rule` flags, from the cache while the ledger's latest update is unchanged.

    Any write through the ledger store moves the ledger's max(updated_at), an index lookup;
    check_digit rules then re-check only the records changed since. Results given a fixed
    `now` are computed afresh and not kept.
    """
    key, mark, cached = _lookup(conn, ledger, rule)
    if cached is not None and now is None:
        if cached.mark == mark:
            return cached
        if rule.kind == "check_digit" and cached.mark is not None and mark is not None:
            flagged = dict(cached.flagged or {})
            _check(conn, ledger, rule.field, flagged, since=cached.mark)
            result = _Result(mark, cached.at, _counted(flagged.values()), flagged)
            _cache[key] = result
            return result
    result = _compute(conn, ledger, rule, now or utcnow(), mark)
    if now is None:
        _cache[key] = result
    return result


def _cached(conn: Connection, ledger: Ledger, rule: WarningRule) -> _Result | None:
    """Return the cached result of `rule` if it is still current, else None (nothing computed)."""
    _key, mark, cached = _lookup(conn, ledger, rule)
    return cached if cached is not None and cached.mark == mark else None


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
    stmt = (select(Record.township_code, Record.village_code, func.count())
            .where(Record.ledger == ledger.code, _CLAUSES[rule.kind](ledger, rule, now))
            .group_by(Record.township_code, Record.village_code))
    return _Result(mark, time.monotonic(), Counter({(t, v): n for t, v, n in conn.execute(stmt)}))


def _check(conn: Connection, ledger: Ledger, name: str, flagged: dict[int, Flagged], *,
           since: Any = None) -> None:
    """Check the field of every record (or those updated after `since`); update `flagged`.

    Streams only (id, value): the org units are fetched for the invalid records alone. (The
    check in SQL arithmetic was measured no faster than this at district scale.)
    """
    check = CHECKS[ledger.by_name[name].schema["format"]]
    value = value_of(ledger, name)
    stmt = select(Record.id, value).where(Record.ledger == ledger.code)
    stmt = stmt.where(_filled(value)) if since is None else stmt.where(Record.updated_at > since)
    bad: dict[int, str] = {}
    result = conn.execution_options(yield_per=STREAM_BATCH).execute(stmt)
    for batch in result.partitions():
        for rid, text in batch:
            problem = check(str(text)) if text not in (None, "") else None
            if problem is not None:
                bad[rid] = problem
            else:
                flagged.pop(rid, None)
    ids = sorted(bad)
    for start in range(0, len(ids), 5000):
        for r in conn.execute(select(Record.id, Record.township_code, Record.village_code)
                              .where(Record.id.in_(ids[start:start + 5000]))):
            flagged[r.id] = Flagged(r.id, r.township_code, r.village_code, bad[r.id])


def _duplicates(conn: Connection, ledger: Ledger, rule: WarningRule) -> dict[int, Flagged]:
    """Return the records whose value another township's record holds too, naming those townships."""
    value = value_of(ledger, rule.field)
    rows = conn.execute(select(Record.id, Record.township_code, Record.village_code, value).where(
        Record.ledger == ledger.code, _duplicate_clause(ledger, rule, utcnow()))).all()
    holders: dict[str, list[str]] = {}
    for row in rows:
        holders.setdefault(row[3], []).append(row.township_code)
    return {row.id: Flagged(row.id, row.township_code, row.village_code,
                            tuple(t for t in holders[row[3]] if t != row.township_code))
            for row in rows}


# ---------------------------------------------------------------- counts


@dataclass(frozen=True)
class Tally:
    """Per rule and township the number of flagged records the viewer may see."""

    rules: tuple[WarningRule, ...]
    townships: tuple[OrgUnit, ...]
    #: rule code → township code → count (townships without hits are absent).
    counts: dict[str, dict[str, int]]

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


def tally(conn: Connection, specs: SpecSet, rules: WarningRuleSet, viewer: Viewer, *,
          now: datetime | None = None, cached_only: bool = False) -> Tally:
    """Count, per enabled rule and township within the viewer's scope, the records it flags.

    With `cached_only`, rules whose result is not cached are left out of `counts` (a page shows
    those at once and loads them separately) instead of computed.
    """
    counts: dict[str, dict[str, int]] = {}
    for rule in rules.enabled:
        ledger = specs.ledgers[rule.ledger]
        result = _cached(conn, ledger, rule) if cached_only else _result(conn, ledger, rule, now)
        if result is None:
            continue
        per: Counter = Counter()
        for (township, village), n in result.counts.items():
            if viewer.sees(township, village):
                per[township] += n
        counts[rule.code] = dict(per)
    return Tally(rules.enabled, townships_for(specs, viewer), counts)


# ---------------------------------------------------------------- the records


@dataclass(frozen=True)
class MatchPage:
    """One page of flagged records, masked, and the position of the next page (or None)."""

    rows: list[dict[str, Any]]
    next_after: int | None


def matches(conn: Connection, specs: SpecSet, rule: WarningRule, township: str, viewer: Viewer, *,
            after: int | None = None, limit: int = PAGE_SIZE, now: datetime | None = None) -> MatchPage:
    """Return the records `rule` flags in `township` after record id `after`, masked for `viewer`.

    Raises PermissionError when the township is outside the viewer's scope.
    """
    if viewer.scope.township and township != viewer.scope.township:
        raise PermissionError("无权查看其他镇街的预警")
    ledger = specs.ledgers[rule.ledger]
    columns = (Record.id, Record.key, Record.data, Record.township_code, Record.village_code,
               Record.updated_at)
    stmt = select(*columns).where(Record.ledger == ledger.code)
    found: dict[int, Flagged] = {}
    if rule.kind in ("check_digit", "duplicate_across_townships"):
        flagged = _result(conn, ledger, rule, now).flagged or {}
        found = {f.id: f for f in sorted(flagged.values(), key=lambda f: f.id)
                 if f.township == township and viewer.sees(f.township, f.village)
                 and (after is None or f.id > after)}
        stmt = stmt.where(Record.id.in_(list(found)[:limit + 1]))
    else:
        stmt = stmt.where(Record.township_code == township, *_scope(viewer),
                          _CLAUSES[rule.kind](ledger, rule, now or utcnow()))
        if after is not None:
            stmt = stmt.where(Record.id > after)
    rows = [_raw(r) for r in conn.execute(stmt.order_by(Record.id).limit(limit + 1))]
    more = len(rows) > limit
    rows = rows[:limit]
    shown = present(ledger, rows, viewer)
    messages = _messages(specs, ledger, rule, rows, shown, found, now or utcnow())
    units = specs.org_units
    out = [{
        "id": row["_id"],
        "key": masked.get(ledger.key),
        "label": masked.get(ledger.label) if ledger.label != ledger.key else "",
        "village": units[row["_village"]].name if row["_village"] in units else "",
        "updated_at": row["_updated_at"],
        "message": message,
    } for row, masked, message in zip(rows, shown, messages, strict=True)]
    return MatchPage(out, rows[-1]["_id"] if more and rows else None)


def _raw(row: Any) -> dict[str, Any]:
    data = row.data if isinstance(row.data, dict) else {}
    return {**data, "_id": row.id, "_key": row.key, "_township": row.township_code,
            "_village": row.village_code, "_updated_at": row.updated_at}


def _shown(value: Any) -> str:
    """Return a value as a message quotes it."""
    if value is None or value == "":
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _messages(specs: SpecSet, ledger: Ledger, rule: WarningRule, rows: list[dict[str, Any]],
              shown: list[dict[str, Any]], found: dict[int, Flagged], now: datetime) -> list[str]:
    """Fill the rule's message for each row, from values masked for the viewer."""
    title = ledger.by_name[rule.field].title if rule.field in ledger.by_name else ""
    if rule.kind == "check_digit":
        return [fill(rule.message, {"field": title, "problem": found[r["_id"]].detail})
                for r in rows]
    if rule.kind == "duplicate_across_townships":
        units = specs.org_units
        out = []
        for row in rows:
            others = found[row["_id"]].detail
            names = "、".join(units[t].name if t in units else t for t in sorted(set(others)))
            out.append(fill(rule.message, {"field": title, "townships": names, "count": len(others)}))
        return out
    if rule.kind == "stale":
        return [_stale_message(ledger, rule, row, now) for row in rows]
    named = {c.name: _shown(c.value) for c in rule.conditions if c.name}
    return [fill(rule.message, {k: _shown(v) for k, v in masked.items() if not k.startswith("_")}
                 | named) for masked in shown]


def _stale_message(ledger: Ledger, rule: WarningRule, row: dict[str, Any], now: datetime) -> str:
    """Say when the record was last updated and which held fields are overdue, strictest first."""
    updated = row["_updated_at"]
    groups = stale_groups(ledger, rule)
    overdue: list[str] = []
    strictest = ""
    for frequency in FREQUENCIES:
        held = [f for f in groups.get(frequency, []) if row.get(f.name) not in (None, "")]
        if held and updated < now - timedelta(days=rule.params["max_age_days"][frequency]):
            strictest = strictest or frequency
            overdue += [f.title for f in held]
    local = updated.replace(tzinfo=UTC).astimezone(LOCAL_TZ).date()
    return fill(rule.message, {"updated": cn_date(local), "days": (now - updated).days,
                               "fields": quoted(overdue), "frequency": strictest})
