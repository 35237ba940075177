"""Read, coerce and validate an uploaded ledger file into chunks ready to store.

Parsing is pure Python that holds the GIL, so a thread cannot overlap it with the writes. For
a large file two worker processes parse alternate chunks while the importing connection writes
the chunks already parsed (~20% faster on 100k rows with 2 cores; one worker was measured at
~10%, being as slow as the writes). Only compact prepared rows cross the process boundary.
Small files are parsed in-process by the same generator.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import PurePath
from typing import Any

from builder.catalog.specs import Ledger, OrgUnit
from builder.catalog.validation import RowValidator
from builder.problems import ImportRefused
from builder.tabular.coercion import RowCoercer
from builder.tabular.headers import find_header
from builder.tabular.limits import LEDGER_LIMITS, ReadLimits, one_large_parse
from builder.tabular.reading import check_size, measured_cells, read_table
from runtime.ledgers.store import Prepared, Scope, prepare

OUTSIDE_SCOPE = "该记录不属于您的辖区，不能导入"
#: A row without a required field: fine for a record that exists, not for a new one.
NEW_NEEDS = "台账中没有这条记录，新建时「{title}」必须填写"
#: Rows per chunk: larger chunks mean fewer statements; progress still moves every second.
CHUNK = 10_000
#: Files at least this large (~15,000 person rows of CSV) are parsed by worker processes.
WORKERS_FROM_BYTES = 4 * 1024 * 1024
WORKERS = 2


@dataclass
class Header:
    """Where the table starts and how its columns map to fields."""

    row_index: int
    columns: dict[int, str]
    labels: list[str]
    unmatched: list[str]
    ignored: list[str]
    body_rows: int


@dataclass
class Chunk:
    """Data rows of one chunk: the valid ones prepared (with their lines), the rejected ones."""

    valid: list[Prepared] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    rejected: list[tuple[int, list[Any], dict[str, str]]] = field(default_factory=list)
    rows: int = 0
    #: Line → problems of a valid row that lacks required fields: it may update an existing
    #: record (a file of some columns only), but cannot create one (`imports` decides).
    incomplete: dict[int, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    """What a parser needs: the file, the ledger, the org units and the importer's scope."""

    data: bytes
    filename: str
    ledger: Ledger
    org_units: list[OrgUnit]
    scope: Scope
    max_bytes: int
    chunk: int = CHUNK
    #: What the file may hold (the ledger import's defaults, with `max_bytes`, when None).
    limits: ReadLimits | None = None

    @property
    def read_limits(self) -> ReadLimits:
        """Return the limits the file is read under."""
        return self.limits or replace(LEDGER_LIMITS, max_bytes=self.max_bytes)


def parse(job: Job, part: int = 0, parts: int = 1) -> Iterator[Header | Chunk]:
    """Yield the Header, then every `parts`-th chunk from `part` on; raise ImportRefused.

    Duplicate keys are only caught within what one call parses: `parsed` checks across parts.
    Run it with the cyclic GC paused (`runtime.ledgers.bulk.paused_gc`), as `import_file` does.
    """
    ledger = job.ledger
    rows = read_table(job.data, job.filename, limits=job.read_limits, measured=True)
    header = find_header(rows, ledger)
    body = rows[header.row_index + 1 :]
    yield Header(
        header.row_index,
        header.columns,
        list(header.labels),
        list(header.unmatched),
        list(header.ignored),
        len(body),
    )
    coercer = RowCoercer(ledger, job.org_units)
    # Values are checked as given; required fields only matter to rows that create a record.
    validator = RowValidator(ledger, partial=True)
    required = [f for f in ledger.fields if f.required]
    for number, start in enumerate(range(0, len(body), job.chunk)):
        if number % parts != part:
            continue
        chunk = Chunk()
        for offset, cells in enumerate(body[start : start + job.chunk], start):
            record, errors = coercer.coerce(cells, header.columns)
            if not record and not errors:
                continue  # a blank line (or one with only columns we don't import)
            line = header.row_index + 2 + offset
            # Every problem of the row, those of its coerced values too, not only the first kind.
            errors = {**validator.errors(record), **errors}
            if not errors and _outside(ledger, job.scope, record):
                errors = {ledger.township_field: OUTSIDE_SCOPE}
            chunk.rows += 1
            if errors:
                chunk.rejected.append((line, list(cells), errors))
            else:
                missing = {f.name: NEW_NEEDS.format(title=f.title) for f in required if f.name not in record}
                if missing:
                    chunk.incomplete[line] = missing
                chunk.valid.append(prepare(ledger, record))
                chunk.lines.append(line)
        yield chunk


def _outside(ledger: Ledger, scope: Scope, record: dict[str, Any]) -> bool:
    if scope.township and record.get(ledger.township_field) != scope.township:
        return True
    return bool(scope.village and record.get(ledger.village_field) != scope.village)


def parsed(
    job: Job, *, workers_from_bytes: int = WORKERS_FROM_BYTES, waiting: Callable[[], None] | None = None
) -> Iterator[Header | Chunk]:
    """Yield the Header, then the chunks in file order, each key's repeats rejected.

    The file is measured against its limits first (ImportRefused past one), and a large one is
    parsed only when no other large parse runs in this process (`waiting` is told when it waits).
    """
    limits = job.read_limits
    name = PurePath(job.filename or "").name or "上传的文件"
    check_size(job.data, name, limits)
    with one_large_parse(measured_cells(job.data, name, limits), name, limits, waiting):
        yield from _parsed(job, workers_from_bytes)


def _parsed(job: Job, workers_from_bytes: int) -> Iterator[Header | Chunk]:
    """Yield the Header, then the chunks in file order, from this process or worker processes."""
    if len(job.data) < workers_from_bytes:
        streams = [parse(job)]
    else:
        streams = _worker_streams(job)
    try:
        headers = [next(stream) for stream in streams]
        yield headers[0]
        seen: dict[str, int] = {}
        live = list(streams)
        turn = 0
        while live:  # chunk n comes from stream n % len(streams): file order
            stream = streams[turn % len(streams)]
            turn += 1
            if stream not in live:
                continue
            chunk = next(stream, None)
            if chunk is None:
                live.remove(stream)
                continue
            yield _without_repeats(job, chunk, seen)
    finally:
        for stream in streams:
            stream.close()


def _without_repeats(job: Job, chunk: Chunk, seen: dict[str, int]) -> Chunk:
    """Move rows whose key an earlier row already had to the rejected ones."""
    keep, lines, repeats = [], [], []
    for row, line in zip(chunk.valid, chunk.lines, strict=True):
        first = seen.setdefault(row[0], line)
        if first == line:
            keep.append(row)
            lines.append(line)
        else:
            repeats.append((line, first))
    if repeats:
        cells = cells_of(job, [line for line, _first in repeats])
        chunk.rejected += [
            (line, cells[line], {job.ledger.key: f"与第 {first} 行重复"}) for line, first in repeats
        ]
        chunk.rejected.sort(key=lambda item: item[0])
    chunk.valid, chunk.lines = keep, lines
    return chunk


def cells_of(job: Job, lines: list[int]) -> dict[int, list[Any]]:
    """Read the uploaded cells of some lines again (rare rows: repeated keys, incomplete new records)."""
    rows = read_table(job.data, job.filename, limits=job.read_limits, measured=True)
    return {line: list(rows[line - 1]) for line in lines}


def _worker_streams(job: Job) -> list[Iterator[Header | Chunk]]:
    # forkserver: workers never inherit a web server's threads (fork with threads can
    # deadlock). The fork server imports this module (and `builder`) once, when it starts, so
    # a worker forked from it starts parsing at once: importing them in every worker held back
    # the first chunk of every large import by ~0.6 s (1.8 s -> 1.2 s until it arrives).
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    streams = []
    for part in range(WORKERS):
        receiver, sender = context.Pipe(duplex=False)
        worker = context.Process(target=_work, args=(sender, job, part, WORKERS), daemon=True)
        worker.start()
        sender.close()
        streams.append(_receive(receiver, worker))
    return streams


def _receive(receiver, worker) -> Iterator[Header | Chunk]:
    try:
        while (item := receiver.recv()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        receiver.close()
        worker.join(timeout=5)
        if worker.is_alive():
            worker.terminate()


def _work(sender, job: Job, part: int, parts: int) -> None:
    import gc

    gc.disable()  # the worker lives for one file; see runtime.ledgers.bulk.paused_gc
    try:
        try:
            for item in parse(job, part, parts):
                sender.send(item)
            sender.send(None)
        except ImportRefused as refused:
            sender.send(refused)
        except MemoryError:
            sender.send(RuntimeError("解析文件失败：内存不足，文件过大或过于复杂，请拆分后再导入"))
        except Exception as exc:  # any other failure must reach the importing process too
            sender.send(RuntimeError(f"解析文件失败：{exc}"))
    except (BrokenPipeError, ConnectionResetError):
        pass  # the importer stopped reading (the other worker failed first): nothing to do
    finally:
        sender.close()
