"""The catalog's names and aliases indexed for label lookup: exact forms, persons, bigrams.

Built once per catalog (`Matcher.__init__`); every lookup afterwards is a dict probe or a
rapidfuzz comparison against the few hundred strings that share a character bigram with the
label, so 100 columns against 5,000 elements stay well inside the time budget.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain

from rapidfuzz import fuzz, process

from builder.catalog.specs import Element
from builder.templates.matching.labels import Label, parse_label

NAME_SCORE = 1.0
ALIAS_SCORE = 0.97
#: Same words but different bracketed annotations (“证件号码（18位）” vs “证件号码”).
BRACKET_PENALTY = 0.05
UNIT_PENALTY = 0.02
#: A match found only after taking away a subject word, a role or a caption.
DERIVED_FACTOR = 0.97
#: Fuzzy similarity never reaches an exact hit: ratio 1.0 would still be 0.95.
FUZZY_WEIGHT = 0.95
#: Bigram-sharing strings compared per label, most shared bigrams first.
_FUZZY_POOL = 300


@dataclass(frozen=True)
class Key:
    """One standard name or alias of an element, taken apart."""

    element: str
    text: str
    is_name: bool
    label: Label

    @property
    def tier(self) -> float:
        """Return the score of an exact hit on this key."""
        return NAME_SCORE if self.is_name else ALIAS_SCORE


@dataclass(frozen=True)
class Hit:
    """A candidate element for a label, with how it was found (for the reason)."""

    element: str
    score: float
    key: Key
    how: str  # exact, short, subject, role, caption, fuzzy, suffix, ledger
    similarity: float = 1.0
    note: str = ""  # the caption, subject word or ledger the lookup used


def _grams(text: str) -> set[str]:
    """Return the character bigrams of a text (the text itself when one character long)."""
    return {text[i : i + 2] for i in range(len(text) - 1)} or {text}


_GROUPS = ("person", "household", "land", "house", "enterprise")


def group_order(code: str) -> int:
    """Return the rank of an element's group among equal hits: the person ledger first."""
    group = code.split(".", 1)[0]
    return _GROUPS.index(group) if group in _GROUPS else len(_GROUPS)


def best_per_element(hits: list[Hit]) -> list[Hit]:
    """Return one hit per element, the best, best first."""
    best: dict[str, Hit] = {}
    for hit in hits:
        if hit.element not in best or hit.score > best[hit.element].score:
            best[hit.element] = hit
    return sorted(best.values(), key=_hit_order)


def _hit_order(hit: Hit) -> tuple:
    """Sort key of hits: best score, then standard names, then the person ledger first."""
    return (-hit.score, not hit.key.is_name, group_order(hit.element), hit.element)


class CatalogIndex:
    """Names and aliases of every element by short form, full form, person and bigram."""

    def __init__(self, elements: Mapping[str, Element]) -> None:
        """Parse every name and alias once and index them."""
        self.elements = elements
        self.by_short: dict[str, list[Key]] = defaultdict(list)
        self.by_full: dict[str, list[Key]] = defaultdict(list)
        self.by_role: dict[tuple[str, str], list[Key]] = defaultdict(list)
        self.role_rems: dict[str, dict[str, list[Key]]] = defaultdict(lambda: defaultdict(list))
        self.units: dict[str, set[tuple[str, str]]] = defaultdict(set)
        parse = lru_cache(maxsize=None)(parse_label)  # aliases repeat across groups
        for code, element in elements.items():
            texts = [(element.name, True), *((alias, False) for alias in element.aliases)]
            for text, is_name in texts:
                label = parse(text)
                if not label.short:
                    continue
                key = Key(code, text, is_name, label)
                self.by_short[label.short].append(key)
                self.by_full[label.full].append(key)
                if label.role:
                    self.by_role[(label.role, label.rem)].append(key)
                    self.role_rems[label.role][label.rem].append(key)
                if label.unit:
                    self.units[code].add(label.unit)
        self.shorts = list(self.by_short)
        self.positions = {short: i for i, short in enumerate(self.shorts)}
        postings: dict[str, list[int]] = defaultdict(list)
        for i, short in enumerate(self.shorts):
            for gram in _grams(short):
                postings[gram].append(i)
        self.postings = dict(postings)
        self._chars: dict[str, set[int]] | None = None

    def exact(self, label: Label) -> list[Hit]:
        """Return the elements whose name or alias is the label (same person), best first."""
        hits = []
        for key in self.by_full.get(label.full, ()):
            if key.label.role == label.role:
                hits.append(Hit(key.element, key.tier, key, "exact"))
        for key in self.by_short.get(label.short, ()):
            if key.label.role == label.role and key.label.full != label.full:
                # “面积” for “面积（亩）” only leaves the unit out; other annotations may matter more.
                penalty = UNIT_PENALTY if key.label.unit and not label.unit else BRACKET_PENALTY
                hits.append(Hit(key.element, key.tier - penalty, key, "short"))
        if label.role:
            for key in self.by_role.get((label.role, label.rem), ()):
                hits.append(Hit(key.element, key.tier * DERIVED_FACTOR, key, "role"))
        elif label.stripped:
            for key in self.subject_keys(label.rem):
                score = key.tier * DERIVED_FACTOR
                hits.append(Hit(key.element, score, key, "subject", note=label.stripped))
        # Among equal scores, name the alias exactly as written (“身份证号码”, not “身份证号”).
        written = label.text.replace(" ", "")
        hits.sort(key=lambda h: h.key.text != written)
        return best_per_element(hits)

    def subject_keys(self, rem: str) -> list[Key]:
        """Return the keys that name `rem` of the row's own subject (no other person)."""
        return [key for key in self.by_short.get(rem, ()) if key.label.role is None]

    def role_keys(self, role: str, rem: str) -> list[Key]:
        """Return the keys that name `rem` of the person `role`."""
        return self.by_role.get((role, rem), [])

    def fuzzy(self, label: Label, *, limit: int = 6) -> list[Hit]:
        """Return elements with a similar name or alias (same person), best first."""
        if label.role:
            rems = self.role_rems.get(label.role, {})
            found = process.extract(label.rem, list(rems), scorer=fuzz.ratio, limit=limit, score_cutoff=55)
            hits = [
                Hit(key.element, FUZZY_WEIGHT * score / 100, key, "fuzzy", score / 100)
                for text, score, _ in found
                if text != label.rem
                for key in rems[text]
            ]
            return best_per_element(hits)[:limit]
        texts = {label.short, label.rem} if label.stripped else {label.short}
        hits = []
        for text in texts:
            for index, similarity, how in self._similar(text, limit):
                for key in self.by_short[self.shorts[index]]:
                    if key.label.role is None or key.label.role == label.role:
                        hits.append(Hit(key.element, FUZZY_WEIGHT * similarity, key, how, similarity))
        return best_per_element(hits)[:limit]

    def _similar(self, text: str, limit: int) -> list[tuple[int, float, str]]:
        """Return (short index, similarity, how) of the strings most like `text`."""
        grams = _grams(text)
        lists = [self.postings[g] for g in grams if g in self.postings]
        if not lists:
            return []
        counts = Counter(chain.from_iterable(lists))
        # A string sharing too few bigrams cannot reach the similarity cut-off anyway.
        least = max(1, len(grams) // 3)
        pool = [i for i, c in counts.items() if c >= least]
        if len(pool) > _FUZZY_POOL:
            pool = heapq.nlargest(_FUZZY_POOL, pool, key=counts.__getitem__)
        choices = [self.shorts[i] for i in pool]
        found = process.extract(text, choices, scorer=fuzz.ratio, limit=limit, score_cutoff=55)
        # An identical string is an exact hit, scored there with its brackets and tier in mind.
        result = {pool[j]: (score / 100, "fuzzy") for choice, score, j in found if choice != text}
        # “低保对象身份证号码” ends with a whole alias: the head words only qualify it.
        for cut in range(1, 5):
            tail = text[cut:]
            if len(tail) < 3:
                break
            index = self.positions.get(tail)
            if index is not None:
                similarity = 0.75 + 0.2 * len(tail) / len(text)
                if similarity > result.get(index, (0.0, ""))[0]:
                    result[index] = (similarity, "suffix")
        return [(i, s, how) for i, (s, how) in result.items()]

    def search(self, query: str, *, limit: int) -> list[Hit]:
        """Return elements whose code, name or alias contains or resembles the query."""
        label = parse_label(query)
        text = label.short
        if not text:
            return []
        hits = list(self.exact(label))
        raw = query.strip().lower()
        for code in self.elements if raw.isascii() else ():
            if raw in code.lower():
                element = self.elements[code]
                key = Key(code, element.name, True, parse_label(element.name))
                hits.append(Hit(code, 0.99 if raw == code.lower() else 0.7, key, "code"))
        for index in self._containing(text):
            short = self.shorts[index]
            score = 0.6 + 0.35 * len(text) / len(short)
            keys = self.by_short[short]
            hits += [Hit(key.element, score + 0.01 * key.is_name, key, "contains") for key in keys]
        for index, similarity, _ in self._similar(text, limit):
            if similarity >= 0.5:
                hits += [
                    Hit(key.element, FUZZY_WEIGHT * similarity, key, "fuzzy", similarity)
                    for key in self.by_short[self.shorts[index]]
                ]
        return best_per_element(hits)[:limit]

    def _containing(self, text: str) -> list[int]:
        """Return the indexes of the short forms that contain `text`."""
        if self._chars is None:
            chars: dict[str, set[int]] = defaultdict(set)
            for i, short in enumerate(self.shorts):
                for char in short:
                    chars[char].add(i)
            self._chars = dict(chars)
        sets = sorted((self._chars.get(c, set()) for c in set(text)), key=len)
        if not sets or not sets[0]:
            return []
        found = set.intersection(*sets) if len(sets) > 1 else sets[0]
        return [i for i in found if text in self.shorts[i] and text != self.shorts[i]]
