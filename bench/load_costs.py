"""What one request of each kind costs the server in CPU, measured before the load starts.

One browser sends the same request over and over, alone; the server's CPU time (master and workers,
from the kernel's counters) divided by the count is the cost. CPU time does not grow while a process
waits for a core, so the figures hold on a busy shared machine where latencies do not; from them,
what the load offers and what the cores can give is worked out (`capacity`).
"""

from __future__ import annotations

import random
import re
from collections.abc import Awaitable, Callable, Iterable
from datetime import date

import aiohttp
import psutil

from bench.load_setup import Filler, Plan
from bench.load_users import FILLER_PAUSE, GRID_AGAIN, LIST_AGAIN, VERSION, Browser, Stats, answer

#: Requests measured per kind (after two to warm up).
REPEAT = 12


def _cpu_ms(pids: Iterable[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system
    return total * 1000


async def request_costs(base: str, plan: Plan, pids: Callable[[], list[int]]) -> dict[str, float]:
    """Return the server's CPU ms per request: login, task list, a 50-row grid page, its counters, a save."""
    costs: dict[str, float] = {}
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    stats = Stats()

    async def measure(kind: str, call: Callable[[], Awaitable], repeat: int = REPEAT) -> None:
        for _ in range(2):
            await call()
        before = _cpu_ms(pids())
        for _ in range(repeat):
            await call()
        costs[kind] = round((_cpu_ms(pids()) - before) / repeat, 1)

    township = next((f for f in plan.fillers if f.username.count("_") == 2), None)
    try:
        if township is not None:

            async def log_in() -> None:
                b = Browser(base, connector, stats, 60)
                await b.login(township.username, plan.password, landing="task_list")
                await b.close()

            await measure("login_and_task_list", log_in)
            b = Browser(base, connector, stats, 60)
            await b.login(township.username, plan.password, landing="task_list")
            await measure("task_list", lambda: b.send("task_list", "GET", "/tasks/"))
            grid = f"/tasks/{township.task_id}"
            await measure("grid_open_50_rows", lambda: b.send("grid_open", "GET", grid))
            await measure(
                "grid_counts", lambda: b.send("grid_counts", "GET", grid + "/counts", target="task-totals")
            )
            await b.close()
        if plan.probe is not None:
            await _save_costs(
                base, connector, stats, plan.probe, plan.password, measure, random.Random(3), date.today()
            )
    finally:
        await connector.close()
    if stats.errors:
        costs["errors"] = sum(stats.errors.values())
    return costs


async def _save_costs(
    base: str, connector, stats: Stats, probe: Filler, password: str, measure, rng, today
) -> None:
    """Measure a village grid page and a cell save (each naming the version the last one made)."""
    b = Browser(base, connector, stats, 60)
    await b.login(probe.username, password, landing="task_list")
    await measure("grid_open_village", lambda: b.send("grid_open", "GET", f"/tasks/{probe.task_id}"))
    page = await b.send("grid_open", "GET", f"/tasks/{probe.task_id}")
    versions = {ref: int(v) for ref, v in VERSION.findall(page.text)}
    ref = probe.refs[0]
    asked = probe.asked[-1]
    n = 0

    async def save() -> None:
        nonlocal n
        values = answer(asked, rng, n, today)
        data = [
            ("_field", asked.name),
            ("_view", "g"),
            *((asked.name, v) for v in values),
            ("_version", str(versions[ref])),
        ]
        n += 1
        result = await b.send(
            "cell_save",
            "POST",
            f"/tasks/{probe.task_id}/rows/{ref}",
            data=data,
            target=f"cell-g{ref}-{asked.name}",
        )
        found = re.search(rf'id="ver-g{ref}" value="(\d+)"', result.text)
        if found:
            versions[ref] = int(found.group(1))

    if ref in versions:
        await measure("cell_save", save, repeat=REPEAT * 2)
    await b.close()


def capacity(costs: dict[str, float], fillers: int, township_share: float, cores: int) -> dict:
    """Work out, from the costs, the CPU the fillers' arrival and their typing need, against the cores."""
    if not {"login_and_task_list", "grid_open_50_rows", "grid_counts", "cell_save"} <= costs.keys():
        return {}
    grid = township_share * costs["grid_open_50_rows"] + (1 - township_share) * costs.get(
        "grid_open_village", costs["grid_open_50_rows"]
    )
    arrival = costs["login_and_task_list"] + grid + costs["grid_counts"]
    again = GRID_AGAIN + LIST_AGAIN
    action = (
        (1 - again) * costs["cell_save"]
        + again * (grid + costs["grid_counts"])
        + LIST_AGAIN * costs["task_list"]
    )
    pause = sum(FILLER_PAUSE) / 2
    demand = fillers / pause * action / 1000  # cores the typing asks for, with no one waiting
    return {
        "arrival_cpu_seconds": round(fillers * arrival / 1000, 1),
        "arrival_seconds_at_least": round(fillers * arrival / 1000 / cores, 1),
        "typing_cores_needed": round(demand, 2),
        "saves_per_second_offered": round(fillers / pause * (1 - again), 1),
        "saves_per_second_possible": round(cores * 1000 / action * (1 - again), 1),
    }
