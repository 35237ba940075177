"""Hand edits of one record (a keeper's 手工修改, a grid worker's 日常走访): applied, or proposed.

What the editor may decide (`owners.applies_directly`: the element's owner, an administrator,
an element field work may change directly) becomes a new version at once, as before; every other
changed value becomes a proposal to the element's owner. Keepers' file imports are bulk loads
from the authoritative systems and do not come this way (`runtime.ledgers.imports`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from builder.catalog.specs import Ledger, SpecSet
from runtime.access import Viewer
from runtime.errors import ErrorCode
from runtime.ledgers.store import Provenance, StaleRecord, diff, update_record
from runtime.org_scope import OutOfScope, outside, parents_of
from runtime.sharing.owners import applies_directly, owner_of, owners
from runtime.sharing.proposals import Offer, propose


@dataclass
class Edited:
    """What a hand edit did."""

    #: The record's version after the edit.
    version: int
    #: Fields changed at once.
    applied: list[str] = field(default_factory=list)
    #: Fields proposed, by the name of who decides them (a department, or 系统管理员).
    proposed: dict[str, list[str]] = field(default_factory=dict)


def edit_record(
    conn: Connection,
    specs: SpecSet,
    ledger: Ledger,
    record: dict[str, Any],
    expected_version: int,
    changes: dict[str, Any],
    viewer: Viewer,
    *,
    evidence: str = "",
) -> Edited:
    """Apply a validated hand edit of `record` (as read): what the editor decides now, the rest proposed.

    Raises StaleRecord when the record is no longer at `expected_version`, and OutOfScope when the
    edit would move the record outside the editor's scope.
    """
    if record["_version"] != expected_version:
        raise StaleRecord(ErrorCode.STALE_RECORD)
    plain = {k: v for k, v in record.items() if not k.startswith("_")}
    _before, after = diff(plain, changes)
    now = {n: v for n, v in after.items() if applies_directly(viewer, ledger.by_name[n].element)}
    offered = {n: v for n, v in after.items() if n not in now}
    if offered and viewer.scope.township:
        # The store checks what it writes; a proposal is checked here, as it is made.
        errors = outside(ledger, viewer.scope, plain | changes, parents_of(specs.org_units))
        if errors:
            raise OutOfScope(errors)
    edited = Edited(expected_version, applied=list(now))
    if now:
        prov = Provenance(viewer.edit_source, actor_id=viewer.user_id)
        edited.version = update_record(
            conn, ledger, record["_id"], expected_version, now, prov, scope=viewer.scope
        )
    if offered:
        current = record | {"_version": edited.version}
        offers = [Offer(current, name, value, plain.get(name)) for name, value in offered.items()]
        propose(
            conn, ledger, offers, source=viewer.edit_source, proposed_by=viewer.user_id, evidence=evidence
        )
        found = owners(conn)
        for name in offered:
            edited.proposed.setdefault(owner_of(found, ledger.by_name[name].element).name, []).append(name)
    return edited


def reviewers(conn: Connection, ledger: Ledger, viewer: Viewer) -> dict[str, str]:
    """Return, for each field whose change by `viewer` would be proposed, the name of who decides it."""
    found = owners(conn)
    return {
        f.name: owner_of(found, f.element).name
        for f in ledger.fields
        if f.name != ledger.key and not applies_directly(viewer, f.element)
    }
