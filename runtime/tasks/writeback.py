"""Write-back (回流): what a township filled or corrected goes into the ledger with provenance.

Fields whose spec says `x-writeback` flow back: into the row's own record, or, for fields bound
to the household of a person row, into the household record. A value the ledger already holds
writes nothing (submitting again writes no versions). A ledger value that changed after the
township saw it is not overwritten: the conflict is recorded for the ledger keeper, as is a
household value two members' rows disagree on. Rows the township added become new ledger
records, linked to their rows. The caller owns the transaction: one submission, one transaction.

Resubmission: a task returned and submitted again stands behind its latest values only. An open
conflict of the task takes the value submitted last (the keeper applies that one), and one the
township no longer asks for is withdrawn. A value written into the ledger becomes the row's
base, so a later correction of it by the same task is a change, not a conflict with itself.

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

from sqlalchemy import Connection, and_, bindparam, insert, select, update

from builder.catalog.specs import Ledger, SpecSet
from runtime.errors import ErrorCode, InvalidRequest
from runtime.ledgers.store import (
    Change,
    Provenance,
    StaleRecord,
    apply_changes,
    get_by_keys,
    upsert,
)
from runtime.models import Record, Report, Task, WritebackConflict, utcnow
from runtime.org_scope import DISTRICT, Scope
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
    #: Conflicts the submission leaves open for the keeper (new, updated or still standing).
    conflicts: int = 0
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
    """What to do with one record: the changes to write, the conflicts, the offers it takes."""

    changes: dict[str, Any] = field(default_factory=dict)
    #: field → (base, ledger value, township value).
    conflicts: dict[str, tuple[Any, Any, Any]] = field(default_factory=dict)
    agreed: list[_Offer] = field(default_factory=list)


def decide(record: dict[str, Any], offers: list[_Offer]) -> _Decision:
    """Decide the offers of one record against the record as read (once per field for conflicts)."""
    done = _Decision()
    for offer in offers:
        target, value = offer.target, offer.value
        if target in done.conflicts:
            continue
        if target in done.changes:
            if done.changes[target] != value:  # another row of the task said otherwise
                done.conflicts[target] = (offer.base, done.changes[target], value)
            else:
                done.agreed.append(offer)
            continue
        now = record.get(target)
        if now == value:
            done.agreed.append(offer)
        elif now != offer.base:
            done.conflicts[target] = (offer.base, now, value)
        else:
            done.changes[target] = value
            done.agreed.append(offer)
    return done


@dataclass
class _Pending:
    """The offers a write-back makes to the records of one ledger, and the records as read."""

    ledger: Ledger
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
    households = _Pending(specs.ledgers[link[0]]) if link and linked else None
    found = Plan(task, scope, _Pending(ledger), households)
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
    """Write a planned write-back: records still as read, conflicts for the keeper, the rows added.

    The versions written and the conflicts withdrawn are the context viewer's (who submits).
    """
    conn, actor_id = ctx.conn, ctx.viewer.user_id
    result = WritebackResult()
    task = found.task
    prov = Provenance("writeback", source_ref(report_code, task), actor_id)
    if found.created:
        result.created = upsert(conn, found.rows.ledger, found.created, prov, scope=found.scope).created
    rows = _settle(conn, found.rows, prov, found.scope)
    result.records, result.unchanged = rows.written, rows.unchanged
    conflicts, agreed = rows.conflicts, rows.agreed
    if found.households is not None:
        homes = _settle(conn, found.households, prov, found.scope)
        result.households = homes.written
        conflicts += homes.conflicts
        agreed += homes.agreed
    if found.added:
        _link_added(ctx, found)
    result.conflicts = _keep_conflicts(conn, task, conflicts, actor_id)
    _follow_bases(conn, found.bases, agreed)
    return result


@dataclass
class _Settled:
    """What writing one ledger's offers did."""

    written: int = 0
    unchanged: int = 0
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    agreed: list[_Offer] = field(default_factory=list)


def _settle(conn: Connection, pending: _Pending, prov: Provenance, scope: Scope) -> _Settled:
    """Decide and write a ledger's offers; read records changed meanwhile again and decide again."""
    settled = _Settled()
    decisions = {rid: decide(pending.records[rid], offers) for rid, offers in pending.offers.items()}
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
        decisions = {rid: decide(pending.records[rid], pending.offers[rid]) for rid in missed}
    raise StaleRecord(ErrorCode.WRITEBACK_BUSY)


def _done(settled: _Settled, pending: _Pending, rid: int, decision: _Decision) -> None:
    """Keep a record's conflicts and the offers it took, once its changes are written."""
    settled.agreed += decision.agreed
    settled.unchanged += not decision.changes and not decision.conflicts
    for target, (base, ledger_value, value) in decision.conflicts.items():
        settled.conflicts.append(
            {
                "record_id": rid,
                "ledger": pending.ledger.code,
                "field": target,
                "base_value": base,
                "ledger_value": ledger_value,
                "township_value": value,
            }
        )


def _keep_conflicts(conn: Connection, task: Task, found: list[dict[str, Any]], actor_id: int | None) -> int:
    """Open the task's new conflicts, give its open ones the values submitted last; return how many.

    An open conflict this submission no longer raises (the township now gives the ledger's value,
    or none) is withdrawn: resolving it would apply a value the township no longer submits.
    """
    now = utcnow()
    standing = {
        (c.record_id, c.field): c
        for c in conn.execute(
            select(WritebackConflict).where(
                and_(WritebackConflict.task_id == task.id, WritebackConflict.status == "open")
            )
        )
    }
    standing_ids = {pair: c.id for pair, c in standing.items()}
    new, changed = [], []
    for conflict in found:
        old = standing.pop((conflict["record_id"], conflict["field"]), None)
        if old is None:
            new.append({**conflict, "task_id": task.id, "status": "open", "created_at": now})
        elif (old.township_value, old.ledger_value, old.base_value) != (
            conflict["township_value"],
            conflict["ledger_value"],
            conflict["base_value"],
        ):
            changed.append(
                {
                    "conflict_id": old.id,
                    "township": conflict["township_value"],
                    "ledger_now": conflict["ledger_value"],
                    "base": conflict["base_value"],
                }
            )
    json_type = WritebackConflict.__table__.c.township_value.type
    if changed:
        done = conn.execute(
            update(WritebackConflict)
            .where(WritebackConflict.id == bindparam("conflict_id"), WritebackConflict.status == "open")
            .values(
                township_value=bindparam("township", type_=json_type),
                ledger_value=bindparam("ledger_now", type_=json_type),
                base_value=bindparam("base", type_=json_type),
                created_at=now,
            ),
            changed,
        )
        if done.rowcount != len(changed):  # a keeper settled some meanwhile: these values are new
            still = set(
                conn.execute(
                    select(WritebackConflict.id).where(
                        WritebackConflict.id.in_([c["conflict_id"] for c in changed]),
                        WritebackConflict.status == "open",
                    )
                ).scalars()
            )
            settled = {c["conflict_id"] for c in changed} - still
            new += [
                {**conflict, "task_id": task.id, "status": "open", "created_at": now}
                for conflict in found
                if standing_ids.get((conflict["record_id"], conflict["field"])) in settled
            ]
    if new:
        conn.execute(insert(WritebackConflict), new)
    if standing:
        conn.execute(
            update(WritebackConflict)
            .where(
                WritebackConflict.id.in_([c.id for c in standing.values()]),
                WritebackConflict.status == "open",
            )
            .values(status="withdrawn", resolved_by=actor_id, resolved_at=now)
        )
    return len(found)


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


def open_conflicts(conn: Connection, ledger: str | None = None, limit: int = 200) -> list[Any]:
    """Return open conflicts for the ledger keeper, oldest first."""
    stmt = select(WritebackConflict).where(WritebackConflict.status == "open")
    if ledger:
        stmt = stmt.where(WritebackConflict.ledger == ledger)
    return list(conn.execute(stmt.order_by(WritebackConflict.id).limit(limit)))


def resolve_conflict(conn: Connection, specs: SpecSet, conflict_id: int, actor_id: int, take: bool) -> str:
    """Settle an open conflict: take the township's value into the ledger, or keep the ledger's.

    The conflict row holds the value the township submitted last (see `_keep_conflicts`); it is
    marked settled only while still open, so two keepers cannot settle it twice.
    """
    conflict = conn.execute(select(WritebackConflict).where(WritebackConflict.id == conflict_id)).first()
    if conflict is None or conflict.status != "open":
        raise InvalidRequest(ErrorCode.CONFLICT_GONE)
    status = "took_township" if take else "kept_ledger"
    settled = conn.execute(
        update(WritebackConflict)
        .where(WritebackConflict.id == conflict_id, WritebackConflict.status == "open")
        .values(status=status, resolved_by=actor_id, resolved_at=utcnow())
    )
    if settled.rowcount != 1:
        raise InvalidRequest(ErrorCode.CONFLICT_GONE)
    if take:
        ledger = specs.ledgers[conflict.ledger]
        task = conn.execute(select(Task).where(Task.id == conflict.task_id)).one()
        code = conn.execute(select(Report.code).where(Report.id == task.report_id)).scalar_one()
        record = conn.execute(select(Record.key).where(Record.id == conflict.record_id)).scalar_one()
        upsert(
            conn,
            ledger,
            [{ledger.key: record, conflict.field: conflict.township_value}],
            Provenance("writeback", source_ref(code, task), actor_id),
            scope=DISTRICT,
        )
    return status
