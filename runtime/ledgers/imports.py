"""Import a ledger file: read, match headers, coerce, validate, upsert, report rejected rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from builder.catalog.specs import Ledger, SpecSet
from builder.problems import FileProblem, ImportRefused
from builder.tabular.error_report import write_error_report
from builder.tabular.limits import ReadLimits
from runtime.access import Viewer
from runtime.audit import record_event
from runtime.config import private_dir, private_file
from runtime.ledgers.bulk import paused_gc
from runtime.ledgers.holdings import forget as forget_holdings
from runtime.ledgers.import_parsing import Chunk, Job, cells_of, parsed
from runtime.ledgers.statistics import refresh_after
from runtime.ledgers.store import Provenance, UpsertCounts, load_current, upsert_prepared
from runtime.models import utcnow

#: Rejected rows an error report lists at most (the rest are counted, not listed).
REPORT_ROWS = 10_000


@dataclass
class ImportResult:
    """What an import did, for the page, the CLI and the job record."""

    ledger: str
    filename: str
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    header_row: int = 0
    unmatched: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    report: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the result as plain JSON-able data."""
        return asdict(self) | {"message": self.summary()}

    def summary(self) -> str:
        """Return a one-line Chinese summary."""
        text = (
            f"共 {self.total} 行：新增 {self.created}，更新 {self.updated}，"
            f"无变化 {self.unchanged}，拒绝 {self.rejected}"
        )
        return text + ("（拒绝的行及原因见错误报告）" if self.rejected else "")


@dataclass(frozen=True)
class ImportOptions:
    """How an import reads its file and reports: limits, rows listed, who hears of waiting."""

    #: What the file may hold (the ledger import's defaults, with `max_bytes`, when None).
    limits: ReadLimits | None = None
    #: Rejected rows the error report lists at most.
    report_rows: int = REPORT_ROWS
    #: Called when the file must wait for another large file to be read.
    waiting: Callable[[], None] | None = None


def import_file(
    conn: Connection,
    specs: SpecSet,
    ledger_code: str,
    data: bytes,
    filename: str,
    viewer: Viewer,
    report_dir: Path,
    *,
    max_bytes: int,
    progress: Callable[[int, int | None], None] | None = None,
    options: ImportOptions | None = None,
) -> ImportResult:
    """Import one uploaded file into a ledger within the caller's transaction.

    Raises ImportRefused, before writing anything, for a file that cannot be imported at all.
    """
    ledger = specs.ledgers.get(ledger_code)
    if ledger is None:
        raise ImportRefused(FileProblem.UNKNOWN_LEDGER, ledger=ledger_code)
    with paused_gc():
        return _import(
            conn,
            specs,
            ledger,
            data,
            filename,
            viewer,
            report_dir,
            max_bytes,
            progress,
            options or ImportOptions(),
        )


def _import(
    conn: Connection,
    specs: SpecSet,
    ledger: Ledger,
    data: bytes,
    filename: str,
    viewer: Viewer,
    report_dir: Path,
    max_bytes: int,
    progress: Callable[[int, int | None], None] | None,
    options: ImportOptions,
) -> ImportResult:
    job = Job(
        data, filename, ledger, list(specs.org_units.values()), viewer.scope, max_bytes, limits=options.limits
    )
    events = parsed(job, waiting=options.waiting)
    header = next(events)
    result = ImportResult(
        ledger=ledger.code,
        filename=filename,
        header_row=header.row_index + 1,
        unmatched=header.unmatched,
        ignored=header.ignored,
    )
    if progress:
        progress(0, header.body_rows)
    prov = Provenance(source="import", source_ref=filename, actor_id=viewer.user_id)
    rejected: list[tuple[int, list, dict[str, str]]] = []  # the first ones only: see `report_rows`
    counts = UpsertCounts()
    done = 0
    for chunk in events:
        _refuse_new_incomplete(conn, job, chunk)
        counts.add(upsert_prepared(conn, ledger, chunk.valid, prov, scope=viewer.scope))
        result.rejected += len(chunk.rejected)
        rejected.extend(chunk.rejected[: max(options.report_rows - len(rejected), 0)])
        result.total += chunk.rows
        done += chunk.rows
        if progress:
            progress(done, header.body_rows)
    result.created, result.updated, result.unchanged = counts.created, counts.updated, counts.unchanged
    refresh_after(conn, specs, counts.created + counts.updated)
    if counts.created + counts.updated:
        forget_holdings()  # the admission checks must see what the ledgers hold now
    if rejected:
        private_dir(report_dir)
        path = report_dir / f"{Path(filename).stem}-错误报告-{_stamp()}.xlsx"
        write_error_report(
            path,
            header.labels,
            rejected,
            {f.name: f.title for f in ledger.fields},
            columns=header.columns,
            more=result.rejected - len(rejected),
        )
        private_file(path)
        result.report = str(path)
    record_event(
        conn,
        viewer.user_id,
        "import",
        ledger.code,
        {k: v for k, v in result.as_dict().items() if k not in ("unmatched", "ignored")},
    )
    return result


def _refuse_new_incomplete(conn: Connection, job: Job, chunk: Chunk) -> None:
    """Move the rows lacking required fields whose record does not exist yet to the rejected ones.

    A file of some columns (the key and a phone) updates the records it names; it cannot create
    a record without the fields every record must have.
    """
    if not chunk.incomplete:
        return
    lines = dict(zip(chunk.lines, (row[0] for row in chunk.valid), strict=True))
    keys = [lines[line] for line in chunk.incomplete]
    existing = load_current(conn, job.ledger.code, keys)
    new = {line for line in chunk.incomplete if lines[line] not in existing}
    if not new:
        return
    cells = cells_of(job, sorted(new))
    kept = [(row, line) for row, line in zip(chunk.valid, chunk.lines, strict=True) if line not in new]
    chunk.valid, chunk.lines = [r for r, _ in kept], [line for _, line in kept]
    chunk.rejected = sorted(
        chunk.rejected + [(line, cells[line], chunk.incomplete[line]) for line in new],
        key=lambda item: item[0],
    )


def _stamp() -> str:
    return utcnow().strftime("%Y%m%d%H%M%S%f")
