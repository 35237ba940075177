"""Find the header row of an uploaded table and map its columns onto a ledger's fields.

Matching is exact on normalized labels (standard name, title, aliases and their 号/号码
variants); fuzzy matching is a separate concern.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from builder.catalog.identity_cache import IdentityCache
from builder.catalog.specs import Ledger
from builder.problems import FileProblem, ImportRefused

_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|〔[^〔〕]*〕|\{[^{}]*\}")
_NOISE = re.compile(r"[\s*※★☆]+")
_BRACKETS = re.compile(r"[()\[\]【】〔〕{}]")
_TRAILING_COLON = re.compile(r"[:：]+$")

#: Layout columns of Chinese forms that carry no ledger data; compared after normalization.
LAYOUT_LABELS = frozenset(
    {
        "序号",
        "序",
        "编号",
        "行号",
        "no",
        "no.",
        "备注",
        "说明",
        "附注",
        "其他说明",
        "签字",
        "签名",
        "本人签字",
        "本人签名",
        "户主签字",
        "户主签名",
        "签字确认",
        "核实人",
        "核实人签字",
        "填表人",
        "填报人",
        "审核人",
        "走访人",
        "录入人",
        "录入时间",
        "操作",
        "盖章",
    }
)


@dataclass
class HeaderMatch:
    """Where the header row is and which column holds which ledger field."""

    row_index: int
    columns: dict[int, str]
    labels: list[str]
    unmatched: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    missing_required: list[str] = field(default_factory=list)

    @property
    def data_start(self) -> int:
        """Return the index of the first row below the header."""
        return self.row_index + 1


def normalize_label(text: Any) -> str:
    """Return the comparable form of a column label: half width, no spaces or annotations."""
    if text is None:
        return ""
    label = unicodedata.normalize("NFKC", str(text))
    label = _NOISE.sub("", label)
    stripped = _BRACKETED.sub("", label)
    while stripped != label:
        label, stripped = stripped, _BRACKETED.sub("", stripped)
    if not label:  # the whole label was an annotation, keep its words
        label = _BRACKETS.sub("", _NOISE.sub("", unicodedata.normalize("NFKC", str(text))))
    return _TRAILING_COLON.sub("", label).lower()


def _spellings(label: str) -> list[str]:
    """Return a comparable label with its 号/号码/码 spelling variants."""
    if not label:
        return []
    variants = [label]
    if label.endswith("号码"):
        variants.append(label[:-1])
    elif label.endswith("号"):
        variants.append(label + "码")
    elif label.endswith("码") and not label.endswith("编码"):
        variants.append(label[:-1] + "号")
    return variants


def _full_label(text: Any) -> str:
    """Return a label normalized like `normalize_label` but keeping bracketed words."""
    label = _NOISE.sub("", unicodedata.normalize("NFKC", str(text)))
    return _TRAILING_COLON.sub("", _BRACKETS.sub("", label)).lower()


class LabelIndex:
    """Normalized header labels of one ledger → field names, with and without brackets."""

    def __init__(self, ledger: Ledger) -> None:
        """Index titles and names first, then aliases, then property names and codes."""
        tiers: list[list[tuple[str, str]]] = [[], [], []]
        for f in ledger.fields:
            tiers[0] += [(f.title, f.name), (f.element.name, f.name)]
            tiers[1] += [(alias, f.name) for alias in f.element.aliases]
            tiers[1] += [(alias, f.name) for alias in f.schema.get("x-aliases", ())]
            tiers[2] += [(f.name, f.name), (f.element.code, f.name)]
        self.full = self._index(tiers, _full_label)
        self.short = self._index(tiers, normalize_label)

    @staticmethod
    def _index(tiers: list[list[tuple[str, str]]], normalize: Any) -> dict[str, str]:
        """Return label → field, higher tiers first; a label two fields share in a tier is dropped."""
        index: dict[str, str] = {}
        for tier in tiers:
            found: dict[str, set[str]] = {}
            for text, name in tier:
                for variant in _spellings(normalize(text)):
                    found.setdefault(variant, set()).add(name)
            for variant, names in found.items():
                if variant not in index and len(names) == 1:
                    index[variant] = next(iter(names))
        return index

    def match(self, text: str) -> str | None:
        """Return the field a header text names, or None."""
        return self.full.get(_full_label(text)) or self.short.get(normalize_label(text))


_INDEXES: IdentityCache[Ledger, LabelIndex] = IdentityCache(LabelIndex, limit=256)


def label_index(ledger: Ledger) -> LabelIndex:
    """Return the ledger's label index, built once per ledger object."""
    return _INDEXES.get(ledger)


def find_ledger(ledgers: Mapping[str, Ledger], name: str) -> Ledger:
    """Return the ledger named by code or title, or refuse with the list of ledgers."""
    if name in ledgers:
        return ledgers[name]
    wanted = normalize_label(name)
    for ledger in ledgers.values():
        if wanted in (normalize_label(ledger.code), normalize_label(ledger.title)):
            return ledger
    choices = "可选的台账有：" + "、".join(f"{lg.code}（{lg.title}）" for lg in ledgers.values())
    raise ImportRefused(FileProblem.UNKNOWN_LEDGER, ledger=name, choices=choices)


def find_header(rows: Sequence[Sequence[Any]], ledger: Ledger, *, scan: int = 30) -> HeaderMatch:
    """Find the header row among the first `scan` rows and map its columns to ledger fields."""
    mapping = label_index(ledger)
    key = _key_field(ledger)
    window = [_texts(row) for row in rows[:scan]]
    scores = [_score(texts, mapping) for texts in window]
    best = max(range(len(window)), key=lambda i: (len(scores[i]), -i), default=-1)
    if best < 0 or len(scores[best]) < 2:
        _refuse_no_header(ledger, key, scan)
    labels, row_index, matched = window[best], best, scores[best]
    # Two-level header: group captions above leaf headers; merge the pair column by column.
    for upper, lower in ((best, best + 1), (best - 1, best)):
        if upper < 0 or lower >= len(window):
            continue
        pairs = zip(_pad(window[upper], window[lower]), window[lower], strict=True)
        combined = [lo or up for up, lo in pairs]
        combined += window[upper][len(combined) :]
        score = _score(combined, mapping)
        if len(score) > len(matched):
            labels, row_index, matched = combined, lower, score
    if key not in matched:
        _refuse_key_missing(ledger, key, labels, row_index)
    return _build_match(labels, row_index, mapping, ledger)


def _texts(row: Sequence[Any]) -> list[str]:
    """Return the row's cells as stripped text, numbers and dates as ''."""
    return [c.strip() if isinstance(c, str) else "" for c in row]


def _pad(upper: list[str], lower: list[str]) -> list[str]:
    """Return `upper` padded or cut to the length of `lower`."""
    return (upper + [""] * len(lower))[: len(lower)]


def _score(texts: list[str], mapping: LabelIndex) -> set[str]:
    """Return the set of fields the texts match."""
    return {name for name in map(mapping.match, filter(None, texts)) if name}


def _key_field(ledger: Ledger) -> str:
    """Return the field name of the ledger's natural key."""
    if ledger.key in ledger.by_name:
        return ledger.key
    for f in ledger.fields:
        if f.element.code == ledger.key:
            return f.name
    return ledger.key


def _build_match(labels: list[str], row_index: int, mapping: LabelIndex, ledger: Ledger) -> HeaderMatch:
    """Map each header cell to a field, sorting the rest into unmatched and ignored."""
    match = HeaderMatch(row_index=row_index, columns={}, labels=labels)
    taken: set[str] = set()
    for index, text in enumerate(labels):
        if not text:
            continue
        name = mapping.match(text)
        if name is None:
            layout = normalize_label(text) in LAYOUT_LABELS
            (match.ignored if layout else match.unmatched).append(text)
        elif name in taken:
            match.duplicates.append(text)
        else:
            taken.add(name)
            match.columns[index] = name
    match.missing_required = [f.name for f in ledger.fields if f.required and f.name not in taken]
    return match


def _refuse_no_header(ledger: Ledger, key: str, scan: int) -> None:
    """Refuse a table with no recognisable header row."""
    key_field = ledger.by_name.get(key)
    titles = [f.title for f in ledger.fields[:6]]
    raise ImportRefused(
        FileProblem.NO_HEADER,
        scan=scan,
        ledger=f"“{ledger.title}”",
        key=key_field.title if key_field else key,
        expected="、".join(titles),
    )


def _refuse_key_missing(ledger: Ledger, key: str, labels: list[str], row_index: int) -> None:
    """Refuse a header row that lacks the key column."""
    key_field = ledger.by_name.get(key)
    aliases = "、".join(key_field.element.aliases) if key_field else ""
    found = "、".join(t for t in labels if t) or "（无）"
    raise ImportRefused(
        FileProblem.KEY_COLUMN_MISSING,
        key=key_field.title if key_field else key,
        aliases=aliases or "（无）",
        row=row_index + 1,
        found=found,
    )
