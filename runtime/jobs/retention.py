"""Delete the files jobs left behind once they are old: exports, error reports, stale uploads.

Exports and error reports hold personal data (masked or not, as their reader saw it); they are
kept `FILE_RETENTION_DAYS` days, then deleted, and the jobs that made them are marked so that their
page says the file expired instead of failing. An upload is deleted by its import job; one still
there a day later belongs to a job that died.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, bindparam, select, update

from runtime.models import Job

log = logging.getLogger(__name__)

#: Uploads older than this are left over from a job that died (a job runs 3 hours at most).
STALE_UPLOAD_SECONDS = 24 * 3600
#: The result keys naming a job's downloadable file.
FILE_KEYS = ("path", "report")


@dataclass
class CleanupResult:
    """What a clean-up deleted, and the jobs it marked expired."""

    deleted: list[Path] = field(default_factory=list)
    jobs: int = 0

    def summary(self) -> str:
        """Return a one-line Chinese summary."""
        return f"已删除 {len(self.deleted)} 个过期文件，{self.jobs} 个任务的下载已标记为过期"


def clean_up(
    engine: Engine, folders: dict[str, Path], *, days: int, now: float | None = None
) -> CleanupResult:
    """Delete exports and error reports older than `days` days and uploads older than a day."""
    now = time.time() if now is None else now
    result = CleanupResult()
    for name, folder in folders.items():
        age = STALE_UPLOAD_SECONDS if name == "upload" else days * 24 * 3600
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            try:
                if path.is_file() and not path.is_symlink() and now - path.stat().st_mtime > age:
                    path.unlink()
                    result.deleted.append(path.resolve())
            except OSError:
                log.warning("expired file not deleted: %s", path, exc_info=True)
    result.jobs = _mark_expired(engine, folders)
    return result


def _mark_expired(engine: Engine, folders: dict[str, Path]) -> int:
    """Mark the finished jobs whose file is gone from the folders as expired; return how many."""
    roots = [folder.resolve() for folder in folders.values()]
    changed = []
    with engine.begin() as conn:
        for job_id, result in conn.execute(select(Job.id, Job.result).where(Job.status == "done")):
            if not result or result.get("expired"):
                continue
            files = [Path(result[key]) for key in FILE_KEYS if result.get(key)]
            gone = [p for p in files if any(p.resolve().is_relative_to(r) for r in roots) and not p.exists()]
            if gone:
                changed.append({"job": job_id, "result": {**result, "expired": True}})
        if changed:
            conn.execute(
                update(Job).where(Job.id == bindparam("job")).values(result=bindparam("result")), changed
            )
    return len(changed)
