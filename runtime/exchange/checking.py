"""Check pushed rows, one chunk after another, without the database: values, keys, repeats.

Runs in the push's read-ahead thread (`runtime.exchange.ahead`), so it touches no connection;
what needs the stored records (create or update, owned or proposed) is decided by the writer.
"""

from __future__ import annotations

from dataclasses import dataclass

from builder.catalog.specs import Ledger
from builder.catalog.validation import RowValidator
from runtime.exchange.bodies import Problem, Row


@dataclass
class Checked:
    """One chunk of rows as read and checked: the rejected ones, and the good ones with their keys."""

    rejected: list[tuple[Row, str | None, list[Problem]]]
    good: list[tuple[Row, str]]


class Checker:
    """Check rows one chunk after another (no database): values, keys, repeats of earlier keys."""

    def __init__(self, ledger: Ledger) -> None:
        """Prepare the validator and the memory of keys already pushed."""
        self.ledger = ledger
        self.validator = RowValidator(ledger, partial=True)
        self.seen: dict[str, int] = {}
        self.key_title = ledger.by_name[ledger.key].title

    def chunk(self, rows: list[Row]) -> Checked:
        """Return the chunk's rows split into rejected (with their problems) and good ones."""
        checked = Checked([], [])
        for row in rows:
            key, problems = self._checked(row)
            if problems:
                checked.rejected.append((row, key, problems))
            else:
                checked.good.append((row, key))
        return checked

    def _checked(self, row: Row) -> tuple[str | None, list[Problem]]:
        """Return the row's key and its problems (validation, a missing or repeated key)."""
        ledger = self.ledger
        problems = row.problems
        if not problems:
            problems = [(n, "invalid_value", m) for n, m in self.validator.errors(row.record).items()]
        key = row.record.get(ledger.key)
        key = None if key is None else str(key)
        if not problems and key is None:
            problems = [(ledger.key, "key_missing", f"缺少自然键「{self.key_title}」，无法确定是哪条记录")]
        if not problems:
            first = self.seen.setdefault(key, row.number)
            if first != row.number:
                problems = [(ledger.key, "duplicate_key", f"与第 {first} 行的「{key}」重复")]
        return key, problems
