"""Pull the records of a ledger page after page, as the client's department sees them.

A page is read in the store's (township, id) order from an opaque position; every value goes
through the masking decision (`runtime.masking.present`): clear, masked, or left out when hidden.
Filters and a chosen set of fields are checked against the same decision first: a client never
filters by a value it does not see in clear (the answer would give the value away).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, insert

from builder.catalog.specs import Field, Ledger, SpecSet
from runtime.access import Viewer
from runtime.errors import ErrorCode, InvalidRequest, NotFound
from runtime.ledgers.store import Query, page
from runtime.masking import present, sights
from runtime.models import FeedEvent, utcnow
from runtime.sharing.sight import Sight

#: The most records one page may hold, and how many when the client does not say.
MAX_LIMIT = 5000
DEFAULT_LIMIT = 1000
#: Filter values longer than this match nothing a ledger holds: refused rather than searched.
MAX_FILTER_VALUE = 200
#: What the store adds to a record's values (id, key, version, township): not values of the ledger.
_STORE_MEMBERS = frozenset({"_id", "_key", "_version", "_township"})
_TRUE, _FALSE = ("true", "1", "是", "yes"), ("false", "0", "否", "no")


def ledger_of(specs: SpecSet, code: str) -> Ledger:
    """Return the ledger of a code (NotFound when there is none)."""
    ledger = specs.ledgers.get(code)
    if ledger is None:
        raise NotFound(ErrorCode.LEDGER_UNKNOWN, ledger=code[:40])
    return ledger


def encode_position(township: str | None, record_id: int) -> str:
    """Return the opaque cursor of a page position (the last record's township and id)."""
    return base64.urlsafe_b64encode(orjson.dumps([township, record_id])).decode().rstrip("=")


def decode_position(text: str) -> tuple[str, int]:
    """Return the position an `encode_position` cursor holds (InvalidRequest when it is not one)."""
    try:
        township, record_id = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise InvalidRequest(ErrorCode.CURSOR_INVALID, cursor=text[:40]) from None
    if not isinstance(township, str) or type(record_id) is not int or not 0 < record_id < 2**63:
        raise InvalidRequest(ErrorCode.CURSOR_INVALID, cursor=text[:40])
    return township, record_id


def chosen_fields(ledger: Ledger, viewer: Viewer, names: Iterable[str] | None) -> list[Field]:
    """Return the fields a client asked for (all it may see when None); unknown or hidden ones are refused."""
    seen = {s.field.name: s for s in sights(ledger, viewer)}
    if names is None:
        return [s.field for s in seen.values() if s.anywhere]
    names = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    wrong = [n for n in names if n not in seen or not seen[n].anywhere]
    if wrong:
        raise InvalidRequest(ErrorCode.FIELDS_UNKNOWN, ledger=ledger.code, names="、".join(wrong[:20]))
    return [seen[n].field for n in names]


def _filter_value(field: Field, text: str) -> tuple[Any, str | None]:
    """Return the value a filter's text stands for, or an error message."""
    if len(text) > MAX_FILTER_VALUE:
        return None, f"{field.name}：筛选值过长"
    kind = field.schema.get("type")
    if kind == "boolean":
        lowered = text.strip().lower()
        if lowered in _TRUE or lowered in _FALSE:
            return lowered in _TRUE, None
        return None, f"{field.name}：应为 true 或 false"
    if kind in ("integer", "number"):
        try:
            number = float(text)
        except ValueError:
            return None, f"{field.name}：应为数字"
        if number != number or number in (float("inf"), float("-inf")):
            return None, f"{field.name}：应为数字"
        return number, None
    return text, None


def records_query(
    ledger: Ledger,
    viewer: Viewer,
    filters: Mapping[str, str],
    township: str | None,
    specs: SpecSet,
) -> Query:
    """Return the store query of a pull: the township and the filters, each on a field seen in clear.

    A field clear only through a township-bound grant may be filtered within that township
    (`township` given); everywhere else it is masked or hidden, and so may not be filtered.
    """
    if township is not None:
        unit = specs.org_units.get(township)
        if unit is None or unit.level != "township":
            raise InvalidRequest(ErrorCode.TOWNSHIP_UNKNOWN, township=township[:20])
    seen = {s.field.name: s for s in sights(ledger, viewer)}
    unknown = [n for n in filters if n not in seen or not seen[n].anywhere]
    if unknown:
        raise InvalidRequest(ErrorCode.FIELDS_UNKNOWN, ledger=ledger.code, names="、".join(unknown[:20]))
    org = {ledger.township_field, ledger.village_field}
    unclear = [n for n in filters if n not in org and seen[n].at(township) is not Sight.CLEAR]
    if unclear:
        raise InvalidRequest(ErrorCode.FILTER_NOT_CLEAR, names="、".join(unclear))
    equal, numeric, problems = [], [], []
    for name, text in filters.items():
        value, problem = _filter_value(seen[name].field, text)
        if problem:
            problems.append(problem)
        elif isinstance(value, float):
            numeric.append((name, "eq", value))
        else:
            equal.append((name, value))
    if problems:
        raise InvalidRequest(ErrorCode.FILTER_VALUE_INVALID, problems="；".join(problems))
    if township is not None:
        equal.append((ledger.township_field, township))
    return Query(ledger, viewer.scope, filters=tuple(equal), conditions=tuple(numeric))


@dataclass(frozen=True)
class RecordsPage:
    """One page of a pull: the records as the client sees them and the cursor of the next page."""

    records: list[dict[str, Any]]
    #: The cursor to ask for the next page with; None on the last page.
    next: str | None


def pull_page(
    conn: Connection,
    query: Query,
    viewer: Viewer,
    fields: list[Field],
    *,
    after: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> RecordsPage:
    """Read one page of records after a cursor, every value as `viewer` sees it.

    Each record: `id` (the store's, stable), `key` (the natural key as the viewer sees it),
    `version`, `township`, `values` (the chosen fields, hidden ones left out). Clear reads
    through grants are tallied on the viewer for the audit log.
    """
    ledger = query.ledger
    position = decode_position(after) if after else None
    rows = page(conn, query, after=position, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    names = frozenset(f.name for f in fields)
    shown = present(ledger, rows, viewer, only=names | {ledger.key})
    seen = sights(ledger, viewer)
    # What to take out of each presented copy (cheaper than building a new dict of what stays):
    # the store's own members, fields not asked for, and, per township, the hidden ones.
    unasked = frozenset(s.field.name for s in seen if s.field.name not in names) | _STORE_MEMBERS
    dropped: dict[str | None, frozenset[str]] = {}
    records = []
    for row, values in zip(rows, shown, strict=True):
        township = row["_township"]
        drop = dropped.get(township)
        if drop is None:
            drop = dropped[township] = unasked | {
                s.field.name for s in seen if s.at(township) is Sight.HIDDEN
            }
        key = values.get(ledger.key)
        for name in drop:
            values.pop(name, None)
        records.append(
            {"id": row["_id"], "key": key, "version": row["_version"], "township": township, "values": values}
        )
    cursor = encode_position(rows[-1]["_township"], rows[-1]["_id"]) if more else None
    return RecordsPage(records, cursor)


def log_feed(conn: Connection, client_id: int, ledger: str, kind: str, rows: int) -> None:
    """Note one pull of a client on a ledger for the feeds page (a single insert)."""
    conn.execute(
        insert(FeedEvent).values(client_id=client_id, ledger=ledger, kind=kind, at=utcnow(), rows=rows)
    )
