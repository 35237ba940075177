"""The admission rules: one small function per rule, registered by rule id (pyxform style).

A rule function looks at the facts of one filing (the report spec, the context, the coverage
and overlaps already measured) and returns a `Hit`: whether the rule passes, fires (the
configured level decides block or warn) or only warns, and which message templates of the rule
to fill with which values. The templates themselves live in `form_specs/admission/rules.json`,
so the wording is data; the placeholders each template may use are declared here and checked by
`check_rules`.
"""

from __future__ import annotations

import math
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from builder.admission.model import Context, Coverage, Overlap, Rule, RuleSet
from builder.catalog.specs import SENSITIVITY_LEVELS
from builder.reports.spec import FREQUENCIES, ReportSpec
from builder.workdays import count_working_days, nth_working_day

#: Field titles a message lists before it says “等 N 个字段”.
LIST_LIMIT = 8
#: Tolerance for comparing rounded ratios with configured thresholds.
_EPSILON = 1e-9


# ---------------------------------------------------------------- message formatting


def percent(ratio: float) -> str:
    """Return a ratio as a whole percentage, never rounded up past a threshold (0.5999 → 59%)."""
    return f"{math.floor(ratio * 100 + _EPSILON)}%"


def cn_date(day: date) -> str:
    """Return a date the way a Chinese notice writes it: 2026年12月20日."""
    return f"{day.year}年{day.month}月{day.day}日"


def quoted(titles: Sequence[str], limit: int = LIST_LIMIT) -> str:
    """Return field titles in Chinese quotes, joined with 、, long lists cut with 等 N 个字段."""
    shown = "、".join(f"“{t}”" for t in titles[:limit])
    return f"{shown}等 {len(titles)} 个字段" if len(titles) > limit else shown


def placeholders(template: str) -> list[str]:
    """Return the placeholder names of a message template; raise ValueError on bad syntax."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]


def fill(template: str, values: Mapping[str, Any]) -> str:
    """Fill a message template's {name} placeholders; unknown or dotted names stay as written."""
    out = []
    for literal, name, spec, conversion in string.Formatter().parse(template):
        out.append(literal)
        if name is None:
            continue
        # Only plain names: a template is configuration, not code ({x.__class__} must not run).
        if name in values:
            out.append(format(values[name], spec or ""))
        else:
            out.append(
                "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            )
    return "".join(out)


# ---------------------------------------------------------------- what a rule sees and says


@dataclass(frozen=True)
class Facts:
    """Everything a rule may look at for one filing."""

    spec: ReportSpec
    context: Context
    rules: RuleSet
    coverage: Coverage
    overlaps: tuple[Overlap, ...]


@dataclass(frozen=True)
class Hit:
    """A rule's finding: "pass", "fire" (block or warn by the rule's level) or "warn"."""

    outcome: str
    #: (template key, values) per sentence; the sentences are joined with "；".
    parts: tuple[tuple[str, Mapping[str, Any]], ...]


def _hit(outcome: str, key: str, **values: Any) -> Hit:
    return Hit(outcome, ((key, values),))


Validator = Callable[[Any], str | None]


@dataclass(frozen=True)
class RuleDef:
    """A registered rule: its check, the levels it may be set to, its params and templates."""

    check: Callable[[Rule, Facts], Hit]
    levels: tuple[str, ...]
    #: Parameter name → validator returning a Chinese problem, or None when the value is fine.
    params: Mapping[str, Validator]
    #: Template key ("message" is the rule's main message) → placeholders it may use.
    templates: Mapping[str, frozenset[str]]


# ---------------------------------------------------------------- parameter validators


def _count(value: Any) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 10_000
    return None if ok else "应为 0 到 10000 之间的整数"


def _ratio(value: Any) -> str | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 1
    return None if ok else "应为大于 0、不超过 1 的小数，如 0.9 表示 90%"


def _subset(allowed: Sequence[str]) -> Validator:
    def check(value: Any) -> str | None:
        if isinstance(value, list) and value and all(v in allowed for v in value):
            return None
        return "应为非空列表，取值只能是：" + "、".join(allowed)

    return check


def _remit(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and value.endswith(".json") and "/" not in value and "\\" not in value:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return None
    return "应为 null（不检查）、同一目录下的 .json 文件名，或数据元编码列表"


def _choice(*options: str) -> Validator:
    def check(value: Any) -> str | None:
        return None if value in options else "只能是：" + "、".join(options)

    return check


# ---------------------------------------------------------------- the rules


def _titles(fields: Sequence[Any]) -> list[str]:
    return [f.title or f.name for f in fields]


def basis_required(rule: Rule, facts: Facts) -> Hit:
    """Require a legal or policy basis (依据)."""
    basis = facts.spec.basis.strip()
    minimum = rule.params["min_length"]
    if len(basis) < max(minimum, 1):
        return _hit("fire", "message", min_length=minimum)
    return _hit("pass", "pass", basis=_shorten(basis))


def purpose_required(rule: Rule, facts: Facts) -> Hit:
    """Require a stated purpose."""
    purpose = facts.spec.purpose.strip()
    minimum = rule.params["min_length"]
    if len(purpose) < max(minimum, 1):
        return _hit("fire", "message", min_length=minimum)
    return _hit("pass", "pass", purpose=_shorten(purpose))


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def deadline_working_days(rule: Rule, facts: Facts) -> Hit:
    """Require a deadline at least `min_days` working days after today."""
    minimum = rule.params["min_days"]
    today, deadline = facts.context.today, facts.spec.deadline
    calendar = (facts.rules.holidays, facts.rules.workdays)
    earliest = cn_date(nth_working_day(today, minimum, *calendar))
    if deadline is None:
        return _hit("fire", "missing", min_days=minimum, earliest=earliest)
    days = count_working_days(today, deadline, *calendar)
    values = {
        "deadline": cn_date(deadline),
        "today": cn_date(today),
        "days": days,
        "min_days": minimum,
        "earliest": earliest,
    }
    return Hit("fire" if days < minimum else "pass", (("message" if days < minimum else "pass", values),))


def department_quota(rule: Rule, facts: Facts) -> Hit:
    """Limit the temporary reports one department files per month."""
    count, limit = facts.context.department_reports_this_month, rule.params["per_month"]
    return _hit(
        "fire" if count >= limit else "pass",
        "message" if count >= limit else "pass",
        count=count,
        per_month=limit,
    )


def max_fields(rule: Rule, facts: Facts) -> Hit:
    """Limit the number of data fields."""
    count, limit = facts.coverage.data_fields, rule.params["max"]
    return _hit(
        "fire" if count > limit else "pass", "message" if count > limit else "pass", count=count, max=limit
    )


def ledger_coverage(rule: Rule, facts: Facts) -> Hit:
    """Answer the report from the ledgers when they hold at least `ratio` of its data fields."""
    coverage, threshold = facts.coverage, rule.params["ratio"]
    missing = [c.label for c in coverage.columns if not c.held]
    values = {
        "bound": coverage.bound,
        "data_fields": coverage.data_fields,
        "ratio": percent(coverage.ratio),
        "threshold": percent(threshold),
        "missing_fields": quoted(missing) or "无",
    }
    if facts.spec.aggregate:
        # Its cells are the ledgers' counts and sums already: it goes out for townships to confirm.
        return Hit("pass", (("aggregate", values),))
    fired = coverage.data_fields > 0 and coverage.ratio + _EPSILON >= threshold
    return Hit("fire" if fired else "pass", (("message" if fired else "pass", values),))


def live_report_overlap(rule: Rule, facts: Facts) -> Hit:
    """Block a report that repeats another live report over the same ledger and period."""
    threshold = rule.params["ratio"]
    same = [o for o in facts.overlaps if o.same_period]
    live = {r.code: r for r in facts.context.live_reports}
    parts = []
    for overlap in same:
        if overlap.ratio + _EPSILON < threshold:
            continue
        parts.append(
            (
                "message",
                {
                    "report": overlap.report,
                    "title": overlap.title,
                    "department": live[overlap.report].department if overlap.report in live else "",
                    "shared": overlap.shared,
                    "data_fields": facts.coverage.data_fields,
                    "ratio": percent(overlap.ratio),
                    "threshold": percent(threshold),
                    "fields": quoted(overlap.fields),
                },
            )
        )
    if parts:
        return Hit("fire", tuple(parts))
    if not same:
        return _hit("pass", "none", threshold=percent(threshold))
    top = same[0]
    return _hit(
        "pass",
        "pass",
        title=top.title,
        ratio=percent(top.ratio),
        threshold=percent(threshold),
        department=live[top.report].department if top.report in live else "",
    )


def sensitive_justification(rule: Rule, facts: Facts) -> Hit:
    """Require a stated justification when sensitive elements are asked for."""
    levels = set(rule.params["levels"])
    elements = facts.context.elements
    sensitive = [
        f for f in facts.spec.fields if f.element in elements and elements[f.element].sensitivity in levels
    ]
    if not sensitive:
        return _hit("pass", "none")
    fields = quoted(_titles(sensitive))
    if facts.spec.justification.strip():
        return _hit("pass", "pass", fields=fields)
    return _hit("fire", "message", fields=fields)


def recurring_to_ledger(rule: Rule, facts: Facts) -> Hit:
    """Propose ledger fields instead of a report that townships fill again and again."""
    spec = facts.spec
    frequency = FREQUENCIES.get(spec.frequency, spec.frequency)
    if spec.frequency not in rule.params["frequencies"]:
        return _hit("pass", "pass", frequency=frequency)
    custom = [f for f in spec.fields if not f.element and not f.compute]
    if not custom:
        return _hit("fire", "all_bound", frequency=frequency)
    return _hit("fire", "message", frequency=frequency, fields=quoted(_titles(custom)))


def township_remit(rule: Rule, facts: Facts) -> Hit:
    """Block bound fields outside the townships' remit list, when one is configured."""
    remit = effective_remit(rule, facts.context.remit)
    if remit is None:
        return _hit("pass", "not_configured")
    title = rule.params.get("remit_title") or "镇街履职事项清单"
    elements = facts.context.elements
    outside = [f for f in facts.spec.fields if f.element and not in_remit(f.element, remit)]
    custom = [f for f in facts.spec.fields if not f.element and not f.compute]
    parts: list[tuple[str, Mapping[str, Any]]] = []
    if outside:
        named = [
            f"“{f.title or f.name}”"
            + (
                f"（{elements[f.element].department}）"
                if f.element in elements and elements[f.element].department
                else ""
            )
            for f in outside
        ]
        parts.append(("message", {"fields": "、".join(named), "remit_title": title}))
    if custom and rule.params["unbound"] == "warn":
        parts.append(("unbound", {"fields": quoted(_titles(custom)), "remit_title": title}))
    if not parts:
        return _hit("pass", "pass", remit_title=title)
    return Hit("fire" if outside else "warn", tuple(parts))


def grant_required(rule: Rule, facts: Facts) -> Hit:
    """Bind only elements the filing department may read; say which grant to apply for, and to whom."""
    readable = facts.context.readable
    if readable is None:
        return _hit("pass", "not_known")
    elements = facts.context.elements

    def named(fields: Sequence[Any]) -> str:
        return "、".join(
            f"“{f.title or f.name}”"
            + (f"（{elements[f.element].department}）" if elements[f.element].department else "")
            for f in fields[:LIST_LIMIT]
        ) + (f"等 {len(fields)} 项" if len(fields) > LIST_LIMIT else "")

    bound = [f for f in facts.spec.fields if f.element in elements and f.element in readable]
    hidden = [f for f in bound if readable[f.element] == "hidden"]
    partial = [f for f in bound if readable[f.element] == "partial"]
    masked = [
        f
        for f in bound
        if readable[f.element] == "masked" and elements[f.element].sensitivity in rule.params["masked_levels"]
    ]
    # Which rows a report holds must not tell what the department may not read: a filter on 救助类别
    # would name the assistance recipients of townships it was not granted.
    rows = facts.spec.rows
    filtered = [
        c
        for c in (rows.filter if rows else ())
        if c.element in elements and readable.get(c.element) in ("hidden", "partial")
    ]
    owners = sorted(
        {elements[f.element].department or "系统管理员" for f in hidden}
        | {elements[c.element].department or "系统管理员" for c in filtered}
    )
    parts: list[tuple[str, Mapping[str, Any]]] = []
    if hidden:
        parts.append(("message", {"fields": named(hidden), "owners": "、".join(owners)}))
    if filtered:
        names = "、".join(
            f"“{elements[c.element].name}”（{elements[c.element].department}）" for c in filtered
        )
        parts.append(("filter", {"fields": names, "owners": "、".join(owners)}))
    if partial:
        parts.append(("partial", {"fields": named(partial)}))
    if masked:
        parts.append(("masked", {"fields": named(masked)}))
    if not parts:
        return _hit("pass", "pass")
    # Masked values alone are what every department reads of 无条件共享 data: said, not a finding.
    return Hit("fire" if hidden or filtered else "warn" if partial else "pass", tuple(parts))


def effective_remit(rule: Rule, given: frozenset[str] | None) -> frozenset[str] | None:
    """Return the remit list in force: the context's, else the one the rules file configures."""
    if given is not None:
        return given
    loaded = rule.params.get("remit_elements")
    if loaded is not None:
        return frozenset(loaded)
    inline = rule.params.get("remit")
    return frozenset(inline) if isinstance(inline, list) else None


def in_remit(element: str, remit: frozenset[str]) -> bool:
    """Return whether an element code is on the remit list (exact code or "group.*")."""
    return element in remit or f"{element.split('.', 1)[0]}.*" in remit


# ---------------------------------------------------------------- the registry


def _names(*names: str) -> frozenset[str]:
    return frozenset(names)


_DEADLINE = _names("deadline", "today", "days", "min_days", "earliest")
_COVERAGE = _names("bound", "data_fields", "ratio", "threshold", "missing_fields")
_OVERLAP = _names("report", "title", "department", "shared", "data_fields", "ratio", "threshold", "fields")
_BLOCK_OR_WARN = ("block", "warn")

#: Rule id → definition. A new rule is a function above plus one entry here.
RULES: dict[str, RuleDef] = {
    "basis_required": RuleDef(
        basis_required,
        _BLOCK_OR_WARN,
        {"min_length": _count},
        {"message": _names("min_length"), "pass": _names("basis")},
    ),
    "purpose_required": RuleDef(
        purpose_required,
        _BLOCK_OR_WARN,
        {"min_length": _count},
        {"message": _names("min_length"), "pass": _names("purpose")},
    ),
    "deadline_working_days": RuleDef(
        deadline_working_days,
        _BLOCK_OR_WARN,
        {"min_days": _count},
        {"message": _DEADLINE, "missing": _names("min_days", "earliest"), "pass": _DEADLINE},
    ),
    "department_quota": RuleDef(
        department_quota,
        _BLOCK_OR_WARN,
        {"per_month": _count},
        {"message": _names("count", "per_month"), "pass": _names("count", "per_month")},
    ),
    "max_fields": RuleDef(
        max_fields,
        _BLOCK_OR_WARN,
        {"max": _count},
        {"message": _names("count", "max"), "pass": _names("count", "max")},
    ),
    "ledger_coverage": RuleDef(
        ledger_coverage,
        ("extract", "warn"),
        {"ratio": _ratio},
        {"message": _COVERAGE, "pass": _COVERAGE, "aggregate": _COVERAGE},
    ),
    "live_report_overlap": RuleDef(
        live_report_overlap,
        _BLOCK_OR_WARN,
        {"ratio": _ratio},
        {
            "message": _OVERLAP,
            "pass": _names("title", "department", "ratio", "threshold"),
            "none": _names("threshold"),
        },
    ),
    "sensitive_justification": RuleDef(
        sensitive_justification,
        _BLOCK_OR_WARN,
        {"levels": _subset(SENSITIVITY_LEVELS)},
        {"message": _names("fields"), "pass": _names("fields"), "none": _names()},
    ),
    "recurring_to_ledger": RuleDef(
        recurring_to_ledger,
        _BLOCK_OR_WARN,
        {"frequencies": _subset(tuple(FREQUENCIES))},
        {
            "message": _names("frequency", "fields"),
            "all_bound": _names("frequency"),
            "pass": _names("frequency"),
        },
    ),
    "grant_required": RuleDef(
        grant_required,
        _BLOCK_OR_WARN,
        {"masked_levels": _subset(SENSITIVITY_LEVELS)},
        {
            "message": _names("fields", "owners"),
            "filter": _names("fields", "owners"),
            "partial": _names("fields"),
            "masked": _names("fields"),
            "pass": _names(),
            "not_known": _names(),
        },
    ),
    "township_remit": RuleDef(
        township_remit,
        _BLOCK_OR_WARN,
        {"remit": _remit, "unbound": _choice("warn", "pass")},
        {
            "message": _names("fields", "remit_title"),
            "unbound": _names("fields", "remit_title"),
            "pass": _names("remit_title"),
            "not_configured": _names(),
        },
    ),
}
