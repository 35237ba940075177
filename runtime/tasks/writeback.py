"""Write-back (回流): what a township filled or corrected goes into the ledger with provenance.

Fields whose spec says `x-writeback` flow back: into the row's own record, or, for fields bound
to the household of a person row, into the household record. A value the ledger already holds
writes nothing (submitting again writes no versions). Only values of elements the submitter may
change directly (`runtime.sharing.owners.applies_directly`: phones, addresses …) are written;
the others are proposed to the element's owner, who accepts or rejects them. A ledger value that
changed after the township saw it is not overwritten: the conflict goes into the owner's queue too
(a proposal with source `conflict`), as does a household value two members' rows disagree on.
Rows the township added become new ledger records, linked to their rows (a record the township
registers is not a change of an owner's value). The caller owns the transaction: one submission,
one transaction.

Resubmission: a task returned and submitted again stands behind its latest values only. Its
pending proposal of a field is replaced by the value submitted last (the owner decides that one),
and one the township no longer asks for is withdrawn. A value written into the ledger becomes the
row's base, so a later correction of it by the same task is a change, not a conflict with itself.

Atomicity: every decision is made against a record as read at its version, and the record is
updated only while it still has that version (compare-and-set, `ledger_store.apply_changes`).
A record someone else changed in between is read again and decided again (its new value may
now be a conflict), on PostgreSQL and SQLite alike; `plan` and `apply` are separate steps so
that this can be shown with two connections.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, select

from builder.catalog.specs import Ledger
from runtime.access import Viewer
from runtime.errors import ErrorCode
from runtime.ledgers.store import (
    Change,
    Provenance,
    StaleRecord,
    apply_changes,
    get_by_keys,
    upsert,
)
from runtime.models import Record, Task
from runtime.org_scope import Scope
from runtime.sharing.owners import applies_directly
from runtime.sharing.proposals import CONFLICT, Offer, propose, withdraw
from runtime.tasks.added import new_record
from runtime.tasks.bindings import HOUSEHOLD_LINK
from runtime.tasks.context import TaskContext
from runtime.tasks.rows import store

#: Drafts read per query during a write-back.
BATCH = 2000
#: How often records changed by someone else during a write-back are read and decided again.
ROUNDS = 5


@dataclass
class WritebackResult:
    """What a write-back did."""

    records: int = 0
    #: Records the rows offered values to that they already held.
    unchanged: int = 0
    #: Conflicts the submission leaves in the owners' queue (new, updated or still standing).
    conflicts: int = 0
    #: Values proposed to the owners of their elements (new, updated or still standing).
    proposed: int = 0
    #: New ledger records made from rows the township added.
    created: int = 0
    #: Household records updated from person rows.
    households: int = 0


@dataclass(frozen=True)
class _Offer:
    """A value a row offers for a field of a record, and the value the township saw there."""

    target: str
    value: Any
    base: Any
    #: The task row and report field it came from (its base follows a value the ledger takes).
    row: tuple[int, str] | None = None


@dataclass
class _Decision:
    """What to do with one record: the changes to write, the proposals, the conflicts, the offers it takes."""

    changes: dict[str, Any] = field(default_factory=dict)
    #: field → (base, township value): for the element's owner to accept.
    proposed: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    #: field → (base, ledger value, township value).
    conflicts: dict[str, tuple[Any, Any, Any]] = field(default_factory=dict)
    agreed: list[_Offer] = field(default_factory=list)


def decide(record: dict[str, Any], offers: list[_Offer], reviewed: frozenset[str] = frozenset()) -> _Decision:
    """Decide the offers of one record against the record as read (once per field for conflicts).

    A change of a field in `reviewed` (an element the submitter may not change directly) is
    proposed to its owner instead of written.
    """
    done = _Decision()
    for offer in offers:
        target, value = offer.target, offer.value
        if target in done.conflicts:
            continue
        if target in done.changes or target in done.proposed:
            taken = done.changes[target] if target in done.changes else done.proposed[target][1]
            if taken != value:  # another row of the task said otherwise
                done.conflicts[target] = (offer.base, taken, value)
                done.proposed.pop(target, None)  # its conflict goes to the owner instead
            elif target in done.changes:
                done.agreed.append(offer)
            continue
        now = record.get(target)
        if now == value:
            done.agreed.append(offer)
        elif now != offer.base:
            done.conflicts[target] = (offer.base, now, value)
        elif target in reviewed:
            done.proposed[target] = (offer.base, value)
        else:
            done.changes[target] = value
            done.agreed.append(offer)
    return done


@dataclass
class _Pending:
    """The offers a write-back makes to the records of one ledger, and the records as read."""

    ledger: Ledger
    #: Fields whose changes are proposed to their owner rather than written.
    reviewed: frozenset[str] = frozenset()
    records: dict[int, dict[str, Any]] = field(default_factory=dict)
    offers: dict[int, list[_Offer]] = field(default_factory=dict)

    def offer(
        self, record: dict[str, Any], target: str, value: Any, base: Any, row: tuple[int, str] | None = None
    ) -> None:
        """Offer a value for a record's field (decided when the write-back applies)."""
        self.records.setdefault(record["_id"], record)
        self.offers.setdefault(record["_id"], []).append(_Offer(target, value, base, row))


@dataclass
class Plan:
    """A write-back decided but not yet written: the offers, the records read, the rows added."""

    task: Task
    scope: Scope
    rows: _Pending
    households: _Pending | None
    #: Base values of the task's rows as read (row id → report field → value).
    bases: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: New ledger records from the rows the township added, and those rows.
    created: list[dict[str, Any]] = field(default_factory=list)
    added: list[Any] = field(default_factory=list)


def source_ref(report_code: str, task: Task) -> str:
    """Return the provenance reference of a task's write-back: report and task."""
    return f"{report_code}#task-{task.id}"


def write_back(ctx: TaskContext, report_code: str) -> WritebackResult:
    """Write the task's filled values into the ledgers; record conflicts instead of overwriting.

    The context's viewer is who submits: the versions written and the conflicts withdrawn are theirs.
    """
    if not ctx.spec.rows.ledger:
        return WritebackResult()
    return apply(ctx, plan(ctx), report_code)


def plan(ctx: TaskContext) -> Plan:
    """Read the task's rows and their records (at their versions) and gather what flows back."""
    conn, specs, task, scope = ctx.conn, ctx.specs, ctx.task, ctx.scope
    ledger = specs.ledgers[ctx.spec.rows.ledger]
    flowing = {name: b for name, b in ctx.plan.items() if b.report_field.writeback}
    # The key names the record: a different key is another record, never a correction of this one.
    own = {
        name: b.ledger_field.name
        for name, b in flowing.items()
        if b.via is None and b.ledger_field.name != ledger.key
    }
    linked = {name: b.ledger_field.name for name, b in flowing.items() if b.via}
    link = HOUSEHOLD_LINK.get(ledger.code)
    households = (
        _Pending(specs.ledgers[link[0]], _reviewed(specs.ledgers[link[0]], ctx.viewer))
        if link and linked
        else None
    )
    found = Plan(task, scope, _Pending(ledger, _reviewed(ledger, ctx.viewer)), households)
    for drafts in store.applying_drafts(conn, task.id, BATCH):
        current = _records(conn, Record.id.in_([d.record_id for d in drafts]))
        homes = (
            _by_keys(conn, households.ledger, (r.get(link[1]) for r in current.values()))
            if households
            else {}
        )
        for draft in drafts:
            record = current.get(draft.record_id)
            if record is None or not _within(scope, record):
                continue  # moved out of the task's org unit since it was a row: not the task's to change
            found.bases[draft.id] = dict(draft.base or {})
            for name, value in _filled(draft, own):
                found.rows.offer(record, own[name], value, draft.base.get(name), (draft.id, name))
            home = homes.get(record.get(link[1])) if households else None
            if home is not None and _within(scope, home):
                for name, value in _filled(draft, linked):
                    households.offer(home, linked[name], value, draft.base.get(name), (draft.id, name))
    _plan_added(ctx, found, linked, link)
    return found


def _reviewed(ledger: Ledger, viewer: Viewer) -> frozenset[str]:
    """Return the fields of a ledger whose changes by `viewer` go to their owner for review."""
    return frozenset(f.name for f in ledger.fields if not applies_directly(viewer, f.element))


def _plan_added(ctx: TaskContext, found: Plan, linked: dict[str, str], link: Any) -> None:
    """Gather the records the rows the township added make (or the values they offer).

    A key the ledger gained since the row was added (an import) is not duplicated: the row's
    values go into that record like a correction seen against an empty ledger value.
    """
    conn = ctx.conn
    drafts = store.added_drafts(conn, found.task.id)
    if not drafts:
        return
    made = [new_record(ctx, d) for d in drafts]
    existing = _by_keys(conn, found.rows.ledger, (d.row_key for d in drafts))
    for draft, data in zip(drafts, made, strict=True):
        if draft.row_key in existing:
            for target, value in data.items():
                found.rows.offer(existing[draft.row_key], target, value, None)
        else:
            found.created.append(data)
    found.added = drafts
    if found.households is not None:
        homes = _by_keys(conn, found.households.ledger, (d.get(link[1]) for d in made))
        for draft, data in zip(drafts, made, strict=True):
            home = homes.get(data.get(link[1]))
            if home is not None and _within(found.scope, home):
                for name, value in _filled(draft, linked):
                    found.households.offer(home, linked[name], value, None)


def apply(ctx: TaskContext, found: Plan, report_code: str) -> WritebackResult:
    """Write a planned write-back: records still as read, proposals and conflicts to owners, rows added.

    The versions written, the proposals made and those withdrawn are the context viewer's (who submits).
    """
    conn, actor_id = ctx.conn, ctx.viewer.user_id
    result = WritebackResult()
    task = found.task
    prov = Provenance("writeback", source_ref(report_code, task), actor_id)
    if found.created:
        result.created = upsert(conn, found.rows.ledger, found.created, prov, scope=found.scope).created
    rows = _settle(conn, found.rows, prov, found.scope)
    result.records, result.unchanged = rows.written, rows.unchanged
    settled = [(found.rows.ledger, rows)]
    if found.households is not None:
        homes = _settle(conn, found.households, prov, found.scope)
        result.households = homes.written
        settled.append((found.households.ledger, homes))
    if found.added:
        _link_added(ctx, found)
    result.proposed, result.conflicts = _queue(ctx, settled, prov)
    _follow_bases(conn, found.bases, [offer for _ledger, s in settled for offer in s.agreed])
    return result


@dataclass
class _Settled:
    """What writing one ledger's offers did."""

    written: int = 0
    unchanged: int = 0
    #: Values for the owners to decide, and conflicts: each the record as read, a field, base and value.
    proposed: list[Offer] = field(default_factory=list)
    conflicts: list[Offer] = field(default_factory=list)
    agreed: list[_Offer] = field(default_factory=list)


def _settle(conn: Connection, pending: _Pending, prov: Provenance, scope: Scope) -> _Settled:
    """Decide and write a ledger's offers; read records changed meanwhile again and decide again."""
    settled = _Settled()
    decisions = {
        rid: decide(pending.records[rid], offers, pending.reviewed) for rid, offers in pending.offers.items()
    }
    for _round in range(ROUNDS):
        changes = [
            Change(rid, pending.records[rid]["_version"], pending.records[rid], d.changes)
            for rid, d in decisions.items()
            if d.changes
        ]
        written, missed = apply_changes(conn, pending.ledger, changes, prov, scope=scope)
        settled.written += written
        again = set(missed)
        for rid in [rid for rid in decisions if rid not in again]:  # in the order offered
            _done(settled, pending, rid, decisions.pop(rid))
        if not missed:
            return settled
        pending.records.update(_records(conn, Record.id.in_(missed)))
        decisions = {
            rid: decide(pending.records[rid], pending.offers[rid], pending.reviewed) for rid in missed
        }
    raise StaleRecord(ErrorCode.WRITEBACK_BUSY)


def _done(settled: _Settled, pending: _Pending, rid: int, decision: _Decision) -> None:
    """Keep a record's proposals, conflicts and the offers it took, once its changes are written."""
    settled.agreed += decision.agreed
    settled.unchanged += not decision.changes and not decision.conflicts and not decision.proposed
    record = pending.records[rid]
    for target, (base, value) in decision.proposed.items():
        settled.proposed.append(Offer(record, target, value, base))
    for target, (base, _ledger_value, value) in decision.conflicts.items():
        settled.conflicts.append(Offer(record, target, value, base))


def _queue(ctx: TaskContext, settled: list[tuple[Ledger, _Settled]], prov: Provenance) -> tuple[int, int]:
    """Put the submission's proposals and conflicts in their owners' queues; return how many of each.

    Of the task's pending proposals, one of a field submitted again is replaced by the value
    submitted last (or stands, when it is the same), and one the submission no longer makes is
    withdrawn: accepting it would apply a value the township no longer submits.
    """
    conn, task = ctx.conn, ctx.task
    unit = ctx.specs.org_units.get(task.org_unit_code)
    evidence = f"《{ctx.spec.title}》{unit.name if unit else task.org_unit_code}填报"
    made = {"proposed": 0, "conflicts": 0}
    keep: set[tuple[int, str]] = set()
    for ledger, found in settled:
        for kind, source, offers in (
            ("proposed", "writeback", found.proposed),
            ("conflicts", CONFLICT, found.conflicts),
        ):
            propose(
                conn,
                ledger,
                offers,
                source=source,
                proposed_by=prov.actor_id,
                source_ref=prov.source_ref,
                evidence=evidence,
            )
            made[kind] += len(offers)
            keep.update((o.record["_id"], o.field) for o in offers)
    withdraw(conn, source_ref=prov.source_ref or "", keep=keep, actor_id=prov.actor_id)
    return made["proposed"], made["conflicts"]


def _follow_bases(conn: Connection, bases: dict[int, dict[str, Any]], agreed: list[_Offer]) -> None:
    """Make the values the ledger now holds from the task the base of their rows (one statement)."""
    moved: dict[int, dict[str, Any]] = {}
    for offer in agreed:
        if offer.row is not None and offer.row[0] in bases:
            row_id, name = offer.row
            if bases[row_id].get(name) != offer.value:
                moved.setdefault(row_id, dict(bases[row_id]))[name] = offer.value
    store.set_bases(conn, moved)


def _link_added(ctx: TaskContext, found: Plan) -> None:
    """Link each row the township added to its ledger record.

    From now on the row is a row of its record, kept in the task whatever the report's filter
    says of the record; its base is what the record was given.
    """
    conn, drafts = ctx.conn, found.added
    ids = {
        key: r["_id"] for key, r in get_by_keys(conn, found.rows.ledger, (d.row_key for d in drafts)).items()
    }
    plan_ = ctx.plan
    store.link_records(
        conn,
        [
            {
                "row_id": d.id,
                "rid": ids[d.row_key],
                "given": {name: v for name, v in d.values.items() if name in plan_ and not plan_[name].via},
            }
            for d in drafts
        ],
    )


def _filled(draft: Any, targets: dict[str, str]) -> Iterator[tuple[str, Any]]:
    """Yield the draft's valid, non-empty values of the fields that flow back."""
    errors = draft.errors or {}
    for name, value in draft.values.items():
        if name in targets and name not in errors and value not in (None, "", []):
            yield name, value


def _records(conn: Connection, where: Any) -> dict[int, dict[str, Any]]:
    """Return the records matching `where` as read now: data, id, key, version, org unit (one query)."""
    stmt = select(
        Record.id, Record.key, Record.version, Record.data, Record.township_code, Record.village_code
    ).where(where)
    return {
        r.id: {
            **r.data,
            "_id": r.id,
            "_key": r.key,
            "_version": r.version,
            "_township": r.township_code,
            "_village": r.village_code,
        }
        for r in conn.execute(stmt)
    }


def _by_keys(conn: Connection, ledger: Ledger, keys: Any) -> dict[str, dict[str, Any]]:
    """Return records of a ledger by natural key, as `_records` reads them (one query)."""
    keys = sorted({str(k) for k in keys if k})
    if not keys:
        return {}
    found = _records(conn, and_(Record.ledger == ledger.code, Record.key.in_(keys)))
    return {r["_key"]: r for r in found.values()}


def _within(scope: Scope, record: dict[str, Any]) -> bool:
    return scope.holds(record["_township"], record["_village"])
