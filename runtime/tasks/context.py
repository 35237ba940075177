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
from runtime.masking import is_masked, typed_masked
from runtime.models import Task
from runtime.reports.specs import report_spec
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

    def typed_masked(self, field: Field, *, id_masked: bool) -> bool:
        """Tell whether a value typed into the task for `field` is shown masked to the viewer.

        To the task's own area the values it typed are its own, in clear (but for those that would
        complete a masked ID number); to anyone else they are presented as the element's ledger
        values are, masked where the viewer may not read that element.
        """
        if self.typist:
            return typed_masked(field, self.viewer, id_masked=id_masked)
        return is_masked(field, self.viewer)

    @cached_property
    def key_name(self) -> str | None:
        """Return the report field bound to the row ledger's key, if any."""
        return key_field(self.spec, self.specs, self.plan)


def task_context(conn: Connection, specs: SpecSet, task: Task, viewer: Viewer) -> TaskContext:
    """Return the context of a task for one request: its spec from the cache of filed report versions."""
    return TaskContext(conn, specs, report_spec(conn, specs, task.report_id, task.version), task, viewer)
