"""Write a generated demo district into the ledger store, fast, with progress."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine, delete, func, select

from builder.catalog.specs import SpecSet
from runtime.demo.generate import SCALES, generate
from runtime.errors import ErrorCode, InvalidRequest
from runtime.ledgers.statistics import analyze
from runtime.ledgers.store import Provenance, bulk_create
from runtime.models import Record, RecordVersion

#: The demo's "now": generated records carry this as their source time.
DEMO_TIME = datetime(2026, 11, 1, 8, 0, 0)


def has_records(engine: Engine) -> bool:
    """Tell whether any ledger already holds records."""
    with engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(select(Record.id).limit(1).subquery())).scalar_one()
            > 0
        )


def clear_records(engine: Engine) -> None:
    """Delete every ledger record and version (for re-seeding)."""
    with engine.begin() as conn:
        conn.execute(delete(RecordVersion))
        conn.execute(delete(Record))


def seed(
    engine: Engine,
    specs: SpecSet,
    scale: str,
    seed_value: int,
    progress: Callable[[str, dict[str, int]], None] | None = None,
) -> dict[str, int]:
    """Generate the district at `scale` and store it; return the record count per ledger."""
    if scale not in SCALES:
        raise InvalidRequest(ErrorCode.DEMO_UNKNOWN_SCALE, scale=scale, choices="、".join(SCALES))
    prov = Provenance(source="seed", source_ref=f"{scale}/{seed_value}", at=DEMO_TIME)
    counts: dict[str, int] = {}
    current = None
    conn = engine.connect()
    try:
        conn.begin()
        for ledger_code, records in generate(specs, scale, seed_value):
            counts[ledger_code] = counts.get(ledger_code, 0) + bulk_create(
                conn, specs.ledgers[ledger_code], records, prov
            )
            township = records[0].get(specs.ledgers[ledger_code].township_field) if records else None
            if township != current:
                # One transaction per township keeps the WAL small and shows progress.
                conn.commit()
                conn.begin()
                current = township
                if progress:
                    progress(township or "", counts)
        conn.commit()
        analyze(conn, specs)
        conn.commit()
    finally:
        conn.close()
    return counts
