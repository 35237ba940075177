"""Client systems and their tokens: register, issue (shown once, stored hashed), revoke, authenticate."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from runtime.access import Viewer, grants_of
from runtime.audit import record_event
from runtime.clock import LOCAL_TZ
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


def expiry_of(day: date) -> datetime:
    """Return when a token valid through `day` (Beijing time) stops: the next local midnight, naive UTC."""
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=LOCAL_TZ)
    return end.astimezone(UTC).replace(tzinfo=None)


def name_taken(conn: Connection, name: str) -> bool:
    """Tell whether a client system of this name is registered already."""
    return conn.execute(select(ApiClient.id).where(ApiClient.name == name.strip())).first() is not None


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
    if name_taken(conn, name):
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


# --- what the admin's pages list -------------------------------------------------------------------

#: Token state → how the pages say it.
TOKEN_STATES = {"valid": "有效", "expired": "已过期", "revoked": "已吊销"}


@dataclass(frozen=True)
class ClientSummary:
    """A client system as the admin's list shows it: who it is, its tokens in force, its last use."""

    id: int
    name: str
    department_id: int
    department: str
    system: str | None
    contact: str
    description: str
    active: bool
    created_at: datetime
    #: Tokens neither revoked nor expired.
    tokens: int
    #: The latest use of any of its tokens.
    last_used_at: datetime | None


@dataclass(frozen=True)
class TokenSummary:
    """A token as its client's page lists it: never the token itself, only its first characters."""

    id: int
    prefix: str
    label: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @property
    def valid_through(self) -> date | None:
        """Return the last local day the token works (it stops at the next midnight), None: no end."""
        if self.expires_at is None:
            return None
        last = (self.expires_at - timedelta(microseconds=1)).replace(tzinfo=UTC)
        return last.astimezone(LOCAL_TZ).date()

    def state(self, now: datetime) -> str:
        """Return valid, expired or revoked (`TOKEN_STATES`)."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "valid"


def list_clients(
    conn: Connection,
    *,
    department_id: int | None = None,
    client_id: int | None = None,
    now: datetime | None = None,
) -> list[ClientSummary]:
    """Return the client systems (of one department, or one client), by department then name."""
    now = now or utcnow()
    in_force = and_(
        ApiToken.revoked_at.is_(None), or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now)
    )
    tokens = (
        select(
            ApiToken.client_id,
            func.count(ApiToken.id).filter(in_force).label("tokens"),
            func.max(ApiToken.last_used_at).label("last_used_at"),
        )
        .group_by(ApiToken.client_id)
        .subquery()
    )
    query = (
        select(
            ApiClient.id,
            ApiClient.name,
            ApiClient.department_id,
            Department.name.label("department"),
            ApiClient.system,
            ApiClient.contact,
            ApiClient.description,
            ApiClient.active,
            ApiClient.created_at,
            func.coalesce(tokens.c.tokens, 0).label("tokens"),
            tokens.c.last_used_at,
        )
        .join(Department, Department.id == ApiClient.department_id)
        .outerjoin(tokens, tokens.c.client_id == ApiClient.id)
        .order_by(Department.id, ApiClient.name)
    )
    if department_id is not None:
        query = query.where(ApiClient.department_id == department_id)
    if client_id is not None:
        query = query.where(ApiClient.id == client_id)
    return [ClientSummary(**row._mapping) for row in conn.execute(query)]


def clients_by_system(conn: Connection) -> dict[str, list[str]]:
    """Return catalog source system → names of the active client systems registered as it."""
    found: dict[str, list[str]] = {}
    rows = conn.execute(
        select(ApiClient.system, ApiClient.name)
        .where(ApiClient.system.is_not(None), ApiClient.active)
        .order_by(ApiClient.name)
    )
    for system, name in rows:
        found.setdefault(system, []).append(name)
    return found


def get_client(conn: Connection, client_id: int) -> ClientSummary:
    """Return one client system, or raise NotFound."""
    found = list_clients(conn, client_id=client_id)
    if not found:
        raise NotFound(ErrorCode.CLIENT_NOT_FOUND, client=client_id)
    return found[0]


def tokens_of(conn: Connection, client_id: int) -> list[TokenSummary]:
    """Return a client's tokens, newest first (revoked and expired ones too)."""
    rows = conn.execute(
        select(
            ApiToken.id,
            ApiToken.prefix,
            ApiToken.label,
            ApiToken.created_at,
            ApiToken.expires_at,
            ApiToken.revoked_at,
            ApiToken.last_used_at,
        )
        .where(ApiToken.client_id == client_id)
        .order_by(ApiToken.id.desc())
    )
    return [TokenSummary(**row._mapping) for row in rows]


def set_active(conn: Connection, client_id: int, active: bool, *, actor_id: int | None) -> None:
    """Switch a client system off (its tokens stop working at once, stay listed) or on again."""
    row = conn.execute(select(ApiClient.active).where(ApiClient.id == client_id)).first()
    if row is None:
        raise NotFound(ErrorCode.CLIENT_NOT_FOUND, client=client_id)
    if row.active == active:
        return
    conn.execute(update(ApiClient).where(ApiClient.id == client_id).values(active=active))
    record_event(conn, actor_id, "client.update", f"client/{client_id}", {"active": active})
