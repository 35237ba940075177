"""Changes proposed to an element's owner (待审变更): made, superseded, withdrawn, accepted, rejected.

A change to a ledger value by anyone but the element's owning department — a village grid
worker's visit, a township's write-back, a keeper's hand edit — is stored as a `ProposedChange`
with its evidence, unless the editor may decide it anyway (`applies_directly`: the owner, an
administrator, or an element whose catalog entry says `field_edit: direct`). The ledger changes
only when the owner accepts; the record's version then carries the proposal's source, the
accepting user as its actor, and a reference naming the proposal and its proposer.

One record field has at most one pending proposal: a newer one supersedes it. A write-back
conflict is a proposal too (source `conflict`); like every proposal its `old_value` is the value
the proposer saw, which for a conflict the ledger no longer held when it was proposed.

Who decides is `runtime.sharing.owners`'s: the owning department, or the administrators, who may
decide every proposal. Each step is audited (`proposal.create|accept|reject|withdraw`, target
`proposal/{owner_code}/{ledger}/{record_key}`, values left out for sensitive elements). Nothing
here commits: the caller owns the transaction. Reads of the queue are in `runtime.sharing.queue`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Select, insert, select, update
from sqlalchemy.orm import aliased

from builder.catalog.specs import Element, Ledger, SpecSet
from builder.catalog.validation import RowValidator
from runtime.audit import Event, record_events
from runtime.errors import ErrorCode, InvalidRequest, NotAllowed
from runtime.ledgers.store import Change, Provenance, StaleRecord, apply_changes
from runtime.models import Department, ProposedChange, Record, User, utcnow
from runtime.org_scope import DISTRICT
from runtime.sharing.owners import ADMINS, Decider, decider_of, owner_of, owners

PENDING, ACCEPTED, REJECTED = "pending", "accepted", "rejected"
#: A later proposal for the same record field replaced it; the task that proposed it no longer does.
SUPERSEDED, WITHDRAWN = "superseded", "withdrawn"
#: The source of a write-back conflict: a township's value against a newer ledger value.
CONFLICT = "conflict"
#: Values of elements this sensitive stay out of the audit log (the element and field only).
UNLOGGED = ("sensitive", "secret")
#: Records whose pending proposals one query reads.
CHUNK = 5000


def _same(a: Any, b: Any) -> bool:
    """Tell whether two JSON values are the same value (True is not 1)."""
    return a == b and type(a) is type(b)


def _detail(element: Element, name: str, old: Any, new: Any, reason: str = "") -> dict[str, Any]:
    """Return an audit entry's detail: the values only where the element is not sensitive."""
    detail: dict[str, Any] = {"field": name, "element": element.code}
    if element.sensitivity not in UNLOGGED:
        detail |= {"old": old, "new": new}
    return detail | {"reason": reason}


def _target(owner_code: str, ledger: str, key: str) -> str:
    return f"proposal/{owner_code}/{ledger}/{key}"


# --- proposing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """One value proposed for one field of a record, and the value the proposer saw there."""

    #: The record as the store reads it (`_id`, `_key`, `_version` and its fields).
    record: Mapping[str, Any]
    field: str
    value: Any
    seen: Any


def propose(
    conn: Connection,
    ledger: Ledger,
    offers: list[Offer],
    *,
    source: str,
    proposed_by: int | None,
    source_ref: str | None = None,
    evidence: str = "",
) -> list[int]:
    """Store offers as pending proposals to their owners; return the ids of those made.

    A pending proposal for the same record field is superseded, unless it proposes the very same
    (same value, seen value, source and reference: a task submitted again), which then stands.
    """
    if not offers:
        return []
    found = owners(conn)
    records = sorted({o.record["_id"] for o in offers})
    standing = {
        (p.record_id, p.field): p
        for start in range(0, len(records), CHUNK)  # a submission may propose for many records
        for p in conn.execute(
            select(ProposedChange).where(
                ProposedChange.record_id.in_(records[start : start + CHUNK]),
                ProposedChange.ledger == ledger.code,
                ProposedChange.status == PENDING,
            )
        )
    }
    now, rows, superseded, events = utcnow(), [], [], []
    for offer in offers:
        element = ledger.by_name[offer.field].element
        old = standing.get((offer.record["_id"], offer.field))
        if old is not None:
            same = (old.source, old.source_ref) == (source, source_ref)
            if same and _same(old.new_value, offer.value) and _same(old.old_value, offer.seen):
                continue
            superseded.append(old.id)
        owner = owner_of(found, element)
        rows.append(
            {
                "record_id": offer.record["_id"],
                "ledger": ledger.code,
                "field": offer.field,
                "element": element.code,
                "owner_id": owner.id,
                "old_value": offer.seen,
                "new_value": offer.value,
                "base_version": offer.record["_version"],
                "source": source,
                "source_ref": source_ref,
                "evidence": evidence[:500],
                "proposed_by": proposed_by,
                "proposed_at": now,
                "status": PENDING,
                "reason": "",
            }
        )
        events.append(
            (
                proposed_by,
                "proposal.create",
                _target(owner.code, ledger.code, offer.record["_key"]),
                _detail(element, offer.field, offer.seen, offer.value) | {"source": source},
            )
        )
    if superseded:
        conn.execute(
            update(ProposedChange)
            .where(ProposedChange.id.in_(superseded), ProposedChange.status == PENDING)
            .values(status=SUPERSEDED, decided_at=now)
        )
    if not rows:
        return []
    made = conn.execute(
        insert(ProposedChange).returning(ProposedChange.id, sort_by_parameter_order=True), rows
    ).scalars()
    record_events(conn, events)
    return list(made)


def withdraw(
    conn: Connection, *, source_ref: str, keep: Collection[tuple[int, str]], actor_id: int | None
) -> int:
    """Withdraw the pending proposals made under `source_ref` but those of the (record, field) pairs kept.

    A task submitted again stands behind its latest values only: what it no longer asks for must
    not be accepted later. Return how many were withdrawn.
    """
    keep = set(keep)
    stale = [
        p
        for p in conn.execute(
            select(
                ProposedChange.id,
                ProposedChange.record_id,
                ProposedChange.ledger,
                ProposedChange.field,
                ProposedChange.element,
                Department.code,
                Record.key,
            )
            .join(Record, Record.id == ProposedChange.record_id)
            .outerjoin(Department, Department.id == ProposedChange.owner_id)
            .where(ProposedChange.source_ref == source_ref, ProposedChange.status == PENDING)
        )
        if (p.record_id, p.field) not in keep
    ]
    if not stale:
        return 0
    conn.execute(
        update(ProposedChange)
        .where(ProposedChange.id.in_([p.id for p in stale]), ProposedChange.status == PENDING)
        .values(status=WITHDRAWN, decided_by=actor_id, decided_at=utcnow())
    )
    record_events(
        conn,
        [
            (
                actor_id,
                "proposal.withdraw",
                _target(p.code or ADMINS.code, p.ledger, p.key),
                {"field": p.field, "element": p.element},
            )
            for p in stale
        ],
    )
    return len(stale)


def described() -> Select:
    """Return a select of proposals with their record's key and label and the names around them.

    Besides the proposal's columns: `record_key`, `record_label`, `proposer` and `decider` (display
    names), `owner_code` and `owner_name` (None: the administrators decide).
    """
    proposer, decider = aliased(User), aliased(User)
    return (
        select(
            ProposedChange,
            Record.key.label("record_key"),
            Record.label.label("record_label"),
            proposer.display_name.label("proposer"),
            decider.display_name.label("decider"),
            Department.code.label("owner_code"),
            Department.name.label("owner_name"),
        )
        .join(Record, Record.id == ProposedChange.record_id)
        .outerjoin(proposer, proposer.id == ProposedChange.proposed_by)
        .outerjoin(decider, decider.id == ProposedChange.decided_by)
        .outerjoin(Department, Department.id == ProposedChange.owner_id)
    )


# --- deciding --------------------------------------------------------------------------------


@dataclass
class Decision:
    """What deciding a set of proposals did."""

    #: Proposals accepted (or rejected).
    done: list[int] = field(default_factory=list)
    #: Proposals whose ledger value is no longer the one the proposer saw: accepted once confirmed.
    moved: list[int] = field(default_factory=list)
    #: Proposals no longer pending: decided by someone else, superseded or withdrawn meanwhile.
    gone: list[int] = field(default_factory=list)
    #: Proposals that would leave their record invalid now: id → why.
    invalid: dict[int, str] = field(default_factory=dict)


def _pending(conn: Connection, ids: Collection[int], decider: Decider) -> tuple[list[Any], list[int]]:
    """Return (the pending proposals of `ids`, the ids no longer pending); the decider must decide all."""
    wanted = sorted({int(i) for i in ids})
    rows = list(conn.execute(described().where(ProposedChange.id.in_(wanted)).order_by(ProposedChange.id)))
    pending = [p for p in rows if p.status == PENDING]
    gone = sorted(set(wanted) - {p.id for p in pending})
    for p in pending:
        if not decider.decides(p.owner_id):
            raise NotAllowed(ErrorCode.PROPOSAL_NOT_YOURS, owner=p.owner_name or ADMINS.name)
    return pending, gone


def _claim(conn: Connection, ids: list[int], status: str, decider: Decider, reason: str = "") -> None:
    """Mark proposals decided while still pending; one decided meanwhile by someone else refuses it all."""
    if not ids:
        return
    done = conn.execute(
        update(ProposedChange)
        .where(ProposedChange.id.in_(ids), ProposedChange.status == PENDING)
        .values(status=status, decided_by=decider.user_id, decided_at=utcnow(), reason=reason[:500])
    )
    if done.rowcount != len(ids):
        raise InvalidRequest(ErrorCode.PROPOSAL_GONE)


def _element(specs: SpecSet, ledger: str, name: str) -> Element | None:
    found = specs.ledgers.get(ledger)
    return found.by_name[name].element if found is not None and name in found.by_name else None


def version_ref(proposal_id: int, proposer: str | None, source_ref: str | None) -> str:
    """Return the reference of a version written by accepting a proposal: the proposal and its proposer."""
    ref = f"变更#{proposal_id}，{proposer or '（账号已删除）'}提出"
    return (ref + (f"，{source_ref}" if source_ref else ""))[:200]


def accept(
    conn: Connection, specs: SpecSet, ids: Collection[int], *, user_id: int, confirmed: Collection[int] = ()
) -> Decision:
    """Accept proposals: each value goes into its record as a new version naming proposer and decider.

    A proposal whose record no longer holds the value its proposer saw (someone changed it since,
    or a write-back conflict) is applied only if its id is in `confirmed`; otherwise it stays
    pending and is listed in `moved`. One that would leave its record invalid is listed in
    `invalid`. Raises NotAllowed for a proposal the user may not decide, InvalidRequest when one
    was decided by someone else meanwhile, StaleRecord when its record changed meanwhile.
    """
    decider = decider_of(conn, user_id)
    pending, gone = _pending(conn, ids, decider)
    result = Decision(gone=gone)
    records = {
        r.id: {"version": r.version, "data": dict(r.data)}
        for r in conn.execute(
            select(Record.id, Record.version, Record.data).where(
                Record.id.in_(sorted({p.record_id for p in pending}))
            )
        )
    }
    confirmed = {int(i) for i in confirmed}
    validators: dict[str, RowValidator] = {}
    events: list[Event] = []
    for p in pending:
        ledger = specs.ledgers.get(p.ledger)
        if ledger is None or p.field not in ledger.by_name:
            result.invalid[p.id] = "台账中已没有这个字段"
            continue
        record = records[p.record_id]
        now = record["data"].get(p.field)
        if not _same(now, p.old_value) and not _same(now, p.new_value) and p.id not in confirmed:
            result.moved.append(p.id)
            continue
        merged = {k: v for k, v in (record["data"] | {p.field: p.new_value}).items() if v is not None}
        validator = validators.setdefault(ledger.code, RowValidator(ledger))
        problem = validator.errors(merged).get(p.field)
        if problem:
            result.invalid[p.id] = problem
            continue
        prov = Provenance(p.source, version_ref(p.id, p.proposer, p.source_ref), user_id)
        change = Change(p.record_id, record["version"], record["data"], {p.field: p.new_value})
        written, missed = apply_changes(conn, ledger, [change], prov, scope=DISTRICT)
        if missed:
            raise StaleRecord(ErrorCode.STALE_RECORD)
        record["version"] += written
        record["data"] = merged
        result.done.append(p.id)
        element = ledger.by_name[p.field].element
        target = _target(p.owner_code or ADMINS.code, p.ledger, p.record_key)
        events.append((user_id, "proposal.accept", target, _detail(element, p.field, now, p.new_value)))
    _claim(conn, result.done, ACCEPTED, decider)
    record_events(conn, events)
    return result


def reject(conn: Connection, specs: SpecSet, ids: Collection[int], reason: str, *, user_id: int) -> Decision:
    """Reject proposals with a reason the proposer will read; the ledger is left as it is."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidRequest(ErrorCode.PROPOSAL_REASON_REQUIRED)
    decider = decider_of(conn, user_id)
    pending, gone = _pending(conn, ids, decider)
    result = Decision(done=[p.id for p in pending], gone=gone)
    _claim(conn, result.done, REJECTED, decider, reason)
    events: list[Event] = []
    for p in pending:
        element = _element(specs, p.ledger, p.field)
        target = _target(p.owner_code or ADMINS.code, p.ledger, p.record_key)
        detail = (
            _detail(element, p.field, p.old_value, p.new_value, reason)
            if element is not None
            else {"field": p.field, "element": p.element, "reason": reason}
        )
        events.append((user_id, "proposal.reject", target, detail))
    record_events(conn, events)
    return result
