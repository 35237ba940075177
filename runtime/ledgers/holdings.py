"""What the ledgers hold: per data element, which ledger has it, how filled and how fresh.

The gatekeeping needs this for every filing and the builder shows it beside every catalog entry,
so it is measured cheaply: the newest change per ledger through the (ledger, updated_at) index,
and fill rates from a sample of the first records of every township (index seeks only).
"""

from __future__ import annotations

import time
from datetime import datetime

import orjson
from sqlalchemy import Connection, func, select

from builder.admission.gatekeeping import Holding
from builder.catalog.specs import SpecSet
from runtime.models import Record

#: Records sampled per township and ledger for fill rates.
SAMPLE_PER_TOWNSHIP = 40
#: Seconds a measurement is reused.
CACHE_SECONDS = 300.0

_cache: dict[str, tuple[float, dict[str, Holding]]] = {}


def ledger_holdings(conn: Connection, specs: SpecSet, *, fresh: bool = False) -> dict[str, Holding]:
    """Return element code → where the ledgers hold it; elements no record has are left out."""
    key = conn.engine.url.render_as_string(hide_password=True)
    cached = _cache.get(key)
    if cached and not fresh and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    holdings: dict[str, Holding] = {}
    townships = [u.code for u in specs.townships()]
    for ledger in specs.ledgers.values():
        updated = conn.execute(
            select(func.max(Record.updated_at)).where(Record.ledger == ledger.code)
        ).scalar()
        if updated is None:
            continue  # an empty ledger holds nothing
        rates = fill_rates(conn, ledger.code, ledger.field_names, townships)
        for f in ledger.fields:
            rate = rates.get(f.name, 0.0)
            if rate > 0 and f.element.code not in holdings:
                holdings[f.element.code] = Holding(
                    element=f.element.code,
                    ledger=ledger.code,
                    field=f.name,
                    fill_rate=rate,
                    updated_at=_naive(updated),
                    update_frequency=f.element.update_frequency,
                )
    _cache[key] = (time.monotonic(), holdings)
    return holdings


def spec_holdings(specs: SpecSet) -> dict[str, Holding]:
    """Return the holdings the ledger specs declare, unmeasured (no database at hand)."""
    holdings: dict[str, Holding] = {}
    for ledger in specs.ledgers.values():
        for f in ledger.fields:
            holdings.setdefault(
                f.element.code,
                Holding(
                    element=f.element.code,
                    ledger=ledger.code,
                    field=f.name,
                    update_frequency=f.element.update_frequency,
                ),
            )
    return holdings


def fill_rates(conn: Connection, ledger: str, fields: list[str], townships: list[str]) -> dict[str, float]:
    """Return field → share of sampled records with a value."""
    filled = dict.fromkeys(fields, 0)
    seen = 0
    for township in townships:
        # The township as a range, not an equality: see ledger_store.page (PostgreSQL would walk
        # the primary key of a large township and filter, 200 ms instead of 0.1).
        stmt = (
            select(Record.data)
            .where(
                Record.ledger == ledger, Record.township_code >= township, Record.township_code <= township
            )
            .order_by(Record.township_code, Record.id)
            .limit(SAMPLE_PER_TOWNSHIP)
        )
        for (data,) in conn.execute(stmt):
            if isinstance(data, str | bytes):
                data = orjson.loads(data)
            seen += 1
            for name, value in data.items():
                if name in filled and value not in (None, "", []):
                    filled[name] += 1
    return {name: round(n / seen, 3) for name, n in filled.items()} if seen else {}


def forget() -> None:
    """Drop cached measurements (after a large import, or in tests)."""
    _cache.clear()


def _naive(value: datetime | str) -> datetime:
    """Return a stored time as a naive datetime (SQLite may hand back text)."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value
