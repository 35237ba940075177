"""Push 100,000 person rows through POST /api/v1/ledgers/person/records as a 区公安分局 client.

Half the rows update existing records (a changed owned element), half create new persons; the
time includes reading the JSON body, coercion, validation, the writes and the commit.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import orjson
from sqlalchemy import select

from builder.catalog.specs import SpecSet
from builder.checkdigits import id_check_char
from runtime.exchange.clients import issue_token, register_client
from runtime.models import Department, Record

ROWS = 100_000
GOAL = 10_000  # rows/s


def _rows(engine, specs: SpecSet, count: int) -> list[dict]:
    with engine.connect() as conn:
        old = conn.execute(
            select(Record.key, Record.data).where(Record.ledger == "person").limit(count // 2)
        ).all()
    village = next(u for u in specs.org_units.values() if u.level == "village")
    rows = [
        {"id_number": key, "residence_status": "外出" if data.get("residence_status") != "外出" else "在册"}
        for key, data in old
    ]
    start = date(1901, 1, 1)
    for i in range(count - len(rows)):
        born = start + timedelta(days=i // 100)
        first17 = f"500118{born:%Y%m%d}{i % 100:02d}1"  # an odd sequence digit: 男
        rows.append(
            {
                "id_number": first17 + id_check_char(first17),
                "name": f"推{i}",
                "gender": "男",
                "birth_date": born.isoformat(),
                "township_code": village.parent,
                "village_code": village.code,
                "household_no": f"{village.code}{i:07d}"[:19],
                "relation_to_head": "户主",
            }
        )
    return rows


def bench_exchange_push(report: Callable, backend: str, engine, specs: SpecSet, rows: int = ROWS) -> None:
    """Time one push of `rows` person rows through the API, half updates, half new records."""
    from web import create_app

    with engine.begin() as conn:
        department = conn.execute(select(Department.id).where(Department.code == "gongan")).scalar_one()
        client = register_client(
            conn, name=f"公安人口系统 {time.time_ns()}", department_id=department, actor_id=None
        )
        _id, token = issue_token(conn, client, actor_id=None)
    body = orjson.dumps(_rows(engine, specs, rows))
    folder = Path(tempfile.mkdtemp(prefix="push-bench-"))
    app = create_app(
        {
            "DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "SECRET_KEY": "bench",
            "JOBS_IN_BACKGROUND": False,
            "REDIS_URL": None,
            "UPLOAD_DIR": str(folder),
            "API_RATE_LIMIT": "1000/minute",
        }
    )
    client = app.test_client()
    started = time.perf_counter()
    # Synchronous on purpose (a 100k-row body would otherwise become a job): async=false is
    # not enough past 5 MB, so the job runs inline and the answer is read from its status.
    response = client.post(
        "/api/v1/ledgers/person/records",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    if response.status_code == 202:
        response = client.get(response.get_json()["status_url"], headers={"Authorization": f"Bearer {token}"})
        summary = response.get_json()["result"]["summary"]
    else:
        summary = response.get_json()["summary"]
    seconds = time.perf_counter() - started
    rate = rows / seconds
    report(
        "exchange_push_100k",
        round(rate),
        "rows/s",
        f"≥ {GOAL:,} rows/s",
        backend,
        rate >= GOAL,
        created=summary["created"],
        updated=summary["updated"],
        rejected=summary["rejected"],
        seconds=round(seconds, 2),
    )
    app.extensions["yibiaotong"]["engine"].dispose()
