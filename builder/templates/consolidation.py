"""Consolidation (合表并表): many templates in, the deduplicated union of their fields out.

For each field: which templates asked for it, which catalog element covers it (if any), and for
the fields no element covers, a proposed extension of the ledger the rows come from (or a new
ledger when the templates agree on none), so that the next report takes them from a ledger.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from builder.admission.analysis import match_template
from builder.tabular.headers import normalize_label
from builder.templates.matching.match import Matcher
from builder.templates.reader import Template

#: Value type inferred from samples → the JSON Schema type a proposed element gets.
_PROPOSED_TYPES = {"integer": "integer", "number": "number", "date": "string", "boolean": "boolean"}


@dataclass
class UnionField:
    """One field of the union: its spellings, the templates that ask for it, its element."""

    label: str
    element: str | None
    labels: list[str] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)
    value_type: str | None = None
    confidence: float = 0.0
    proposal: str | None = None


@dataclass(frozen=True)
class ProposedElement:
    """An element the catalog should gain so that a ledger holds an uncovered field."""

    code: str
    name: str
    type: str
    templates: tuple[str, ...]


@dataclass
class Consolidation:
    """The union of several templates' fields."""

    templates: list[str]
    ledger: str | None
    fields: list[UnionField]
    proposal_ledger: str
    proposal_is_new: bool
    proposed: list[ProposedElement]

    @property
    def covered(self) -> list[UnionField]:
        """Return the fields an existing element covers."""
        return [f for f in self.fields if f.element]

    @property
    def uncovered(self) -> list[UnionField]:
        """Return the fields no element covers yet."""
        return [f for f in self.fields if not f.element]

    @property
    def asked(self) -> int:
        """Return how many data columns the templates ask for in all (before deduplication)."""
        return sum(len(f.templates) for f in self.fields)


def consolidate(
    templates: Sequence[Template], matcher: Matcher, *, ledger: str | None = None
) -> Consolidation:
    """Match every template and return the deduplicated union of their data fields."""
    union: dict[str, UnionField] = {}
    ledgers: Counter[str] = Counter()
    names = [_name(t) for t in templates]
    for template, name in zip(templates, names, strict=True):
        result = match_template(template, matcher, ledger)
        if result.ledger:
            ledgers[result.ledger] += 1
        for found in result.fields:
            if found.kind == "layout":
                continue
            key = found.element or "label:" + normalize_label(found.label)
            entry = union.get(key)
            if entry is None:
                entry = union[key] = UnionField(
                    label=found.label,
                    element=found.element,
                    value_type=found.value_type,
                    proposal=found.proposal,
                )
            if found.label not in entry.labels:
                entry.labels.append(found.label)
            if name not in entry.templates:
                entry.templates.append(name)
            entry.confidence = max(entry.confidence, found.confidence)
            entry.value_type = entry.value_type or found.value_type
    row_ledger = ledger or (ledgers.most_common(1)[0][0] if ledgers else None)
    fields = sorted(union.values(), key=lambda f: (-len(f.templates), f.element is None))
    target = row_ledger or "new_ledger"
    proposed = [
        ProposedElement(
            code=f"{target}.ext_{n}",
            name=f.label,
            type=_PROPOSED_TYPES.get(f.value_type or "", "string"),
            templates=tuple(f.templates),
        )
        for n, f in enumerate((f for f in fields if not f.element), start=1)
    ]
    return Consolidation(
        templates=names,
        ledger=row_ledger,
        fields=fields,
        proposal_ledger=target,
        proposal_is_new=row_ledger is None,
        proposed=proposed,
    )


def _name(template: Template) -> str:
    return template.title or template.filename
