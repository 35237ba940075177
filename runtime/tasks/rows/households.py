"""The household of a person row: the record of the household ledger its household number names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from builder.catalog.specs import SpecSet
from runtime.ledgers.store import get_by_key, get_by_keys
from runtime.tasks.bindings import HOUSEHOLD_LINK


def household_of(conn: Connection, specs: SpecSet, ledger: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """Return the household record of one row ({} when it has none, or its ledger has no households)."""
    link = HOUSEHOLD_LINK.get(ledger)
    if not link:
        return {}
    other, key_field = link
    return get_by_key(conn, specs.ledgers[other], record.get(key_field) or "") or {}


def households_by_record(
    conn: Connection, specs: SpecSet, ledger: str, records: list[dict[str, Any]]
) -> dict[int, dict[str, Any]]:
    """Return record id → its household record ({} when none), for person rows (one query)."""
    link = HOUSEHOLD_LINK.get(ledger)
    if not link:
        return {}
    other, key_field = link
    found = get_by_keys(conn, specs.ledgers[other], (r.get(key_field) for r in records))
    return {r["_id"]: found.get(r.get(key_field), {}) for r in records}
