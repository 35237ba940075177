"""Count working days on the Chinese official calendar: weekdays, minus holidays, plus make-up days.

The State Council publishes each year's holidays (法定节假日) and the weekend days worked in
exchange (调休上班日) in December; `form_specs/admission/rules.json` carries them.
"""

from __future__ import annotations

from collections.abc import Set
from datetime import date, timedelta

#: How far `nth_working_day` looks ahead before giving up (longer than any holiday run).
_HORIZON_DAYS = 3660


def is_working_day(day: date, holidays: Set[date], workdays: Set[date]) -> bool:
    """Return whether `day` is a working day."""
    if day in workdays:
        return True
    return day.weekday() < 5 and day not in holidays


def _weekdays_upto(day: date) -> int:
    """Return the number of Monday–Friday dates from an epoch Monday up to `day` inclusive."""
    # date.min is a Monday, so full weeks hold 5 weekdays each.
    ordinal = day.toordinal()  # date.min has ordinal 1
    weeks, rest = divmod(ordinal, 7)
    return weeks * 5 + min(rest, 5)


def count_working_days(start: date, end: date, holidays: Set[date], workdays: Set[date]) -> int:
    """Return the working days after `start` up to `end` inclusive (0 when `end` ≤ `start`)."""
    if end <= start:
        return 0
    # Arithmetic for the weekdays, then the calendar's exceptions: a far-off date costs nothing.
    count = _weekdays_upto(end) - _weekdays_upto(start)
    count -= sum(1 for d in holidays if start < d <= end and d.weekday() < 5 and d not in workdays)
    count += sum(1 for d in workdays if start < d <= end and d.weekday() >= 5)
    return count


def nth_working_day(start: date, n: int, holidays: Set[date], workdays: Set[date]) -> date:
    """Return the date on which `n` working days after `start` have passed."""
    day, found = start, 0
    for _ in range(_HORIZON_DAYS):
        if found >= n:
            return day
        day += timedelta(days=1)
        if is_working_day(day, holidays, workdays):
            found += 1
    return day
