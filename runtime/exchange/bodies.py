"""Read a push body into coerced rows: a JSON array streamed with ijson, or a CSV table.

A JSON body is never held whole as Python objects: ijson yields one record at a time, so a
100,000-row push costs the bytes plus one chunk of rows. A CSV body goes through the file
import's reader (GB18030 / UTF-8 BOM detection, header matching on titles and aliases).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import ijson

from builder.catalog.specs import Ledger, OrgUnit
from builder.problems import ImportRefused
from builder.tabular.coercion import RowCoercer
from builder.tabular.headers import find_header, label_index
from builder.tabular.limits import ReadLimits
from builder.tabular.reading import read_table
from runtime.errors import ErrorCode, InvalidRequest

JSON, CSV = "json", "csv"

#: One problem of a row: (field, code, Chinese message).
Problem = tuple[str, str, str]


@dataclass
class Row:
    """One pushed row: its number (1-based; the CSV's line), its coerced values, its problems."""

    number: int
    record: dict[str, Any]
    problems: list[Problem]


@dataclass(frozen=True)
class _Plan:
    """How the keys of a JSON object map to fields (cached per distinct key order)."""

    columns: dict[int, str]
    unknown: tuple[str, ...]


def read_rows(
    data: bytes, media: str, ledger: Ledger, org_units: list[OrgUnit], limits: ReadLimits
) -> Iterator[Row]:
    """Yield the rows of a push body (InvalidRequest for a body that is no table at all)."""
    coercer = RowCoercer(ledger, org_units)
    if media == CSV:
        return _csv_rows(data, ledger, coercer, limits)
    return _json_rows(data, ledger, coercer)


def _problems(errors: dict[str, str], code: str = "invalid_value") -> list[Problem]:
    return [(name, code, message) for name, message in errors.items()]


def _json_rows(data: bytes, ledger: Ledger, coercer: RowCoercer) -> Iterator[Row]:
    start = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start != b"[":
        raise InvalidRequest(ErrorCode.PUSH_NOT_ARRAY)
    index = label_index(ledger)
    names = set(ledger.by_name)
    plans: dict[tuple[str, ...], _Plan] = {}
    stream = io.BytesIO(data)
    items = ijson.items(stream, "item", use_float=True)
    number = 0
    while True:
        try:
            item = next(items, None)
        except ijson.JSONError as exc:
            raise InvalidRequest(ErrorCode.PUSH_BAD_JSON, at=stream.tell(), reason=exc) from exc
        if item is None:
            return
        number += 1
        if not isinstance(item, dict):
            yield Row(number, {}, [("", "not_an_object", "每条记录应为对象 {字段: 值}")])
            continue
        keys = tuple(item)
        plan = plans.get(keys)
        if plan is None:
            plan = plans[keys] = _plan(keys, names, index)
        record, errors = coercer.coerce(list(item.values()), plan.columns)
        problems = _problems(errors)
        problems += [(key, "unknown_field", f"台账“{ledger.title}”中没有字段“{key}”") for key in plan.unknown]
        yield Row(number, record, problems)


def _plan(keys: tuple[str, ...], names: set[str], index) -> _Plan:
    """Map object keys to fields: a field name, else a title or alias as a file header would be."""
    columns, unknown, taken = {}, [], set()
    for position, key in enumerate(keys):
        name = key if key in names else index.match(key) if isinstance(key, str) else None
        if name is None or name in taken:
            unknown.append(key)
            continue
        taken.add(name)
        columns[position] = name
    return _Plan(columns, tuple(unknown))


def _csv_rows(data: bytes, ledger: Ledger, coercer: RowCoercer, limits: ReadLimits) -> Iterator[Row]:
    try:
        rows = read_table(
            data, "push.csv", limits=replace(limits, max_bytes=max(limits.max_bytes, len(data)))
        )
        header = find_header(rows, ledger)
    except ImportRefused as refused:
        raise InvalidRequest(ErrorCode.PUSH_BAD_CSV, reason=refused) from refused
    for offset, cells in enumerate(rows[header.row_index + 1 :]):
        record, errors = coercer.coerce(cells, header.columns)
        if not record and not errors:
            continue  # a blank line
        yield Row(header.row_index + 2 + offset, record, _problems(errors))
