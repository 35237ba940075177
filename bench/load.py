"""Load test of a deadline-day peak, against gunicorn with 4 workers on 127.0.0.1, SQLite and PostgreSQL.

300 township and village users log in, list their tasks, open the grid and save a cell every few
seconds (each their own rows, so every save must succeed); 2 departments export the person ledger
and their report's summary data over and over (start the job, poll it, download); the keeper
imports person files of ~3,000 rows one after another. After the run the database is read back:
every save answered 200 must be there. The bar: 0 errors, 0 lost saves.

    python bench/load.py [--backend sqlite|postgresql] [--seconds 120] [--users 300]
    python bench/run.py --only load [--seconds 20]       # the same, through the benchmark runner
    make bench                                           # with the other benchmarks

It prints one JSON document per backend: per request kind the count, errors, p50/p95/p99/max ms
and rate; whole-job times; saves sent, acknowledged and lost; the CPU each party used (the load
generator shares the machine's cores with the server: its own share and event-loop lag are shown);
where the busy workers spent their time (py-spy); PostgreSQL's backend states; and a sentence on
what limits throughput. Each run makes its own database (a SQLite file in a temporary folder, or
`<BENCH_DATABASE_URL database>_load` on PostgreSQL) and drops it afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.load_check import check_saves  # noqa: E402
from bench.load_costs import capacity, request_costs  # noqa: E402
from bench.load_server import CpuMeter, Gunicorn, PgActivity, Profiler, served, worker_ms_by_kind  # noqa: E402
from bench.load_setup import drop_database, fresh_database, prepare, seed_demo, temporary_folder  # noqa: E402
from bench.load_users import run_users  # noqa: E402
from builder.catalog.specs import load_specs  # noqa: E402

WORKERS = 4
#: Seconds over which the users arrive.
RAMP = 10


def server_env(url: str, folder: Path) -> dict[str, str]:
    """Return the environment of the CLI and the server: this database, a fresh instance folder.

    One SECRET_KEY for all workers (each would otherwise race to create the instance's key file);
    no REDIS_URL: jobs run on the workers' threads, the embedded set-up.
    """
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "PASSWORD_HASH_METHOD")}
    return {
        **env,
        "DATABASE_URL": url,
        "YIBIAOTONG_INSTANCE": str(folder / "instance"),
        "SECRET_KEY": secrets.token_hex(32),
    }


def bench_load(
    report: Callable | None,
    backend: str,
    *,
    seconds: int = 120,
    users: int = 300,
    profile: bool = True,
    keep: Path | None = None,
) -> dict:
    """Run the deadline-day load on one backend; record it through `report` and return the figures.

    With `keep`, the server's logs and the raw profile are copied there (to look into errors).
    A SIGTERM ends the run like Ctrl-C does: the server is stopped and the database dropped.
    """
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return _bench_load(report, backend, seconds, users, profile, keep)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _terminate(signum, _frame) -> None:
    raise SystemExit(128 + signum)


def _bench_load(
    report: Callable | None, backend: str, seconds: int, users: int, profile: bool, keep: Path | None
) -> dict:
    """Prepare the database, serve it, run the users, check the saves, drop the database."""
    specs = load_specs(ROOT / "form_specs")
    with temporary_folder() as tmp:
        folder = Path(tmp)
        url = fresh_database(backend, folder)
        try:
            env = server_env(url, folder)
            seed_demo(env)
            plan = prepare(url, specs, users, folder, import_files=max(3, min(20, seconds // 8)))
            with Gunicorn(env, folder, WORKERS) as server:
                costs = asyncio.run(request_costs(server.base, plan, server.pids))
                pg = PgActivity(url) if backend == "postgresql" else None
                spy = Profiler(server.process.pid, folder) if profile else None
                meter = CpuMeter(
                    {
                        "gunicorn": server.pids,
                        **({"postgresql": lambda: pg.pids} if pg else {}),
                        **({"py_spy": spy.pids} if spy else {}),
                    }
                )
                for part in (meter, pg):
                    if part is not None:
                        part.start()
                if spy is not None:
                    spy.start(seconds)
                try:
                    ramp = min(RAMP, seconds / 4)
                    stats, saves, run = asyncio.run(run_users(server.base, plan, seconds, ramp))
                finally:
                    measured = {
                        "cpu_cores": meter.stop(),
                        "postgresql_backends": pg.stop() if pg else None,
                        "workers_profile": spy.stop() if spy else None,
                    }
                measured.update(
                    worker_timeouts=server.worker_timeouts(), log_tail=server.error_tail(40), costs=costs
                )
            measured["requests"] = served(server.access_log)  # complete once the server has stopped
            saved = check_saves(url, specs, plan, saves)
            if keep is not None:
                keep.mkdir(parents=True, exist_ok=True)
                for name in ("access.log", "error.log", "py-spy.txt"):
                    if (folder / name).exists():
                        shutil.copy(folder / name, keep / f"{backend}-{name}")
        finally:
            drop_database(url)
    result = _result(backend, plan, stats, saved, run, measured)
    if report is not None:
        report(
            "load_deadline_day",
            result["requests"].get("cell_save", {}).get("p95_ms", 0),
            "ms",
            "0 errors, 0 lost saves (value: cell save p95)",
            backend,
            result["errors"] == 0 and result["lost_saves"] == 0,
            load=result,
        )
    return result


def _result(backend: str, plan, stats, saved: dict, run: dict, measured: dict) -> dict:
    """Put the client's, the server's and the database's figures into one result."""
    summary = stats.summary(run.pop("started"), run["seconds"], len(plan.fillers))
    requests = measured["requests"]
    server_errors = sum(1 for r in requests if r[2] >= 500)
    worker_ms = sum(r[3] for r in requests)
    client_ms = sum(ms for t in stats.times.values() for _s, ms in t)
    result = {
        "backend": backend,
        "workers": WORKERS,
        **run,
        "people": {
            "fillers": len(plan.fillers),
            "departments": len(plan.departments),
            "keepers": 1,
            "rows_filled": sum(len(f.refs) for f in plan.fillers),
        },
        "errors": summary["errors"],
        "lost_saves": saved["lost"],
        "everyone_in_seconds": summary["everyone_in_seconds"],
        "fillers_in": summary["ready_fillers"],
        "requests": summary["requests"],
        "once_everyone_in": summary["once_everyone_in"],
        "jobs": summary["jobs"],
        "saves": saved,
        "throughput": {
            "requests_per_second": round(len(requests) / run["seconds"], 1),
            "saves_per_second": round(saved["acknowledged"] / run["seconds"], 1),
        },
        "imports": _imports(stats.imports),
        "server": {
            "requests": len(requests),
            "status_5xx": server_errors,
            "worker_timeouts": measured["worker_timeouts"],
            "worker_busy_share": round(worker_ms / (WORKERS * run["elapsed"] * 1000), 3),
            "queued_share_of_latency": round(1 - worker_ms / client_ms, 3) if client_ms else None,
            "worker_ms_by_kind": worker_ms_by_kind(requests),
        },
        "cpu_ms_per_request": measured["costs"],
        "capacity": capacity(
            measured["costs"], len(plan.fillers), _township_share(plan), measured["cpu_cores"]["cores"]
        ),
        "cpu_cores": measured["cpu_cores"],
        "workers_profile": measured["workers_profile"],
        "postgresql_backends": measured["postgresql_backends"],
        "error_examples": {
            **summary["error_examples"],
            **({"lost_saves": saved["lost_examples"]} if saved["lost_examples"] else {}),
        },
    }
    if server_errors or measured["worker_timeouts"]:
        result["server_log_tail"] = measured["log_tail"]
    result["limits"] = limits(result)
    return result


def _township_share(plan) -> float:
    """Return the share of fillers who are township staff (their grid pages hold 50 rows)."""
    return sum(f.username.count("_") == 2 for f in plan.fillers) / max(len(plan.fillers), 1)


def _imports(rows: list[dict]) -> dict:
    """Return the number of imports and the rows they created, updated, left and refused in total."""
    total: dict[str, int] = {}
    for row in rows:
        for key, value in row.items():
            total[key] = total.get(key, 0) + value
    return {"count": len(rows), **total}


def limits(r: dict) -> str:
    """Say what limited throughput: the CPU figures, the workers' busy time, where it went."""
    cpu, server = r["cpu_cores"], r["server"]
    cores, busy = cpu["cores"], server["worker_busy_share"]
    machine = cpu["machine"] / cores
    ours = ("gunicorn", "postgresql", "py_spy", "load_generator")
    others = max(0.0, cpu["machine"] - sum(cpu.get(name, 0) for name in ours))
    on_cpu = cpu["gunicorn"] / max(busy * r["workers"], 1e-9)
    if machine >= 0.85:  # 4 workers on 2 cores: a busy worker gets at most half a core
        most = min(1, cores / r["workers"])
        verdict = (
            f"瓶颈是 CPU：{cores} 核平均 {machine:.0%} 忙，gunicorn 用 {cpu['gunicorn']:.2f} 核；"
            f"{r['workers']} 个 worker 分 {cores} 核，忙着的 worker 至多 {most:.0%} 的时间"
            f"能在 CPU 上，实测 {min(on_cpu, 1):.0%}，其余在等 CPU"
        )
    elif busy >= 0.85:
        verdict = (
            f"瓶颈是 {r['workers']} 个同步 worker：它们 {busy:.0%} 的时间在处理请求，而 CPU 未满"
            f"（{machine:.0%}），处理请求时多在等数据库或锁"
        )
    else:
        verdict = f"服务未饱和：worker 忙 {busy:.0%}，CPU {machine:.0%}；延迟主要是单个请求自身的处理时间"
    said = [
        verdict,
        f"CPU 分配：gunicorn {cpu['gunicorn']:.2f} 核"
        + (f"、PostgreSQL 后端 {cpu['postgresql']:.2f} 核" if "postgresql" in cpu else "")
        + f"、压测客户端 {cpu['load_generator']:.2f} 核"
        + (f"、py-spy {cpu['py_spy']:.2f} 核" if "py_spy" in cpu else "")
        + f"、机器上其他进程 {others:.2f} 核",
        f"客户端耗时中 {server['queued_share_of_latency'] or 0:.0%} 是在排队等空闲 worker",
    ]
    spent = list(server["worker_ms_by_kind"].items())[:4]
    said.append(
        "worker 时间花在："
        + "、".join(
            f"{kind} {v['share_of_worker_time']:.0%}（中位 {v['p50_ms']:.0f} ms）" for kind, v in spent
        )
    )
    shares = list(((r.get("workers_profile") or {}).get("busy_time_by_category") or {}).items())[:5]
    if shares:
        said.append(
            "按 py-spy 采样，worker 忙时在：" + "、".join(f"{name} {share:.0%}" for name, share in shares)
        )
    costs, room = r.get("cpu_ms_per_request") or {}, r.get("capacity") or {}
    if room:
        said.append(
            f"单个请求的服务器 CPU（压测前逐个测得）：登录 {costs['login_and_task_list']:.0f} ms、"
            f"打开 50 行的网格 {costs['grid_open_50_rows']:.0f} ms、保存一格 {costs['cell_save']:.0f} ms；"
            f"{r['people']['fillers']} 人进入（登录并打开网格）共需 "
            f"{room['arrival_cpu_seconds']:.0f} CPU 秒，"
            f"{cores} 核上至少 {room['arrival_seconds_at_least']:.0f} 秒；之后每 4 秒一格的填报需要 "
            f"{room['typing_cores_needed']:.2f} 核（每秒 {room['saves_per_second_offered']:.0f} 次保存），"
            f"{cores} 核独占时最多每秒约 {room['saves_per_second_possible']:.0f} 次"
        )
    waits = r.get("postgresql_backends") or {}
    if waits:
        active = sum(v for k, v in waits.items() if k.startswith("active"))
        locked = sum(v for k, v in waits.items() if k.startswith("active:Lock"))
        said.append(
            f"PostgreSQL 平均 {active:.2f} 个后端在执行语句、{locked:.2f} 个在等锁，数据库不是瓶颈"
            if active < 1 and locked < 0.1
            else f"PostgreSQL 平均 {active:.2f} 个后端在执行语句、{locked:.2f} 个在等锁"
        )
        if active < 1 and dict(shares).get("database", 0) >= 0.2:
            said.append("worker 在数据库驱动里的时间多是在等回答：每条语句一个往返，CPU 满时后端要排队等核")
    if others >= 0.3:
        said.append(f"注意：机器上其他进程用了 {others:.2f} 核，与本压测无关，各项数字因此偏悲观")
    if cpu["load_generator"] > 0.8:
        said.append("注意：压测客户端本身用了近一核，可能低估了服务能力")
    return "；".join(said) + "。"


def main() -> int:
    """Run the load test on the chosen backends and print the results as JSON."""
    parser = argparse.ArgumentParser(description="截止日高峰压测（gunicorn 4 个 worker，仅 127.0.0.1）")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], action="append")
    parser.add_argument("--seconds", type=int, default=120, help="压测时长（秒），默认 120")
    parser.add_argument("--users", type=int, default=300, help="镇街和村（社区）填报用户数，默认 300")
    parser.add_argument("--no-profile", action="store_true", help="不用 py-spy 采样 worker")
    parser.add_argument("--keep", type=Path, help="把服务器日志和 py-spy 原始采样复制到这个目录")
    args = parser.parse_args()
    results = [
        bench_load(
            None, backend, seconds=args.seconds, users=args.users, profile=not args.no_profile, keep=args.keep
        )
        for backend in args.backend or ["sqlite", "postgresql"]
    ]
    print(json.dumps(results, ensure_ascii=False, indent=2))
    return 0 if all(r["errors"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
