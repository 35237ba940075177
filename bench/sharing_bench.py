"""What grants cost: ledger pages and exports read by a department with grants in force.

The decision of what a viewer sees (`runtime.masking.field_sight`) is made once per field per
request (once per township where a grant is bound to some), and records read in clear through a
grant are counted for the audit log. This times one township's persons exported to .xlsx, its
pages of 50 rows presented, and 50 page requests, first as a department that sees every element
as departments did before grants (有条件共享 ones masked by sensitivity: access grants for all of
them, district-wide), then with clear grants on top (district-wide and township-bound), and
reports the ratio: grants must cost at most 10%.

Standalone: `python bench/sharing_bench.py [--scale demo] [--backend sqlite]` seeds a fresh
database under `.bench/` and prints JSON; `make bench` (`bench/run.py`) calls `bench_sharing` on
the district.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import select, update  # noqa: E402

from builder.catalog.specs import SpecSet  # noqa: E402
from runtime.access import viewer_of  # noqa: E402
from runtime.demo.report_grants import grant_elements  # noqa: E402
from runtime.ledgers.exports import export_ledger  # noqa: E402
from runtime.ledgers.store import Query, Scope, page, read_all  # noqa: E402
from runtime.masking import present  # noqa: E402
from runtime.models import Department, Grant, User  # noqa: E402

#: The clear grants the benchmark puts in force for 区退役军人事务局, district-wide and in two townships.
CLEAR = ["person.name", "person.assistance_type", "person.disability_category", "person.current_address"]
RATIO = 1.10


def _best(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def _grant(engine, specs: SpecSet, township: str) -> int:
    """Put the grants in force for the benchmark's department; return its user's id."""
    with engine.begin() as conn:
        user, department = conn.execute(
            select(User.id, Department.id)
            .join(Department, Department.id == User.department_id)
            .where(User.username == "tuiyi")
        ).one()
        grant_elements(conn, specs, department, CLEAR[:2], "退役军人优待抚恤", clear=CLEAR[:2])
        others = grant_elements(conn, specs, department, CLEAR[2:], "退役军人走访", clear=CLEAR[2:])
        conn.execute(
            update(Grant).where(Grant.id.in_(others)).values(granted_townships=[township, "500118001"])
        )
    return user


def bench_sharing(
    report: Callable, backend: str, engine, specs: SpecSet, township: str, target: Path
) -> None:
    """Time a township's export and pages as a department without grants, then with grants in force."""
    ledger = specs.ledgers["person"]
    names = {u.code: u.name for u in specs.org_units.values()}
    query = Query(ledger, Scope(township=township))
    with engine.connect() as conn:
        bare = viewer_of(conn, conn.scalar(select(User.id).where(User.username == "tuiyi")))
    with engine.connect() as conn:
        rows = read_all(conn, query)
    pages = [rows[at : at + 50] for at in range(0, len(rows), 50)]

    def export(viewer) -> Callable[[], object]:
        def run() -> None:
            with engine.begin() as conn:
                export_ledger(conn, query, viewer, "xlsx", target, names)

        return run

    def present_pages(viewer) -> Callable[[], object]:
        return lambda: [present(ledger, one, viewer) for one in pages]

    def open_pages(viewer) -> Callable[[], object]:
        # What a page request does: build the viewer (one grants query), read a page, present it.
        def run() -> None:
            with engine.connect() as conn:
                for _ in range(50):
                    present(ledger, page(conn, query, limit=50), viewer_of(conn, viewer.user_id))

        return run

    before = {
        "export": _best(export(bare), 3),
        "present": _best(present_pages(bare), 5),
        "pages": _best(open_pages(bare), 5),
    }
    user = _grant(engine, specs, township)
    with engine.connect() as conn:
        granted = viewer_of(conn, user)
    after = {
        "export": _best(export(granted), 3),
        "present": _best(present_pages(granted), 5),
        "pages": _best(open_pages(granted), 5),
    }
    for name, unit in (("export", "s"), ("present", "s"), ("pages", "s")):
        ratio = after[name] / before[name]
        report(
            f"sharing_{name}_granted",
            after[name],
            unit,
            f"≤ {RATIO:.2f}× before grants",
            backend,
            ratio <= RATIO,
            rows=len(rows),
            before_seconds=round(before[name], 4),
            ratio=round(ratio, 3),
        )


def main() -> int:
    """Seed (once) and run the sharing benchmark standalone; print JSON."""
    from bench.run import biggest_near, database, prepared, report, results
    from builder.catalog.specs import load_specs
    from runtime.db import make_engine
    from runtime.demo.load import seed

    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="demo")
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    specs = load_specs(ROOT / "form_specs")
    url = database(args.backend, f"sharing_{args.scale}")
    engine = prepared(url, specs)
    seed(engine, specs, args.scale, 20260101)
    engine.dispose()
    engine = make_engine(url)
    township, _n = biggest_near(engine, specs, 5_000)
    bench_sharing(report, args.backend, engine, specs, township, ROOT / ".bench" / "sharing.xlsx")
    print(json.dumps(results, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
