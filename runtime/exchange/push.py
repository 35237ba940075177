"""Push (行业反哺): a client system upserts records of a ledger by natural key.

Values of the elements the client's department owns are written at once (source `api`, the
client's name as reference); values of other departments' elements become proposals to their
owners (`runtime.sharing.proposals`), exactly as a hand edit's would. A new record needs its key
and every required field, all owned by the client's department. Rows are coerced and validated
as the file import does; a row's problems are coded, in Chinese. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, insert, select, update

from builder.catalog.specs import Ledger, SpecSet
from builder.tabular.limits import ReadLimits
from runtime import config
from runtime.access import Viewer
from runtime.audit import record_event
from runtime.errors import ErrorCode, NotFound
from runtime.exchange.ahead import read_ahead
from runtime.exchange.bodies import Problem, Row, read_rows
from runtime.exchange.checking import Checked, Checker
from runtime.exchange.clients import ClientIdentity, client_viewer
from runtime.jobs.runner import JobContext
from runtime.ledgers.bulk import paused_gc
from runtime.ledgers.holdings import forget as forget_holdings
from runtime.ledgers.statistics import refresh_after
from runtime.ledgers.store import Prepared, Provenance, diff, load_current, prepare, upsert_prepared
from runtime.models import ApiClient, Department, FeedEvent, utcnow
from runtime.sharing.proposals import Offer, propose

PER_ROW, ALL_OR_NOTHING = "per_row", "all_or_nothing"
MODES = (PER_ROW, ALL_OR_NOTHING)
#: Rows read, checked and written together.
CHUNK = 10_000
#: A push of at most this many rows lists every row; a larger one its rejected and proposed rows.
LIST_ALL = 1000
#: Rows a larger push lists at most (the rest are counted in `omitted`).
LIST_AT_MOST = 1000
SOURCE = "api"


@dataclass(frozen=True)
class PushOptions:
    """How to push: write or only check (`dry_run`), and whether one bad row stops all (`mode`)."""

    dry_run: bool = False
    mode: str = PER_ROW


@dataclass
class PushResult:
    """What a push did (or, dry, would do): counts, and the rows worth reading."""

    ledger: str
    mode: str
    dry_run: bool
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    proposed: int = 0
    rejected: int = 0
    #: Values proposed to other departments (a row may propose several).
    proposals: int = 0
    #: Field names that carried values in accepted rows.
    fields: set[str] = field(default_factory=set)
    rows: list[dict[str, Any]] = field(default_factory=list)
    omitted: int = 0
    _all: bool = True

    @property
    def refused(self) -> bool:
        """Tell whether an all-or-nothing push wrote nothing because some row was rejected."""
        return self.mode == ALL_OR_NOTHING and self.rejected > 0

    def note(self, number: int, key: Any, result: str, problems=(), proposed=()) -> None:
        """Count one row's outcome and list it if it is worth listing."""
        self.total += 1
        setattr(self, result, getattr(self, result) + 1)
        entry = {
            "row": number,
            "key": None if key is None else str(key),
            "result": result,
            "errors": [{"field": f, "code": c, "message": m} for f, c, m in problems],
            "proposed": list(proposed),
        }
        if self._all:
            self.rows.append(entry)
            if len(self.rows) > LIST_ALL:  # from here on only the rows someone must act on
                self._all = False
                kept = [r for r in self.rows if r["errors"] or r["proposed"]]
                self.omitted = len(self.rows) - len(kept)
                self.rows = kept
        elif (problems or proposed) and len(self.rows) < LIST_AT_MOST:
            self.rows.append(entry)
        else:
            self.omitted += 1

    def summary(self) -> dict[str, Any]:
        """Return the counts as the answer's `summary`."""
        return {
            "total": self.total,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "proposed": self.proposed,
            "rejected": self.rejected,
            "proposals": self.proposals,
            "dry_run": self.dry_run,
            "mode": self.mode,
            "written": not self.dry_run and not self.refused,
            "rows_listed": "all" if self._all else "rejected_and_proposed",
            "rows_omitted": self.omitted,
            "message": self.message(),
        }

    def message(self) -> str:
        """Return a one-line Chinese summary."""
        text = (
            f"共 {self.total} 行：新增 {self.created}，更新 {self.updated}，无变化 {self.unchanged}，"
            f"提交权威部门审核 {self.proposed}，拒绝 {self.rejected}"
        )
        if self.dry_run:
            return "试运行（未写入）：" + text
        if self.refused:
            return "有被拒绝的行，按“全部或全不”方式未写入任何数据：" + text
        return text

    def answer(self) -> dict[str, Any]:
        """Return the JSON answer: the summary and the listed rows."""
        rows = sorted(self.rows, key=lambda r: r["row"])
        return {"ledger": self.ledger, "summary": self.summary(), "rows": rows}


@dataclass(frozen=True)
class Pusher:
    """Who pushes into which ledger, and what the push may read."""

    specs: SpecSet
    ledger: Ledger
    client: ClientIdentity
    viewer: Viewer
    limits: ReadLimits


def push(
    conn: Connection,
    pusher: Pusher,
    body: IO[bytes],
    media: str,
    options: PushOptions,
    *,
    job_id: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> PushResult:
    """Upsert the rows of a body (JSON array or CSV) within the caller's transaction; log it.

    `body` is a seekable binary stream, read as rows arrive (never held whole as Python objects).
    All-or-nothing checks every row first and writes only when none is rejected. Raises
    InvalidRequest for a body that is no table at all (nothing is written then).
    """
    with paused_gc():
        if options.mode == ALL_OR_NOTHING and not options.dry_run:
            result = _run(conn, pusher, body, media, options, write=False, progress=progress)
            if not result.rejected:
                result = _run(conn, pusher, body, media, options, write=True, progress=progress)
        else:
            result = _run(conn, pusher, body, media, options, write=not options.dry_run, progress=progress)
    written = 0 if result.dry_run or result.refused else result.created + result.updated
    refresh_after(conn, pusher.specs, written)
    if written:
        forget_holdings()  # the admission checks must see what the ledgers hold now
    _log(conn, pusher, result, job_id)
    return result


def _chunks(rows: Iterator[Row]) -> Iterator[list[Row]]:
    while chunk := list(islice(rows, CHUNK)):
        yield chunk


def _run(
    conn: Connection,
    pusher: Pusher,
    body: IO[bytes],
    media: str,
    options: PushOptions,
    *,
    write: bool,
    progress: Callable[[int], None] | None,
) -> PushResult:
    ledger = pusher.ledger
    result = PushResult(ledger.code, options.mode, options.dry_run)
    body.seek(0)
    rows = read_rows(body, media, ledger, list(pusher.specs.org_units.values()), pusher.limits)
    checker = Checker(pusher.ledger)
    step = _Step(conn, pusher, result, write)
    # The next chunk is read and checked in a thread while this one is written; `closing`
    # stops the thread at once when a write fails (the traceback would keep it alive).
    with closing(read_ahead(checker.chunk(chunk) for chunk in _chunks(rows))) as chunks:
        for checked in chunks:
            step.chunk(checked)
            if progress:
                progress(result.total)
    return result


class _Step:
    """Store one checked chunk of rows after another: owned values written, others proposed."""

    def __init__(self, conn: Connection, pusher: Pusher, result: PushResult, write: bool) -> None:
        """Prepare what every chunk needs: the owned and required fields, the provenance."""
        ledger = pusher.ledger
        self.conn, self.pusher, self.result, self.write = conn, pusher, result, write
        self.owned = {f.name for f in ledger.fields if pusher.viewer.owns(f.element)}
        self.required = [f.name for f in ledger.fields if f.required]
        self.not_owned_required = [ledger.by_name[n].title for n in self.required if n not in self.owned]
        self.prov = Provenance(SOURCE, pusher.client.client_name[:200], None)

    def chunk(self, checked: Checked) -> None:
        """Decide, then write (unless dry) one checked chunk: owned values stored, others proposed."""
        ledger, result = self.pusher.ledger, self.result
        for row, key, problems in checked.rejected:
            result.note(row.number, key, "rejected", problems)
        good = checked.good
        existing = load_current(self.conn, ledger.code, [key for _row, key in good])
        writes: list[Prepared] = []
        offers: list[tuple[str, str, Any, Any]] = []  # (key, field, value, seen)
        outcomes: list[tuple[Row, str, str, list[str]]] = []
        owned, key_name = self.owned, ledger.key
        for row, key in good:
            record = row.record
            mine = {n: v for n, v in record.items() if n in owned}
            others = {n: v for n, v in record.items() if n not in owned and n != key_name}
            current = existing.get(key)
            if current is None:
                problem = self._cannot_create(record)
                if problem:
                    result.note(row.number, key, "rejected", [problem])
                    continue
                writes.append(prepare(ledger, mine))
                outcome, proposed = "created", sorted(others)
                offers += [(key, n, v, None) for n, v in others.items()]
            else:
                data = current[2]
                _before, after = diff(data, mine)
                if after:
                    writes.append(prepare(ledger, mine | {key_name: key}))
                _before, wanted = diff(data, others)
                proposed = sorted(wanted)
                offers += [(key, n, v, data.get(n)) for n, v in wanted.items()]
                outcome = "updated" if after else "proposed" if wanted else "unchanged"
            result.fields.update(record)
            outcomes.append((row, key, outcome, proposed))
        result.proposals += len(offers)
        for row, key, outcome, proposed in outcomes:
            result.note(row.number, key, outcome, proposed=proposed)
        if self.write:
            self._store(writes, offers, existing)

    def _cannot_create(self, record: dict[str, Any]) -> Problem | None:
        """Return why a row cannot make a new record, or None when it can."""
        ledger = self.pusher.ledger
        if self.not_owned_required:
            titles = "、".join(self.not_owned_required[:5])
            return (
                ledger.key,
                "cannot_create",
                f"台账中没有这条记录，而新建记录须由权威部门推送：必填项「{titles}」等不归本部门",
            )
        missing = [ledger.by_name[n].title for n in self.required if n not in record]
        if missing:
            return (ledger.key, "required_missing", f"新建记录须填写：{'、'.join(missing)}")
        return None

    def _store(self, writes: list[Prepared], offers: list[tuple[str, str, Any, Any]], existing) -> None:
        conn, ledger, pusher = self.conn, self.pusher.ledger, self.pusher
        if writes:
            upsert_prepared(conn, ledger, writes, self.prov, scope=pusher.viewer.scope, existing=existing)
        if not offers:
            return
        now = load_current(conn, ledger.code, sorted({key for key, *_rest in offers}))
        records = {
            key: {"_id": rid, "_key": key, "_version": version} for key, (rid, version, *_r) in now.items()
        }
        propose(
            conn,
            ledger,
            [Offer(records[key], name, value, seen) for key, name, value, seen in offers],
            source=SOURCE,
            proposed_by=None,
            source_ref=pusher.client.client_name[:200],
        )


def _log(conn: Connection, pusher: Pusher, result: PushResult, job_id: int | None) -> None:
    """Record the push on the feed (dry runs too, flagged) and, when it wrote, in the audit log."""
    ledger = pusher.ledger
    values = {
        "client_id": pusher.client.client_id,
        "ledger": ledger.code,
        "kind": "push",
        "at": utcnow(),
        "rows": result.total,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "rejected": result.rejected,
        "proposed": result.proposals,
        "dry_run": result.dry_run,
        "elements": sorted(ledger.by_name[n].element.code for n in result.fields if n in ledger.by_name),
        "job_id": job_id,
    }
    done = 0
    if job_id is not None:  # started as a job: its feed line was made when it was accepted
        done = conn.execute(update(FeedEvent).where(FeedEvent.job_id == job_id).values(**values)).rowcount
    if not done:
        conn.execute(insert(FeedEvent).values(**values))
    if result.dry_run:
        return
    detail = result.summary() | {"client": pusher.client.client_name, "job": job_id}
    record_event(conn, None, "api.push", f"ledger/{ledger.code}", detail)


def pending_feed(conn: Connection, client: ClientIdentity, ledger: str, job_id: int) -> None:
    """Note a push accepted as a job (its counts come when the job ends); the job is the client's."""
    conn.execute(
        insert(FeedEvent).values(client_id=client.client_id, ledger=ledger, kind="push", job_id=job_id)
    )


def job_client(conn: Connection, job_id: int) -> int | None:
    """Return the client that started a push job, or None."""
    return conn.execute(
        select(FeedEvent.client_id).where(FeedEvent.job_id == job_id, FeedEvent.kind == "push")
    ).scalar()


def ledger_of(specs: SpecSet, code: str) -> Ledger:
    """Return a ledger by code (NotFound otherwise)."""
    ledger = specs.ledgers.get(code)
    if ledger is None:
        raise NotFound(ErrorCode.LEDGER_UNKNOWN, ledger=code)
    return ledger


def client_identity(conn: Connection, client_id: int) -> ClientIdentity:
    """Return a client as its token would speak for it (for a job, which has no token)."""
    row = conn.execute(
        select(ApiClient.id, ApiClient.name, Department.id, Department.name)
        .join(Department, Department.id == ApiClient.department_id)
        .where(ApiClient.id == client_id)
    ).one()
    return ClientIdentity(row[0], row[1], row[2], row[3], 0)


def push_job(
    ctx: JobContext,
    *,
    ledger: str,
    upload: str,
    media: str,
    client_id: int,
    dry_run: bool,
    mode: str,
    max_bytes: int,
) -> dict[str, Any]:
    """Run a push accepted as a job: the body waits in the upload folder (deleted after)."""
    path = Path(ctx.folders["upload"]) / Path(upload).name
    try:
        with path.open("rb") as body, ctx.engine.begin() as conn:
            identity = client_identity(conn, client_id)
            pusher = Pusher(
                ctx.specs,
                ledger_of(ctx.specs, ledger),
                identity,
                client_viewer(conn, identity),
                replace(config.read_limits("ledger"), max_bytes=max_bytes),
            )
            result = push(
                conn,
                pusher,
                body,
                media,
                PushOptions(dry_run, mode),
                job_id=ctx.job_id,
                progress=lambda done: ctx.progress(done, None),
            )
    finally:
        path.unlink(missing_ok=True)
    return result.answer() | {"message": result.message(), "status": 422 if result.refused else 200}
