"""Client systems and their tokens: register, issue (shown once, stored hashed), revoke, authenticate."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, insert, select, update

from runtime.access import Viewer, grants_of
from runtime.audit import record_event
from runtime.errors import ErrorCode, InvalidRequest, NotFound
from runtime.models import ApiClient, ApiToken, Department, utcnow
from runtime.permissions import Role

#: Every token starts with this, so a leaked one is recognised by secret scanners and people.
TOKEN_PREFIX = "ybt_"
#: Characters of a token kept in clear to tell tokens apart (the prefix and 8 more).
SHOWN = len(TOKEN_PREFIX) + 8
#: `last_used_at` is written at most this often per token (not on every request).
TOUCH_EVERY = timedelta(minutes=1)


def token_hash(token: str) -> str:
    """Return the hex SHA-256 of a token, as stored."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class ClientIdentity:
    """Who a valid token speaks for: the client, its department, and the token."""

    client_id: int
    client_name: str
    department_id: int
    department: str
    token_id: int


def register_client(
    conn: Connection,
    *,
    name: str,
    department_id: int,
    actor_id: int | None,
    system: str | None = None,
    contact: str = "",
    description: str = "",
) -> int:
    """Register a client system of a department; return its id (the name must be new)."""
    name = name.strip()
    if not name:
        raise InvalidRequest(ErrorCode.CLIENT_NAME_MISSING)
    if conn.execute(select(ApiClient.id).where(ApiClient.name == name)).first():
        raise InvalidRequest(ErrorCode.CLIENT_NAME_TAKEN, name=name)
    if conn.execute(select(Department.id).where(Department.id == department_id)).first() is None:
        raise NotFound(ErrorCode.DEPARTMENT_NOT_FOUND, department=department_id)
    client_id = conn.execute(
        insert(ApiClient)
        .values(
            name=name,
            department_id=department_id,
            system=system or None,
            contact=contact.strip(),
            description=description.strip(),
            created_by=actor_id,
            created_at=utcnow(),
        )
        .returning(ApiClient.id)
    ).scalar_one()
    record_event(conn, actor_id, "client.register", f"client/{client_id}", {"name": name})
    return client_id


def issue_token(
    conn: Connection,
    client_id: int,
    *,
    actor_id: int | None,
    label: str = "",
    expires_at: datetime | None = None,
) -> tuple[int, str]:
    """Issue a new token of a client; return (token id, the token), the only time it is seen."""
    if conn.execute(select(ApiClient.id).where(ApiClient.id == client_id)).first() is None:
        raise NotFound(ErrorCode.CLIENT_NOT_FOUND, client=client_id)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = conn.execute(
        insert(ApiToken)
        .values(
            client_id=client_id,
            prefix=token[:SHOWN],
            token_hash=token_hash(token),
            label=label.strip(),
            expires_at=expires_at,
            created_by=actor_id,
            created_at=utcnow(),
        )
        .returning(ApiToken.id)
    ).scalar_one()
    record_event(
        conn,
        actor_id,
        "token.issue",
        f"client/{client_id}",
        {"token": token_id, "prefix": token[:SHOWN], "expires_at": expires_at and expires_at.isoformat()},
    )
    return token_id, token


def revoke_token(conn: Connection, token_id: int, *, actor_id: int | None) -> None:
    """Revoke a token at once (a revoked token stays listed, never valid again)."""
    row = conn.execute(select(ApiToken.client_id, ApiToken.revoked_at).where(ApiToken.id == token_id)).first()
    if row is None:
        raise NotFound(ErrorCode.TOKEN_NOT_FOUND, token=token_id)
    if row.revoked_at is not None:
        return
    conn.execute(
        update(ApiToken).where(ApiToken.id == token_id).values(revoked_at=utcnow(), revoked_by=actor_id)
    )
    record_event(conn, actor_id, "token.revoke", f"client/{row.client_id}", {"token": token_id})


def authenticate(conn: Connection, token: str, now: datetime | None = None) -> ClientIdentity | None:
    """Return who a token speaks for, or None when it is unknown, revoked, expired or its client is off.

    Notes the token's use (at most once a minute): the caller commits.
    """
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    now = now or utcnow()
    row = conn.execute(
        select(
            ApiToken.id,
            ApiToken.expires_at,
            ApiToken.revoked_at,
            ApiToken.last_used_at,
            ApiClient.id.label("client_id"),
            ApiClient.name,
            ApiClient.active,
            Department.id.label("department_id"),
            Department.name.label("department"),
        )
        .join(ApiClient, ApiClient.id == ApiToken.client_id)
        .join(Department, Department.id == ApiClient.department_id)
        .where(ApiToken.token_hash == token_hash(token))
    ).first()
    if row is None or row.revoked_at is not None or not row.active:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        conn.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
    return ClientIdentity(row.client_id, row.name, row.department_id, row.department, row.id)


def client_viewer(conn: Connection, identity: ClientIdentity) -> Viewer:
    """Return the Viewer a client reads and writes as: its department, with the grants in force."""
    return Viewer(
        None,
        Role.DEPARTMENT,
        department=identity.department,
        grants=grants_of(conn, identity.department_id),
    )
