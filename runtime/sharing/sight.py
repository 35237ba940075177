"""What a department has been granted, and the clear reads a request made through its grants.

`runtime.masking.sight` decides, per element, whether a viewer sees it in clear, masked or not
at all; this module holds the inputs it needs beyond the viewer's role and department: the grants
in force of the viewer's department (loaded once, when the viewer is built for a request or a
job), and the tally of values read in clear through them, written to the audit log once at the
end of the request or job (`flush_reads`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, select

from runtime.audit import record_event
from runtime.models import Department, Grant

#: How many record keys a clear-read audit entry names (the count is always exact).
KEYS_LOGGED = 20


class Sight(StrEnum):
    """How a viewer sees an element's values."""

    CLEAR = "clear"
    MASKED = "masked"
    HIDDEN = "hidden"


@dataclass
class Reads:
    """The values one request or job read in clear through grants: element code → records."""

    #: element code → the owning department's name.
    owners: dict[str, str] = field(default_factory=dict)
    #: (ledger, element code) → the count of values, and the first keys of their records.
    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    keys: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def add(self, ledger: str, element: str, owner: str, key: Any, n: int = 1) -> None:
        """Count `n` values of `element` (owned by `owner`) read in clear, of record `key` (None: unknown)."""
        self.owners[element] = owner
        at = (ledger, element)
        self.counts[at] = self.counts.get(at, 0) + n
        kept = self.keys.setdefault(at, [])
        if key is not None and len(kept) < KEYS_LOGGED and str(key) not in kept:
            kept.append(str(key))

    def clear(self) -> None:
        """Forget what was tallied (after it was written)."""
        self.counts.clear()
        self.keys.clear()


def _merge(into: dict[str, frozenset[str] | None], code: str, townships: list[str] | None) -> None:
    if townships is None or (code in into and into[code] is None):
        into[code] = None
    else:
        into[code] = (into.get(code) or frozenset()) | frozenset(townships)


@dataclass(frozen=True, eq=False)
class Grants:
    """The elements a department reads through grants in force, and where.

    `clear`: element code → the township codes it is granted in clear in (None: the whole
    district); `access`: the same for grants that give the values masked by their sensitivity.
    `via`: element code → (grant id, purpose) of a grant covering it, for the audit log.
    """

    clear: Mapping[str, frozenset[str] | None] = field(default_factory=dict)
    access: Mapping[str, frozenset[str] | None] = field(default_factory=dict)
    via: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    reads: Reads = field(default_factory=Reads)

    def townships(self, element: str, *, in_clear: bool = True) -> frozenset[str] | None:
        """Return the townships `element` is granted in (None: the district; empty: nowhere)."""
        granted = self.clear if in_clear else self.access
        return granted[element] if element in granted else frozenset()


#: No grants: what every viewer without a department (or with none in force) has.
NO_GRANTS = Grants()


def grants_in_force(conn: Connection, department_id: int | None, today: date) -> Grants:
    """Return the grants in force today of a department, merged per element (one query)."""
    if department_id is None:
        return Grants()
    rows = conn.execute(
        select(Grant.id, Grant.granted_elements, Grant.granted_townships, Grant.purpose, Grant.in_clear)
        .where(
            Grant.grantee_id == department_id,
            Grant.status == "granted",
            Grant.starts_on <= today,
            Grant.granted_expires_on >= today,
        )
        .order_by(Grant.id)
    ).all()
    clear: dict[str, frozenset[str] | None] = {}
    access: dict[str, frozenset[str] | None] = {}
    via: dict[str, tuple[int, str]] = {}
    for grant_id, elements, townships, purpose, in_clear in rows:
        for code in elements or ():
            if in_clear:
                via.setdefault(code, (grant_id, purpose))
            _merge(clear if in_clear else access, code, townships)
    return Grants(clear, access, via)


def flush_reads(
    conn: Connection, actor_id: int | None, grants: Grants, *, via: str, path: str = "", client: str = ""
) -> int:
    """Write the clear reads tallied in `grants` to the audit log, one entry per owner and ledger.

    `via`: page, export, extract or api (then `client` names the client system that read).
    Return the entries written.
    """
    reads = grants.reads
    if not reads.counts:
        return 0
    codes = dict(conn.execute(select(Department.name, Department.code)).all())
    grouped: dict[tuple[str, str], list[tuple[str, int, list[str]]]] = {}
    for (ledger, element), n in reads.counts.items():
        grouped.setdefault((codes.get(reads.owners.get(element, ""), "admin"), ledger), []).append(
            (element, n, reads.keys.get((ledger, element), []))
        )
    for (owner, ledger), items in grouped.items():
        keys = _first(k for _, _, kept in items for k in kept)
        record_event(
            conn,
            actor_id,
            "read.clear",
            f"{owner}/{ledger}",
            {
                "elements": [e for e, _, _ in items],
                "records": max(n for _, n, _ in items),
                "keys": keys,
                "purpose": "；".join(sorted({grants.via[e][1] for e, _, _ in items if e in grants.via})),
                "grants": sorted({grants.via[e][0] for e, _, _ in items if e in grants.via}),
                "via": via,
                "path": path,
            }
            | ({"client": client} if client else {}),
        )
    reads.clear()
    return len(grouped)


def _first(keys: Iterable[str]) -> list[str]:
    out: list[str] = []
    for key in keys:
        if key not in out:
            out.append(key)
        if len(out) == KEYS_LOGGED:
            break
    return out
