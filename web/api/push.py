"""POST records of a ledger (行业反哺): bulk upsert by natural key, JSON or CSV; push jobs' status."""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

from flask import current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from runtime import config as runtime_config
from runtime.errors import OperationRefused
from runtime.exchange import idempotency
from runtime.exchange.bodies import CSV, JSON
from runtime.exchange.push import (
    Pusher,
    PushOptions,
    ledger_of,
    pending_feed,
    push,
)
from runtime.jobs import runner
from runtime.permissions import Action
from web import database
from web.api import PREFIX, blueprint
from web.api.auth import caller, endpoint
from web.api.problems import MEDIA_TYPE, problem
from web.api.responses import json_response, problems
from web.api.schemas import JobAcceptedSchema, PushAnswerSchema, PushQuerySchema, PushRefusedSchema
from web.edge import streams_body
from web.jobs.views import folders, upload_dir

bp = blueprint("api_push", "/ledgers", "推送（行业反哺）：按自然键批量新增或更新台账记录")

MEDIA = {"application/json": JSON, "text/csv": CSV}
#: Bodies at least this large run as a job (~15,000 person rows of JSON).
ASYNC_FROM_BYTES = 5 * 1024 * 1024
#: Bytes of a job's body copied to disk at a time.
SAVE_BLOCK = 1 << 20

REQUEST_BODY = {
    "required": True,
    "description": (
        "要推送的记录。JSON：对象数组，每个对象 {字段名或标准名称/别名: 值}；"
        "CSV：首行为表头（字段名、标准名称或别名），UTF-8（可带 BOM）或 GB18030。"
        "空值不会清除台账中已有的值。"
    ),
    "content": {
        "application/json": {
            "schema": {"type": "array", "items": {"type": "object", "additionalProperties": True}}
        },
        "text/csv": {"schema": {"type": "string"}},
    },
}
IDEMPOTENCY_HEADER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "description": (
        "幂等键：用同一个键原样重试，得到第一次的应答（带 Idempotent-Replayed: true），不会重复写入"
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_KEY},
}


def _read_body(limit: int) -> tuple[bytes, str] | None:
    """Return the body and its SHA-256, or None when it is larger than `limit`."""
    if request.content_length is not None and request.content_length > limit:
        return None
    request.max_content_length = limit  # the app's page upload limit is not the API's
    try:
        data = request.get_data()
    except RequestEntityTooLarge:
        return None
    return data, hashlib.sha256(data).hexdigest()


def _save_body(limit: int, path: Path) -> str | None:
    """Copy the body into `path` as it arrives; return its SHA-256, or None past `limit` (no file)."""
    request.max_content_length = limit
    digest, size = hashlib.sha256(), 0
    try:
        with path.open("wb") as out:
            while block := request.stream.read(SAVE_BLOCK):
                size += len(block)
                if size > limit:
                    raise RequestEntityTooLarge
                digest.update(block)
                out.write(block)
    except RequestEntityTooLarge:
        path.unlink(missing_ok=True)
        return None
    except BaseException:  # the client went away mid-body: leave no partial file behind
        path.unlink(missing_ok=True)
        raise
    runtime_config.private_file(path)
    return digest.hexdigest()


def _upload_path(media: str) -> Path:
    """Return a new path in the upload folder for a body a job will read."""
    folder = upload_dir()
    runtime_config.private_dir(folder)
    return folder / f"{uuid.uuid4().hex}.{media}"


@bp.route("/<ledger>/records", methods=["POST"])
@bp.doc(
    operationId="pushRecords",
    summary="推送记录",
    description=(
        "按自然键批量新增或更新台账记录（每次至少可推送 10 万行）。本部门为权威来源的数据项直接写入"
        "（来源记为“接口推送”及本对接系统名称）；其他部门的数据项成为待审变更，交给其权威部门审核；"
        "新建记录须带自然键和全部必填项，且必填项都归本部门。行的结果逐行列出（不超过 1000 行时列出全部，"
        "否则只列出被拒绝和产生待审变更的行，至多 1000 行）。"
        "请求体超过 5 MB 或 async=true 时作为后台任务执行，"
        "应答 202 与任务地址。"
    ),
    parameters=[IDEMPOTENCY_HEADER],
    requestBody=REQUEST_BODY,
)
@bp.arguments(PushQuerySchema, location="query")
@bp.response(200, PushAnswerSchema)
@bp.alt_response(202, schema=JobAcceptedSchema, description="已作为后台任务受理")
@problems(bp, 403, 404, 409, 413, 415)
@bp.alt_response(
    422,
    schema=PushRefusedSchema,
    content_type=MEDIA_TYPE,
    description="参数或请求体无效；或 all_or_nothing 时有行被拒绝（未写入，summary 与 rows 给出报告）",
)
@endpoint(Action.EXCHANGE_PUSH)
@streams_body  # runtime.exchange.bodies checks every value for control characters
def push_records(args, ledger: str):
    """Upsert the pushed rows now, or accept them as a job."""
    who = caller()
    specs = database.specs()
    spec = ledger_of(specs, ledger)
    media = MEDIA.get(request.mimetype)
    if media is None:
        return problem(415)
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 0 < len(key) <= idempotency.MAX_KEY:
        return problem(422, "bad_idempotency_key", f"Idempotency-Key 应为 1 到 {idempotency.MAX_KEY} 个字符")
    limit = current_app.config["API_PUSH_MAX_BYTES"]
    too_large = f"请求体超过上限 {limit // (1024 * 1024)} MB，请分批推送"
    if request.content_length is not None and request.content_length > limit:
        return problem(413, detail=too_large)
    saved = None
    if args["async_"] or (request.content_length or 0) >= ASYNC_FROM_BYTES:
        # A job's body goes to disk as it arrives: it is never held whole in this process.
        saved = _upload_path(media)
        digest = _save_body(limit, saved)
        if digest is None:
            return problem(413, detail=too_large)
        data = None
    else:
        body = _read_body(limit)
        if body is None:
            return problem(413, detail=too_large)
        data, digest = body
    upload = _Upload(saved)
    try:
        return _push(who, spec, media, args, key, digest, data, upload)
    finally:
        if upload.path is not None and not upload.taken:
            upload.path.unlink(missing_ok=True)  # replayed, refused or failed before a job took it


@dataclass
class _Upload:
    """A body saved for a job: deleted when the request ends, unless a job took it (it deletes it)."""

    path: Path | None
    taken: bool = False


def _push(who, spec, media: str, args, key: str | None, digest: str, data: bytes | None, upload: _Upload):
    """Claim the idempotency key, then push now or accept a job (its body in `upload`, or `data`)."""
    specs = database.specs()
    session = database.session()
    conn = session.connection()
    client_id = who.identity.client_id
    if key is not None:
        print_ = idempotency.fingerprint(request.method, request.path, request.query_string.decode(), digest)
        try:
            first = idempotency.claim(conn, client_id, key, print_)
        except idempotency.KeyConflict as conflict:
            return problem(409, conflict.code, str(conflict))
        if first is not None:
            return _answer(first.status, first.body, replayed=True)
        session.commit()  # the claim is visible now: a racing retry is told it is in progress
        conn = session.connection()
    options = PushOptions(args["dry_run"], args["mode"])
    if upload.path is None and len(data) >= ASYNC_FROM_BYTES:  # a body of unknown length
        upload.path = _upload_path(media)
        upload.path.write_bytes(data)
        runtime_config.private_file(upload.path)
    if upload.path is not None:
        return _accept_job(who, spec, upload, media, options, key)
    limit = current_app.config["API_PUSH_MAX_BYTES"]
    limits = replace(runtime_config.read_limits("ledger"), max_bytes=limit)
    try:
        result = push(
            conn, Pusher(specs, spec, who.identity, who.viewer, limits), io.BytesIO(data), media, options
        )
    except BaseException as exc:
        session.rollback()
        if key is not None:
            idempotency.release(session.connection(), client_id, key)
            session.commit()
        if isinstance(exc, OperationRefused):
            return problem(422, exc.code, str(exc))
        raise
    if result.refused:
        status = 422
        answer = _refusal(result)
    else:
        status, answer = 200, result.answer()
    if key is not None:
        idempotency.remember(conn, client_id, key, status, answer)
    return _answer(status, answer)


def _refusal(result) -> dict:
    """Return the problem of an all-or-nothing push with rejected rows, its report included."""
    return {
        "type": "about:blank",
        "title": "有被拒绝的行，未写入任何数据",
        "status": 422,
        "code": "rows_rejected",
        "detail": result.message(),
        "instance": request.path,
    } | result.answer()


def _answer(status: int, body: dict, *, replayed: bool = False):
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    if status == 202 and "status_url" in body:
        headers["Location"] = body["status_url"]
    response = json_response(body, status, headers)
    if status >= 400:
        response.mimetype = MEDIA_TYPE
    return response


def _accept_job(who, spec, upload: _Upload, media: str, options: PushOptions, key: str | None):
    """Note a job, whose body waits in `upload`, as this client's, then start it: 202."""
    stored = upload.path.name
    session = database.session()
    session.commit()  # SQLite: the job's own transactions must not wait behind this request's
    engine = database.engine()
    title = f"接口推送{spec.title}：{who.identity.client_name}"
    job_id = runner.create(engine, "api_push", title, None)
    conn = session.connection()
    pending_feed(conn, who.identity, spec.code, job_id)
    body = {"job_id": job_id, "status": "queued", "status_url": f"{PREFIX}/jobs/{job_id}"}
    if key is not None:
        idempotency.remember(conn, who.identity.client_id, key, 202, body, job_id)
    session.commit()  # the job is known as this client's before it can run
    upload.taken = True  # the job deletes the body when it is done
    config = current_app.config
    params = {
        "ledger": spec.code,
        "upload": stored,
        "media": media,
        "client_id": who.identity.client_id,
        "dry_run": options.dry_run,
        "mode": options.mode,
        "max_bytes": config["API_PUSH_MAX_BYTES"],
    }
    runner.submit(
        engine,
        "api_push",
        title,
        None,
        "runtime.exchange.push:push_job",
        params,
        background=config["JOBS_IN_BACKGROUND"],
        redis_url=config.get("REDIS_URL"),
        queue=config.get("JOBS_QUEUE") or runner.DEFAULT_QUEUE,
        specs_root=config["SPECS_PATH"],
        specs=database.specs(),
        folders=folders(),
        job_id=job_id,
    )
    return _answer(202, body)
