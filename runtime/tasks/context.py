"""A task as one request works on it: connection, specs, report spec, task and viewer, built once.

What is derived from them (the fields' bindings, the task's scope, the kind of its rows) is
computed once per context, not again in every function the request goes through.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Connection

from builder.catalog.specs import Field, SpecSet
from builder.reports.spec import ReportSpec
from runtime.access import Viewer
from runtime.ledgers.store import Scope
from runtime.masking import field_sight, typed_masked
from runtime.models import Task
from runtime.reports.specs import report_spec
from runtime.sharing.sight import Sight
from runtime.tasks.bindings import Binding, bindings, key_field, task_scope


@dataclass(frozen=True)
class TaskContext:
    """One task of one report, as one viewer works on it over one connection."""

    conn: Connection
    specs: SpecSet
    spec: ReportSpec
    task: Task
    viewer: Viewer

    @cached_property
    def plan(self) -> dict[str, Binding]:
        """Return report field → where its value comes from (`bindings`)."""
        return bindings(self.spec, self.specs)

    @cached_property
    def scope(self) -> Scope:
        """Return the org units the task covers."""
        return task_scope(self.specs, self.task)

    @cached_property
    def typist(self) -> bool:
        """Tell whether the viewer fills this task: a user of its own area, whose typed values are theirs."""
        return self.viewer.township is not None and self.viewer.sees(self.scope.township, self.scope.village)

    def sight(self, field: Field) -> Sight:
        """Return how the viewer sees `field`'s ledger values in this task's township (grants included)."""
        return field_sight(field, self.viewer).at(self.scope.township)

    @cached_property
    def sights(self) -> dict[str, Sight]:
        """Return report field → how the viewer sees the ledger values bound to it, decided once."""
        return {name: self.sight(b.ledger_field) for name, b in self.plan.items()}

    @cached_property
    def by_grant(self) -> frozenset[str]:
        """Return the report fields the viewer reads in clear here only through a grant (audited reads)."""
        return frozenset(
            name
            for name, b in self.plan.items()
            if field_sight(b.ledger_field, self.viewer).by_grant(self.scope.township)
        )

    def typed_sight(self, field: Field, *, id_masked: bool) -> Sight:
        """Return how a value typed into the task for `field` is shown to the viewer.

        To the task's own area the values it typed are its own, in clear (but for those that would
        complete a masked ID number); to anyone else they are presented as the element's ledger
        values are: masked or not shown where the viewer may not read that element.
        """
        if self.typist:
            return Sight.MASKED if typed_masked(field, self.viewer, id_masked=id_masked) else Sight.CLEAR
        return self.sight(field)

    def typed_masked(self, field: Field, *, id_masked: bool) -> bool:
        """Tell whether a value typed into the task for `field` is not shown in clear to the viewer."""
        return self.typed_sight(field, id_masked=id_masked) is not Sight.CLEAR

    def tally(self, name: str, field: Field, key: object, n: int = 1) -> None:
        """Count a value of report field `name` read in clear through a grant (for the audit log)."""
        if name in self.by_grant:
            self.viewer.grants.reads.add(
                self.spec.rows.ledger, field.element.code, field.element.department, key, n
            )

    @cached_property
    def key_name(self) -> str | None:
        """Return the report field bound to the row ledger's key, if any."""
        return key_field(self.spec, self.specs, self.plan)


def task_context(conn: Connection, specs: SpecSet, task: Task, viewer: Viewer) -> TaskContext:
    """Return the context of a task for one request: its spec from the cache of filed report versions."""
    return TaskContext(conn, specs, report_spec(conn, specs, task.report_id, task.version), task, viewer)
