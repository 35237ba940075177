"""The kinds of a task's rows, told apart once per task: ledger rows, added rows, org-unit rows.

A report with a row ledger gives a task ledger rows (records of its org unit, addressed by the
record id) and the rows its township adds ("n" and the draft's id); an aggregate report gives one
row per org unit ("u" and the unit's code). `task_rows` chooses from the spec, once; pages and
files then ask the chosen `TaskRows` which kind a reference names and let that kind find, save,
mark or remove the row, instead of reading prefixes or asking "is this an aggregate report".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from builder.reports.spec import ReportSpec
from runtime.errors import ErrorCode
from runtime.reports.store import ReportError
from runtime.tasks.added import added_row, added_rows, remove_added, save_added
from runtime.tasks.aggregate import UNIT_PREFIX, ensure_unit_total, save_unit_cells, unit_counts, unit_rows
from runtime.tasks.context import TaskContext
from runtime.tasks.drafts import SavedRow, mark_row, save_cells
from runtime.tasks.prefill import (
    RowView,
    TaskCounts,
    TaskPage,
    ledger_counts,
    ledger_rows_total,
    row_view,
    task_page,
)

#: How a page addresses a row the township added: "n" and the draft's id (see `RowView.ref`).
ADDED_PREFIX = "n"
#: Ids as pages write them: ASCII digits, at most a 64-bit integer.
_ID = re.compile(r"[0-9]{1,19}")
_MAX_ID = 2**63 - 1


class NotThisKind(ReportError):
    """The row's kind does not do this (mark an added row, remove a ledger row …)."""


def parse_id(text: str) -> int | None:
    """Return the id written in `text` (ASCII digits, at most a 64-bit integer), or None."""
    if not _ID.fullmatch(text or ""):
        return None
    value = int(text)
    return value if value <= _MAX_ID else None


class RowKind(Protocol):
    """One kind of a task's rows: which references it owns, and how to find and change its rows."""

    def owns(self, ref: str) -> bool:
        """Tell whether a reference names a row of this kind."""

    def find(self, ctx: TaskContext, ref: str) -> RowView | None:
        """Return the row a reference names as the viewer sees it now, or None when it is not the task's."""

    def save(
        self, ctx: TaskContext, ref: str, typed: Mapping[str, str], *, expected_version: int
    ) -> SavedRow:
        """Save cells typed into the row."""

    def mark(self, ctx: TaskContext, ref: str, reason: str | None, *, expected_version: int) -> RowView:
        """Mark the row as not applicable (or, with None, applicable again)."""

    def remove(self, ctx: TaskContext, ref: str, *, expected_version: int) -> None:
        """Delete the row."""


class LedgerRows:
    """Ledger records of the task's org unit matching the report's filter, addressed by record id."""

    def owns(self, ref: str) -> bool:
        """Tell whether the reference is a record id."""
        return parse_id(ref) is not None

    def find(self, ctx: TaskContext, ref: str) -> RowView | None:
        """Return the record's row, or None when the record is not one of the task's rows."""
        return row_view(ctx, parse_id(ref))

    def save(
        self, ctx: TaskContext, ref: str, typed: Mapping[str, str], *, expected_version: int
    ) -> SavedRow:
        """Save typed cells over the record's pre-filled values."""
        return save_cells(ctx, parse_id(ref), typed, expected_version=expected_version)

    def mark(self, ctx: TaskContext, ref: str, reason: str | None, *, expected_version: int) -> RowView:
        """Mark the record's row as not applicable (or applicable again)."""
        return mark_row(ctx, parse_id(ref), reason, expected_version=expected_version)

    def remove(self, ctx: TaskContext, ref: str, *, expected_version: int) -> None:
        """Refuse: a ledger record's row is marked not applicable, never deleted."""
        raise NotThisKind(ErrorCode.ROW_NOT_IN_TASK)


class AddedRows:
    """Rows the township added, not in the ledger yet: "n" and the draft's id."""

    def owns(self, ref: str) -> bool:
        """Tell whether the reference names an added row."""
        return ref[:1] == ADDED_PREFIX and parse_id(ref[1:]) is not None

    def find(self, ctx: TaskContext, ref: str) -> RowView | None:
        """Return the added row, or None when it was deleted or is not the task's."""
        return added_row(ctx, parse_id(ref[1:]))

    def save(
        self, ctx: TaskContext, ref: str, typed: Mapping[str, str], *, expected_version: int
    ) -> SavedRow:
        """Save typed cells into the added row."""
        return save_added(ctx, parse_id(ref[1:]), typed, expected_version=expected_version)

    def mark(self, ctx: TaskContext, ref: str, reason: str | None, *, expected_version: int) -> RowView:
        """Refuse: an added row that does not apply is deleted instead."""
        raise NotThisKind(ErrorCode.ROW_NOT_IN_TASK)

    def remove(self, ctx: TaskContext, ref: str, *, expected_version: int) -> None:
        """Delete the added row."""
        remove_added(ctx, parse_id(ref[1:]), expected_version=expected_version)


class OrgUnitRows:
    """An aggregate report's rows: one per org unit, "u" and the unit's code."""

    def owns(self, ref: str) -> bool:
        """Tell whether the reference names an org unit's row."""
        return ref[:1] == UNIT_PREFIX

    def find(self, ctx: TaskContext, ref: str) -> RowView | None:
        """Return the org unit's row, or None when the unit is not one of the task's rows."""
        rows = unit_rows(ctx, only=ref[1:])
        return rows[0] if rows else None

    def save(
        self, ctx: TaskContext, ref: str, typed: Mapping[str, str], *, expected_version: int
    ) -> SavedRow:
        """Save corrections over the computed values."""
        return save_unit_cells(ctx, ref[1:], typed, expected_version=expected_version)

    def mark(self, ctx: TaskContext, ref: str, reason: str | None, *, expected_version: int) -> RowView:
        """Refuse: an org unit's row always applies."""
        raise NotThisKind(ErrorCode.ROW_NOT_IN_TASK)

    def remove(self, ctx: TaskContext, ref: str, *, expected_version: int) -> None:
        """Refuse: an org unit's row cannot be deleted."""
        raise NotThisKind(ErrorCode.ROW_NOT_IN_TASK)


LEDGER = LedgerRows()
ADDED = AddedRows()
ORG_UNITS = OrgUnitRows()


@dataclass(frozen=True)
class TaskRows:
    """The kinds of rows one task has, and what is asked of all its rows at once."""

    kinds: tuple[RowKind, ...]
    #: The rows are org units (an aggregate report): no rows to add, none to mark.
    by_org_unit: bool

    def kind_of(self, ref: str) -> RowKind | None:
        """Return the kind of row a reference names, or None when the task has no row like it."""
        return next((kind for kind in self.kinds if kind.owns(ref)), None)

    def find(self, ctx: TaskContext, ref: str) -> RowView | None:
        """Return the row a reference names, or None when it is not one of the task's rows."""
        kind = self.kind_of(ref)
        return kind.find(ctx, ref) if kind is not None else None

    def page(
        self,
        ctx: TaskContext,
        *,
        after: tuple[str, int] | None = None,
        limit: int = 50,
        search: str = "",
        gaps_only: bool = False,
    ) -> TaskPage:
        """Return one page of the task's rows (the rows the township added first, on the first page)."""
        if self.by_org_unit:  # one row per org unit, every formula cell computed from the ledgers
            rows = unit_rows(ctx)
            return TaskPage(rows=[r for r in rows if not (gaps_only and r.complete)])
        found = task_page(ctx, after=after, limit=limit, search=search, gaps_only=gaps_only)
        if after is None:
            found.rows[:0] = added_rows(ctx, search=search, gaps_only=gaps_only)
        return found

    def ensure_total(self, ctx: TaskContext) -> int:
        """Count the task's rows once (when first opened) and keep the count for the task lists."""
        if ctx.task.rows_total:
            return ctx.task.rows_total
        if self.by_org_unit:
            return ensure_unit_total(ctx)
        return ledger_rows_total(ctx)

    def counts(self, ctx: TaskContext) -> TaskCounts:
        """Count the whole task's cells and rows."""
        if self.by_org_unit:
            return TaskCounts(*unit_counts(ctx))
        return ledger_counts(ctx)


#: A report with a row ledger: its records, and the rows the township adds.
LEDGER_ROWS = TaskRows((ADDED, LEDGER), by_org_unit=False)
#: An aggregate report: one row per org unit.
ORG_UNIT_ROWS = TaskRows((ORG_UNITS,), by_org_unit=True)


def task_rows(spec: ReportSpec) -> TaskRows:
    """Return the kinds of rows the report's tasks have (the one place that tells them apart)."""
    return ORG_UNIT_ROWS if spec.rows.unit is not None else LEDGER_ROWS


def ensure_rows_total(ctx: TaskContext) -> int:
    """Count a task's rows once (when first opened) and keep the count for the task lists."""
    return task_rows(ctx.spec).ensure_total(ctx)


def task_counts(ctx: TaskContext) -> TaskCounts:
    """Count a whole task's cells and rows (one pass over its records and drafts, or its org units)."""
    return task_rows(ctx.spec).counts(ctx)
