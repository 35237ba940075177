"""Read a push body into coerced rows, as a stream: a JSON array with ijson, or CSV with `csv`.

Neither body is held whole as Python objects: ijson yields one JSON record at a time; a CSV
body is decoded as it is read (UTF-16 or UTF-8 by BOM, else UTF-8 or GB18030 as its first bytes
say) and split into rows by the csv module, its header matched once (titles and aliases, as the
file import matches them). A 100,000-row push costs the body's bytes (or none: the job path reads
the saved upload) plus one chunk of rows. Text holding control characters (NUL, C1, lone
surrogates) is rejected per row: no database is ever handed one.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain, islice
from typing import IO, Any

import ijson

from builder.catalog.specs import Ledger, OrgUnit
from builder.problems import ImportRefused
from builder.tabular.coercion import RowCoercer
from builder.tabular.headers import find_header, label_index
from builder.tabular.limits import ReadLimits
from runtime.errors import ErrorCode, InvalidRequest

JSON, CSV = "json", "csv"
#: Control characters (C0, DEL, C1) and lone surrogates: no value typed by a person holds them.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
#: The same, but tab, CR and LF, which a CSV cell may hold (a quoted cell spans lines).
CONTROL_IN_CSV = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
#: Bytes read at a time, and the first bytes that decide a CSV's encoding and delimiter.
BLOCK = 1 << 16
SAMPLE = 1 << 16
#: Lines among which the CSV header is looked for (as the file import does).
HEADER_SCAN = 30
_DELIMITERS = (",", "\t", ";", "|")

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
    #: Whether a key holds a control character (every row with these keys is rejected).
    bad_keys: bool = False


def read_rows(
    body: IO[bytes], media: str, ledger: Ledger, org_units: list[OrgUnit], limits: ReadLimits
) -> Iterator[Row]:
    """Yield the rows of a push body read from a binary stream (InvalidRequest: no table at all)."""
    coercer = RowCoercer(ledger, org_units)
    if media == CSV:
        return _csv_rows(body, ledger, coercer, limits)
    return _json_rows(body, ledger, coercer)


def _problems(errors: dict[str, str], code: str = "invalid_value") -> list[Problem]:
    return [(name, code, message) for name, message in errors.items()]


def _control_problem(field: str) -> Problem:
    return (field, "control_character", "含有控制字符（如 NUL、换行）或无效字符，请删除后再推送")


def _json_rows(body: IO[bytes], ledger: Ledger, coercer: RowCoercer) -> Iterator[Row]:
    first = body.read(64)
    if first.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] != b"[":
        raise InvalidRequest(ErrorCode.PUSH_NOT_ARRAY)
    body.seek(0)
    index = label_index(ledger)
    names = set(ledger.by_name)
    plans: dict[tuple[str, ...], _Plan] = {}
    items = ijson.items(body, "item", use_float=True, buf_size=BLOCK)
    number = 0
    while True:
        try:
            item = next(items, None)
        except ijson.JSONError as exc:
            raise InvalidRequest(ErrorCode.PUSH_BAD_JSON, at=body.tell(), reason=exc) from exc
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
        values = list(item.values())
        if plan.bad_keys or _has_control(values):
            yield Row(number, {}, [_control_problem(_control_field(keys, values, plan))])
            continue
        record, errors = coercer.coerce(values, plan.columns)
        problems = _problems(errors)
        problems += [(key, "unknown_field", f"台账“{ledger.title}”中没有字段“{key}”") for key in plan.unknown]
        yield Row(number, record, problems)


def _has_control(values: list[Any]) -> bool:
    """Tell whether any text among a record's values (nested ones too) holds a control character."""
    texts = []
    for value in values:
        if value.__class__ is str:
            texts.append(value)
        elif isinstance(value, dict | list):
            texts.append(_nested_text(value))
    return bool(texts) and CONTROL.search("".join(texts)) is not None


def _nested_text(value: dict | list) -> str:
    """Return the texts inside a nested JSON value, joined (for the control character check)."""
    if isinstance(value, dict):
        return "".join(chain(map(str, value), (_nested_text([v]) for v in value.values())))
    return "".join(
        v if v.__class__ is str else _nested_text(v) if isinstance(v, dict | list) else "" for v in value
    )


def _control_field(keys: tuple[str, ...], values: list[Any], plan: _Plan) -> str:
    """Return the field (or key) whose text holds the control character, for the row's report."""
    for position, (key, value) in enumerate(zip(keys, values, strict=True)):
        if CONTROL.search(key) or _has_control([value]):
            return plan.columns.get(position, "" if CONTROL.search(key) else str(key))
    return ""


def _plan(keys: tuple[str, ...], names: set[str], index) -> _Plan:
    """Map object keys to fields: a field name, else a title or alias as a file header would be."""
    columns, unknown, taken = {}, [], set()
    if any(CONTROL.search(key) for key in keys):
        return _Plan({}, (), bad_keys=True)
    for position, key in enumerate(keys):
        name = key if key in names else index.match(key) if isinstance(key, str) else None
        if name is None or name in taken:
            unknown.append(key)
            continue
        taken.add(name)
        columns[position] = name
    return _Plan(columns, tuple(unknown))


def _csv_rows(body: IO[bytes], ledger: Ledger, coercer: RowCoercer, limits: ReadLimits) -> Iterator[Row]:
    text = _decoded(body)
    sample = text.read(SAMPLE)
    reader = csv.reader(
        chain(io.StringIO(sample, newline=""), text), delimiter=_delimiter(sample), strict=False
    )
    try:
        head = list(islice(_bounded(reader, limits), HEADER_SCAN))
        if not any(any(cell.strip() for cell in row) for row in head):
            raise InvalidRequest(ErrorCode.PUSH_CSV_EMPTY)
        header = find_header(head, ledger)
    except ImportRefused as refused:
        raise InvalidRequest(ErrorCode.PUSH_BAD_CSV, reason=refused) from refused
    except (UnicodeDecodeError, csv.Error) as exc:
        raise _unreadable(exc) from exc
    columns = header.columns
    rows = chain(head[header.row_index + 1 :], _bounded(reader, limits, len(head)))
    number = header.row_index + 1
    while True:
        try:
            cells = next(rows, None)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise _unreadable(exc) from exc
        if cells is None:
            return
        number += 1
        if CONTROL_IN_CSV.search("".join(cells)):
            bad = next(i for i, c in enumerate(cells) if CONTROL_IN_CSV.search(c))
            yield Row(number, {}, [_control_problem(columns.get(bad, f"第 {bad + 1} 列"))])
            continue
        record, errors = coercer.coerce(cells, columns)
        if not record and not errors:
            continue  # a blank line
        yield Row(number, record, _problems(errors))


def _unreadable(exc: BaseException) -> InvalidRequest:
    if isinstance(exc, UnicodeDecodeError):
        return InvalidRequest(ErrorCode.PUSH_CSV_ENCODING)
    return InvalidRequest(ErrorCode.PUSH_BAD_CSV, reason=exc)


def _bounded(reader: Iterator[list[str]], limits: ReadLimits, start: int = 0) -> Iterator[list[str]]:
    """Yield the CSV's rows while they stay within the limits (InvalidRequest past one)."""
    for count, row in enumerate(reader, start + 1):
        if len(row) > limits.max_columns:
            raise InvalidRequest(
                ErrorCode.PUSH_CSV_TOO_WIDE, line=count, count=len(row), limit=limits.max_columns
            )
        if count > limits.max_rows:
            raise InvalidRequest(ErrorCode.PUSH_CSV_TOO_LONG, limit=limits.max_rows)
        yield row


def _decoded(body: IO[bytes]) -> io.TextIOWrapper:
    """Return the body as text, its encoding told by its first bytes: BOM, else UTF-8, else GB18030."""
    first = body.read(SAMPLE)
    body.seek(0)
    if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif first.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    else:
        try:  # a character cut at the sample's end is not an error: decode incrementally
            codecs.getincrementaldecoder("utf-8")().decode(first, final=len(first) < SAMPLE)
            encoding = "utf-8"
        except UnicodeDecodeError:
            encoding = "gb18030"
    return io.TextIOWrapper(_Unclosed(body), encoding=encoding, newline="")


class _Unclosed(io.BufferedIOBase):
    """A view of the caller's stream that the text wrapper may close without closing the stream."""

    def __init__(self, raw: IO[bytes]) -> None:
        """Wrap a readable binary stream."""
        super().__init__()
        self._raw = raw

    def readable(self) -> bool:
        """Say the stream can be read."""
        return True

    def read(self, size: int | None = -1) -> bytes:
        """Read from the wrapped stream."""
        return self._raw.read(size if size is not None and size >= 0 else -1)

    def read1(self, size: int = -1) -> bytes:
        """Read from the wrapped stream (at most BLOCK bytes when unbounded)."""
        return self._raw.read(size if size >= 0 else BLOCK)


def _delimiter(sample: str) -> str:
    """Return the delimiter used most on the first lines (comma when none is used)."""
    lines = sample[:16384].splitlines()[:HEADER_SCAN]
    counts = {d: sum(line.count(d) for line in lines) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=counts.__getitem__)
    return best if counts[best] else ","
