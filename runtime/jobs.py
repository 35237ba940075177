"""Long work with progress: a job row the pages poll, the work run on a background thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, select, update

from runtime.models import Job, utcnow

log = logging.getLogger(__name__)


@dataclass
class Progress:
    """Handed to a job's function to report how far it got."""

    engine: Engine
    job_id: int
    _last: int = -1

    def __call__(self, done: int, total: int | None = None, message: str | None = None) -> None:
        """Record progress; cheap to call often (writes at most ~100 times a job)."""
        step = max((total or 0) // 100, 1)
        if total is None and done - self._last < 1000 and message is None:
            return
        if total is not None and done - self._last < step and done != total and message is None:
            return
        self._last = done
        values: dict[str, Any] = {"done": done, "status": "running"}
        if total is not None:
            values["total"] = total
        if message is not None:
            values["message"] = message
        with self.engine.begin() as conn:
            conn.execute(update(Job).where(Job.id == self.job_id).values(**values))


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
    with engine.connect() as conn:
        row = conn.execute(select(Job).where(Job.id == job_id)).first()
    return row[0] if row else None
