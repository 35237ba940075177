"""Idempotency-Key: a retried request gets the first answer and changes nothing.

The key is claimed before the work starts, by inserting its row (unique per client and key) and
committing it: of two racing retries only one inserts, the other finds the row still unanswered
and is told the request is in progress. A key sent with another request is refused.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, select, update

from runtime.db import insert_new
from runtime.errors import ErrorCode, InvalidRequest
from runtime.models import ApiRequest, utcnow

#: The longest key accepted (the column's length).
MAX_KEY = 200


class KeyConflict(InvalidRequest):
    """The key was used for another request, or its request is still being worked on (HTTP 409)."""


@dataclass(frozen=True)
class Remembered:
    """The first answer to a request: its HTTP status and JSON body."""

    status: int
    body: dict[str, Any]
    job_id: int | None


def fingerprint(method: str, path: str, query: str, body_sha256: str) -> str:
    """Return the SHA-256 naming a request: method, path, query and the body's own SHA-256."""
    text = "\n".join((method.upper(), path, query, body_sha256))
    return hashlib.sha256(text.encode()).hexdigest()


def claim(conn: Connection, client_id: int, key: str, print_: str) -> Remembered | None:
    """Claim a key for a new request (None: go on, then `remember`), or return the first answer.

    Raises KeyConflict when the key belongs to another request or its request is not answered yet.
    The caller commits the claim before working, so that a racing retry sees it.
    """
    made = insert_new(
        conn,
        ApiRequest.__table__,
        {"client_id": client_id, "key": key, "fingerprint": print_, "created_at": utcnow()},
        ["client_id", "key"],
    )
    if made is not None:
        return None
    row = conn.execute(
        select(ApiRequest.fingerprint, ApiRequest.status, ApiRequest.response, ApiRequest.job_id).where(
            ApiRequest.client_id == client_id, ApiRequest.key == key
        )
    ).one()
    if row.fingerprint != print_:
        raise KeyConflict(ErrorCode.IDEMPOTENCY_KEY_REUSED)
    if row.status is None:
        raise KeyConflict(ErrorCode.IDEMPOTENCY_KEY_IN_PROGRESS)
    return Remembered(row.status, row.response or {}, row.job_id)


def remember(
    conn: Connection, client_id: int, key: str, status: int, body: dict[str, Any], job_id: int | None = None
) -> None:
    """Store the answer to a claimed key."""
    conn.execute(
        update(ApiRequest)
        .where(ApiRequest.client_id == client_id, ApiRequest.key == key)
        .values(status=status, response=body, job_id=job_id)
    )


def release(conn: Connection, client_id: int, key: str) -> None:
    """Give a claimed key up (its request failed and wrote nothing): a retry may run it."""
    conn.execute(
        delete(ApiRequest).where(
            ApiRequest.client_id == client_id, ApiRequest.key == key, ApiRequest.status.is_(None)
        )
    )
