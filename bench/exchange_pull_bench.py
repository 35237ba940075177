"""Pulls through the exchange API at district scale: records page after page, then one changes query.

A client system of 区残联 (its demo grants in force) reads 100,000 person records through
GET /api/v1/ledgers/person/records (5,000 a page, the Flask test client, masking and the audit
tally included): rows per second, target ≥ 20,000. Then 10,000 persons are updated and one
GET …/changes from the cursor taken before them is timed (1,000 changes, the default page):
target ≤ 200 ms.

Standalone: `python bench/exchange_pull_bench.py [--scale demo] [--backend sqlite]` seeds a fresh
database under `.bench/` and prints JSON; `python bench/run.py --only exchange` runs it on the
district.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
from sqlalchemy import select  # noqa: E402

from builder.catalog.specs import SpecSet  # noqa: E402
from runtime.demo.grants import load_demo_grants  # noqa: E402
from runtime.exchange.clients import issue_token, register_client  # noqa: E402
from runtime.ledgers.store import DISTRICT, Provenance, upsert  # noqa: E402
from runtime.models import ApiClient, Department, Record  # noqa: E402

PULLED = 100_000
PAGE = 5_000
UPDATES = 10_000
RECORDS = "/api/v1/ledgers/person/records"
CHANGES = "/api/v1/ledgers/person/changes"


def _token(engine) -> str:
    """Register (once) a client system of 区残联 and return a new token of it."""
    with engine.begin() as conn:
        department = conn.scalar(select(Department.id).where(Department.code == "canlian"))
        client = conn.scalar(select(ApiClient.id).where(ApiClient.name == "区残联 压测系统"))
        if client is None:
            client = register_client(conn, name="区残联 压测系统", department_id=department, actor_id=None)
        return issue_token(conn, client, actor_id=None)[1]


def _app(engine, folder: Path):
    from web import create_app

    return create_app(
        {
            "DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "SECRET_KEY": "bench",
            "JOBS_IN_BACKGROUND": False,
            "REDIS_URL": None,
            "API_RATE_LIMIT": "100000 per minute",
            "EXPORT_DIR": str(folder / "exports"),
            "UPLOAD_DIR": str(folder / "uploads"),
            "REPORT_DIR": str(folder / "reports"),
        }
    )


def _update(engine, specs: SpecSet, n: int) -> int:
    """Change one value of `n` persons (one upsert, as a department system's push would); return how many."""
    ledger = specs.ledgers["person"]
    with engine.connect() as conn:
        keys = conn.scalars(
            select(Record.key).where(Record.ledger == "person").order_by(Record.id.desc()).limit(n)
        ).all()
    stamp = time.strftime("%H%M%S")
    with engine.begin() as conn:
        counts = upsert(
            conn,
            ledger,
            ({ledger.key: key, "occupation": f"压测{stamp}"} for key in keys),
            Provenance("sync", "bench"),
            scope=DISTRICT,
        )
    return counts.updated


def bench_exchange_pull(report: Callable, backend: str, engine, specs: SpecSet) -> None:
    """Pull 100,000 persons page by page through the API, then time a changes query after 10,000 updates."""
    load_demo_grants(engine, specs)
    token = _token(engine)
    headers = {"Authorization": f"Bearer {token}"}
    with tempfile.TemporaryDirectory() as folder:
        app = _app(engine, Path(folder))
        client = app.test_client()
        try:
            rows, after, pages = 0, None, []
            started = time.perf_counter()
            while rows < PULLED:
                params = {"limit": PAGE} | ({"after": after} if after else {})
                began = time.perf_counter()
                response = client.get(RECORDS, query_string=params, headers=headers)
                pages.append(time.perf_counter() - began)
                body = orjson.loads(response.data)
                rows += len(body["records"])
                after = body["next"]
                if after is None:
                    break
            seconds = time.perf_counter() - started
            rate = rows / seconds
            report(
                "exchange_pull_records",
                rate,
                "rows/s",
                "≥ 20,000 rows/s",
                backend,
                rate >= 20_000,
                rows=rows,
                pages=len(pages),
                page_ms_median=round(statistics.median(pages) * 1000, 1),
            )
            cursor = client.get(CHANGES + "/head", headers=headers).get_json()["cursor"]
            updated = _update(engine, specs, UPDATES)
            # On PostgreSQL the cursor waits for every older transaction on the server to end
            # (another database's long one too): wait for the updates to show, then time.
            waited = time.perf_counter()
            while time.perf_counter() - waited < 120:
                probe = client.get(CHANGES, query_string={"cursor": cursor, "limit": 1}, headers=headers)
                if orjson.loads(probe.data)["changes"]:
                    break
                time.sleep(0.5)
            waited = time.perf_counter() - waited
            times, found = [], 0
            for _ in range(5):
                began = time.perf_counter()
                body = orjson.loads(
                    client.get(CHANGES, query_string={"cursor": cursor}, headers=headers).data
                )
                times.append(time.perf_counter() - began)
                found = len(body["changes"])
            ms = statistics.median(times) * 1000
            report(
                "exchange_changes_query",
                ms,
                "ms",
                "≤ 200 ms",
                backend,
                ms <= 200 and found > 0,
                updates=updated,
                changes=found,
                more=body["more"],
                runs_ms=[round(t * 1000, 1) for t in times],
                waited_s=round(waited, 1),
            )
        finally:
            app.extensions["yibiaotong"]["engine"].dispose()


def main() -> int:
    """Seed (once) and run the pull benchmark standalone; print JSON."""
    from bench.run import database, prepared, report, results
    from builder.catalog.specs import load_specs
    from runtime.demo.load import seed

    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="demo")
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    specs = load_specs(ROOT / "form_specs")
    engine = prepared(database(args.backend, f"exchange_{args.scale}"), specs)
    seed(engine, specs, args.scale, 20260101)
    bench_exchange_pull(report, args.backend, engine, specs)
    engine.dispose()
    print(json.dumps(results, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
