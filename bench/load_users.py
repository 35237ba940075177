"""The simulated users of a deadline-day peak, each a browser of its own (cookies, CSRF token).

They send what the pages send: the login form with its CSRF field; htmx requests with `HX-Request`,
`HX-Target`, `HX-Current-URL` and the `X-CSRFToken` header the page body carries; a cell save as
the cell's form (`_field`, `_view`, the value) plus the row's `_version`, which the answer replaces
(so saves of one row chain, as on the page); job pages polled every 500 ms like `jobs/_job.html`.
"""

from __future__ import annotations

import asyncio
import html
import random
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import aiohttp

from bench.load_setup import Asked, Filler, Plan

#: Where a page carries its CSRF token: htmx's headers on <body>, a form field, a meta tag.
CSRF = (
    re.compile(r'"X-CSRFToken":\s*"([^"]+)"'),
    re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"'),
    re.compile(r'<meta name="csrf-token" content="([^"]+)"'),
)
VERSION = re.compile(r'id="ver-g(\w+)" value="(\d+)"')
NEXT_PAGE = re.compile(r'href="(/tasks/\d+\?after=[^"]+)"')
STATIC = re.compile(r'(?:href|src)="(/static/[^"?]+)')
JOB = re.compile(r'id="job-(\d+)"')
JOB_RESULT = re.compile(r"<dt>([^<]+)</dt><dd>([\d,]+)</dd>")
#: A job fragment that still polls itself.
RUNNING = 'hx-trigger="every'
#: Seconds between a filler's saves (a person types a cell every few seconds), a department's and
#: the keeper's rounds.
FILLER_PAUSE = (2.0, 6.0)
DEPARTMENT_PAUSE = (3.0, 8.0)
KEEPER_PAUSE = (5.0, 15.0)
#: How often a filler goes back to the task list or reloads the grid instead of typing a cell.
LIST_AGAIN, GRID_AGAIN = 1 / 40, 1 / 15
#: How long a job started before the end may still run before it counts as an error.
JOB_GRACE = 120


@dataclass
class Answer:
    """What came back: status, body (text unless binary) and the redirect target."""

    ok: bool
    status: int
    text: str = ""
    body: bytes = b""
    location: str = ""


@dataclass
class Save:
    """One cell save as sent, and what the server said."""

    task_id: int
    ref: str
    field: str
    text: str
    #: HTTP status, or 0 when no answer came (timeout, connection error).
    status: int


@dataclass
class Stats:
    """Latency of every request by kind, errors by kind with a few examples, whole-job times."""

    #: kind → (start, ms) of every request, start on the monotonic clock.
    times: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    jobs: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    imports: list[dict] = field(default_factory=list)
    #: When each filler had logged in and found its rows in the grid.
    ready: list[float] = field(default_factory=list)

    def record(self, kind: str, ms: float, problem: str = "") -> None:
        """Record one request's latency, and its problem if it failed."""
        self.times[kind].append((time.monotonic() - ms / 1000, ms))
        if problem:
            self.error(kind, problem)

    def error(self, kind: str, problem: str) -> None:
        """Count an error of a kind, keeping the first few descriptions."""
        self.errors[kind] += 1
        if len(self.examples[kind]) < 5:
            self.examples[kind].append(problem[:300])

    def summary(self, started: float, seconds: float, fillers: int) -> dict:
        """Return per kind count, errors, p50/p95/p99/max ms and rate, over the run and once everyone is in.

        "Everyone in" is from when the last filler had its grid open to the end of the run (the
        login storm over); it is left out when that moment never came.
        """
        kinds = {
            kind: {
                "count": len(t),
                "errors": self.errors[kind],
                **percentiles([ms for _s, ms in t]),
                "per_second": round(len(t) / seconds, 2),
            }
            for kind, t in sorted(self.times.items())
        }
        for kind in self.errors.keys() - kinds.keys():
            kinds[kind] = {"count": 0, "errors": self.errors[kind]}
        jobs = {kind: {"count": len(s), **percentiles(s, unit="s")} for kind, s in self.jobs.items()}
        everyone = max(self.ready) if len(self.ready) == fillers else None
        steady = {}
        if everyone is not None and started + seconds - everyone >= 5:
            window = started + seconds - everyone
            for kind, t in sorted(self.times.items()):
                ms = [m for s, m in t if everyone <= s < started + seconds]
                if ms:
                    steady[kind] = {
                        "count": len(ms),
                        **percentiles(ms),
                        "per_second": round(len(ms) / window, 2),
                    }
        return {
            "requests": kinds,
            "jobs": jobs,
            "errors": sum(self.errors.values()),
            "everyone_in_seconds": round(everyone - started, 1) if everyone else None,
            "ready_fillers": len(self.ready),
            "once_everyone_in": steady,
            "error_examples": {k: v for k, v in self.examples.items() if v},
        }


def percentiles(values: list[float], unit: str = "ms") -> dict:
    """Return p50, p95, p99 and max (nearest rank) of `values`."""
    if not values:
        return {}
    s = sorted(values)
    pick = lambda q: s[min(len(s) - 1, max(0, round(q * len(s)) - 1))]  # noqa: E731
    return {
        f"p50_{unit}": round(pick(0.5), 1),
        f"p95_{unit}": round(pick(0.95), 1),
        f"p99_{unit}": round(pick(0.99), 1),
        f"max_{unit}": round(s[-1], 1),
    }


class Browser:
    """One person's browser: its own cookie jar and CSRF token, its page, its cached static files."""

    def __init__(self, base: str, connector: aiohttp.BaseConnector, stats: Stats, timeout: float):
        """Open a session against `base` over the shared `connector`."""
        self.base, self.stats = base, stats
        self.session = aiohttp.ClientSession(
            base_url=base,
            connector=connector,
            connector_owner=False,
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # cookies of 127.0.0.1 (an IP) too
            timeout=aiohttp.ClientTimeout(total=timeout),
        )
        self.token = ""
        self.page = "/"
        self.cached: set[str] = set()

    async def close(self) -> None:
        """Close the session."""
        await self.session.close()

    async def send(
        self,
        kind: str,
        method: str,
        path: str,
        *,
        data=None,
        target: str | None = None,
        expect: int = 200,
        binary: bool = False,
    ) -> Answer:
        """Send one request as the page would (htmx when `target` is given); time and check it."""
        headers = {}
        if target is not None:  # htmx: its headers, and the CSRF header from <body hx-headers>
            headers = {
                "HX-Request": "true",
                "HX-Target": target,
                "HX-Current-URL": self.base + self.page,
                "X-CSRFToken": self.token,
            }
        started = time.perf_counter()
        try:
            async with self.session.request(
                method, path, data=data, headers=headers, allow_redirects=False
            ) as response:
                body = await response.read()
                status, location = response.status, response.headers.get("Location", "")
        except (TimeoutError, aiohttp.ClientError) as exc:
            self.stats.record(
                kind, (time.perf_counter() - started) * 1000, f"{method} {path}: {type(exc).__name__} {exc}"
            )
            return Answer(False, 0)
        ms = (time.perf_counter() - started) * 1000
        text = "" if binary else body.decode("utf-8", "replace")
        ok = status == expect
        self.stats.record(kind, ms, "" if ok else f"{method} {path}: HTTP {status} {_gist(text)}")
        if ok and method == "GET" and target is None and not binary:
            self.page = path
            self._token(text)
            await self._statics(text)
        return Answer(ok, status, text, body, location)

    def _token(self, text: str) -> None:
        for pattern in CSRF:
            found = pattern.search(text)
            if found:
                self.token = html.unescape(found.group(1))
                return

    async def _statics(self, text: str) -> None:
        """Fetch the page's stylesheet and scripts the first time (then the browser has them cached)."""
        for path in dict.fromkeys(STATIC.findall(text)):
            if path not in self.cached:
                self.cached.add(path)
                await self.send("static", "GET", path, binary=True)

    async def login(self, username: str, password: str, landing: str = "landing") -> Answer:
        """Open the login page, post the form with its CSRF field, follow to the landing page (returned).

        `landing` names the kind of the page the role lands on (a filler's is the task list).
        """
        page = await self.send("login_page", "GET", "/login")
        if not page.ok:
            return page
        answer = await self.send(
            "login",
            "POST",
            "/login",
            expect=302,
            data={"csrf_token": self.token, "username": username, "password": password},
        )
        if not answer.ok or _path(answer.location).startswith("/login"):
            if answer.ok:
                self.stats.error("login", f"{username}: 登录被拒绝")
            return Answer(False, answer.status)
        return await self.send(landing, "GET", _path(answer.location))


def _path(location: str) -> str:
    """Return the path of a redirect target (absolute or not)."""
    return re.sub(r"^https?://[^/]+", "", location) or "/"


def _gist(text: str) -> str:
    """Return the message of an error page, shortly."""
    found = re.search(r'role="alert">([^<]+)<|<title>([^<]+)</title>|<h1>([^<]+)</h1>', text)
    return next((g for g in found.groups() if g), "")[:120] if found else text[:120]


def answer(asked: Asked, rng: random.Random, n: int, today: date) -> list[str]:
    """Return what a filler types or ticks into a cell (several values for checkboxes)."""
    if asked.widget == "checkboxes":
        options = [o for o in asked.options if o != "无"] or list(asked.options)
        return rng.sample(options, rng.randint(1, min(2, len(options))))
    if asked.options:
        return [rng.choice(asked.options)]
    if asked.widget == "date":
        return [(today - timedelta(days=rng.randint(0, 10))).isoformat()]
    if asked.widget == "number":
        low, high = asked.minimum or 0, asked.maximum or 100_000
        return [str(max(low, min(high, rng.randrange(800, 4000, 100))))]
    text = f"已入户核实（第{n + 1}次修改）"
    return [text[: asked.max_length] if asked.max_length else text]


async def open_grid(b: Browser, task_id: int, refs: list[str]) -> dict[str, int]:
    """Open a task's grid (and its counters), paging until all of `refs` are seen; return their versions."""
    path, want, found = f"/tasks/{task_id}", set(refs), {}
    for _page in range(100):
        page = await b.send("grid_open", "GET", path)
        if not page.ok:
            return found
        await b.send("grid_counts", "GET", f"/tasks/{task_id}/counts", target="task-totals")
        found.update((ref, int(v)) for ref, v in VERSION.findall(page.text) if ref in want)
        following = NEXT_PAGE.search(page.text)
        if want <= found.keys() or not following:
            break
        path = html.unescape(following.group(1))
    if not want <= found.keys():
        b.stats.error("grid_open", f"任务 {task_id} 的网格中找不到第 {sorted(want - found.keys())[:3]} 行")
    return found


async def filler(
    b: Browser, f: Filler, password: str, until: float, rng: random.Random, saves: list[Save]
) -> None:
    """Log in, list tasks, open the grid and save cells of one's own rows every few seconds."""
    tasks = await b.login(f.username, password, landing="task_list")
    if not tasks.ok:
        return
    if f'/tasks/{f.task_id}"' not in tasks.text:
        b.stats.error("task_list", f"{f.username} 的任务列表中没有任务 {f.task_id}")
    versions = await open_grid(b, f.task_id, f.refs)
    b.stats.ready.append(time.monotonic())
    cells = [(ref, a) for ref in f.refs if ref in versions for a in f.asked]
    today, n = date.today(), 0
    while cells and time.monotonic() < until:
        await asyncio.sleep(rng.uniform(*FILLER_PAUSE))
        if time.monotonic() >= until:
            break
        roll = rng.random()
        if roll < LIST_AGAIN + GRID_AGAIN:  # back to the list, or a reload: then the grid again
            if roll < LIST_AGAIN:
                await b.send("task_list", "GET", "/tasks/")
            versions.update(await open_grid(b, f.task_id, f.refs))
            continue
        ref, asked = cells[n % len(cells)]
        values = answer(asked, rng, n, today)
        n += 1
        data = [
            ("_field", asked.name),
            ("_view", "g"),
            *((asked.name, v) for v in values),
            ("_version", str(versions[ref])),
        ]
        result = await b.send(
            "cell_save",
            "POST",
            f"/tasks/{f.task_id}/rows/{ref}",
            data=data,
            target=f"cell-g{ref}-{asked.name}",
        )
        saves.append(Save(f.task_id, ref, asked.name, "、".join(values), result.status))
        version = re.search(rf'id="ver-g{ref}" value="(\d+)"', result.text)
        if version:  # the answer's (out-of-band) version, which the page's next save of the row names
            versions[ref] = int(version.group(1))
        problem = re.search(rf'id="err-g{ref}-{asked.name}" role="alert">([^<]+)<', result.text)
        if result.ok and problem:
            b.stats.error("cell_save", f"单元格被判为无效（压测给的值应当有效）：{problem.group(1)}")


async def _job(b: Browser, kind: str, job_id: int, until: float) -> str | None:
    """Poll a job's fragment every 500 ms until it ends; return the final fragment (None: failed)."""
    while True:
        page = await b.send(f"{kind}_poll", "GET", f"/jobs/{job_id}", target=f"job-{job_id}")
        if not page.ok:
            return None
        if RUNNING not in page.text:
            if "job-done" not in page.text:
                b.stats.error(kind + "_job", f"任务 {job_id} 失败：{_gist(page.text)}")
                return None
            return page.text
        if time.monotonic() > until + JOB_GRACE:
            b.stats.error(kind + "_job", f"任务 {job_id} 在结束后 {JOB_GRACE} 秒仍未完成")
            return None
        await asyncio.sleep(0.5)


async def _download(b: Browser, job_id: int) -> None:
    """Download an export job's file and check it is a workbook."""
    file = await b.send("export_download", "GET", f"/jobs/{job_id}/download", binary=True)
    if file.ok and not file.body.startswith(b"PK"):
        b.stats.error("export_download", f"任务 {job_id} 的下载不是 .xlsx 文件（{len(file.body)} 字节）")


async def department(
    b: Browser, username: str, report: str, password: str, until: float, rng: random.Random
) -> None:
    """Export, in turn, the person ledger and the report's summary data; each: start, poll, download."""
    if not (await b.login(username, password)).ok:
        return
    ledger_turn = True
    while time.monotonic() < until:
        started = time.monotonic()
        if ledger_turn:  # the ledger page's export button (htmx: the job fragment comes back)
            page = await b.send("ledger_page", "GET", "/ledgers/person")
            start = (
                await b.send(
                    "export_start",
                    "POST",
                    "/ledgers/person/export",
                    target="export-job",
                    data={"csrf_token": b.token, "fmt": "xlsx"},
                )
                if page.ok
                else page
            )
            job = JOB.search(start.text)
        else:  # the report overview's summary-data form (a plain post, redirected to the job page)
            page = await b.send("report_page", "GET", f"/reports/{report}/")
            form = {"csrf_token": b.token, "include_open": "1", "fmt": "xlsx"}
            start = (
                await b.send("export_start", "POST", f"/report-data/{report}/export", expect=302, data=form)
                if page.ok
                else page
            )
            job = re.search(r"/jobs/(\d+)", start.location)
            if job:
                await b.send("export_poll", "GET", _path(start.location))
        if start.ok and not job:
            b.stats.error("export_start", "回应中没有导出任务")
        if job and await _job(b, "export", int(job.group(1)), until) is not None:
            await _download(b, int(job.group(1)))
            kind = "ledger_export" if ledger_turn else "summary_export"
            b.stats.jobs[kind].append(time.monotonic() - started)
        ledger_turn = not ledger_turn
        await asyncio.sleep(rng.uniform(*DEPARTMENT_PAUSE))


async def keeper(
    b: Browser, username: str, files: list[Path], password: str, until: float, rng: random.Random
) -> None:
    """Import person files one after another: upload (htmx), poll the job, fetch any error report."""
    if not (await b.login(username, password)).ok:
        return
    contents = [(path.name, path.read_bytes()) for path in files]
    n = 0
    while time.monotonic() < until:
        name, content = contents[n % len(contents)]
        n += 1
        page = await b.send("import_page", "GET", "/ledgers/person/import")
        if not page.ok:
            await asyncio.sleep(rng.uniform(*KEEPER_PAUSE))
            continue
        form = aiohttp.FormData()
        form.add_field("csrf_token", b.token)
        form.add_field(
            "file",
            content,
            filename=name,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        started = time.monotonic()
        upload = await b.send(
            "import_start", "POST", "/ledgers/person/import", data=form, target="import-job"
        )
        job = JOB.search(upload.text)
        if upload.ok and not job:
            b.stats.error("import_start", "回应中没有导入任务")
        done = await _job(b, "import", int(job.group(1)), until) if job else None
        if done is not None:
            b.stats.jobs["import"].append(time.monotonic() - started)
            b.stats.imports.append({t: int(v.replace(",", "")) for t, v in JOB_RESULT.findall(done)})
            if f"/jobs/{job.group(1)}/report" in done:
                await b.send("import_report", "GET", f"/jobs/{job.group(1)}/report", binary=True)
        await asyncio.sleep(rng.uniform(*KEEPER_PAUSE))


async def _lag(until: float, lags: list[float]) -> None:
    """Measure how late the event loop wakes (the load generator's own saturation)."""
    while time.monotonic() < until:
        started = time.perf_counter()
        await asyncio.sleep(0.1)
        lags.append((time.perf_counter() - started - 0.1) * 1000)


async def run_users(
    base: str, plan: Plan, seconds: float, ramp: float, seed: int = 7, timeout: float = 120
) -> tuple[Stats, list[Save], dict]:
    """Run every simulated user against `base` for `seconds` (starting over `ramp` seconds)."""
    stats, saves, lags = Stats(), [], []
    connector = aiohttp.TCPConnector(limit=0, force_close=True)  # sync workers close every connection
    started = time.monotonic()
    until = started + seconds
    people = (
        [(filler, f.username, (f, plan.password)) for f in plan.fillers]
        + [(department, login, (login, code, plan.password)) for login, code in plan.departments]
        + [(keeper, plan.keeper, (plan.keeper, plan.import_files, plan.password))]
    )
    master = random.Random(seed)

    async def person(work, name: str, args: tuple, delay: float, rng: random.Random) -> None:
        await asyncio.sleep(delay)
        b = Browser(base, connector, stats, timeout)
        try:
            await work(b, *args, until, rng, *([saves] if work is filler else []))
        except Exception as exc:  # one user's crash is an error of the run, not its end
            stats.error("user", f"{name}: {type(exc).__name__} {exc}")
        finally:
            await b.close()

    try:
        await asyncio.gather(
            _lag(until, lags),
            *(
                person(work, name, args, master.uniform(0, ramp), random.Random(master.random()))
                for work, name, args in people
            ),
        )
    finally:
        await connector.close()
    elapsed = time.monotonic() - started
    # Rates are over the nominal duration: after it only jobs started before it finish.
    return (
        stats,
        saves,
        {
            "seconds": seconds,
            "elapsed": round(elapsed, 1),
            "users": len(people),
            "started": started,
            "event_loop_lag_ms": percentiles(lags),
        },
    )
