"""Masking (脱敏): the one place every output path sends ledger values through.

Pages, htmx fragments, exports and the API all call `present` (or `mask_value`) before a value
leaves the server; only `reveal` returns a sensitive value in clear, and it writes the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection

from builder.specs import Field, Ledger
from runtime.access import FIELD_ROLES, Viewer
from runtime.audit import record_event

_HOUSE_NUMBER = re.compile(r"[0-9０-９一二三四五六七八九十百]+\s*(号|栋|幢|单元|室|组|楼|弄|附).*$")


def mask_id(value: str) -> str:
    """Keep the first 6 and last 4 characters."""
    return value[:6] + "*" * max(len(value) - 10, 0) + value[-4:] if len(value) > 10 else "*" * len(value)


def mask_phone(value: str) -> str:
    """Keep the first 3 and last 4 characters."""
    return value[:3] + "*" * max(len(value) - 7, 0) + value[-4:] if len(value) > 7 else "*" * len(value)


def mask_name(value: str) -> str:
    """Keep the first character."""
    return value[:1] + "*" * (len(value) - 1)


def mask_bank_account(value: str) -> str:
    """Keep the last 4 characters."""
    return "*" * max(len(value) - 4, 0) + value[-4:]


def mask_address(value: str) -> str:
    """Drop the house-number part (门牌号) and everything after it."""
    cut = _HOUSE_NUMBER.sub("", value)
    return cut + "***" if cut != value else value


MASKS = {
    "id_number": mask_id,
    "phone": mask_phone,
    "name": mask_name,
    "bank_account": mask_bank_account,
    "address": mask_address,
}


def is_masked(field: Field, viewer: Viewer) -> bool:
    """Tell whether `viewer` sees this field's values masked."""
    level = field.element.sensitivity
    if level in ("sensitive", "secret"):
        return True
    if level == "personal":
        return viewer.role not in FIELD_ROLES
    return False


def mask_value(field: Field, value: Any) -> Any:
    """Mask one value with the field's masking kind (hidden entirely when it has none)."""
    if value is None or value == "":
        return value
    kind = field.element.mask
    if kind is None:
        return "***"
    return MASKS[kind](str(value))


def present(ledger: Ledger, rows: Iterable[dict[str, Any]], viewer: Viewer) -> list[dict[str, Any]]:
    """Return copies of `rows` with every value `viewer` may not see masked."""
    masked = [f for f in ledger.fields if is_masked(f, viewer)]
    out = []
    for row in rows:
        copy = dict(row)
        for f in masked:
            value = copy.get(f.name)
            if value is not None:
                copy[f.name] = mask_value(f, value)
        out.append(copy)
    return out


def reveal(conn: Connection, ledger: Ledger, row: dict[str, Any], field_name: str,
           viewer: Viewer) -> Any:
    """Return one value in clear for a viewer allowed to see it, writing the audit log."""
    if not viewer.can_reveal or not viewer.sees(row.get("_township"), row.get("_village")):
        raise PermissionError("无权查看该字段明文")
    record_event(conn, viewer.user_id, "reveal", f"{ledger.code}/{row['_key']}",
                 {"field": field_name})
    return row.get(field_name)
