"""Background jobs through one interface: on a thread, inline, or on RQ with a real Redis."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from runtime.jobs import runner as jobs
from runtime.models import Job

MODES = ["thread", "inline", "rq"]


# --- job functions the tests submit by name ---------------------------------------------------


def count_to(ctx: jobs.JobContext, *, n: int, redis_url: str | None, pairs: list) -> dict:
    """Count to n with progress; note halfway what the pages would see of it."""
    seen: dict = {}
    for done in range(n + 1):
        ctx.progress(done, n)
        if done == n // 2:
            seen["live"] = jobs.live(ctx.engine, ctx.job_id, redis_url)
            seen["here"] = jobs.live(ctx.engine, ctx.job_id)
            with ctx.engine.connect() as conn:
                seen["row"] = list(
                    conn.execute(select(Job.status, Job.done, Job.total).where(Job.id == ctx.job_id)).one()
                )
    return {
        "message": f"数到 {n}",
        "seen": seen,
        "pairs": pairs,
        "ledgers": sorted(ctx.specs.ledgers),
        "folders": ctx.folders,
    }


class Refused(Exception):
    """A failure that carries its own Chinese message, as ImportRefused does."""

    message = "文件不是表格"


class Panic(BaseException):
    """What a Rust panic in calamine raises (pyo3's PanicException is a BaseException)."""


def fail(ctx: jobs.JobContext, *, why: str) -> dict:
    """Fail after some progress."""
    ctx.progress(3, 10)
    if why == "refused":
        raise Refused()
    if why == "memory":
        raise MemoryError()
    if why == "panic":
        raise Panic("called `Result::unwrap()` on an `Err` value")
    if why == "unstorable":
        return {"path": Path("/tmp")}
    raise ValueError("第 3 行数据有误")


def chain(ctx: jobs.JobContext, *, n: int) -> dict:
    """Start another job, counting to n, the way this one runs."""
    follow = ctx.then(
        "export", "接着数", f"{__name__}:count_to", {"n": n, "redis_url": ctx.redis_url, "pairs": []}
    )
    return {"message": "已接着开始", "next": follow}


# --- helpers ----------------------------------------------------------------------------------


def _submit(engine, mode, rq_queue, name, params, actor_id=None, **options):
    redis_url, queue = rq_queue if mode == "rq" else (None, jobs.DEFAULT_QUEUE)
    return jobs.submit(
        engine,
        "export",
        "测试任务",
        actor_id,
        f"{__name__}:{name}",
        params,
        background=mode == "thread",
        redis_url=redis_url,
        queue=queue,
        **options,
    )


def _finish(engine, mode, rq_queue, job_id) -> Job:
    """Let the job end (a burst worker for RQ, a wait for the thread) and return its row."""
    if mode == "rq":
        assert jobs.get(engine, job_id).status == "queued", "nothing runs before a worker takes it"
        jobs.work(rq_queue[0], rq_queue[1], burst=True, fork=False)
    deadline = time.monotonic() + 30
    while jobs.get(engine, job_id).status in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.02)
    return jobs.get(engine, job_id)


@pytest.fixture(params=MODES)
def mode(request):
    """How the job runs; RQ ones get a queue of their own on the test Redis."""
    if request.param == "rq":
        return "rq", request.getfixturevalue("rq_queue")
    return request.param, None


# --- tests ------------------------------------------------------------------------------------


def test_a_job_runs_its_function_with_progress_and_stores_the_result(engine, mode, tmp_path):
    """The named function gets the specs, the folders and JSON parameters; its dict is the result."""
    mode, rq_queue = mode
    redis_url = rq_queue[0] if rq_queue else None
    job_id = _submit(
        engine,
        mode,
        rq_queue,
        "count_to",
        {"n": 10, "redis_url": redis_url, "pairs": (("sex", "女"), ("age", 3))},
        folders={"export": str(tmp_path / "exports")},
    )
    job = _finish(engine, mode, rq_queue, job_id)
    assert (job.status, job.message) == ("done", "数到 10")
    assert job.finished_at is not None
    result = job.result
    assert result["pairs"] == [["sex", "女"], ["age", 3]], "tuples arrive as JSON lists either way"
    assert "person" in result["ledgers"]
    assert result["folders"] == {"export": str((tmp_path / "exports").resolve())}
    seen = result["seen"]
    assert seen["live"] == [5, 10], "halfway, the pages see 5 of 10"
    # A worker keeps progress in Redis only: the web processes read it there, not in the worker.
    assert seen["here"] == (None if mode == "rq" else [5, 10])
    # PostgreSQL also gets the progress in the job row; SQLite's row stays put while the job runs.
    expected_row = [5, 10] if engine.dialect.name == "postgresql" else [0, 0]
    assert seen["row"] == ["running", *expected_row]
    assert jobs.live(engine, job_id, redis_url) is None, "no progress is left once the job ended"


@pytest.mark.parametrize(
    "why, message",
    [
        ("bad row", "处理失败：第 3 行数据有误"),
        ("refused", "文件不是表格"),
        ("unstorable", "处理失败：Object of type PosixPath is not JSON serializable"),
        ("memory", "处理失败：服务器内存不足（文件过大或过于复杂）；请拆分成几个文件后重试"),
        ("panic", "处理失败：文件无法读取（读取组件内部错误）；请用 Excel 或 WPS 另存为 .xlsx 后重试"),
    ],
)
def test_a_failing_job_ends_failed_with_a_chinese_message(engine, mode, why, message):
    """Whatever the function raises (or a result the row can't hold), the job ends failed, saying why."""
    mode, rq_queue = mode
    job_id = _submit(engine, mode, rq_queue, "fail", {"why": why})
    job = _finish(engine, mode, rq_queue, job_id)
    assert (job.status, job.message, job.result) == ("failed", message, None)
    assert job.finished_at is not None
    assert jobs.live(engine, job_id, rq_queue[0] if rq_queue else None) is None


def _jobs(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Job)).scalar_one()


@pytest.mark.parametrize(
    "name, params, error",
    [
        ("no_such_function", {}, ValueError),
        ("count_to", {"n": 1, "redis_url": None, "pairs": [Path("/tmp")]}, TypeError),
    ],
)
def test_a_bad_name_or_parameters_fail_at_submit_without_a_job(engine, name, params, error):
    """An unknown function or parameters a worker could not receive fail at once; no job is made."""
    with pytest.raises(error):
        jobs.submit(engine, "export", "测试", None, f"{__name__}:{name}", params, background=False)
    with pytest.raises(ValueError, match="包.模块:函数"):
        jobs.submit(engine, "export", "测试", None, "count_to", {}, background=False)
    assert _jobs(engine) == 0


def test_an_unreachable_queue_fails_the_job_at_once(engine):
    """With Redis down the job does not wait forever as queued: it fails, saying why."""
    job_id = jobs.submit(
        engine, "export", "测试", None, f"{__name__}:fail", {"why": "x"}, redis_url="redis://127.0.0.1:1/0"
    )
    job = jobs.get(engine, job_id)
    assert job.status == "failed" and job.message.startswith("无法提交到后台任务队列（Redis）")


def test_the_worker_command_runs_queued_jobs(engine, rq_queue, monkeypatch, capsys):
    """`yibiaotong worker --burst` takes the queue's jobs; without (a reachable) Redis it says so."""
    from runtime.cli import main

    monkeypatch.delenv("REDIS_URL", raising=False)
    assert main(["worker", "--burst", "--no-fork"]) == 2
    assert "未设置 REDIS_URL" in capsys.readouterr().err
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    assert main(["worker", "--burst", "--no-fork"]) == 1
    assert "无法连接 Redis" in capsys.readouterr().err
    url, queue = rq_queue
    job_id = jobs.submit(
        engine,
        "export",
        "测试",
        None,
        f"{__name__}:count_to",
        {"n": 4, "redis_url": url, "pairs": []},
        redis_url=url,
        queue=queue,
    )
    monkeypatch.setenv("REDIS_URL", url)
    assert main(["worker", "--burst", "--no-fork", "--queue", queue]) == 0
    assert jobs.get(engine, job_id).status == "done"


def test_a_long_title_is_shortened_to_fit(engine):
    from runtime.jobs.runner import create, get

    job_id = create(engine, "export", "下载预填表格：" + "很长的报表名称" * 40, None)
    title = get(engine, job_id).title
    assert len(title) == 200 and title.endswith("…")


def test_a_job_starts_another_the_way_it_runs_without_waiting_for_it(engine, mode):
    """A thread starts a thread, inline stays inline, a queued job queues the next on its own queue."""
    mode, rq_queue = mode
    first = _finish(engine, mode, rq_queue, _submit(engine, mode, rq_queue, "chain", {"n": 4}))
    assert (first.status, first.message) == ("done", "已接着开始")
    follow = first.result["next"]
    # Inline it ran before the first one ended; on RQ the burst worker of this test's queue took it
    # from the queue too; a thread is waited for.
    after = _finish(engine, mode, rq_queue, follow) if mode == "thread" else jobs.get(engine, follow)
    assert (after.status, after.message, after.kind) == ("done", "数到 4", "export")
    # Its progress went to Redis, as a queued job's does, not to the worker's own memory.
    assert after.result["seen"]["here"] == (None if mode == "rq" else [2, 4])
