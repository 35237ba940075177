"""The record table of one ledger: which columns and filters it shows, and how the request reads.

Reads `request.args` into a `runtime.ledgers.store.Query` whose scope always comes from the
viewer, never from the query string: a filter naming another township only narrows the result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from builder.catalog.specs import Field, Ledger, OrgUnit, SpecSet
from builder.schema import choices
from runtime.access import Viewer
from runtime.ledgers.store import Query
from runtime.masking import is_masked, searching, visible_fields
from web.edge import parse_id
from web.i18n import gettext as _

PAGE_SIZE = 50
#: A select filter with more options than this would not be useful as a select.
MAX_FILTER_OPTIONS = 25

#: The columns worth seeing first in each standard ledger (besides key and label).
PREFERRED_COLUMNS = {
    "person": ("gender", "birth_date", "phone", "assistance_type", "disability_category"),
    "household": ("head_id_number", "size", "phone", "poverty_status"),
    "house": ("owner_name", "structure", "floor_area", "usage", "safety_level"),
    "land": ("contractor_name", "contract_area_mu", "land_use", "is_transferred", "transfer_form"),
    "enterprise": ("legal_rep", "industry", "entity_type", "status", "phone"),
}
#: The choice fields each standard ledger is most often filtered by.
PREFERRED_FILTERS = {
    "person": ("gender", "assistance_type", "disability_category"),
    "household": ("poverty_status",),
    "house": ("safety_level", "structure", "usage"),
    "land": ("is_transferred", "transfer_form", "land_use"),
    "enterprise": ("status", "entity_type"),
}
#: The standard ledgers in the order people look for them; others follow by title.
LEDGER_ORDER = ("person", "household", "house", "land", "enterprise")
COLUMN_COUNT = 6
FILTER_COUNT = 3


def ordered(ledgers: Iterable[Ledger]) -> list[Ledger]:
    """Return ledgers in the order of LEDGER_ORDER, then the others by code."""
    rank = {code: i for i, code in enumerate(LEDGER_ORDER)}
    return sorted(ledgers, key=lambda x: (rank.get(x.code, len(rank)), x.code))


def is_boolean(field: Field) -> bool:
    """Tell whether a field holds yes/no values."""
    kind = field.schema.get("type")
    return kind == "boolean" or (isinstance(kind, list) and "boolean" in kind)


def as_text(value: Any) -> str:
    """Return a stored value as the text an input shows."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def display(field: Field, value: Any, org_units: Mapping[str, OrgUnit]) -> str:
    """Return an (already masked) value as text: org units by name, booleans as 是/否."""
    if field.element.org_level and value in org_units:
        return org_units[value].name
    return as_text(value)


def _is_org(ledger: Ledger, name: str) -> bool:
    return name in (ledger.township_field, ledger.village_field)


def columns(ledger: Ledger, viewer: Viewer) -> list[Field]:
    """Return the table's columns: key, label, org units the viewer spans, then useful fields."""
    scope = viewer.scope
    chosen = [ledger.key] + ([ledger.label] if ledger.label != ledger.key else [])
    if not scope.township:
        chosen.append(ledger.township_field)
    if ledger.village_field and not scope.village:
        chosen.append(ledger.village_field)
    extra = [n for n in PREFERRED_COLUMNS.get(ledger.code, ()) if n in ledger.by_name]
    extra += [f.name for f in ledger.fields if f.element.sensitivity != "secret"]
    seen = {f.name for f in visible_fields(ledger, viewer)}
    extra = [name for name in extra if name in seen]
    for name in extra:
        if len(chosen) >= COLUMN_COUNT + 2:
            break
        if name not in chosen and not _is_org(ledger, name):
            chosen.append(name)
    return [ledger.by_name[n] for n in chosen]


def _filterable(field: Field) -> bool:
    return is_boolean(field) or 0 < len(choices(field.schema)) <= MAX_FILTER_OPTIONS


def filter_fields(ledger: Ledger, viewer: Viewer) -> list[Field]:
    """Return up to three choice or yes/no fields offered as select filters.

    Fields the viewer sees masked are never offered: filtering by them would reveal them.
    """
    names = [n for n in PREFERRED_FILTERS.get(ledger.code, ()) if n in ledger.by_name]
    names += [f.name for f in ledger.fields if f.name not in names]
    picked = [
        ledger.by_name[n]
        for n in names
        if not _is_org(ledger, n)
        and n != ledger.key
        and _filterable(ledger.by_name[n])
        and not is_masked(ledger.by_name[n], viewer)
    ]
    return picked[:FILTER_COUNT]


def filter_options(field: Field) -> list[tuple[str, str]]:
    """Return the (query value, label) options of a select filter."""
    if is_boolean(field):
        return [("true", _("是")), ("false", _("否"))]
    return [(str(v), label) for v, label in choices(field.schema)]


@dataclass(frozen=True)
class TableRequest:
    """What one request to the record table asks for, already checked."""

    query: Query
    #: The filter values as the form shows them (query-string name → value).
    selected: dict[str, str]
    after: tuple[str, int] | None = None
    before: tuple[str, int] | None = None
    #: What the page says next to the search box: why the search cannot match, or how it matched.
    notice: str = ""


def _cursor(text: str | None) -> tuple[str, int] | None:
    if not text or ":" not in text:
        return None
    township, _sep, rid = text.partition(":")
    rid = parse_id(rid)
    return None if rid is None else (township, rid)


def cursor(row: dict[str, Any]) -> str:
    """Return the keyset position of a row for `after=` / `before=` links."""
    return f"{row['_township']}:{row['_id']}"


def read_request(args: Mapping[str, str], ledger: Ledger, specs: SpecSet, viewer: Viewer) -> TableRequest:
    """Read filters, search and page position from the query string; drop unknown values."""
    filters: list[tuple[str, Any]] = []
    selected: dict[str, str] = {}
    units = specs.org_units
    township = args.get("township", "")
    if township in units and units[township].level == "township":
        filters.append((ledger.township_field, township))
        selected["township"] = township
    village = args.get("village", "")
    chosen_township = selected.get("township") or viewer.scope.township
    if (
        ledger.village_field
        and village in units
        and units[village].level == "village"
        # a village left over from the previously chosen township is dropped, not ANDed
        and (not chosen_township or units[village].parent == chosen_township)
    ):
        filters.append((ledger.village_field, village))
        selected["village"] = village
    for field in filter_fields(ledger, viewer):
        value = args.get(field.name, "")
        if is_boolean(field) and value in ("true", "false"):
            filters.append((field.name, value == "true"))
        elif not is_boolean(field) and value:
            match = [v for v, _label in choices(field.schema) if str(v) == value]
            if not match:
                continue
            filters.append((field.name, match[0]))
        else:
            continue
        selected[field.name] = value
    search = args.get("q", "").strip()[:50]
    if search:
        selected["q"] = search
    found = searching(ledger, search, viewer)
    query = Query(
        ledger=ledger, scope=viewer.scope, filters=tuple(filters), search=found.text, search_match=found.match
    )
    return TableRequest(
        query=query,
        selected=selected,
        after=_cursor(args.get("after")),
        before=_cursor(args.get("before")),
        notice=found.notice,
    )


def townships_for(viewer: Viewer, specs: SpecSet) -> list[OrgUnit]:
    """Return the townships a viewer may pick from (none when bound to one)."""
    return [] if viewer.scope.township else specs.townships()


def villages_for(viewer: Viewer, specs: SpecSet, township: str | None) -> list[OrgUnit]:
    """Return the villages a viewer may pick from within the chosen (or own) township."""
    scope = viewer.scope
    if scope.village:
        return []
    township = scope.township or township
    return specs.villages(township) if township else []
