"""Long work with progress: a job row the pages poll, the work run on a thread or on RQ.

A job's work is a named function, "package.module:function", called as
`function(ctx: JobContext, **params) -> dict` with JSON params. By default it runs on a thread of
the process that submitted it (the embedded set-up needs nothing else); with a Redis URL it is
put on an RQ queue, and a worker on any machine runs it. The enqueued call carries what a worker
without the app needs — the database URL, the specs folder and the file folders — never objects.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, update
from sqlalchemy.orm import Session

from builder.catalog.specs import SpecSet, load_specs
from runtime import config
from runtime.db import make_engine
from runtime.errors import ErrorCode, InvalidRequest
from runtime.models import Job, utcnow

log = logging.getLogger(__name__)

#: The RQ queue the web processes put jobs on and `yibiaotong worker` listens to.
DEFAULT_QUEUE = "yibiaotong"
#: A job still running after this many seconds is stopped (large imports take minutes, not hours).
JOB_TIMEOUT = 3 * 3600
#: How long a job's progress stays in Redis when its worker vanished without cleaning up.
PROGRESS_TTL = 24 * 3600
#: How long RQ keeps a job that failed outside our handling (the job row keeps the outcome).
FAILURE_TTL = 7 * 24 * 3600

#: Progress of the jobs running in this process: progress key → (done, total).
_live: dict[str, tuple[int, int]] = {}
#: What the jobs running in this process say meanwhile (waiting their turn): progress key → text.
_notes: dict[str, str] = {}
_live_lock = threading.Lock()
#: Exceptions that stop the process: the job is marked failed, then they go on.
_STOPPING = (KeyboardInterrupt, SystemExit)


def progress_key(engine: Engine, job_id: int) -> str:
    """Return the key of a job's progress: job ids are per database, Redis may be shared."""
    where = hashlib.sha1(engine.url.render_as_string(hide_password=True).encode()).hexdigest()[:12]
    return f"yibiaotong:progress:{where}:{job_id}"


@dataclass
class Progress:
    """Handed to a job's function to report how far it got.

    In a thread the numbers are kept in this process, where its pages read them (`live`); in an
    RQ worker they go to Redis, where every web process reads them. On PostgreSQL they also go
    to the job row, throttled. On SQLite they don't: a job that writes holds the only write lock
    until it commits, so a progress write through another connection would wait for the job.
    """

    engine: Engine
    job_id: int
    key: str = ""
    redis: Any = None
    _last: int = -1
    _total: int = 0

    def __post_init__(self) -> None:
        """Default the key to the job's progress key."""
        self.key = self.key or progress_key(self.engine, self.job_id)

    def __call__(self, done: int, total: int | None = None, message: str | None = None) -> None:
        """Record progress; cheap to call often (writes at most ~100 times a job)."""
        if total is not None:
            self._total = total
        if self.redis is None:
            with _live_lock:
                _live[self.key] = (done, self._total)
                if message is not None:
                    _notes[self.key] = message
        elif message is not None:
            _store_note(self.redis, self.key, message)
        step = max(self._total // 100, 1000 if not self._total else 1)
        if done - self._last < step and done != self._total and message is None:
            return
        self._last = done
        if self.redis is not None:
            _store_progress(self.redis, self.key, done, self._total)
        if self.engine.dialect.name == "sqlite":
            return
        values: dict[str, Any] = {"done": done, "total": self._total, "status": "running"}
        if message is not None:
            values["message"] = message
        with self.engine.begin() as conn:
            conn.execute(update(Job).where(Job.id == self.job_id).values(**values))


def _store_progress(redis: Any, key: str, done: int, total: int) -> None:
    from redis.exceptions import RedisError

    try:
        with redis.pipeline() as pipe:
            pipe.hset(key, mapping={"done": done, "total": total}).expire(key, PROGRESS_TTL).execute()
    except RedisError:  # progress is a nicety: the job goes on without it
        log.warning("job progress not stored in Redis (%s)", key, exc_info=True)


def _store_note(redis: Any, key: str, message: str) -> None:
    from redis.exceptions import RedisError

    try:
        with redis.pipeline() as pipe:
            pipe.hset(key, mapping={"message": message}).expire(key, PROGRESS_TTL).execute()
    except RedisError:
        log.warning("job message not stored in Redis (%s)", key, exc_info=True)


def note(engine: Engine, job_id: int, redis_url: str | None = None) -> str | None:
    """Return what a running job says meanwhile (e.g. that it waits its turn), or None."""
    key = progress_key(engine, job_id)
    with _live_lock:
        text = _notes.get(key)
    if text is not None or not redis_url:
        return text
    from redis.exceptions import RedisError

    try:
        found = _redis(redis_url).hget(key, "message")
    except RedisError:
        return None
    return found.decode() if found else None


@dataclass
class JobContext:
    """What a job's function gets besides its parameters."""

    #: The app's database.
    engine: Engine
    #: The loaded specs.
    specs: SpecSet
    job_id: int
    #: progress(done, total=None, message=None)
    progress: Progress
    #: "export", "report", "upload" → absolute folder paths.
    folders: dict[str, str] = field(default_factory=dict)
    #: How this job runs, for the jobs it starts (`then`): its RQ queue, else a thread or inline.
    redis_url: str | None = None
    queue: str = DEFAULT_QUEUE
    background: bool = True

    def then(self, kind: str, title: str, func: str, params: dict[str, Any]) -> int:
        """Start another job the way this one runs, not waiting for it; return its id.

        On RQ it goes on the queue (a worker's work process ends with its job, threads and all);
        otherwise on a thread of its own, or inline where this one ran inline.
        """
        return submit(
            self.engine,
            kind,
            title,
            None,
            func,
            params,
            background=self.background,
            redis_url=self.redis_url,
            queue=self.queue,
            specs_root=str(self.specs.root),
            specs=self.specs,
            folders=self.folders,
        )


def resolve(name: str) -> Callable[..., dict[str, Any]]:
    """Return the function a job name ("package.module:function") stands for (ValueError if none)."""
    module, _sep, attr = name.partition(":")
    try:
        func = getattr(importlib.import_module(module), attr, None) if module and attr else None
    except ImportError:
        func = None
    if not callable(func):
        raise InvalidRequest(ErrorCode.UNKNOWN_JOB_FUNCTION, name=name)
    return func


def live(engine: Engine, job_id: int, redis_url: str | None = None) -> tuple[int, int] | None:
    """Return (done, total) of a running job: run in this process, else by a worker (with Redis)."""
    key = progress_key(engine, job_id)
    with _live_lock:
        now = _live.get(key)
    if now is not None or not redis_url:
        return now
    from redis.exceptions import RedisError

    try:
        done, total = _redis(redis_url).hmget(key, ["done", "total"])
    except RedisError:
        log.warning("job progress not read from Redis (%s)", key, exc_info=True)
        return None
    return None if done is None else (int(done), int(total or 0))


def create(engine: Engine, kind: str, title: str, actor_id: int | None) -> int:
    """Create a queued job and return its id (a title longer than the column holds is shortened)."""
    limit = Job.__table__.c.title.type.length
    if len(title) > limit:
        title = title[: limit - 1] + "…"
    with engine.begin() as conn:
        return conn.execute(
            insert(Job)
            .values(
                kind=kind,
                title=title,
                status="queued",
                done=0,
                total=0,
                message="",
                actor_id=actor_id,
                created_at=utcnow(),
            )
            .returning(Job.id)
        ).scalar_one()


def _finish(engine: Engine, job_id: int, **values: Any) -> None:
    with engine.begin() as conn:
        conn.execute(update(Job).where(Job.id == job_id).values(finished_at=utcnow(), **values))


def _failure(exc: BaseException) -> str:
    """Return what the page says about a job that raised `exc`."""
    from rq.timeouts import BaseTimeoutException

    if isinstance(exc, BaseTimeoutException):
        return f"处理超时（超过 {JOB_TIMEOUT // 3600} 小时），已中止"
    if isinstance(exc, MemoryError):
        return "处理失败：服务器内存不足（文件过大或过于复杂）；请拆分成几个文件后重试"
    if isinstance(exc, _STOPPING):
        return "处理中断：服务器正在停止；请稍后重试"
    if not isinstance(exc, Exception):  # a Rust panic in a reader (pyo3's PanicException), and the like
        return "处理失败：文件无法读取（读取组件内部错误）；请用 Excel 或 WPS 另存为 .xlsx 后重试"
    return getattr(exc, "message", None) or f"处理失败：{exc}"


def run(
    engine: Engine,
    job_id: int,
    func: str,
    params: dict[str, Any],
    *,
    specs: SpecSet,
    folders: dict[str, str],
    redis: Any = None,
    key: str = "",
    redis_url: str | None = None,
    queue: str = DEFAULT_QUEUE,
    background: bool = True,
) -> None:
    """Run a job now, storing its result, or its failure as a Chinese message."""
    progress = Progress(engine, job_id, key, redis)
    with engine.begin() as conn:
        conn.execute(update(Job).where(Job.id == job_id).values(status="running"))
    stopping: BaseException | None = None
    try:
        context = JobContext(
            engine, specs, job_id, progress, folders, redis_url=redis_url, queue=queue, background=background
        )
        result = resolve(func)(context, **params)
        result = json.loads(json.dumps(result))  # what the job row can hold, or a failure now
        _keep_private(result, folders)
        values = {"status": "done", "result": result, "message": result.get("message", "完成")}
    except BaseException as exc:  # noqa: BLE001 - a job must end in a state the page can show
        # MemoryError and a Rust panic (BaseException) included: a job left "running" never ends.
        log.exception("job %s failed", job_id)
        values = {"status": "failed", "message": _failure(exc)}
        stopping = exc if isinstance(exc, _STOPPING) else None
    # Progress goes before the final state is written: whoever sees the job ended finds none left.
    with _live_lock:
        _live.pop(progress.key, None)
        _notes.pop(progress.key, None)
    if redis is not None:
        from redis.exceptions import RedisError

        try:
            redis.delete(progress.key)
        except RedisError:
            log.warning("job progress left in Redis (%s)", progress.key)
    _finish(engine, job_id, **values)
    if stopping is not None:
        raise stopping


def _keep_private(result: dict[str, Any], folders: dict[str, str]) -> None:
    """Make the files a job wrote in its folders readable by their owner only (0600)."""
    roots = [Path(folder).resolve() for folder in folders.values()]
    for key in ("path", "report"):
        found = result.get(key)
        path = Path(found).resolve() if isinstance(found, str) else None
        if path and path.is_file() and any(path.is_relative_to(root) for root in roots):
            config.private_file(path)


def submit(
    engine: Engine,
    kind: str,
    title: str,
    actor_id: int | None,
    func: str,
    params: dict[str, Any],
    *,
    background: bool = True,
    redis_url: str | None = None,
    queue: str = DEFAULT_QUEUE,
    specs_root: str | None = None,
    specs: SpecSet | None = None,
    folders: dict[str, str] | None = None,
    job_id: int | None = None,
) -> int:
    """Create a job running `func(ctx, **params)` and start it; return the job id.

    With `job_id` it starts that job, created (queued) with `create` by a caller who had to note
    the id somewhere before the job could run.

    With `redis_url` the job goes on the RQ `queue` (its worker loads the specs from
    `specs_root`); otherwise it runs on a background thread (or inline) with `specs` or the
    specs loaded from `specs_root`.
    """
    resolve(func)  # an unknown name fails here, in the request, not later in a worker
    params = json.loads(json.dumps(params))  # both ways see the parameters a worker would see
    root = str(Path(specs_root or config.specs_path()).resolve())
    folders = {name: str(Path(path).resolve()) for name, path in (folders or {}).items()}
    job_id = job_id or create(engine, kind, title, actor_id)
    if redis_url:
        _enqueue(engine, job_id, func, params, root, folders, redis_url, queue, title)
        return job_id
    args = (engine, job_id, func, params)
    options = {"specs": specs or load_specs(root), "folders": folders, "background": background}
    if background:
        thread = threading.Thread(target=run, args=args, kwargs=options, daemon=True)
        _threads.add(thread)
        thread.start()
    else:
        run(*args, **options)
    return job_id


#: Jobs running on this process's threads (gone from the set once they end and are collected).
_threads: weakref.WeakSet[threading.Thread] = weakref.WeakSet()


def wait_for_threads(timeout: float = 30.0) -> bool:
    """Wait for the jobs on this process's threads to end, those they start included; False on timeout.

    For a server shutting down, and for tests that drop their database afterwards.
    """
    deadline = time.monotonic() + timeout
    while True:
        alive = [thread for thread in list(_threads) if thread.is_alive()]
        if not alive:
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        alive[0].join(left)


@functools.lru_cache(maxsize=8)
def _redis(url: str) -> Any:
    """Return a client of the Redis at `url` (one connection pool per URL and process)."""
    from redis import Redis

    return Redis.from_url(url)


def _database_url(engine: Engine) -> str:
    """Return the engine's URL as another process opens it (a SQLite file made absolute)."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        url = url.set(database=str(Path(url.database).resolve()))
    return url.render_as_string(hide_password=False)


def _enqueue(
    engine: Engine,
    job_id: int,
    func: str,
    params: dict[str, Any],
    specs_root: str,
    folders: dict[str, str],
    redis_url: str,
    queue: str,
    title: str,
) -> None:
    """Put the job on the RQ queue; a queue that can't be reached fails the job at once."""
    from redis.exceptions import RedisError
    from rq import Queue
    from rq.serializers import JSONSerializer

    call = {
        "job_id": job_id,
        "func": func,
        "params": params,
        "database_url": _database_url(engine),
        "specs_root": specs_root,
        "folders": folders,
        "redis_url": redis_url,
        "key": progress_key(engine, job_id),
        "queue": queue,
    }
    try:
        Queue(queue, connection=_redis(redis_url), serializer=JSONSerializer).enqueue(
            perform,
            kwargs=call,
            job_timeout=JOB_TIMEOUT,
            result_ttl=0,
            failure_ttl=FAILURE_TTL,
            description=title,
        )
    except RedisError as exc:
        log.exception("job %s not queued", job_id)
        _finish(engine, job_id, status="failed", message=f"无法提交到后台任务队列（Redis）：{exc}")


def perform(
    job_id: int,
    func: str,
    params: dict[str, Any],
    database_url: str,
    specs_root: str,
    folders: dict[str, str],
    redis_url: str,
    key: str,
    queue: str = DEFAULT_QUEUE,
) -> None:
    """Run one queued job in an RQ worker, on the database and specs the web process named."""
    engine = make_engine(database_url)
    try:
        run(
            engine,
            job_id,
            func,
            params,
            specs=load_specs(specs_root),
            folders=folders,
            redis=_redis(redis_url),
            key=key,
            redis_url=redis_url,
            queue=queue,
        )
    finally:
        engine.dispose()


def _horse_killed(job: Any, *_why: Any) -> None:
    """Fail the job row of an RQ job whose work process died (killed, out of memory)."""
    call = job.kwargs or {}
    if "database_url" not in call:
        return
    engine = make_engine(call["database_url"])
    try:
        with engine.begin() as conn:
            conn.execute(
                update(Job)
                .where(Job.id == call["job_id"], Job.status.in_(("queued", "running")))
                .values(status="failed", message="后台任务进程意外终止，请重试", finished_at=utcnow())
            )
    finally:
        engine.dispose()
    _redis(call["redis_url"]).delete(call["key"])


def work(redis_url: str, queue: str = DEFAULT_QUEUE, *, burst: bool = False, fork: bool = True) -> bool:
    """Run an RQ worker on `queue` until stopped (in burst mode: until the queue is empty).

    Forking (the default) runs each job in a fresh child, so a crash loses only that job;
    `fork=False` runs jobs in this process (tests, platforms without fork).
    """
    from rq import SimpleWorker, Worker
    from rq.serializers import JSONSerializer

    worker_class = Worker if fork else SimpleWorker
    worker = worker_class(
        [queue],
        connection=_redis(redis_url),
        serializer=JSONSerializer,
        work_horse_killed_handler=_horse_killed,
    )
    return worker.work(burst=burst)


def get(engine: Engine, job_id: int) -> Job | None:
    """Return the job row, or None."""
    with Session(engine, expire_on_commit=False) as session:
        return session.get(Job, job_id)
