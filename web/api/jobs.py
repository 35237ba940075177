"""GET the state of a push job: only the client system that started it may read it."""

from __future__ import annotations

from flask import current_app

from runtime.exchange.push import job_client
from runtime.jobs import runner
from runtime.permissions import Action
from web import database
from web.api import blueprint
from web.api.auth import caller, endpoint
from web.api.problems import problem
from web.api.responses import json_response, problems
from web.api.schemas import JobSchema

bp = blueprint("api_jobs", "/jobs", "后台任务：大批量推送的进度与结果")
#: The largest job id a database holds (a larger one is simply not found).
MAX_ID = 2**31 - 1


@bp.route("/<int:job_id>")
@bp.doc(
    operationId="getJob",
    summary="任务进度",
    description="本对接系统发起的后台推送任务的状态、进度，以及完成后的推送结果。",
)
@bp.response(200, JobSchema)
@problems(bp, 403, 404)
@endpoint(Action.EXCHANGE_PUSH)
def job_status(job_id: int):
    """Return a push job's state, progress and, when done, its answer."""
    who = caller()
    conn = database.session().connection()
    if job_id > MAX_ID or job_client(conn, job_id) != who.identity.client_id:
        return problem(404, "job_not_found", "没有这个任务，或它不是本对接系统发起的")
    engine = database.engine()
    job = runner.get(engine, job_id)
    if job is None:
        return problem(404, "job_not_found", "没有这个任务，或它不是本对接系统发起的")
    done, total = job.done, job.total
    if job.status in ("queued", "running"):
        done, total = runner.live(engine, job_id, current_app.config.get("REDIS_URL")) or (done, total)
    found = job.result if job.status == "done" else None
    return json_response(
        {
            "job_id": job.id,
            "status": job.status,
            "done": done,
            "total": total,
            "message": job.message or "",
            "http_status": found.get("status") if found else None,
            "result": {k: found[k] for k in ("ledger", "summary", "rows")} if found else None,
        }
    )
