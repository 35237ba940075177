"""Rows a township adds to a task (新增行): a person, parcel or enterprise the ledger lacks.

The filler types the row's key (checked, and refused when the task already holds it), the fields
a new ledger record needs, and the ledger fields the report does not ask for (its village,
household number …); values the key determines (birth date and gender from an ID number) are
filled from it. Until the task is submitted the row is a draft like any other, saved the same
way; the write-back then creates the ledger record and links the row to it, and the row stays in
the task whether or not the new record matches the report's filter.

A key the ledger already holds in the task's own org unit includes that record instead: a person
the filter left out (a disability the ledger does not know of yet) becomes a row of the task,
pre-filled from the ledger, with the typed cells filling only its gaps. A key held elsewhere is
refused with one message, "not in your area" (`ErrorCode.KEY_OUTSIDE_SCOPE`), that never says where.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from builder.catalog.specs import Field, Ledger, OrgUnit
from builder.catalog.validation import RowValidator
from builder.reports.compute import computed_values
from builder.reports.spec import ReportField, ReportSpec
from builder.reports.validation import ReportRowValidator
from builder.tabular.cells import CellError
from builder.tabular.coercion import converter_for
from runtime.errors import ErrorCode
from runtime.masking import Search, searching, shown
from runtime.models import Record, Task, utcnow
from runtime.org_scope import cell_scope
from runtime.reports.store import ReportError
from runtime.sharing.sight import Sight
from runtime.tasks.context import TaskContext
from runtime.tasks.drafts import SavedRow, check_open, save_cells
from runtime.tasks.prefill import Cell, RowView, row_view
from runtime.tasks.rows import store
from runtime.tasks.rows.store import StaleRow

#: Elements a key determines: key element → {element: how to read it from the key}.
FROM_KEY = {
    "person.id_number": {
        "person.birth_date": lambda key: f"{key[6:10]}-{key[10:12]}-{key[12:14]}",
        "person.gender": lambda key: "男" if int(key[16]) % 2 else "女",
    },
}


@dataclass(frozen=True)
class AddForm:
    """What adding a row asks for."""

    #: The report field bound to the ledger's key (ID number, parcel code …).
    key: ReportField
    #: Report fields asked when adding (the key first, then those a new record requires).
    fields: list[ReportField]
    #: Ledger fields the report does not ask for that a new record requires.
    extras: list[Field]
    #: The villages to choose from (a township's task); empty for a village's task.
    villages: list[OrgUnit]
    #: Report fields filled from the key.
    derived: list[str]
    ledger: Ledger


class AddRefused(ReportError):
    """A row that cannot be added; `errors` says why, per form field."""

    def __init__(self, errors: dict[str, str]):
        """Keep the messages by form field (report field name, or the ledger field name of an extra)."""
        super().__init__(ErrorCode.ADD_REFUSED)
        self.errors = errors


def add_form(ctx: TaskContext) -> AddForm | None:
    """Return what adding a row to the task asks for, or None when the report binds no key."""
    spec, specs = ctx.spec, ctx.specs
    if not spec.rows.ledger:
        return None
    ledger = specs.ledgers[spec.rows.ledger]
    key_element = ledger.by_name[ledger.key].element.code
    own = {name: b.ledger_field for name, b in ctx.plan.items() if b.via is None}
    key_name = ctx.key_name
    if key_name is None:
        return None
    key = next(f for f in spec.fields if f.name == key_name)
    derivable = FROM_KEY.get(key_element, {})
    derived = [name for name, lf in own.items() if lf.element.code in derivable]
    asked = [
        f
        for f in spec.fields
        if f is not key and f.name in own and own[f.name].required and f.name not in derived
    ]
    bound = {lf.name for lf in own.values()}
    org = {ledger.township_field, ledger.village_field}
    extras = [
        lf
        for lf in ledger.fields
        if lf.required and lf.name not in bound and lf.name not in org and lf.element.code not in derivable
    ]
    scope = ctx.scope
    villages = [] if scope.village or not ledger.village_field else specs.villages(scope.township)
    return AddForm(
        key=key, fields=[key, *asked], extras=extras, villages=villages, derived=derived, ledger=ledger
    )


def add_row(
    ctx: TaskContext,
    typed: Mapping[str, str],
    extra: Mapping[str, str],
    *,
    today: date | None = None,
) -> RowView:
    """Add a row for a record the ledger lacks; refuse with messages per field, keeping nothing half-made.

    `typed` holds report fields (their text as typed), `extra` the ledger-only fields and the
    village. The key and the ledger-only fields must be right; other cells are kept as typed,
    with their messages, like any draft. A key of a record of the task's own org unit includes
    that record instead (see the module's docstring).
    """
    conn, specs, spec, task = ctx.conn, ctx.specs, ctx.spec, ctx.task
    check_open(ctx)
    form = add_form(ctx)
    if form is None:
        raise ReportError(ErrorCode.NO_KEY_BINDING)
    validator = ReportRowValidator(spec, specs.elements)
    values, errors = _coerce(validator, spec, typed)
    key = values.get(form.key.name)
    # A new record of another org unit is not the task's to make.
    refused = cell_scope(ctx.plan, ctx.scope, specs.org_units).problems(values)
    if key in (None, ""):
        refused[form.key.name] = f"请填写{form.key.title}"
    elif form.key.name in errors:
        refused[form.key.name] = errors[form.key.name]
    else:
        key = str(key)
        found = conn.execute(
            select(Record.id, Record.township_code, Record.village_code).where(
                Record.ledger == form.ledger.code, Record.key == key
            )
        ).first()
        if found is not None:
            return _include(ctx, form, found, key, typed, today)
        refused.update(_key_taken(conn, form, task, key))
    record, record_errors = _extras(ctx, form, extra)
    refused.update(record_errors)
    if refused:
        raise AddRefused(refused)
    values.update(_from_key(ctx, form, key, values))
    record.update(_record_from_key(ctx, form, key))
    now = utcnow()
    added_id = store.insert_row(
        conn,
        {
            "task_id": task.id,
            "record_id": None,
            "row_key": key,
            "values": values,
            "base": {},
            "errors": errors,
            "status": "added",
            "record": record,
            "complete": False,
            "reason": "",
            "version": 1,
            "updated_by": ctx.viewer.user_id,
            "updated_at": now,
        },
    )
    if added_id is None:
        raise AddRefused({form.key.name: ErrorCode.ROW_ALREADY_ADDED.format()})
    store.count_new_row(conn, task)
    row = added_row(ctx, added_id, today=today)
    store.keep_complete(conn, task, added_id, False, row.complete)
    return row


def _coerce(
    validator: ReportRowValidator, spec: ReportSpec, typed: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Return the typed report cells as values (invalid ones as typed) and their messages."""
    known = {f.name for f in spec.fields if not f.compute}
    values, errors = {}, {}
    for name, text in typed.items():
        if name not in known:
            raise ReportError(ErrorCode.UNKNOWN_FIELD, name=name)
        value, problem = validator.coerce(name, text)
        problem = problem or validator.cell_error(name, value)
        if value in (None, ""):
            continue
        values[name] = value
        if problem:
            errors[name] = problem
    return values, errors


def _key_taken(conn: Connection, form: AddForm, task: Task, key: str) -> dict[str, str]:
    """Refuse a key the task already added."""
    return {form.key.name: "本任务中已经有这一行"} if store.key_taken(conn, task.id, key) else {}


def _include(
    ctx: TaskContext,
    form: AddForm,
    found: Any,
    key: str,
    typed: Mapping[str, str],
    today: date | None,
) -> RowView:
    """Include a ledger record of the task's org unit that the report's filter left out.

    The row is pre-filled from the record like any other, the typed cells fill only its gaps,
    and it stays in the task whatever the filter says. A record of another org unit is refused
    without saying where it is; one already in the task is refused too.
    """
    conn, task = ctx.conn, ctx.task
    name, scope = form.key.name, ctx.scope
    if found.township_code != scope.township or scope.village not in (None, found.village_code):
        raise AddRefused({name: ErrorCode.KEY_OUTSIDE_SCOPE.format(key=form.key.title)})
    if row_view(ctx, found.id) is not None:
        raise AddRefused({name: ErrorCode.ROW_ALREADY_INCLUDED.format()})
    draft_id, was = store.include(conn, task, key, found.id, ctx.viewer.user_id)
    store.count_new_row(conn, task)
    row = row_view(ctx, found.id, today=today)
    gaps = {
        n: text
        for n, text in typed.items()
        if n != name and text.strip() and n in row.cells and row.cells[n].state == "gap"
    }
    if gaps:
        return save_cells(ctx, found.id, gaps, expected_version=row.draft_version, today=today).row
    store.keep_complete(conn, task, draft_id, was, row.complete)
    return row


def _extras(
    ctx: TaskContext, form: AddForm, extra: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Return the ledger-only fields of the new record (village included) and their problems."""
    record, errors = {}, {}
    ledger = form.ledger
    scope = ctx.scope
    if ledger.village_field:
        village = scope.village or (extra.get(ledger.village_field) or "").strip()
        if village not in {v.code for v in form.villages} and village != scope.village:
            errors[ledger.village_field] = "请选择所在的村（社区）"
        else:
            record[ledger.village_field] = village
    for lf in form.extras:
        text = (extra.get(lf.name) or "").strip()
        if not text:
            errors[lf.name] = f"新建台账记录需要填写「{lf.title}」"
            continue
        try:
            record[lf.name] = converter_for(lf)(text)
        except CellError as error:
            errors[lf.name] = str(error)
    if not errors:
        checked = RowValidator(ledger).errors(
            {lf.name: v for lf in form.extras if (v := record.get(lf.name)) is not None}
        )
        errors.update(
            {name: message for name, message in checked.items() if name in {lf.name for lf in form.extras}}
        )
    return record, errors


def _from_key(ctx: TaskContext, form: AddForm, key: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Return the report cells the key determines that the filler left empty."""
    readers = FROM_KEY.get(form.ledger.by_name[form.ledger.key].element.code, {})
    plan = ctx.plan
    return {
        name: readers[plan[name].ledger_field.element.code](key)
        for name in form.derived
        if values.get(name) in (None, "")
    }


def _record_from_key(ctx: TaskContext, form: AddForm, key: str) -> dict[str, Any]:
    """Return the new record's fields the key determines that the report does not ask for."""
    readers = FROM_KEY.get(form.ledger.by_name[form.ledger.key].element.code, {})
    bound = {b.ledger_field.name for b in ctx.plan.values() if b.via is None}
    return {
        lf.name: readers[lf.element.code](key)
        for lf in form.ledger.fields
        if lf.element.code in readers and lf.name not in bound
    }


def new_record(ctx: TaskContext, draft: Any) -> dict[str, Any]:
    """Return the ledger record an added row creates: its own-ledger cells, extras and org unit."""
    ledger = ctx.specs.ledgers[ctx.spec.rows.ledger]
    data: dict[str, Any] = {ledger.township_field: ctx.scope.township, **(draft.record or {})}
    errors = draft.errors or {}
    for name, binding in ctx.plan.items():
        value = draft.values.get(name)
        if binding.via is None and name not in errors and value not in (None, "", []):
            data[binding.ledger_field.name] = value
    data[ledger.key] = draft.row_key
    return data


def record_problems(ctx: TaskContext, draft: Any) -> dict[str, str]:
    """Return what keeps an added row from becoming a valid ledger record, by report field name."""
    ledger = ctx.specs.ledgers[ctx.spec.rows.ledger]
    by_ledger = {b.ledger_field.name: name for name, b in ctx.plan.items() if b.via is None}
    problems = {}
    for name, message in RowValidator(ledger).errors(new_record(ctx, draft)).items():
        if by_ledger.get(name) in (draft.errors or {}):
            continue  # the cell's own message says it already
        problems[by_ledger.get(name, name)] = message
    return problems


def added_view(ctx: TaskContext, draft: Any, *, today: date | None = None) -> RowView:
    """Return an added row as the filler sees it (its key masked as the ledger's would be).

    Its birth date too, as a year, where the key is masked: the two would make the whole number.
    """
    spec, plan = ctx.spec, ctx.plan
    ledger = ctx.specs.ledgers[spec.rows.ledger]
    cells: dict[str, Cell] = {}
    errors = dict(draft.errors or {})
    key_sight = ctx.sight(ledger.by_name[ledger.key])
    key_masked = key_sight is not Sight.CLEAR
    for f in spec.fields:
        value = draft.values.get(f.name)
        binding = plan.get(f.name)
        if binding is not None and binding.ledger_field.name == ledger.key and binding.via is None:
            cells[f.name] = Cell(shown(binding.ledger_field, value, key_sight), "key", masked=key_masked)
        elif value in (None, "", []) or f.compute:
            cells[f.name] = Cell(None, "gap")
        elif binding is not None and ctx.typed_masked(binding.ledger_field, id_masked=key_masked):
            seen = ctx.typed_sight(binding.ledger_field, id_masked=key_masked)
            cells[f.name] = Cell(
                shown(binding.ledger_field, value, seen), "edited", masked=True, error=errors.get(f.name)
            )
        else:
            cells[f.name] = Cell(value, "edited", error=errors.get(f.name))
    computed = [f for f in spec.fields if f.compute]
    if computed:
        known = {n: c.value for n, c in cells.items() if not c.masked and c.value is not None}
        values = computed_values(spec, known, today=today or date.today())
        for f in computed:  # never a gap, even empty (an age from a masked birth date)
            cells[f.name] = Cell(values.get(f.name), "computed")
    return RowView(
        key=draft.row_key,
        record_id=None,
        cells=cells,
        status="added",
        draft_version=draft.version,
        added_id=draft.id,
    )


def added_rows(
    ctx: TaskContext,
    *,
    search: str = "",
    gaps_only: bool = False,
    today: date | None = None,
) -> list[RowView]:
    """Return the task's added rows, matching a search as the ledger's rows do (`masking.searching`)."""
    if not ctx.spec.rows.ledger:
        return []
    ledger = ctx.specs.ledgers[ctx.spec.rows.ledger]
    labels = [name for name, b in ctx.plan.items() if b.via is None and b.ledger_field.name == ledger.label]
    searched = searching(ledger, search, ctx.viewer)
    rows = []
    for draft in store.added_drafts(ctx.conn, ctx.task.id):
        if searched.text and not _found(searched, draft, labels):
            continue
        row = added_view(ctx, draft, today=today)
        if not (gaps_only and row.complete):
            rows.append(row)
    return rows


def _found(searched: Search, draft: Any, labels: list[str]) -> bool:
    """Tell whether an added row matches a search: its key as the search allows, or a label containing it."""
    text, match = searched.text, searched.match
    if match == "none":
        return False
    if text[:1].isdigit():
        key = draft.row_key
        if match == "exact":
            return key == text
        return key.endswith(text) if match == "suffix" else key.startswith(text)
    return any(text in str(draft.values.get(n) or "") for n in labels)


def added_row(ctx: TaskContext, added_id: int, *, today: date | None = None) -> RowView | None:
    """Return one added row of the task, or None."""
    draft = store.added_draft(ctx.conn, ctx.task.id, added_id)
    return None if draft is None else added_view(ctx, draft, today=today)


def save_added(
    ctx: TaskContext,
    added_id: int,
    typed: Mapping[str, str],
    *,
    expected_version: int,
    today: date | None = None,
) -> SavedRow:
    """Save cells typed into an added row (its key stays as added: delete the row to change it)."""
    conn, spec, task = ctx.conn, ctx.spec, ctx.task
    check_open(ctx)
    draft = store.added_draft(conn, task.id, added_id)
    if draft is None:
        raise ReportError(ErrorCode.ROW_DELETED)
    form = add_form(ctx)
    if form is not None and form.key.name in typed:
        raise ReportError(ErrorCode.ADDED_KEY_FIXED, key=form.key.title)
    if draft.version != expected_version:
        raise StaleRow(ErrorCode.STALE_ROW)
    validator = ReportRowValidator(spec, ctx.specs.elements)
    values, errors = dict(draft.values), dict(draft.errors or {})
    typed_values, typed_errors = _coerce(validator, spec, typed)
    org = cell_scope(ctx.plan, ctx.scope, ctx.specs.org_units)
    typed_errors |= {name: problem for name, problem in org.problems(typed_values).items() if name in typed}
    for name in typed:
        values.pop(name, None)
        errors.pop(name, None)
    values.update(typed_values)
    errors.update(typed_errors)
    store.save_added_values(conn, draft, values, errors, ctx.viewer.user_id)
    row = added_row(ctx, added_id, today=today)
    store.keep_complete(conn, task, added_id, bool(draft.complete), row.complete)
    return SavedRow(row=row, errors={k: v for k, v in errors.items() if k in typed})


def remove_added(ctx: TaskContext, added_id: int, *, expected_version: int) -> None:
    """Delete an added row (before submission: nothing of it reached the ledger)."""
    conn, task = ctx.conn, ctx.task
    check_open(ctx)
    draft = store.added_draft(conn, task.id, added_id)
    if draft is None:
        return
    if not store.delete_row(conn, added_id, expected_version):
        raise StaleRow(ErrorCode.STALE_ROW_DELETE)
    store.count_removed_row(conn, task, bool(draft.complete))
