"""Gatekeeping: what the ledgers already hold of a report, what it repeats, and whether it may go out.

`assess` measures the report against the ledgers (coverage per column) and against the other
live reports (overlap), then runs the configured admission rules (`form_specs/admission/`) and
derives the decision: any block → "reject"; else the coverage rule fired → "extract" (the
department takes the data from the ledgers, no township is asked); else any warn → "review";
else "admit". The reviewer still decides; the verdict is the automatic part.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from builder.admission.config import RulesInvalid, check_rules, load_rules
from builder.admission.model import (
    ColumnCoverage,
    Context,
    Coverage,
    Holding,
    LiveReport,
    Overlap,
    Rule,
    RuleResult,
    RuleSet,
    Verdict,
)
from builder.admission.rules import RULES, Facts, fill
from builder.reports.spec import ReportField, ReportSpec
from builder.tabular.headers import normalize_label
from builder.workdays import count_working_days

__all__ = [
    "ColumnCoverage",
    "Context",
    "Coverage",
    "Holding",
    "LiveReport",
    "Overlap",
    "Rule",
    "RuleResult",
    "RuleSet",
    "RulesInvalid",
    "Verdict",
    "assess",
    "check_rules",
    "load_rules",
    "measure_coverage",
    "measure_overlaps",
    "working_days",
]

#: Decisions, strongest first.
DECISIONS = ("reject", "extract", "review", "admit")


def working_days(start: date, end: date, rules: RuleSet) -> int:
    """Return the working days after `start` up to `end` inclusive, on the rules' calendar."""
    return count_working_days(start, end, rules.holidays, rules.workdays)


def data_fields(spec: ReportSpec) -> tuple[ReportField, ...]:
    """Return the fields someone must supply: computed fields derive from others, so they are not."""
    return tuple(f for f in spec.fields if not f.compute)


def measure_coverage(spec: ReportSpec, context: Context) -> Coverage:
    """Return, per data field, whether the ledgers hold its element, with freshness for display."""
    columns = []
    for f in data_fields(spec):
        holding = context.holdings.get(f.element) if f.element else None
        element = context.elements.get(f.element) if f.element else None
        declared = element.update_frequency if element else ""
        computed = f.formula.ledger if f.formula else None  # counted or summed from a ledger
        columns.append(
            ColumnCoverage(
                field=f.name,
                label=f.title or f.name,
                element=f.element,
                ledger=holding.ledger if holding else computed,
                held=holding is not None or computed is not None,
                fill_rate=holding.fill_rate if holding else None,
                updated_at=holding.updated_at if holding else None,
                update_frequency=(holding.update_frequency if holding else "") or declared,
            )
        )
    bound = sum(c.held for c in columns)
    ratio = round(bound / len(columns), 4) if columns else 0.0
    return Coverage(data_fields=len(columns), bound=bound, ratio=ratio, columns=tuple(columns))


def _period(start: date, end: date | None, frequency: str) -> tuple[date, date]:
    """Return a report's active period; recurring or undated reports run open-ended."""
    if frequency != "once" or end is None:
        return start, date.max
    return start, max(start, end)


def measure_overlaps(spec: ReportSpec, context: Context) -> tuple[Overlap, ...]:
    """Return the share of this report's data fields each live report also asks, highest first."""
    fields = data_fields(spec)
    if not fields:
        return ()
    mine = _period(context.today, spec.deadline, spec.frequency)
    overlaps = []
    for live in context.live_reports:
        if live.code == spec.code:
            continue  # an earlier version of the same report is not another report
        shared = [
            f.title or f.name
            for f in fields
            if (
                f.element in live.elements
                if f.element
                else bool(f.title) and normalize_label(f.title) in live.labels
            )
        ]
        if not shared:
            continue
        theirs = _period(live.start, live.end, live.frequency)
        same = live.ledger == spec.rows.ledger and mine[0] <= theirs[1] and theirs[0] <= mine[1]
        overlaps.append(
            Overlap(
                report=live.code,
                title=live.title,
                shared=len(shared),
                ratio=round(len(shared) / len(fields), 4),
                fields=tuple(shared),
                same_period=same,
            )
        )
    overlaps.sort(key=lambda o: (-o.ratio, not o.same_period, o.report))
    return tuple(overlaps)


def _outcome(rule: Rule, kind: str) -> str:
    """Return the result outcome of a rule's finding kind at the rule's configured level."""
    if kind == "fire":
        return "block" if rule.level == "block" else "warn"
    return kind


def decide(results: Sequence[RuleResult]) -> str:
    """Return the decision: block > extract > warn > admit."""
    if any(r.outcome == "block" for r in results):
        return "reject"
    if any(r.level == "extract" and r.outcome != "pass" for r in results):
        return "extract"
    if any(r.outcome == "warn" for r in results):
        return "review"
    return "admit"


def assess(spec: ReportSpec, context: Context, rules: RuleSet) -> Verdict:
    """Measure coverage and overlap, run every enabled rule, and decide."""
    coverage = measure_coverage(spec, context)
    overlaps = measure_overlaps(spec, context)
    facts = Facts(spec=spec, context=context, rules=rules, coverage=coverage, overlaps=overlaps)
    results = []
    for rule in rules.rules:
        definition = RULES.get(rule.id)
        if not rule.enabled or definition is None:
            continue  # check_rules reports unknown ids; a half-known rule must not decide
        hit = definition.check(rule, facts)
        message = "；".join(fill(rule.template(key), values) for key, values in hit.parts)
        results.append(
            RuleResult(
                id=rule.id,
                title=rule.title,
                outcome=_outcome(rule, hit.outcome),
                message=message,
                level=rule.level,
            )
        )
    return Verdict(rules=tuple(results), coverage=coverage, overlaps=overlaps, decision=decide(results))
