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

from builder.catalog.specs import Field, Ledger
from runtime.access import Viewer
from runtime.audit import record_event
from runtime.errors import ErrorCode, NotAllowed
from runtime.permissions import Action, may

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


def is_masked(field: Field, viewer: Viewer) -> bool:
    """Tell whether `viewer` sees this field's values masked (a birth date: as the ID numbers).

    The department that owns an element reads it in clear: it is that department's own data. Not
    so a value that holds or completes the holder's ID number (a certificate number, a birth date):
    it stays as masked as the ID beside it, which it would otherwise give away.
    """
    if viewer.owns(field.element) and field.element.mask not in _WITH_ID:
        return False
    if field.element.mask == "birth_date":
        return _level_masked(ID_SENSITIVITY, viewer)
    return _level_masked(field.element.sensitivity, viewer)


#: Mask kinds of values that hold or complete the holder's ID number.
_WITH_ID = ("birth_date", "hidden")


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


def masked_names(ledger: Ledger, viewer: Viewer, record: Mapping[str, Any]) -> frozenset[str]:
    """Return the fields of one record the viewer sees masked (its birth date only if it has an ID)."""
    masked = {f.name for f in ledger.fields if is_masked(f, viewer)}
    dates = {f.name for f in ledger.fields if f.element.mask == "birth_date"}
    if dates & masked and not any(
        _filled(record.get(f.name))
        for f in ledger.fields
        if f.element.mask == "id_number" and f.name in masked
    ):
        masked -= dates
    return frozenset(masked)


def present(
    ledger: Ledger, rows: Iterable[dict[str, Any]], viewer: Viewer, *, record: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Return copies of `rows` with every value `viewer` may not see masked.

    `record`: the whole record the rows are parts of (a version's changed fields), which decides
    what is masked; by default each row is a whole record itself.
    """
    fields = [f for f in ledger.fields if is_masked(f, viewer)]
    ids = [f.name for f in fields if f.element.mask == "id_number"]
    dates = {f.name for f in fields if f.element.mask == "birth_date"}
    out = []
    for row in rows:
        whole = row if record is None else record
        bare = dates and not any(_filled(whole.get(name)) for name in ids)
        copy = dict(row)
        for f in fields:
            value = copy.get(f.name)
            if value is not None and not (bare and f.name in dates):
                copy[f.name] = mask_value(f, value)
        out.append(copy)
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
    if not is_masked(field, viewer):
        return Search(text)
    title = field.title
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
    elif key.element.mask == "id_number":
        by.append(f"{key.title}末 {ID_TAIL} 位" + ("或全号" if viewer.can_reveal else ""))
    return "、".join(by) or "没有您可以查找的字段"
