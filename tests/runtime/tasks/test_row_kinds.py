"""Row kinds: a task tells its ledger, added and org-unit rows apart once, from its report's spec."""

import pytest
from sqlalchemy.orm import Session

from runtime.reports.store import ReportError
from runtime.tasks.rows.kinds import (
    ADDED,
    LEDGER,
    LEDGER_ROWS,
    ORG_UNIT_ROWS,
    ORG_UNITS,
    NotThisKind,
    task_rows,
)
from tests.conftest import make_ctx


@pytest.mark.parametrize(
    ("ref", "kind"),
    [("12", LEDGER), ("n12", ADDED), ("n", None), ("12a", None), ("", None), ("u500118100", None)],
)
def test_a_ledger_reports_task_reads_record_ids_and_added_rows(ref, kind):
    assert LEDGER_ROWS.kind_of(ref) is kind


@pytest.mark.parametrize(("ref", "kind"), [("u500118100", ORG_UNITS), ("12", None), ("n12", None)])
def test_an_aggregate_reports_task_reads_only_org_unit_rows(ref, kind):
    assert ORG_UNIT_ROWS.kind_of(ref) is kind


def test_the_spec_chooses_the_kinds(district, specs, zhongshanlu_task, load_task):
    task_id, filler = zhongshanlu_task()
    with Session(district) as session, session.begin():
        task, _report, spec = load_task(session.connection(), task_id)
        assert task_rows(spec) is LEDGER_ROWS
        ctx = make_ctx(session.connection(), specs, task, filler)
        first = LEDGER_ROWS.page(ctx, limit=1).rows[0]
        assert LEDGER_ROWS.find(ctx, first.ref).key == first.key
        assert LEDGER_ROWS.find(ctx, "u500118001") is None
        # A ledger record's row is marked not applicable, never deleted.
        with pytest.raises(NotThisKind):
            LEDGER.remove(ctx, first.ref, expected_version=0)
        assert issubclass(NotThisKind, ReportError)
