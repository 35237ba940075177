"""Export the part of the audit log a reader may read, narrowed by a filter, as .csv or .xlsx.

Columns and wording are the page's (`runtime.audit.entries`). The .csv is UTF-8 with BOM, so Excel
on Chinese Windows opens it; text a spreadsheet would run as a formula gets a leading quote there
(the .xlsx writer stores text as text). The export itself goes into the log.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable, Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import rustpy_xlsxwriter
from sqlalchemy import Connection

from builder.catalog.specs import SpecSet
from runtime.audit import record_event
from runtime.audit.actions import EXPORT_TARGET
from runtime.audit.entries import Entry
from runtime.audit.reading import AuditFilter, AuditReader, count_entries, iter_entries
from runtime.clock import LOCAL_TZ
from runtime.errors import ErrorCode, InvalidRequest, NotAllowed
from runtime.ledgers.exports import SHEET_ROWS, neutralize

FORMATS = ("csv", "xlsx")
#: The file's columns, and what each shows of an entry.
COLUMNS: tuple[tuple[str, Callable[[Entry], Any]], ...] = (
    ("编号", lambda e: e.id),
    ("时间", lambda e: e.at.replace(tzinfo=UTC).astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S")),
    ("操作人", lambda e: e.actor),
    ("部门或单位", lambda e: e.unit),
    ("操作", lambda e: e.label),
    ("台账或对象", lambda e: e.subject),
    ("数据项", lambda e: "、".join(e.elements)),
    ("记录数", lambda e: e.records),
    ("用途", lambda e: e.purpose),
    ("途径", lambda e: e.via),
    ("说明", lambda e: e.note),
)
HEADER = [title for title, _show in COLUMNS]

Progress = Callable[[int, int | None], None]


def export_log(
    conn: Connection,
    specs: SpecSet,
    reader: AuditReader,
    flt: AuditFilter,
    fmt: str,
    target: Path,
    progress: Progress | None = None,
) -> int:
    """Write the reader's entries matching the filter to `target`, newest first; log it; return how many."""
    if fmt not in FORMATS:
        raise InvalidRequest(ErrorCode.UNSUPPORTED_FORMAT, fmt=fmt)
    if not (reader.everything or reader.department):
        raise NotAllowed(ErrorCode.AUDIT_NOT_ALLOWED)
    total = count_entries(conn, specs, reader, flt, cap=SHEET_ROWS + 1)
    if fmt == "xlsx" and total > SHEET_ROWS:
        raise InvalidRequest(ErrorCode.AUDIT_TOO_MANY_FOR_XLSX, limit=f"{SHEET_ROWS:,}")
    written = [0]

    def lines() -> Iterator[list[Any]]:
        if progress:
            progress(0, total)
        for batch in iter_entries(conn, specs, reader, flt):
            for entry in batch:
                yield [show(entry) for _title, show in COLUMNS]
            written[0] += len(batch)
            if progress:
                progress(written[0], max(total, written[0]))

    if fmt == "csv":
        with open(target, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADER)
            writer.writerows([neutralize(v) for v in line] for line in lines())
    else:
        records = (dict(zip(HEADER, line, strict=True)) for line in lines())
        first = next(records, None) or dict.fromkeys(HEADER)
        rustpy_xlsxwriter.write_worksheet(
            itertools.chain([first], records),
            str(target),
            sheet_name="审计日志",
            freeze_row=1,
            bold_headers=True,
        )
    said = {k: v for k, v in flt.as_params().items() if v not in (None, "")}
    record_event(
        conn,
        reader.user_id,
        "audit.export",
        EXPORT_TARGET,
        {"format": fmt, "rows": written[0], "filters": said},
    )
    return written[0]
