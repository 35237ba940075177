"""Job progress pages: a fragment that polls itself until the job ends, and its downloads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, render_template, send_file
from flask_login import current_user

from runtime import config as runtime_config
from runtime.jobs import runner as runtime_jobs
from runtime.models import Job
from runtime.permissions import Action
from web import database
from web.auth.guard import requires
from web.site import htmx

bp = Blueprint("jobs", __name__, template_folder="templates", url_prefix="/jobs")


def submit(kind: str, title: str, func: str, params: dict[str, Any]) -> int:
    """Start `func(ctx, **params)` as a job of the current user; return its id.

    It runs on RQ when the app has a REDIS_URL, else on a thread (inline when the app says so).
    """
    config = current_app.config
    if params.get("upload"):  # the uploaded file waits for its job: its owner alone may read it
        runtime_config.private_file(upload_dir() / params["upload"])
    return runtime_jobs.submit(
        database.engine(),
        kind,
        title,
        current_user.id,
        func,
        params,
        background=config["JOBS_IN_BACKGROUND"],
        redis_url=config.get("REDIS_URL"),
        queue=config.get("JOBS_QUEUE") or runtime_jobs.DEFAULT_QUEUE,
        specs_root=config["SPECS_PATH"],
        specs=database.specs(),
        folders=folders(),
    )


def folders() -> dict[str, str]:
    """Return the folders jobs read and write files in, by the name jobs know them by."""
    return {"export": str(export_dir()), "report": str(report_dir()), "upload": str(upload_dir())}


def load(job_id: int) -> Job | None:
    """Return a job row, or None."""
    return database.session().get(Job, job_id)


def _own_job(job_id: int) -> Job:
    job = load(job_id)
    if job is None or job.actor_id != current_user.id:
        abort(404)
    return job


def job_state(job: Job) -> dict[str, Any]:
    done, total = job.done, job.total
    running = job.status in ("queued", "running")
    now = (
        runtime_jobs.live(database.engine(), job.id, current_app.config.get("REDIS_URL")) if running else None
    )
    if now is not None:
        done, total = now[0], now[1] or total
    percent = min(100, int(done * 100 / total)) if total else (100 if not running else 0)
    note = (
        runtime_jobs.note(database.engine(), job.id, current_app.config.get("REDIS_URL")) if running else None
    )
    return {
        "running": running,
        "done": done,
        "total": total,
        "percent": percent,
        "note": note,
        "expired": bool((job.result or {}).get("expired")),
    }


def export_dir() -> Path:
    """Return the folder export files are written to (made if missing, its owner's alone)."""
    return _folder("EXPORT_DIR", "exports")


def report_dir() -> Path:
    """Return the folder import error reports are written to (made if missing, its owner's alone)."""
    return _folder("REPORT_DIR", "reports")


def upload_dir() -> Path:
    """Return the folder uploads wait in until their import job has read them."""
    return _folder("UPLOAD_DIR", "uploads")


def _folder(setting: str, name: str) -> Path:
    return runtime_config.private_dir(
        Path(current_app.config.get(setting) or Path(current_app.instance_path) / name)
    )


@bp.get("/<int:job_id>")
@requires(Action.JOBS)
def show(job_id: int):
    """Show a job's progress or result (only the fragment for htmx polling)."""
    job = _own_job(job_id)
    template = "jobs/_job.html" if htmx and not htmx.history_restore_request else "jobs/job.html"
    return render_template(template, job=job, state=job_state(job))


def _file(job: Job, kind: str, key: str, folder: Path) -> Path:
    if job.kind != kind or job.status != "done" or not (job.result or {}).get(key):
        abort(404)
    path = Path(job.result[key]).resolve()
    if not path.is_relative_to(folder.resolve()):
        abort(404)
    if job.result.get("expired") or not path.is_file():  # deleted after the retention period
        abort(_expired(job))
    return path


def _expired(job: Job):
    """Answer a download whose file has expired: the job's page, saying so."""
    state = job_state(job) | {"expired": True}
    return current_app.make_response((render_template("jobs/job.html", job=job, state=state), 410))


@bp.get("/<int:job_id>/report")
@requires(Action.JOBS)
def report(job_id: int):
    """Download the error report of an import job (its rejected rows and why)."""
    path = _file(_own_job(job_id), "import", "report", report_dir())
    return send_file(path, as_attachment=True, download_name=path.name)


@bp.get("/<int:job_id>/download")
@requires(Action.JOBS)
def download(job_id: int):
    """Download the file an export job wrote."""
    job = _own_job(job_id)
    path = _file(job, "export", "path", export_dir())
    return send_file(path, as_attachment=True, download_name=job.result.get("filename") or path.name)
