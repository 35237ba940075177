"""Benchmarks of the builder side: template analysis, template import, the admission check.

Called by `bench/run.py`; each function records its results through the `report` it is given.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable

from sqlalchemy.orm import Session

from bench.synthetic import synthetic_catalog
from builder.admission.analysis import analyze_template, draft_document, match_template
from builder.admission.gatekeeping import Context, assess, load_rules
from builder.catalog.specs import SpecSet
from builder.reports.spec import load_reports
from builder.templates.matching.match import Matcher
from builder.templates.reader import read_template
from runtime.clock import local_today
from runtime.demo.templates import wide_template
from runtime.ledgers.holdings import forget, spec_holdings
from runtime.models import User
from runtime.reports.admission import gatekeeping_context, rules_remit
from runtime.reports.store import Actor, create_report, next_code

RUNS = 5


def _best(work: Callable[[], object], runs: int = RUNS) -> tuple[float, list[float]]:
    """Return the best and all wall times of `runs` calls, in seconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times), times


def bench_analyze(report: Callable, specs: SpecSet, catalog_size: int = 5000, columns: int = 100) -> None:
    """Analyze a 100-column template against a 5,000-element catalog (matcher built beforehand)."""
    catalog = synthetic_catalog(catalog_size, specs.elements)
    started = time.perf_counter()
    matcher = Matcher(catalog)
    build = time.perf_counter() - started
    report(
        "matcher_index_5000",
        build * 1000,
        "ms",
        "measured (once per catalog)",
        "builder",
        None,
        elements=len(catalog),
    )
    big = dataclasses.replace(specs, elements=catalog)
    rules = load_rules(specs.root)
    context = Context(
        today=local_today(), elements=catalog, holdings=spec_holdings(specs), remit=rules_remit(rules)
    )
    data = wide_template(columns)
    result = {}

    def work() -> None:
        template = read_template(data, "wide.xlsx")
        result["analysis"] = analyze_template(template, big, matcher, context, rules, ledger="person")

    best, times = _best(work)
    analysis = result["analysis"]
    report(
        "analyze_template_100_columns",
        best * 1000,
        "ms",
        "≤ 300 ms",
        "builder",
        best <= 0.3,
        columns=len(analysis.fields),
        catalog=len(catalog),
        bound=sum(1 for f in analysis.fields if f["element"]),
        decision=analysis.to_json()["decision"],
        runs_ms=[round(t * 1000, 1) for t in times],
    )


def bench_template_import(report: Callable, backend: str, engine, specs: SpecSet, columns: int = 60) -> None:
    """Import a 60-column two-level-header template as a draft report (read, match, store)."""
    data = wide_template(columns)
    matcher = Matcher(specs.elements)
    with Session(engine) as session:
        user = session.query(User).filter_by(username="canlian").one()
        actor = Actor(user.id, user.role, user.department_id)
    created = {}

    def work() -> None:
        template = read_template(data, "wide60.xlsx")
        matches = match_template(template, matcher)
        with Session(engine) as session, session.begin():
            document = draft_document(
                template.title,
                matches.ledger,
                matches.fields,
                specs.elements,
                code=next_code(session),
                department="canlian",
            )
            created["report"] = create_report(session, actor, document).code
            created["fields"] = len(document["properties"])

    best, times = _best(work)
    report(
        "import_template_60_columns",
        best * 1000,
        "ms",
        "≤ 1000 ms",
        backend,
        best <= 1.0,
        fields=created["fields"],
        runs_ms=[round(t * 1000, 1) for t in times],
    )


def bench_admission_check(report: Callable, backend: str, engine, specs: SpecSet) -> None:
    """Run the full admission check of a sample report against the district database."""
    rules = load_rules(specs.root)
    spec = load_reports(specs.root, specs)["disability_survey"]
    verdicts = {}

    def work() -> None:
        forget()
        with Session(engine) as session:
            context = gatekeeping_context(
                session,
                specs,
                department_id=None,
                report_id=None,
                today=local_today(),
                remit=rules_remit(rules),
            )
            verdicts["v"] = assess(spec, context, rules)

    best, times = _best(work)
    verdict = verdicts["v"]
    report(
        "admission_check_district",
        best * 1000,
        "ms",
        "measured",
        backend,
        None,
        coverage=verdict.coverage.ratio,
        decision=verdict.decision,
        median_ms=round(statistics.median(times) * 1000, 1),
    )
