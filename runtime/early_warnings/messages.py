"""What the early warnings say about each record they flag: the rule's message, filled.

Values are quoted as the viewer may see them (masked); a stale record's message names the held
fields overdue for their update frequency, strictest first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from builder.admission.rules import cn_date, fill, quoted
from builder.catalog.specs import Field, Ledger, SpecSet
from builder.early_warnings.rules import FREQUENCIES, WarningRule
from runtime.access import Viewer
from runtime.clock import LOCAL_TZ

#: How a message names org units the viewer may not see.
ELSEWHERE = "其他镇街"


@dataclass(frozen=True)
class Flagged:
    """A record a check_digit or duplicate rule flags, with what is wrong with it."""

    id: int
    township: str
    village: str | None
    #: check_digit: the problem in Chinese; duplicate: the other townships holding the value.
    detail: Any = None


def stale_groups(ledger: Ledger, rule: WarningRule) -> dict[str, list[Field]]:
    """Return, per update frequency the rule checks, the ledger fields of that frequency."""
    ages, sources = rule.params["max_age_days"], rule.params["sources"]
    groups: dict[str, list[Field]] = {}
    for field in ledger.fields:
        frequency = field.element.update_frequency
        if frequency in ages and (sources is None or field.element.source in sources):
            groups.setdefault(frequency, []).append(field)
    return groups


def _shown(value: Any) -> str:
    """Return a value as a message quotes it."""
    if value is None or value == "":
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def messages(
    specs: SpecSet,
    ledger: Ledger,
    rule: WarningRule,
    rows: list[dict[str, Any]],
    shown: list[dict[str, Any]],
    found: dict[int, Flagged],
    now: datetime,
    viewer: Viewer,
    feeders: Mapping[str, list[str]] | None = None,
) -> list[str]:
    """Fill the rule's message for each row, from values masked for the viewer.

    Other org units are named only to a viewer who may see them: a township reads "其他镇街",
    never where else a record of its own is held. `feeders` (source system → its client systems)
    lets a stale message say who should have fed the overdue fields.
    """
    title = ledger.by_name[rule.field].title if rule.field in ledger.by_name else ""
    if rule.kind == "check_digit":
        return [fill(rule.message, {"field": title, "problem": found[r["_id"]].detail}) for r in rows]
    if rule.kind == "duplicate_across_townships":
        units = specs.org_units
        out = []
        for row in rows:
            others = found[row["_id"]].detail
            names = (
                "、".join(units[t].name if t in units else t for t in sorted(set(others)))
                if all(viewer.sees(t, None) for t in others)
                else ELSEWHERE
            )
            out.append(fill(rule.message, {"field": title, "townships": names, "count": len(others)}))
        return out
    if rule.kind == "stale":
        return [_stale_message(ledger, rule, row, now, feeders or {}) for row in rows]
    named = {c.name: _shown(c.value) for c in rule.conditions if c.name}
    return [
        fill(rule.message, {k: _shown(v) for k, v in masked.items() if not k.startswith("_")} | named)
        for masked in shown
    ]


def source_names(sources: list[str], feeders: Mapping[str, list[str]]) -> str:
    """Name the sources responsible for overdue fields, each with the client system that feeds it.

    区公安分局户籍系统（已接入）when a client system is registered as that very system; its name
    when it is called otherwise; 村（社区）采集 and other non-system sources as they are.
    """
    named = []
    for source in sources:
        clients = feeders.get(source, [])
        if clients == [source]:
            named.append(f"{source}（已接入）")
        elif clients:
            named.append(f"{source}（对接系统：{'、'.join(clients)}）")
        else:
            named.append(source)
    return "、".join(named)


def _stale_message(
    ledger: Ledger, rule: WarningRule, row: dict[str, Any], now: datetime, feeders: Mapping[str, list[str]]
) -> str:
    """Say when the record was last updated, which held fields are overdue (strictest first), and whence."""
    updated = row["_updated_at"]
    groups = stale_groups(ledger, rule)
    overdue: list[str] = []
    sources: list[str] = []
    strictest = ""
    for frequency in FREQUENCIES:
        held = [f for f in groups.get(frequency, []) if row.get(f.name) not in (None, "")]
        if held and updated < now - timedelta(days=rule.params["max_age_days"][frequency]):
            strictest = strictest or frequency
            overdue += [f.title for f in held]
            sources += [
                f.element.source for f in held if f.element.source and f.element.source not in sources
            ]
    local = updated.replace(tzinfo=UTC).astimezone(LOCAL_TZ).date()
    return fill(
        rule.message,
        {
            "updated": cn_date(local),
            "days": (now - updated).days,
            "fields": quoted(overdue),
            "frequency": strictest,
            "sources": source_names(list(dict.fromkeys(s for s in sources if s)), feeders),
        },
    )
