"""A row's values in clear, as a submission holds them: the ledger's, the draft's over them, then computed.

Submissions, their checks, summaries and extractions read a row this way, whatever its kind: the
values the ledgers give it (a ledger row's bound fields, an org unit's computed formulas, nothing
for an added row), the cells the township typed over them, and the spec's computed fields last.
Pages show rows through `prefill.build_row` and its kin instead: cell by cell, masked for the
viewer, with each cell's state.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from builder.reports.compute import computed_values
from builder.reports.spec import ReportSpec


def merged_values(
    spec: ReportSpec, ledger: Mapping[str, Any], typed: Mapping[str, Any], *, today: date
) -> dict[str, Any]:
    """Return a row's values: the ledger's, the draft's cells over them, then the computed fields known."""
    row = {**ledger, **typed}
    row.update({k: v for k, v in computed_values(spec, row, today=today).items() if v is not None})
    return row
