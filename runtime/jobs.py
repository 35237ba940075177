"""Long work with progress: a job row the pages poll, the work run on a background thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, update
from sqlalchemy.orm import Session

from runtime.models import Job, utcnow

log = logging.getLogger(__name__)


#: Progress of the jobs running in this process: job id → (done, total).
_live: dict[int, tuple[int, int]] = {}
_live_lock = threading.Lock()


@dataclass
class Progress:
    """Handed to a job's function to report how far it got.

    The numbers are kept in this process, where the pages of the same process read them
    (`live`). On PostgreSQL they also go to the job row, throttled, so web workers on other
    machines see them. On SQLite they don't: a job that writes holds the only write lock until
    it commits, so a progress write through another connection would wait for the job itself;
    the embedded deployment is one process anyway.
    """

    engine: Engine
    job_id: int
    _last: int = -1
    _total: int = 0

    def __call__(self, done: int, total: int | None = None, message: str | None = None) -> None:
        """Record progress; cheap to call often (writes the row at most ~100 times a job)."""
        if total is not None:
            self._total = total
        with _live_lock:
            _live[self.job_id] = (done, self._total)
        if self.engine.dialect.name == "sqlite":
            return
        step = max(self._total // 100, 1000 if not self._total else 1)
        if done - self._last < step and done != self._total and message is None:
            return
        self._last = done
        values: dict[str, Any] = {"done": done, "total": self._total, "status": "running"}
        if message is not None:
            values["message"] = message
        with self.engine.begin() as conn:
            conn.execute(update(Job).where(Job.id == self.job_id).values(**values))


def live(job_id: int) -> tuple[int, int] | None:
    """Return (done, total) of a job running in this process, or None."""
    with _live_lock:
        return _live.get(job_id)


def create(engine: Engine, kind: str, title: str, actor_id: int | None) -> int:
    """Create a queued job and return its id."""
    with engine.begin() as conn:
        return conn.execute(
            insert(Job).values(kind=kind, title=title, status="queued", done=0, total=0,
                               message="", actor_id=actor_id, created_at=utcnow())
            .returning(Job.id)
        ).scalar_one()


def run(engine: Engine, job_id: int, work: Callable[[Progress], dict[str, Any]]) -> None:
    """Run `work` now, storing its result, or its failure as a Chinese message."""
    progress = Progress(engine, job_id)
    try:
        result = work(progress)
        values = {"status": "done", "result": result, "message": result.get("message", "完成")}
    except Exception as exc:  # a job must end in a state the page can show, whatever happened
        log.exception("job %s failed", job_id)
        message = getattr(exc, "message", None) or f"处理失败：{exc}"
        values = {"status": "failed", "message": message}
    with engine.begin() as conn:
        conn.execute(update(Job).where(Job.id == job_id).values(finished_at=utcnow(), **values))
    with _live_lock:
        _live.pop(job_id, None)


def submit(engine: Engine, kind: str, title: str, actor_id: int | None,
           work: Callable[[Progress], dict[str, Any]], *, background: bool = True) -> int:
    """Create a job and run `work` on a background thread (or inline); return the job id."""
    job_id = create(engine, kind, title, actor_id)
    if background:
        threading.Thread(target=run, args=(engine, job_id, work), daemon=True).start()
    else:
        run(engine, job_id, work)
    return job_id


def get(engine: Engine, job_id: int) -> Job | None:
    """Return the job row, or None."""
    with Session(engine, expire_on_commit=False) as session:
        return session.get(Job, job_id)
