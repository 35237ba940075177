"""Proposed changes as a viewer sees them: values masked exactly as on the record's ledger page.

Used by the queue (待审变更) and by the ledger pages that show a record's pending proposals. Every
value goes through `runtime.masking.present` with the whole record beside it, so an owner reads its
own elements in clear and everyone else what the ledger page would show them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from builder.catalog.specs import Ledger, OrgUnit
from runtime.access import Viewer
from runtime.ledgers.store import SOURCE_LABELS
from runtime.masking import present
from runtime.sharing.edits import Edited
from runtime.sharing.owners import ADMINS
from web.i18n import gettext as _
from web.ledgers.record_table import display


def owner_label(owner_name: str | None) -> str:
    """Return who decides a proposal, as pages name them."""
    return owner_name or ADMINS.name


def source_label(source: str) -> str:
    """Return where a proposal came from, as pages name it."""
    return SOURCE_LABELS.get(source, source)


def shown(
    ledger: Ledger,
    name: str,
    record: Mapping[str, Any],
    viewer: Viewer,
    units: Mapping[str, OrgUnit],
    found: list[Any],
) -> list[str]:
    """Return values of one field of `record` as the text the viewer sees of them on the ledger page."""
    field = ledger.by_name[name]
    plain = {k: v for k, v in record.items() if not k.startswith("_")}
    rows = present(ledger, [{name: value} for value in found], viewer, record=plain)
    return [display(field, row.get(name), units) or "—" for row in rows]


def pending_lines(
    ledger: Ledger,
    record: Mapping[str, Any],
    proposals: list[dict[str, Any]],
    viewer: Viewer,
    units: Mapping[str, OrgUnit],
) -> list[dict[str, Any]]:
    """Return a record's pending proposals (`queue.for_record`) as its record and edit pages list them."""
    lines = []
    for p in proposals:
        if p["field"] not in ledger.by_name:  # a field the spec no longer has
            continue
        now = record.get(p["field"])
        current, proposed = shown(ledger, p["field"], record, viewer, units, [now, p["new_value"]])
        lines.append(
            {
                "id": p["id"],
                "field": ledger.by_name[p["field"]],
                "current": current,
                "proposed": proposed,
                "source": source_label(p["source"]),
                "proposer": p["proposer"] or "",
                "owner": owner_label(p["owner_name"]),
                "at": p["proposed_at"],
                "evidence": p["evidence"],
            }
        )
    return lines


def edited_message(ledger: Ledger, edited: Edited) -> str:
    """Say what a hand edit did: what was saved at once, and what went to which owner for review."""

    def titles(names: list[str]) -> str:
        return "、".join(ledger.by_name[n].title for n in names)

    parts = [_("已保存：%(f)s", f=titles(edited.applied))] if edited.applied else []
    parts += [
        _("已提交%(o)s审核：%(f)s", o=owner, f=titles(names)) for owner, names in edited.proposed.items()
    ]
    if not parts:
        return _("已保存（没有改动）")
    if edited.proposed:
        parts.append(_("审核通过后台账才会修改"))
    return "；".join(parts)
