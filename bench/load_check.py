"""After the run: is every acknowledged save in the database? (A save answered 200 whose value is not
there is a lost save.) Read once the server has stopped, in the app's own terms: the typed text is
coerced by the report's validator, as the save did, and compared with the stored draft.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson
from sqlalchemy import select

from bench.load_setup import Plan
from bench.load_users import Save
from builder.catalog.specs import SpecSet
from builder.reports.validation import ReportRowValidator
from runtime.db import make_engine
from runtime.models import TaskRow


def check_saves(url: str, specs: SpecSet, plan: Plan, saves: list[Save]) -> dict[str, Any]:
    """Return how many saves were sent and acknowledged, and how many acknowledged ones are missing.

    Rows with a save whose outcome is unknown (no answer, or a 5xx) are left out of the check and
    counted: such a save may or may not have been written.
    """
    acked: Counter[tuple[int, str]] = Counter()
    last: dict[tuple[int, str, str], str] = {}
    unsure: set[tuple[int, str]] = set()
    for s in saves:
        row = (s.task_id, s.ref)
        if s.status == 200:
            acked[row] += 1
            last[(s.task_id, s.ref, s.field)] = s.text
        elif s.status == 0 or s.status >= 500:
            unsure.add(row)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            drafts = {
                (r.task_id, str(r.record_id)): r
                for r in conn.execute(
                    select(TaskRow.task_id, TaskRow.record_id, TaskRow.values, TaskRow.version).where(
                        TaskRow.task_id.in_({task for task, _ref in acked})
                    )
                )
            }
    finally:
        engine.dispose()
    validators = {task: ReportRowValidator(spec, specs.elements) for task, spec in plan.specs_by_task.items()}
    lost, examples = 0, []
    for (task, ref, name), text in last.items():
        if (task, ref) in unsure:
            continue
        value, _problem = validators[task].coerce(name, text)
        draft = drafts.get((task, ref))
        stored = draft.values.get(name) if draft else None
        if orjson.loads(orjson.dumps(value)) != stored:
            lost += 1
            if len(examples) < 5:
                examples.append(f"任务 {task} 第 {ref} 行 {name}：应为 {text!r}，库中为 {stored!r}")
    # Each acknowledged save makes exactly one new draft version (the rows had no draft before).
    versions = sum(
        1
        for row, n in acked.items()
        if row not in unsure and (drafts[row].version if row in drafts else 0) != n
    )
    return {
        "sent": len(saves),
        "acknowledged": sum(acked.values()),
        "cells_checked": len(last),
        "lost": lost,
        "lost_examples": examples,
        "rows_with_wrong_version": versions,
        "rows_unverifiable": len(unsure),
    }
