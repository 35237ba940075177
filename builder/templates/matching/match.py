"""Match template column labels to catalog data elements, with a confidence and a readable reason.

Each column is read on its own first (exact name or alias after normalization, then fuzzy
similarity; sample values vetting the element's type; whose data the column is), then in its
row: the row ledger (given, or inferred from the clear matches) prefers its own elements,
neighbouring columns settle labels several ledgers share, and no element is bound twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from builder.catalog.specs import Element
from builder.templates.matching.index import CatalogIndex, Hit, best_per_element, group_order
from builder.templates.matching.labels import (
    LEDGER_SUBJECT_ROLE,
    Label,
    caption_context,
    is_layout,
    layout_label,
    parse_label,
)
from builder.templates.matching.reasons import (
    GROUP_TITLES,
    ambiguity_note,
    duplicate_reason,
    hit_reason,
    inherited_reason,
    layout_reason,
    other_person_reason,
    unmatched_reason,
)
from builder.templates.sample_types import VETO, column_shape, compatibility, infer_type

__all__ = [
    "BIND_THRESHOLD",
    "PROPOSE_THRESHOLD",
    "Candidate",
    "Column",
    "FieldMatch",
    "MatchResult",
    "Matcher",
    "infer_type",
    "is_layout",
]

BIND_THRESHOLD = 0.8
PROPOSE_THRESHOLD = 0.5
#: An element outside the row ledger's groups can be proposed, never bound on its own.
_OTHER_GROUP = 0.75
_NEIGHBOUR_BONUS = 0.04
_AMBIGUOUS_GAP = 0.03
_UNIT_CONFLICT = 0.7
_INHERITED = 0.95
_LEDGER_SUBJECT = 0.95
_CAPTION_BONUS = 0.02
#: Groups a row ledger may bind besides its own: a person's household is the person's.
_ALLOWED = {"person": ("household",)}


@dataclass(frozen=True)
class Column:
    """One template column: its leaf header, the captions above it and sample values below."""

    label: str
    parents: tuple[str, ...] = ()
    samples: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Candidate:
    """An element a column (or a search) could mean, with its score and why."""

    element: str
    score: float
    reason: str


@dataclass(frozen=True)
class FieldMatch:
    """The verdict on one column."""

    label: str
    parents: tuple[str, ...]
    element: str | None
    confidence: float
    reason: str
    kind: str
    proposal: str | None
    candidates: tuple[Candidate, ...]
    value_type: str | None
    subject: str | None


@dataclass(frozen=True)
class MatchResult:
    """The row ledger used (given or inferred) and one verdict per column, in column order."""

    ledger: str | None
    fields: list[FieldMatch]


#: A hit with its label score after the sample-type and unit fit, and the notes saying why.
_Weighed = tuple[Hit, float, list[str]]


@dataclass
class _Scored:
    """A hit weighed in its row: factors, ledger rank and neighbour support applied."""

    hit: Hit
    final: float
    rank: int
    supported: bool
    notes: list[str] = field(default_factory=list)


@dataclass
class _Column:
    """A column read on its own (phase one)."""

    index: int
    column: Column
    label: Label
    layout: str = ""
    role: str | None = None
    role_word: str = ""
    caption: str = ""
    shape: str | None = None
    hits: list[_Weighed] = field(default_factory=list)
    vetoed: list[tuple[Hit, list[str]]] = field(default_factory=list)


class Matcher:
    """Label → element matching against one catalog; build once, match many templates."""

    def __init__(self, elements: Mapping[str, Element]) -> None:
        """Index every standard name and alias of the catalog."""
        self.elements = elements
        self.index = CatalogIndex(elements)

    def match(self, columns: Sequence[Column], *, ledger: str | None = None) -> MatchResult:
        """Return a verdict per column; `ledger` is the row ledger, inferred when None."""
        read = [self._read(i, column) for i, column in enumerate(columns)]
        clear = [self._clear_group(c) for c in read]
        row_ledger = ledger or self._infer_ledger(read)
        return MatchResult(ledger=row_ledger, fields=self._assign(read, clear, row_ledger))

    def search(self, query: str, *, limit: int = 20) -> list[Candidate]:
        """Return catalog elements by name, alias or code, fuzzy, best first (a search box)."""
        hits = self.index.search(query, limit=limit)
        return [
            Candidate(h.element, round(min(h.score, 1.0), 2), hit_reason(h, self.elements[h.element]))
            for h in hits
        ]

    # Phase one: each column on its own.

    def _read(self, index: int, column: Column) -> _Column:
        """Read one column: layout, whose data, candidate elements and their type fit."""
        leaf = parse_label(column.label)
        captions = caption_context(column.parents)
        work = _Column(index, column, leaf)
        if captions.layout_caption or layout_label(leaf.short):
            work.layout = layout_reason(column.label, captions.layout_caption)
            return work
        if not leaf.short:
            return work
        if leaf.role is None and captions.role_word:  # “父亲信息” over “姓名”
            work.label = parse_label(captions.role_word + column.label)
            work.caption = captions.role_caption
        work.role, work.role_word = work.label.role, work.label.role_word
        hits = self.index.exact(work.label)
        if captions.qualifier and leaf.role is None and not captions.role_word:
            combined = parse_label(captions.qualifier + column.label)
            if combined.short != leaf.short:
                note = captions.qualifier_caption
                hits += [
                    Hit(h.element, min(1.0, h.score + _CAPTION_BONUS), h.key, "caption", note=note)
                    for h in self.index.exact(combined)
                ]
        # Fuzzy even after an exact hit: the row ledger may prefer a near name of its own group.
        hits += self.index.fuzzy(work.label)
        work.shape = column_shape(column.samples)
        self._weigh(work, best_per_element(hits))
        return work

    def _weigh(self, work: _Column, hits: list[Hit]) -> None:
        """Apply the sample-type and unit fit to each hit; keep the vetoed ones for the reason."""
        for hit in hits:
            element = self.elements[hit.element]
            factor, note = compatibility(element, work.column.samples, work.shape)
            notes = [note] if note else []
            if factor <= VETO:
                work.vetoed.append((hit, notes))
                continue
            unit = work.label.unit
            units = self.index.units.get(hit.element, set())
            if unit and units and unit not in units and any(u[0] == unit[0] for u in units):
                factor *= _UNIT_CONFLICT
                theirs = "、".join(sorted(u[1] for u in units if u[0] == unit[0]))
                notes.append(f"本列单位是{unit[1]}，而“{element.name}”以{theirs}计")
            work.hits.append((hit, min(1.0, hit.score * factor), notes))
        work.hits.sort(key=lambda t: -t[1])

    def _clear_group(self, work: _Column) -> str | None:
        """Return the group of a column's strong, unambiguous match (context for neighbours)."""
        if not work.hits or work.hits[0][1] < BIND_THRESHOLD:
            return None
        top = work.hits[0][1]
        groups = {self.elements[h.element].group for h, base, _ in work.hits if base >= top - _AMBIGUOUS_GAP}
        return groups.pop() if len(groups) == 1 else None

    def _infer_ledger(self, read: list[_Column]) -> str | None:
        """Return the group most strong matches belong to (person rows may carry household columns)."""
        votes: Counter[str] = Counter()
        for work in read:
            if not work.hits or work.hits[0][1] < BIND_THRESHOLD:
                continue
            top = work.hits[0][1]
            groups = {self.elements[h.element].group for h, b, _ in work.hits if b >= top - _AMBIGUOUS_GAP}
            for group in groups:
                votes[group] += 1 / len(groups)
        if not votes:
            return None
        group, count = max(votes.items(), key=lambda kv: (kv[1], kv[0] == "person"))
        if count < 1:
            return None
        if group == "household" and votes["person"] >= count / 2:
            return "person"
        return group

    # Phase two: each column in its row.

    def _score(self, work: _Column, ledger: str | None, context: set[str]) -> list[_Scored]:
        """Weigh a column's hits against the row ledger and the neighbouring columns."""
        entries = list(work.hits)
        subject_role = LEDGER_SUBJECT_ROLE.get(ledger or "")
        if subject_role and work.role in (None, subject_role):
            entries += self._ledger_subject_hits(work, subject_role, ledger or "")
        scored = []
        for hit, base, notes in entries:
            group = self.elements[hit.element].group
            notes = list(notes)
            if ledger is None or group == ledger:
                rank, final = 0, base
            elif group in _ALLOWED.get(ledger, ()):
                rank, final = 1, base
            else:
                # Never bound on its own, whatever the neighbours say: the admin must confirm it.
                rank, final = 2, min(base * _OTHER_GROUP, BIND_THRESHOLD - 0.01)
                notes.append(
                    f"“{self.elements[hit.element].name}”属于{GROUP_TITLES.get(group, group)}，"
                    f"与本表的{GROUP_TITLES.get(ledger, ledger)}不一致"
                )
            # Neighbours decide between groups the row ledger does not rank (none given, or both foreign).
            supported = group in context and (ledger is None or rank == 2)
            if supported:
                final += _NEIGHBOUR_BONUS
            scored.append(_Scored(hit, round(min(final, 1.0), 4), rank, supported, notes))
        scored.sort(
            key=lambda s: (-s.final, s.rank, not s.supported, group_order(s.hit.element), s.hit.element)
        )
        unique: dict[str, _Scored] = {}
        for s in scored:
            unique.setdefault(s.hit.element, s)
        return list(unique.values())

    def _ledger_subject_hits(self, work: _Column, role: str, ledger: str) -> list[_Weighed]:
        """Return hits that read the column as the ledger's own person (a land row's contractor)."""
        label = work.label
        if label.role is None:
            keys = self.index.role_keys(role, label.rem)
        else:
            keys = self.index.subject_keys(label.rem)
        hits = [Hit(k.element, k.tier * _LEDGER_SUBJECT, k, "ledger", note=ledger) for k in keys]
        out = []
        for hit in best_per_element(hits):
            factor, note = compatibility(self.elements[hit.element], work.column.samples, work.shape)
            if factor > VETO:
                out.append((hit, min(1.0, hit.score * factor), [note] if note else []))
        return out

    def _assign(self, read: list[_Column], clear: list[str | None], ledger: str | None) -> list[FieldMatch]:
        """Decide every column in order; an element goes to the first column that binds it."""
        taken: dict[str, _Column] = {}
        fields: list[FieldMatch] = []
        previous: tuple[str | None, str, _Column | None] = (None, "", None)  # role, word, column
        for work in read:
            if work.layout:
                fields.append(self._layout(work))
                previous = (None, "", None)
                continue
            context = {g for j, g in enumerate(clear) if g and j != work.index and abs(j - work.index) <= 2}
            scored = self._score(work, ledger, context)
            verdict = self._decide(work, scored, ledger)
            if verdict.element and verdict.element in taken:
                verdict = self._duplicate(work, verdict, taken, previous, ledger)
            if verdict.element:
                taken[verdict.element] = work
            fields.append(verdict)
            previous = (verdict.subject, self._role_word(work, verdict), work)
        return fields

    @staticmethod
    def _role_word(work: _Column, verdict: FieldMatch) -> str:
        """Return the role as spelled for the column, for inheriting it to the next column."""
        return work.role_word if work.role == verdict.subject else (verdict.subject or "")

    def _decide(self, work: _Column, scored: list[_Scored], ledger: str | None) -> FieldMatch:
        """Return the verdict for one column from its weighed hits."""
        subject_role = LEDGER_SUBJECT_ROLE.get(ledger or "")
        other = work.role if work.role and work.role != subject_role else None
        viable = [s for s in scored if s.final > 0]
        candidates = tuple(
            Candidate(s.hit.element, round(s.final, 2), self._reason(work, s)) for s in viable[:5]
        )
        base = dict(
            label=work.column.label,
            parents=tuple(work.column.parents),
            kind="data",
            candidates=candidates,
            value_type=infer_type(work.column.samples, work.column.label),
            subject=other,
        )
        if not viable or viable[0].final < PROPOSE_THRESHOLD:
            reason = self._no_match_reason(work, viable, other)
            return FieldMatch(
                element=None,
                confidence=round(viable[0].final, 2) if viable else 0.0,
                reason=reason,
                proposal=None,
                **base,
            )
        best = viable[0]
        rival = next(
            (
                s
                for s in viable[1:]
                if s.rank == best.rank
                and s.supported == best.supported
                and s.final >= best.final - _AMBIGUOUS_GAP
            ),
            None,
        )
        reason = self._reason(work, best)
        confidence = round(best.final, 2)
        if rival is None and best.final >= BIND_THRESHOLD:
            return FieldMatch(
                element=best.hit.element, confidence=confidence, reason=reason, proposal=None, **base
            )
        if rival is not None:
            reason += "；" + ambiguity_note(self.elements[rival.hit.element])
            confidence = min(confidence, round(BIND_THRESHOLD - 0.01, 2))
        else:
            reason += "，低于绑定阈值，仅作建议"
        return FieldMatch(
            element=None, confidence=confidence, reason=reason, proposal=best.hit.element, **base
        )

    def _no_match_reason(self, work: _Column, viable: list[_Scored], other: str | None) -> str:
        """Explain why a column gets neither a binding nor a proposal."""
        if other:
            keys = self.index.subject_keys(work.label.rem)
            own = self.elements[keys[0].element] if keys else None
            return other_person_reason(other, work.label.rem, own, work.caption)
        if work.vetoed:
            hit, notes = work.vetoed[0]
            return "；".join([hit_reason(hit, self.elements[hit.element]), *notes])
        return unmatched_reason(work.column.label, viable[0] if viable else None, self.elements)

    def _reason(self, work: _Column, scored: _Scored) -> str:
        """Return the Chinese reason for one weighed hit."""
        element = self.elements[scored.hit.element]
        parts = [hit_reason(scored.hit, element, caption=work.caption), *scored.notes]
        if scored.supported and scored.rank > 0:
            parts.append(f"相邻列属于{GROUP_TITLES.get(element.group, element.group)}")
        return "；".join(parts)

    def _duplicate(
        self,
        work: _Column,
        verdict: FieldMatch,
        taken: dict[str, _Column],
        previous: tuple[str | None, str, _Column | None],
        ledger: str | None,
    ) -> FieldMatch:
        """Resolve a column that would bind an element an earlier column already holds."""
        element = self.elements[verdict.element or ""]
        first = taken[element.code]
        role, word, before = previous
        if role and before is not None and work.role is None:
            own = work.label
            label = replace(
                own,
                role=role,
                role_word=word,
                short=word + own.short,
                full=word + own.full,
                rem=own.short,
                stripped="",
            )
            hits = self.index.exact(label) or self.index.fuzzy(label)
            trial = _Column(work.index, work.column, label, role=label.role, role_word=word, shape=work.shape)
            self._weigh(trial, best_per_element(hits))
            scored = self._score(trial, ledger, set())
            intro = inherited_reason(before, first, element, role, label.rem)
            if scored and scored[0].final >= BIND_THRESHOLD and scored[0].hit.element not in taken:
                best = scored[0]
                return FieldMatch(
                    label=work.column.label,
                    parents=tuple(work.column.parents),
                    element=best.hit.element,
                    confidence=round(best.final * _INHERITED, 2),
                    reason=intro + "；" + self._reason(trial, best),
                    kind="data",
                    proposal=None,
                    candidates=verdict.candidates,
                    value_type=verdict.value_type,
                    subject=role,
                )
            return FieldMatch(
                label=work.column.label,
                parents=tuple(work.column.parents),
                element=None,
                confidence=0.0,
                reason=intro + "，不是本行对象的，不能绑定到本人的数据元",
                kind="data",
                proposal=None,
                candidates=(),
                value_type=verdict.value_type,
                subject=role,
            )
        return FieldMatch(
            label=verdict.label,
            parents=verdict.parents,
            element=None,
            confidence=verdict.confidence,
            reason=duplicate_reason(first.index, first.column.label, element),
            kind="data",
            proposal=verdict.element,
            candidates=verdict.candidates,
            value_type=verdict.value_type,
            subject=verdict.subject,
        )

    @staticmethod
    def _layout(work: _Column) -> FieldMatch:
        """Return the verdict for a layout column."""
        return FieldMatch(
            label=work.column.label,
            parents=tuple(work.column.parents),
            element=None,
            confidence=1.0,
            reason=work.layout,
            kind="layout",
            proposal=None,
            candidates=(),
            value_type=infer_type(work.column.samples, work.column.label),
            subject=None,
        )
