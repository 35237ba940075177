"""Local time of the district: dates people see and deadlines are in China Standard Time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

try:
    LOCAL_TZ: Any = ZoneInfo("Asia/Shanghai")
except ZoneInfoNotFoundError:  # no tz database on the host: China keeps UTC+8 all year
    LOCAL_TZ = timezone(timedelta(hours=8), "CST")


def local_today() -> date:
    """Return today's date in the district."""
    return datetime.now(UTC).astimezone(LOCAL_TZ).date()


def local_month_start(today: date) -> datetime:
    """Return the first instant of `today`'s month as naive UTC (how times are stored)."""
    first = datetime(today.year, today.month, 1, tzinfo=LOCAL_TZ)
    return first.astimezone(UTC).replace(tzinfo=None)
