"""The facts admission works on: the configured rules, the world a report is filed into, the verdict.

Plain data, so that the rules (`rules.py`), their configuration (`config.py`) and the assessment
(`gatekeeping.py`) all read the same types without importing one another in a circle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from builder.catalog.specs import Element


@dataclass(frozen=True)
class Rule:
    """One configured admission rule."""

    id: str
    level: str  # "block" | "warn" | "extract"
    title: str
    #: The main message template: what the filer must do when the rule fires.
    message: str
    params: dict[str, Any]
    enabled: bool = True
    #: The rule's other templates by key ("pass", "missing", "unbound" …; see RULES).
    messages: Mapping[str, str] = field(default_factory=dict)

    def template(self, key: str) -> str:
        """Return the message template under `key` ("message" is the main one)."""
        return self.message if key == "message" else self.messages.get(key, "")


@dataclass(frozen=True)
class RuleSet:
    """The configured rules and the working-day calendar."""

    rules: tuple[Rule, ...]
    holidays: frozenset[date]  # 法定节假日
    workdays: frozenset[date]  # 调休上班日 (weekend days that are working days)

    @property
    def remit(self) -> frozenset[str] | None:
        """Return the remit list the township_remit rule configures (file or inline), or None."""
        for rule in self.rules:
            if rule.id == "township_remit":
                listed = rule.params.get("remit_elements")
                if listed is None and isinstance(rule.params.get("remit"), list):
                    listed = rule.params["remit"]
                return frozenset(listed) if listed is not None else None
        return None


@dataclass(frozen=True)
class Holding:
    """Where the ledgers hold one element."""

    element: str
    ledger: str
    field: str
    #: Share of records with a value, when measured.
    fill_rate: float | None = None
    #: Newest change of that ledger, when known.
    updated_at: datetime | None = None
    #: The element's declared update frequency.
    update_frequency: str = ""


@dataclass(frozen=True)
class LiveReport:
    """Another report that is live (admitted or under review, deadline not passed)."""

    code: str
    title: str
    department: str
    ledger: str | None
    frequency: str
    start: date
    end: date | None
    #: Bound elements.
    elements: frozenset[str]
    #: Normalized titles of its unbound fields (`normalize_label`).
    labels: frozenset[str]


@dataclass
class Context:
    """What the world looks like when a report is filed."""

    today: date
    elements: Mapping[str, Element]
    #: Element code → where the ledgers hold it.
    holdings: Mapping[str, Holding]
    live_reports: Sequence[LiveReport] = ()
    #: OTHER reports the same department filed this month.
    department_reports_this_month: int = 0
    #: Element codes / "group.*" townships may be asked for; None = not configured here, so the
    #: township_remit rule uses the list its rules file names (params "remit"), if any.
    remit: frozenset[str] | None = None
    #: How the filing department may read each element: clear, partial (a grant in some
    #: townships), masked or hidden (runtime.masking decides it); None: not known (offline).
    readable: Mapping[str, str] | None = None


@dataclass(frozen=True)
class RuleResult:
    """One rule's outcome for one report."""

    id: str
    title: str
    outcome: str  # "pass" | "warn" | "block"
    message: str
    level: str


@dataclass(frozen=True)
class ColumnCoverage:
    """Whether the ledgers hold one column of the report, and how well."""

    field: str
    label: str
    element: str | None
    ledger: str | None
    held: bool
    fill_rate: float | None
    updated_at: datetime | None
    update_frequency: str


@dataclass(frozen=True)
class Coverage:
    """How much of the report the ledgers hold."""

    data_fields: int
    bound: int
    ratio: float
    columns: tuple[ColumnCoverage, ...]


@dataclass(frozen=True)
class Overlap:
    """What the report shares with one live report."""

    report: str
    title: str
    shared: int
    ratio: float
    #: Titles of this report's shared fields, in column order.
    fields: tuple[str, ...]
    same_period: bool


@dataclass(frozen=True)
class Verdict:
    """The automatic admission verdict of one report."""

    rules: tuple[RuleResult, ...]
    coverage: Coverage
    overlaps: tuple[Overlap, ...]
    decision: str  # "admit" | "review" | "reject" | "extract"

    def to_json(self) -> dict[str, Any]:
        """Return the verdict in the shape of the `analyze --format json` contract."""
        return {
            "coverage": {
                "data_fields": self.coverage.data_fields,
                "bound": self.coverage.bound,
                "ratio": self.coverage.ratio,
            },
            "rules": [{"id": r.id, "outcome": r.outcome, "message": r.message} for r in self.rules],
            "overlaps": [
                {"report": o.report, "title": o.title, "shared": o.shared, "ratio": o.ratio}
                for o in self.overlaps
            ],
            "decision": self.decision,
        }
