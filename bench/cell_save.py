"""What one cell save costs: milliseconds and SQL statements per save through the real web route.

A township filler (中山路街道) saves cells of the dispatched demo survey one after another with the
Flask test client, as the grid does (the cell's form plus the row's `_version`), on a seeded demo
district. Statements are counted with an SQLAlchemy `before_cursor_execute` listener on the app's
engine. Called by `bench/run.py`; run alone with `python bench/cell_save.py [--saves N]` for SQLite,
and PostgreSQL too when BENCH_DATABASE_URL or TEST_DATABASE_URL is set; prints the results as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from sqlalchemy import event, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("PASSWORD_HASH_METHOD", "pbkdf2:sha256:1000")

from builder.catalog.specs import SpecSet, load_specs  # noqa: E402
from runtime import config  # noqa: E402
from runtime.accounts.bootstrap import create_administrator, load_org_units  # noqa: E402
from runtime.db import make_engine, migrate  # noqa: E402
from runtime.demo.accounts import DEMO_PASSWORD, create_demo_users  # noqa: E402
from runtime.demo.load import seed  # noqa: E402
from runtime.demo.reports import load_demo_reports  # noqa: E402
from runtime.models import Task  # noqa: E402

SEED = 20260101
#: The filler, and the org unit of the task they fill (not one of the demo's submitted townships).
FILLER, TOWNSHIP = "zhongshanlu", "500118001"
#: Saves not counted: the first requests load templates, specs and connections.
WARMUP = 10
VERSION = re.compile(r'id="ver-g(\d+)" value="(\d+)"')


def _values(n: int) -> tuple[str, str]:
    """Return the n-th cell typed: a number and a remark in turn, as a filler types them."""
    return ("monthly_income", str(1000 + n)) if n % 2 else ("remarks", f"第 {n} 次入户核实")


def seeded(url: str, specs: SpecSet, scale: str) -> None:
    """Migrate, load org units and users, seed the district and create the demo reports."""
    engine = make_engine(url)
    try:
        migrate(engine)
        with Session(engine) as session, session.begin():
            load_org_units(session, specs)
            create_administrator(session, DEMO_PASSWORD)
            create_demo_users(session, specs)
        seed(engine, specs, scale, SEED)
        load_demo_reports(engine, specs)
    finally:
        engine.dispose()


def measure(url: str, folder: Path, saves: int) -> dict:
    """Save `saves` cells through the app; return per-save milliseconds and statement counts."""
    from web import create_app

    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "JOBS_IN_BACKGROUND": False,
            "REDIS_URL": None,
            "EXPORT_DIR": str(folder / "exports"),
            "UPLOAD_DIR": str(folder / "uploads"),
            "REPORT_DIR": str(folder / "reports"),
        }
    )
    engine = app.extensions["yibiaotong"]["engine"]
    statements = [0]

    def count(*_args) -> None:
        statements[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        with engine.connect() as conn:
            task_id = conn.scalar(select(Task.id).where(Task.org_unit_code == TOWNSHIP))
        client = app.test_client()
        login = client.post("/login", data={"username": FILLER, "password": DEMO_PASSWORD})
        if login.status_code != 302:
            raise RuntimeError(f"{FILLER} 登录失败（HTTP {login.status_code}）")
        grid = client.get(f"/tasks/{task_id}").get_data(as_text=True)
        versions = {int(rid): int(v) for rid, v in VERSION.findall(grid)}
        if not versions:
            raise RuntimeError(f"任务 {task_id} 的网格中没有行")
        rows = list(versions)
        times, counts = [], []
        for n in range(WARMUP + saves):
            rid = rows[n % len(rows)]
            name, value = _values(n)
            data = {"_field": name, "_view": "g", name: value, "_version": str(versions[rid])}
            statements[0] = 0
            started = time.perf_counter()
            response = client.post(f"/tasks/{task_id}/rows/{rid}", data=data, headers={"HX-Request": "true"})
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise RuntimeError(f"第 {n + 1} 次保存失败（HTTP {response.status_code}）")
            found = re.search(rf'id="ver-g{rid}" value="(\d+)"', response.get_data(as_text=True))
            versions[rid] = int(found.group(1))
            if n >= WARMUP:
                times.append(elapsed * 1000)
                counts.append(statements[0])
    finally:
        event.remove(engine, "before_cursor_execute", count)
        engine.dispose()
    times.sort()
    return {
        "median_ms": statistics.median(times),
        "p90_ms": round(times[int(len(times) * 0.9)], 2),
        "min_ms": round(times[0], 2),
        "statements_per_save": statistics.median(counts),
        "statements_max": max(counts),
        "saves": saves,
        "rows": len(rows),
    }


def bench_cell_save(
    report: Callable[..., None], backend: str, url: str, specs: SpecSet, saves: int = 200, scale: str = "demo"
) -> None:
    """Seed the district at `url` and record what one cell save costs there."""
    with tempfile.TemporaryDirectory(prefix="cell-save-") as folder:
        seeded(url, specs, scale)
        found = measure(url, Path(folder), saves)
    median = found.pop("median_ms")
    report("cell_save", median, "ms", "measured", backend, None, scale=scale, **found)


def _pg_url() -> str | None:
    """Return a fresh PostgreSQL database beside BENCH_DATABASE_URL or TEST_DATABASE_URL (None: unset)."""
    base = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not base:
        return None
    url = make_url(base)
    name = f"{url.database}_cell_save"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_pg(url: str) -> None:
    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


def _print(name: str, value: float, unit: str, target: str, backend: str, ok: bool | None, **extra) -> None:
    print(
        json.dumps(
            {"name": name, "backend": backend, "value": round(value, 3), "unit": unit, **extra},
            ensure_ascii=False,
        ),
        flush=True,
    )


def main() -> int:
    """Measure cell saves on SQLite, and on PostgreSQL when a database URL is given."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--saves", type=int, default=200, help="计时的保存次数（另有预热 10 次）")
    parser.add_argument("--scale", default="demo", help="演示数据规模：tiny、demo（默认）")
    args = parser.parse_args()
    specs = load_specs(config.specs_path())
    with tempfile.TemporaryDirectory(prefix="cell-save-db-") as folder:
        bench_cell_save(_print, "sqlite", f"sqlite:///{folder}/cell_save.db", specs, args.saves, args.scale)
    url = _pg_url()
    if url:
        try:
            bench_cell_save(_print, "postgresql", url, specs, args.saves, args.scale)
        finally:
            _drop_pg(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
