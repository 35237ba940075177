"""The server under load and what it is doing: gunicorn with 4 sync workers on 127.0.0.1, the CPU
each party uses, what PostgreSQL's backends wait for, and where the workers spend their time.

Everything started here is stopped here, on failure too: gunicorn runs in its own process group,
which gets SIGTERM, then SIGKILL if it has not gone after the graceful timeout.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import psutil
import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
#: Per request: method, path, status, microseconds in the worker, worker pid.
ACCESS_FORMAT = "%(m)s %(U)s %(s)s %(D)s %(p)s"
#: Seconds gunicorn gives its workers to finish at shutdown before the bench kills the group.
GRACEFUL = 20


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """gunicorn serving `web:create_app()` with `workers` sync workers, as a context manager."""

    def __init__(self, env: dict[str, str], folder: Path, workers: int = 4):
        """Prepare (not start) a server whose logs go to `folder`."""
        self.env, self.folder, self.workers = env, folder, workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.access_log = folder / "access.log"
        self.error_log = folder / "error.log"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        """Start the server and wait until it answers."""
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(self.workers),
            "-b",
            f"127.0.0.1:{self.port}",
            "--graceful-timeout",
            str(GRACEFUL),
            "--access-logfile",
            str(self.access_log),
            "--access-logformat",
            ACCESS_FORMAT,
            "--error-logfile",
            str(self.error_log),
            "web:create_app()",
        ]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        """Stop the server (and everything it started)."""
        self.stop()

    def _wait_ready(self, timeout: float = 60) -> None:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn 启动失败：{self.error_tail()}")
            try:
                with urllib.request.urlopen(self.base + "/login", timeout=5) as answer:
                    if answer.status == 200 and len(self.worker_pids()) == self.workers:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn 在 {timeout:.0f} 秒内没有应答：{self.error_tail()}")

    def worker_pids(self) -> list[int]:
        """Return the pids of the workers now running."""
        try:
            return [p.pid for p in psutil.Process(self.process.pid).children()]
        except psutil.NoSuchProcess:
            return []

    def pids(self) -> list[int]:
        """Return the pids of the master and its workers."""
        return [self.process.pid, *self.worker_pids()] if self.process else []

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), then kill the process group if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        group = os.getpgid(self.process.pid)
        os.killpg(group, signal.SIGTERM)
        try:
            self.process.wait(GRACEFUL + 10)
        except subprocess.TimeoutExpired:
            os.killpg(group, signal.SIGKILL)
            self.process.wait(10)

    def error_tail(self, lines: int = 15) -> str:
        """Return the end of gunicorn's error log."""
        try:
            text = self.error_log.read_text(encoding="utf-8", errors="replace")
            return "\n".join(text.splitlines()[-lines:])
        except OSError:
            return ""

    def worker_timeouts(self) -> int:
        """Return how many workers gunicorn killed for taking longer than its timeout on a request."""
        try:
            return self.error_log.read_text(encoding="utf-8", errors="replace").count("WORKER TIMEOUT")
        except OSError:
            return 0


def served(access_log: Path) -> list[tuple[str, str, int, float, int]]:
    """Return the requests gunicorn logged: (method, path, status, ms in the worker, worker pid)."""
    rows = []
    for line in access_log.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[2].isdigit() and parts[3].isdigit():
            pid = re.sub(r"\D", "", parts[4])
            rows.append((parts[0], parts[1], int(parts[2]), int(parts[3]) / 1000, int(pid or 0)))
    return rows


#: (method, path pattern, kind): the request kinds of the simulated users, as the server saw them.
KINDS = tuple(
    (m, re.compile(p), k)
    for m, p, k in (
        ("GET", r"/login$", "login_page"),
        ("POST", r"/login$", "login"),
        ("GET", r"/tasks/$", "task_list"),
        ("GET", r"/tasks/\d+$", "grid_open"),
        ("GET", r"/tasks/\d+/counts$", "grid_counts"),
        ("POST", r"/tasks/\d+/rows/\w+$", "cell_save"),
        ("GET", r"/static/", "static"),
        ("GET", r"/jobs/\d+$", "job_poll"),
        ("GET", r"/jobs/\d+/download$", "export_download"),
        ("GET", r"/jobs/\d+/report$", "import_report"),
        ("POST", r"/(ledgers/\w+|report-data/\w+)/export$", "export_start"),
        ("GET", r"/ledgers/\w+/import$", "import_page"),
        ("POST", r"/ledgers/\w+/import$", "import_start"),
        ("GET", r"/ledgers/\w+$", "ledger_page"),
        ("GET", r"/reports/\w+/$", "report_page"),
    )
)


def worker_ms_by_kind(rows: list[tuple[str, str, int, float, int]]) -> dict[str, dict]:
    """Return, per request kind, the time requests spent in a worker (p50/p95/max ms) and its total share."""
    by_kind: dict[str, list[float]] = {}
    for method, path, _status, ms, _pid in rows:
        kind = next((k for m, p, k in KINDS if m == method and p.search(path)), "other")
        by_kind.setdefault(kind, []).append(ms)
    total = sum(sum(v) for v in by_kind.values()) or 1
    result = {}
    for kind, values in sorted(by_kind.items(), key=lambda kv: -sum(kv[1])):
        s = sorted(values)
        result[kind] = {
            "p50_ms": round(s[len(s) // 2], 1),
            "p95_ms": round(s[int(len(s) * 0.95)], 1),
            "max_ms": round(s[-1], 1),
            "share_of_worker_time": round(sum(s) / total, 3),
        }
    return result


class CpuMeter:
    """CPU seconds used by sets of processes (the server, PostgreSQL's backends) and by the machine.

    Sampled every second on a thread, so processes that start or end during the run are counted
    for the time they were seen.
    """

    def __init__(self, groups: dict[str, Callable[[], Iterable[int]]], interval: float = 1.0):
        """Measure each named group; a group is a function returning its current pids."""
        self.groups, self.interval = groups, interval
        self.seen: dict[str, dict[int, tuple[float, float]]] = {name: {} for name in groups}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-meter", daemon=True)

    def start(self) -> None:
        """Take the starting figures and begin sampling."""
        self.machine0, self.wall0 = psutil.cpu_times(), time.monotonic()
        self.self0 = psutil.Process().cpu_times()
        self._sample(first=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def _sample(self, first: bool = False) -> None:
        for name, pids in self.groups.items():
            try:
                current = list(pids())
            except Exception:  # a sampler's query failing must not stop the run
                continue
            for pid in current:
                try:
                    t = psutil.Process(pid).cpu_times()
                except psutil.Error:
                    continue
                used = t.user + t.system
                base, _last = self.seen[name].get(pid, (used if first else 0.0, used))
                self.seen[name][pid] = (base, used)

    def stop(self) -> dict[str, float]:
        """Stop sampling; return cores used on average: per group, this process, the machine."""
        self._sample()
        self._stop.set()
        self._thread.join()
        wall = time.monotonic() - self.wall0
        result = {
            name: sum(last - base for base, last in seen.values()) / wall for name, seen in self.seen.items()
        }
        me = psutil.Process().cpu_times()
        result["load_generator"] = (me.user + me.system - self.self0.user - self.self0.system) / wall
        m0, m1 = self.machine0, psutil.cpu_times()

        # Linux counts guest time inside user time already; idle and waiting for disk are not busy.
        def busy(t):
            return (
                sum(t)
                - t.idle
                - getattr(t, "iowait", 0)
                - getattr(t, "guest", 0)
                - getattr(t, "guest_nice", 0)
            )

        result["machine"] = (busy(m1) - busy(m0)) / wall
        result["cores"] = psutil.cpu_count()
        result["seconds"] = wall
        return {k: round(v, 3) for k, v in result.items()}


class PgActivity:
    """What the benchmark database's backends are doing, sampled twice a second from pg_stat_activity."""

    def __init__(self, url: str, interval: float = 0.5):
        """Watch the database of `url`."""
        parsed = make_url(url)
        self.database = parsed.database
        self.admin = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        self.interval = interval
        self.samples = 0
        self.states: Counter[str] = Counter()
        self.pids: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pg-activity", daemon=True)

    def start(self) -> None:
        """Begin sampling."""
        self._thread.start()

    def _run(self) -> None:
        with psycopg.connect(self.admin, autocommit=True) as conn:
            while not self._stop.wait(self.interval):
                rows = conn.execute(
                    "SELECT pid, state, wait_event_type, wait_event FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
                    (self.database,),
                ).fetchall()
                self.pids = [r[0] for r in rows]
                self.samples += 1
                for _pid, state, wait_type, wait in rows:
                    if state == "active":
                        self.states[f"active:{wait_type}:{wait}" if wait_type else "active:cpu"] += 1
                    elif state:
                        self.states[state] += 1

    def stop(self) -> dict:
        """Stop; return the mean number of backends in each state (active ones by what they wait for)."""
        self._stop.set()
        self._thread.join()
        n = max(self.samples, 1)
        return {state: round(count / n, 3) for state, count in self.states.most_common()}


#: Where a sampled stack is, by the innermost frame that says so: (category, markers in the frame).
CATEGORIES = (
    (
        "database",
        (
            "do_execute",
            "do_executemany",
            "do_commit",
            "do_rollback",
            "psycopg/",
            "sqlite3",
            "_sqlite_pragmas",
            "pool/",
        ),
    ),
    ("password hashing", ("check_password_hash", "_hash_internal", "scrypt")),
    ("templates", ("jinja2/", ".html")),
    ("spreadsheets", ("rustpy_xlsxwriter", "xlsxwriter/", "calamine", "openpyxl/")),
)


class Profiler:
    """py-spy sampling the master and its workers (`--subprocesses`) for a window of the run."""

    def __init__(self, pid: int, folder: Path, rate: int = 25):
        """Prepare to sample process `pid` and its children at `rate` per second."""
        self.pid, self.rate = pid, rate
        self.output = folder / "py-spy.txt"
        self.process: subprocess.Popen | None = None
        self.problem = ""

    def start(self, seconds: int) -> None:
        """Sample for `seconds` from now (in the background)."""
        spy = Path(sys.executable).with_name("py-spy")
        if not spy.exists():
            self.problem = "py-spy 未安装（make bench 会安装）"
            return
        self.process = subprocess.Popen(
            [
                str(spy),
                "record",
                "--pid",
                str(self.pid),
                "--subprocesses",
                "--idle",
                "--nonblocking",
                "--threads",
                "--rate",
                str(self.rate),
                "--duration",
                str(seconds),
                "--format",
                "raw",
                "--output",
                str(self.output),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )

    def pids(self) -> list[int]:
        """Return py-spy's pid while it runs (its own CPU is part of the figures)."""
        return [self.process.pid] if self.process and self.process.poll() is None else []

    def stop(self) -> dict:
        """Stop py-spy; return the share of worker samples per category, busy samples only."""
        if self.process is None:
            return {"error": self.problem}
        if self.process.poll() is None:  # the run ended early: py-spy writes what it has on Ctrl-C
            self.process.send_signal(signal.SIGINT)
        try:
            _out, err = self.process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _out, err = self.process.communicate()
        if not self.output.exists():
            return {"error": (err or b"").decode(errors="replace")[-300:]}
        return summarize(self.output.read_text(encoding="utf-8", errors="replace"))


def summarize(raw: str) -> dict:
    """Return where the workers' request threads and job threads were, as shares of their samples.

    A raw py-spy line is `process M:"…";process W:"…";thread (T): name;frame;…;frame count`; the
    master's own lines name one process only.
    """
    requests: Counter[str] = Counter()
    jobs: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _sep, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        parts = stack.split(";")
        processes = sum(1 for p in parts if p.startswith("process "))
        thread = next((p for p in parts if p.startswith("thread (")), "")
        frames = parts[parts.index(thread) + 1 :] if thread else []
        if processes < 2 or not frames:
            continue  # the master, or a stack py-spy could not read
        if not thread.endswith(": MainThread"):
            jobs[_category(frames)] += int(count)
            continue
        idle = any(w in frames[-1] for w in ("SyncWorker.wait", "SyncWorker.accept", "select ("))
        requests["idle" if idle else _category(frames)] += int(count)
    total = sum(requests.values())
    busy = total - requests["idle"]
    return {
        "worker_samples": total,
        "worker_busy_share": round(busy / total, 3) if total else None,
        "busy_time_by_category": {k: round(v / busy, 3) for k, v in requests.most_common() if k != "idle"}
        if busy
        else {},
        "job_thread_samples_by_category": dict(jobs.most_common()),
    }


def _category(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, markers in CATEGORIES:
            if any(m in frame for m in markers):
                return name
    return "python (views, runtime, SQLAlchemy)"
