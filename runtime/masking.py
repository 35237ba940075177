"""Masking (脱敏): the one place that decides what a viewer sees of a ledger value, and may search.

Pages, htmx fragments, exports, task grids and workbooks, summaries and messages all call
`present` (or `is_masked` and `mask_value`) before a value leaves the server; only `reveal`
returns a sensitive value in clear, and it writes the audit log. The rule, which no value may be
rebuilt around from the others a viewer receives on the same page, file or export:

- Who sees what masked: sensitive and secret values (ID numbers, phones, bank accounts,
  disability certificate numbers) for every role; personal values (names, addresses, disability,
  assistance, income) for the roles without field work (department, reviewer, leader). A keeper
  reads one value in clear at a time, through the audited `reveal`.
- An ID number (mask kind `id_number`: person.id_number, household.head_id_number,
  house.owner_id_number, land.contractor_id_number, and every report field bound to them) shows
  only its last 4 characters, its length kept: `**************6116`. Its first 6 (the address
  code, 500118 for most people) are not shown: with the birth date they completed the number.
- A birth date (mask kind `birth_date`) is as sensitive as the ID number it would complete: a
  viewer who sees ID numbers masked sees it as its year only, `1966年`, on pages and in files
  alike. On ledger pages and exports this is decided per record: a record without an ID number
  shows its date (there is nothing to complete); report rows (persons keyed by their ID) always
  show the year. What is computed from a birth date (an age, a year) reads what the viewer sees:
  a date shown as a year is unknown to the computation, so the age stays empty for that viewer.
  Such a date cannot be typed over either (`replaceable`): it must equal the ID number's, so an
  answer to a guess would confirm the hidden digits.
- A disability certificate number (mask kind `hidden`: the ID number plus category and grade
  digits) is hidden whole, `********************`: any part of it shows ID digits or the
  category and grade that departments see as `***`. Whoever sees ID numbers masked gives only
  its last two digits when typing one (`completed`): its ID part comes from the record, so no
  typed guess is ever checked against the hidden number.
- What a township typed is its own and shown to it in clear, but for a birth date or a
  certificate number beside an ID number it sees masked (`typed_masked`).
- Phones keep their first 3 and last 4 characters, bank accounts their last 4, names their first
  character, addresses everything before the house number. One value is always masked the same
  way wherever it appears (a guardian's phone equal to one's own, a household's phone), so one
  masked copy never completes another.
- Search (`searching`): a viewer finds records only by what they see. A field shown masked
  cannot be searched (a department cannot find 郑强 by typing 郑强 or 郑); an ID number is found
  by its last 4 characters by anyone (every viewer sees those), and in full only by those who
  may reveal it (keepers, admins); a field seen in clear is searched by its beginning.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from builder.catalog.specs import SHARING, Element, Field, Ledger
from runtime.access import Viewer
from runtime.audit import record_event
from runtime.errors import ErrorCode, NotAllowed
from runtime.permissions import Action, may
from runtime.sharing.sight import KEYS_LOGGED, Sight

_HOUSE_NUMBER = re.compile(r"[0-9０-９一二三四五六七八九十百]+\s*(号|栋|幢|单元|室|组|楼|弄|附).*$")
#: How many trailing characters of an ID number every viewer sees.
ID_TAIL = 4
#: A whole ID number as searched: 18 characters (the last may be X) or the old 15 digits.
_WHOLE_ID = re.compile(r"^\d{17}[\dX]$|^\d{15}$")
_ID_TAIL = re.compile(rf"^[\dX]{{{ID_TAIL}}}$")
#: A birth date is masked exactly when values of this level are: those of the ID it completes.
ID_SENSITIVITY = "sensitive"


def mask_id(value: str) -> str:
    """Keep the last 4 characters, the length kept."""
    return "*" * max(len(value) - ID_TAIL, 0) + value[-ID_TAIL:] if len(value) > ID_TAIL else "*" * len(value)


def mask_phone(value: str) -> str:
    """Keep the first 3 and last 4 characters."""
    return value[:3] + "*" * max(len(value) - 7, 0) + value[-4:] if len(value) > 7 else "*" * len(value)


def mask_name(value: str) -> str:
    """Keep the first character."""
    return value[:1] + "*" * (len(value) - 1)


def mask_bank_account(value: str) -> str:
    """Keep the last 4 characters."""
    return "*" * max(len(value) - 4, 0) + value[-4:]


def mask_address(value: str) -> str:
    """Drop the house-number part (门牌号) and everything after it."""
    cut = _HOUSE_NUMBER.sub("", value)
    return cut + "***" if cut != value else value


def mask_hidden(value: str) -> str:
    """Hide every character, the length kept."""
    return "*" * len(value)


def mask_birth_date(value: str) -> str:
    """Keep the year only: `1966-07-14` → `1966年`."""
    year = value.strip()[:4]
    return f"{year}年" if year.isdigit() else "*" * len(value)


MASKS = {
    "id_number": mask_id,
    "phone": mask_phone,
    "name": mask_name,
    "bank_account": mask_bank_account,
    "address": mask_address,
    "hidden": mask_hidden,
    "birth_date": mask_birth_date,
}


def _level_masked(level: str, viewer: Viewer) -> bool:
    if level in ("sensitive", "secret"):
        return True
    if level == "personal":
        return not may(viewer.role, Action.PERSONAL_VALUES)
    return False


#: Mask kinds of values that hold or complete the holder's ID number.
_WITH_ID = ("birth_date", "hidden")
_CONDITIONAL, _NOT_SHARED = SHARING[1], SHARING[2]


def _covers(townships: frozenset[str] | None, township: str | None) -> bool:
    return townships is None or (township is not None and township in townships)


@dataclass(frozen=True)
class FieldSight:
    """How one viewer sees one field: `default` outside any grant, as grants say within theirs.

    `granted_in`: the townships where a grant makes the values clear (None: the whole district;
    empty: nowhere); `masked_in`: where an access grant shows them masked by their sensitivity
    (`granted`). A record of unknown township counts as outside every township-bound grant.
    """

    field: Field
    default: Sight
    granted_in: frozenset[str] | None = frozenset()
    masked_in: frozenset[str] | None = frozenset()
    granted: Sight = Sight.MASKED

    def at(self, township: str | None) -> Sight:
        """Return how a value of a record of `township` is seen."""
        if _covers(self.granted_in, township):
            return Sight.CLEAR
        if self.default is Sight.HIDDEN and _covers(self.masked_in, township):
            return self.granted
        return self.default

    def by_grant(self, township: str | None) -> bool:
        """Tell whether a value of `township` is clear only because of a grant (an audited read)."""
        return self.default is not Sight.CLEAR and self.at(township) is Sight.CLEAR

    @property
    def overall(self) -> str:
        """Return how the field is seen anywhere: clear, masked, hidden, or partly (in some townships)."""
        anywhere = self.at(None)
        if anywhere is Sight.CLEAR or not (self.granted_in or self.masked_in):
            return anywhere.value
        return "partly"

    @property
    def anywhere(self) -> bool:
        """Tell whether some value of the field may show (it is not hidden everywhere)."""
        return self.default is not Sight.HIDDEN or any(
            t is None or t for t in (self.granted_in, self.masked_in)
        )


def _id_element(element: Element) -> str:
    # The ID number a birth date or a certificate number completes: its ledger's own.
    return element.code.split(".", 1)[0] + ".id_number"


def field_sight(field: Field, viewer: Viewer) -> FieldSight:
    """Decide how `viewer` sees `field`: in clear, masked or not at all, and where grants change it.

    The one decision every output path asks (pages, fragments, exports, extraction, summaries):
    - The department that owns an element reads it in clear, district-wide. Not so a value that
      holds or completes the holder's ID number (a certificate number, a birth date): it stays as
      masked as the ID beside it, which it would otherwise give away.
    - 不予共享 elements show to no one but their owner and the keepers (administrators included).
    - Keepers, and the township and village roles within their own area, see every other element
      masked by its sensitivity, as before grants.
    - A department (and the reviewer and leader, who have none) reads 无条件共享 elements masked
      by their sensitivity and 有条件共享 elements not at all, unless a grant in force covers the
      element: then in clear, within the grant's townships (or, a grant not in clear, masked by
      sensitivity like a 无条件共享 element). A grant of a value completing an ID number clears it
      only where the ID number is granted in clear too.
    """
    element = field.element
    if viewer.owns(element):
        masked = element.mask in _WITH_ID and _level_masked(ID_SENSITIVITY, viewer)
        return FieldSight(field, Sight.MASKED if masked else Sight.CLEAR)
    keeper = may(viewer.role, Action.REVEAL)
    if element.sharing == _NOT_SHARED and not keeper:
        return FieldSight(field, Sight.HIDDEN)
    level = ID_SENSITIVITY if element.mask == "birth_date" else element.sensitivity
    default = Sight.MASKED if _level_masked(level, viewer) else Sight.CLEAR
    if keeper or not may(viewer.role, Action.WHOLE_DISTRICT):
        return FieldSight(field, default)
    level_sight = default
    if element.sharing == _CONDITIONAL:
        default = Sight.HIDDEN
    granted = viewer.grants.townships(element.code)
    if element.mask in _WITH_ID:
        ids = viewer.grants.townships(_id_element(element))
        granted = ids if granted is None else granted if ids is None else granted & ids
    return FieldSight(
        field, default, granted, viewer.grants.townships(element.code, in_clear=False), level_sight
    )


def sight(field: Field, viewer: Viewer, township: str | None = None) -> Sight:
    """Return how `viewer` sees `field`'s values of a record of `township` (None: any record)."""
    return field_sight(field, viewer).at(township)


def is_masked(field: Field, viewer: Viewer, township: str | None = None) -> bool:
    """Tell whether `viewer` does not see this field's values in clear (masked or hidden).

    `township`: the township of the records in question, where a township-bound grant applies.
    """
    return sight(field, viewer, township) is not Sight.CLEAR


def shown(field: Field, value: Any, seen: Sight) -> Any:
    """Return a value as a viewer sees it: itself, masked, or nothing (hidden)."""
    if seen is Sight.CLEAR or value is None or value == "":
        return value
    return None if seen is Sight.HIDDEN else mask_value(field, value)


def typed_masked(field: Field, viewer: Viewer, *, id_masked: bool) -> bool:
    """Tell whether a value typed by the viewer's own org unit is still shown to them masked.

    Typed values are the typist's own, shown in clear, but for those beside an ID number the
    viewer sees masked that hold or complete it: a birth date, a certificate number (whose ID
    part `completed` fills in from the record).
    """
    return id_masked and field.element.mask in _WITH_ID and is_masked(field, viewer)


def completed(field: Field, text: str, id_number: str | None, viewer: Viewer) -> str:
    """Return a value a viewer typed as it is kept: a certificate number's ID part is the holder's own.

    A disability certificate number is the holder's 18-character ID number plus a category and a
    grade digit. A viewer who sees ID numbers masked gives only those two digits (the last two of
    what they type): the ID part comes from the record, never from what they typed, since checking
    typed digits against the hidden number would confirm a guess of it.
    """
    if (
        field.element.schema.get("format") != "disability-cert"
        or not id_number
        or not _level_masked(ID_SENSITIVITY, viewer)
    ):
        return text
    text = text.strip()
    return id_number + text[-2:] if len(text) >= 2 else text


def holder_id(ledger: Ledger, record: Mapping[str, Any]) -> str | None:
    """Return the ID number of the person a record is (its own `id_number` field), if any."""
    return next(
        (record.get(f.name) for f in ledger.fields if f.element.mask == "id_number" and f.name == ledger.key),
        None,
    )


def replaceable(field: Field, viewer: Viewer) -> bool:
    """Tell whether a value the viewer sees masked may be replaced by a whole new one they type.

    Not a birth date: its only valid value is the one in the ID number, so whether a typed date
    is accepted would confirm the digits the mask hides.
    """
    return not (field.element.mask == "birth_date" and is_masked(field, viewer))


def mask_value(field: Field, value: Any) -> Any:
    """Mask one value with the field's masking kind (hidden entirely when it has none)."""
    if value is None or value == "":
        return value
    kind = field.element.mask
    if kind is None:
        return "***"
    return MASKS[kind](str(value))


def _filled(value: Any) -> bool:
    return value is not None and value != ""


def township_of(ledger: Ledger, record: Mapping[str, Any]) -> str | None:
    """Return the township a record is in (its township field, or the store's `_township`)."""
    return record.get(ledger.township_field) or record.get("_township")


def sights(ledger: Ledger, viewer: Viewer) -> list[FieldSight]:
    """Return how `viewer` sees each field of `ledger`, in the ledger's order (decided once per viewer)."""
    key = ("sights", ledger.code, id(ledger))
    if key not in viewer.memo:
        viewer.memo[key] = [field_sight(f, viewer) for f in ledger.fields]
    return viewer.memo[key]


def visible_fields(ledger: Ledger, viewer: Viewer) -> list[Field]:
    """Return the fields of `ledger` whose values may show to `viewer` somewhere (not hidden everywhere)."""
    return [s.field for s in sights(ledger, viewer) if s.anywhere]


def hidden_names(ledger: Ledger, viewer: Viewer, record: Mapping[str, Any]) -> frozenset[str]:
    """Return the fields of one record `viewer` may not see at all (not even masked)."""
    township = township_of(ledger, record)
    return frozenset(s.field.name for s in sights(ledger, viewer) if s.at(township) is Sight.HIDDEN)


def masked_names(ledger: Ledger, viewer: Viewer, record: Mapping[str, Any]) -> frozenset[str]:
    """Return the fields of one record the viewer does not see in clear (a birth date: only beside an ID)."""
    township = township_of(ledger, record)
    seen = {s.field.name: s.at(township) for s in sights(ledger, viewer)}
    masked = {name for name, one in seen.items() if one is not Sight.CLEAR}
    dates = {f.name for f in ledger.fields if f.element.mask == "birth_date" and seen[f.name] is Sight.MASKED}
    if dates and not any(
        _filled(record.get(f.name))
        for f in ledger.fields
        if f.element.mask == "id_number" and f.name in masked
    ):
        masked -= dates
    return frozenset(masked)


def present(
    ledger: Ledger,
    rows: Iterable[dict[str, Any]],
    viewer: Viewer,
    *,
    record: Mapping[str, Any] | None = None,
    only: frozenset[str] | None = None,
) -> list[dict[str, Any]]:
    """Return copies of `rows` with every value as `viewer` may see it: clear, masked or hidden (None).

    `record`: the whole record the rows are parts of (a version's changed fields), which decides
    what is masked; by default each row is a whole record itself. Values read in clear through a
    grant are tallied on the viewer's grants for the audit log (`runtime.sharing.sight.flush_reads`);
    `only`: the fields the caller will hand on (the rest are not tallied as read), by default all.
    """
    kept = [s for s in sights(ledger, viewer) if s.default is not Sight.CLEAR]
    ids = [s.field.name for s in kept if s.field.element.mask == "id_number"]
    plan = [(s.field.name, s.field, s.field.element.mask == "birth_date") for s in kept]

    def decided(
        township: str | None,
    ) -> tuple[list[tuple[str, Field, bool, bool]], list[str], bool, list[Field]]:
        # In one township: the fields to mask or hide (name, field, is a birth date, hidden), the
        # ID fields not seen in clear, whether a birth date is masked (shown whole on a record
        # without an ID number), and the fields read in clear through a grant.
        seen = {s.field.name: s.at(township) for s in kept}
        ops = [
            (name, f, is_date, seen[name] is Sight.HIDDEN)
            for name, f, is_date in plan
            if seen[name] is not Sight.CLEAR
        ]
        dated = any(is_date and not hidden for _n, _f, is_date, hidden in ops)
        granted = [f for name, f, _d in plan if seen[name] is Sight.CLEAR and (only is None or name in only)]
        return ops, [name for name in ids if seen[name] is not Sight.CLEAR], dated, granted

    # What is seen depends on a row's township only through township-bound grants: decided once
    # per township (23 at most), not per row; without them, once.
    bound = any(s.granted_in or s.masked_in for s in kept)
    by_township = {None: decided(None)}
    read_rows: dict[str | None, int] = {}
    read_keys: dict[str | None, list[Any]] = {}
    out = []
    for row in rows:
        whole = row if record is None else record
        township = township_of(ledger, whole) if bound else None
        if township not in by_township:
            by_township[township] = decided(township)
        ops, masked_ids, dated, granted = by_township[township]
        bare = dated and not any(_filled(whole.get(name)) for name in masked_ids)
        copy = dict(row)
        for name, field, is_date, hidden in ops:
            value = copy.get(name)
            if value is None or value == "":
                continue
            if hidden:
                copy[name] = None
            elif not (bare and is_date):
                copy[name] = mask_value(field, value)
        if granted:  # records read in clear through a grant: counted for the audit log
            n = read_rows[township] = read_rows.get(township, 0) + 1
            if n <= KEYS_LOGGED:
                read_keys.setdefault(township, []).append(whole.get(ledger.key))
        out.append(copy)
    reads = viewer.grants.reads
    for township, n in read_rows.items():
        for field in by_township[township][3]:
            reads.add(ledger.code, field.element.code, field.element.department, None, n)
            for key in read_keys[township]:
                reads.add(ledger.code, field.element.code, field.element.department, key, 0)
    return out


def reveal(conn: Connection, ledger: Ledger, row: dict[str, Any], field_name: str, viewer: Viewer) -> Any:
    """Return one value in clear for a viewer allowed to see it, writing the audit log."""
    if not viewer.can_reveal or not viewer.sees(row.get("_township"), row.get("_village")):
        raise NotAllowed(ErrorCode.PLAINTEXT_NOT_ALLOWED)
    record_event(conn, viewer.user_id, "reveal", f"{ledger.code}/{row['_key']}", {"field": field_name})
    return row.get(field_name)


# --- search ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Search:
    """How a viewer's search text may match: its beginning, the whole value, the last 4, or nothing."""

    text: str
    #: "prefix", "exact", "suffix" (an ID number's visible tail) or "none" (refused).
    match: str = "prefix"
    #: What the page says next to the search box (why nothing can match, or how it matched).
    notice: str = ""


def searched_field(ledger: Ledger, text: str) -> Field:
    """Return the field a search text looks in: the key when it starts with a digit, else the label."""
    return ledger.by_name[ledger.key if text[:1].isdigit() else ledger.label]


def searching(ledger: Ledger, text: str, viewer: Viewer) -> Search:
    """Return how `viewer` may search `ledger` for `text`: never by more than they see."""
    text = text.strip()
    if not text:
        return Search("")
    field = searched_field(ledger, text)
    seen = sight(field, viewer)
    if seen is Sight.CLEAR:
        return Search(text)
    title = field.title
    if seen is Sight.HIDDEN:
        return Search(text, "none", f"{title}对您不可见，不能按{title}查找")
    if field.element.mask == "id_number":
        whole = text.upper()
        if _ID_TAIL.match(whole):
            return Search(whole, "suffix", f"{title}对您脱敏，已按末 {ID_TAIL} 位查找")
        if viewer.can_reveal and _WHOLE_ID.match(whole):
            return Search(whole, "exact")
        if viewer.can_reveal:
            return Search(whole, "none", f"按{title}查找请输入完整的号码，或只输入末 {ID_TAIL} 位")
        return Search(whole, "none", f"{title}对您脱敏，只能按末 {ID_TAIL} 位查找")
    return Search(text, "none", f"{title}对您脱敏，不能按{title}查找")


def search_hint(ledger: Ledger, viewer: Viewer) -> str:
    """Return what `viewer` may search `ledger` by, as the search box's placeholder says it."""
    label, key = ledger.by_name[ledger.label], ledger.by_name[ledger.key]
    by = [f"{label.title}开头"] if label is not key and not is_masked(label, viewer) else []
    if not is_masked(key, viewer):
        by.append(f"{key.title}开头")
    elif key.element.mask == "id_number" and sight(key, viewer) is Sight.MASKED:
        by.append(f"{key.title}末 {ID_TAIL} 位" + ("或全号" if viewer.can_reveal else ""))
    return "、".join(by) or "没有您可以查找的字段"
