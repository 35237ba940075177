"""Benchmarks of the department's files: a dispatched report's summary rows and an extraction, ~100,000 rows.

Called by `bench/run.py` on the seeded district; each function records its results through the
`report` it is given. Run alone with `python bench/export_bench.py [--backend sqlite|postgresql]`:
it seeds the few townships of the district whose persons add up closest to 100,000 into a fresh database and
prints the results as JSON lines.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.runtime_bench import person_report  # noqa: E402
from builder.catalog.specs import SpecSet, load_specs  # noqa: E402

#: Rows the export must hold at least; the tasks marked submitted are the fewest that reach it.
ROWS = 100_000
#: The budget of the .xlsx export, seconds.
BUDGET = 10


def _admitted(session, specs: SpecSet, document: dict, mode: str):
    """Store a report as admitted (the gatekeeping is not what is measured, and would see overlaps)."""
    from sqlalchemy import select

    from runtime.models import User, utcnow
    from runtime.reports.store import Actor, create_report, latest_version

    user = session.scalar(select(User).where(User.username == "canlian"))
    actor = Actor(user.id, user.role, user.department_id)
    report = create_report(session, actor, document)
    latest_version(session, report).submitted_at = utcnow()
    report.status, report.mode = "admitted", mode
    session.flush()
    return report, actor


def bench_report_export(report: Callable, backend: str, engine, specs: SpecSet, runs: int = 2) -> None:
    """Export a dispatched 28-field person report whose submitted tasks hold ≥ 100,000 rows; extract them."""
    from sqlalchemy import select, update
    from sqlalchemy.orm import Session

    from runtime.access import viewer_of
    from runtime.clock import local_today
    from runtime.demo.report_grants import grant_for_report
    from runtime.ledgers.store import count
    from runtime.models import Report, Task
    from runtime.reports.export import export_report
    from runtime.reports.extraction import extract_report
    from runtime.tasks.context import TaskContext
    from runtime.tasks.dispatch import dispatch
    from runtime.tasks.prefill import row_query

    spec = person_report(specs)
    stamp = int(time.time())
    document = {
        **spec.document,
        "x-report": f"bench_export_{stamp}",
        "x-deadline": (local_today() + timedelta(days=20)).isoformat(),
    }
    with Session(engine) as session, session.begin():
        created, actor = _admitted(session, specs, document, "dispatch")
        tasks = dispatch(session, specs, created, actor)
        conn = session.connection()
        # As the department reads it: its own elements and the name granted in clear, the rest by the rules.
        grant_for_report(conn, specs, actor.department_id, document, clear=["person.name"])
        viewer = viewer_of(conn, actor.user_id)
        sizes = {
            (t.id, t.org_unit_code): count(conn, row_query(TaskContext(conn, specs, spec, t, viewer)))
            for t in tasks
        }
        chosen = closest(sizes)
        session.execute(update(Task).where(Task.id.in_([t for t, _u in chosen])).values(state="submitted"))
        code = created.code
    times, rows = [], 0
    with tempfile.TemporaryDirectory() as folder:
        for n in range(runs):
            with Session(engine) as session, session.begin():
                found = session.scalar(select(Report).where(Report.code == code))
                started = time.perf_counter()
                rows = export_report(
                    session.connection(),
                    specs,
                    found,
                    actor,
                    viewer,
                    "xlsx",
                    Path(folder) / f"summary{n}.xlsx",
                )
                times.append(time.perf_counter() - started)
        size_mb = (Path(folder) / "summary0.xlsx").stat().st_size / 1e6
        best = min(times)
        report(
            "report_export_xlsx",
            best,
            "s",
            f"≤ {BUDGET} s",
            backend,
            best <= BUDGET and rows >= ROWS,
            rows=rows,
            tasks=len(chosen),
            fields=len(spec.fields),
            mb=round(size_mb, 1),
            runs_seconds=[round(t, 2) for t in times],
        )
        with Session(engine) as session, session.begin():
            found = session.scalar(select(Report).where(Report.code == code))
            started = time.perf_counter()
            csv_rows = export_report(
                session.connection(), specs, found, actor, viewer, "csv", Path(folder) / "summary.csv"
            )
            seconds = time.perf_counter() - started
        report("report_export_csv", seconds, "s", "measured", backend, None, rows=csv_rows)
        extraction = {**document, "x-report": f"bench_extract_{stamp}", "x-targets": [u for _t, u in chosen]}
        with Session(engine) as session, session.begin():
            extracted, actor = _admitted(session, specs, extraction, "extract")
            started = time.perf_counter()
            got = extract_report(
                session.connection(), specs, extracted, actor, viewer, "xlsx", Path(folder) / "extract.xlsx"
            )
            seconds = time.perf_counter() - started
        report(
            "report_extract_xlsx",
            seconds,
            "s",
            f"≤ {BUDGET} s",
            backend,
            seconds <= BUDGET and got == rows,
            rows=got,
            units=len(chosen),
        )


def closest(sizes: dict, rows: int = ROWS) -> list:
    """Return the fewest keys (at most three) whose sizes add up to the smallest total of at least `rows`."""
    found = min(
        (
            combo
            for n in (1, 2, 3)
            for combo in combinations(sizes, n)
            if sum(sizes[k] for k in combo) >= rows
        ),
        key=lambda combo: (sum(sizes[k] for k in combo), len(combo)),
    )
    return list(found)


def _seed_townships(engine, specs: SpecSet) -> int:
    """Store the townships of the district (all their ledgers) whose persons add up closest to ROWS.

    Townships are 29,000–152,000 persons; a summary of ~100,000 rows is two or three of them.
    """
    from runtime.demo.generate import SCALES, apportion, generate
    from runtime.demo.load import DEMO_TIME
    from runtime.ledgers.store import Provenance, bulk_create

    townships = sorted(specs.townships(), key=lambda u: u.code)
    quotas = apportion(SCALES["district"], [u.population for u in townships])
    wanted = set(closest({u.code: q for u, q in zip(townships, quotas, strict=True)}))
    prov = Provenance(source="seed", source_ref="bench", at=DEMO_TIME)
    stored, left = 0, set(wanted)
    with engine.begin() as conn:
        for ledger, records in generate(specs, "district", 20260101):
            here = records[0].get(specs.ledgers[ledger].township_field) if records else None
            if not left and here not in wanted:
                break
            if here not in wanted:
                continue
            left.discard(here)
            bulk_create(conn, specs.ledgers[ledger], records, prov)
            stored += len(records) if ledger == "person" else 0
    return stored


def main() -> int:
    """Seed ≥ 100,000 persons into a fresh database per backend and run the export benchmarks."""
    from bench.run import database, prepared
    from runtime.ledgers.statistics import analyze

    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], action="append")
    args = parser.parse_args()
    specs = load_specs(ROOT / "form_specs")

    def emit(name, value, unit, target, backend, ok, **extra):
        print(
            json.dumps(
                {
                    "name": name,
                    "backend": backend,
                    "value": round(value, 3),
                    "unit": unit,
                    "target": target,
                    "ok": ok,
                    **extra,
                },
                ensure_ascii=False,
            ),
            flush=True,
        )

    for backend in args.backend or ["sqlite", "postgresql"]:
        engine = prepared(database(backend, "export"), specs)
        persons = _seed_townships(engine, specs)
        with engine.begin() as conn:
            analyze(conn, specs)
        emit("export_seed_persons", persons, "rows", "measured", backend, None)
        bench_report_export(emit, backend, engine, specs)
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
