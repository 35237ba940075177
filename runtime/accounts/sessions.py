"""Login sessions kept on the server: opened at login, checked on every request, ended by logout, a
password change, idleness or age.

The browser holds only a random token (in the signed session cookie); a saved cookie is worth
nothing once its session has ended.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine, delete, or_, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from runtime.db import SQLITE_BUSY_MS
from runtime.models import LoginSession, utcnow

#: A session's last request is written at most this often: a page view is not a write.
TOUCH_EVERY = timedelta(minutes=1)
#: Ended sessions stay on record this long, then go when their user next logs in.
KEEP_ENDED = timedelta(days=30)


@dataclass(frozen=True)
class Lifetime:
    """How long a login session lives: without a request (idle), and at most (absolute)."""

    idle: timedelta
    absolute: timedelta


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(
    session: Session, user_id: int, lifetime: Lifetime, address: str = "", user_agent: str = ""
) -> str:
    """Record a new login session of `user_id` and return its token, for the session cookie."""
    now = utcnow()
    # The user's long-ended sessions go here rather than in a nightly job: the table stays small.
    session.execute(
        delete(LoginSession).where(
            LoginSession.user_id == user_id,
            or_(
                LoginSession.revoked_at < now - KEEP_ENDED,
                LoginSession.created_at < now - lifetime.absolute - KEEP_ENDED,
            ),
        )
    )
    token = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            id=_key(token),
            user_id=user_id,
            created_at=now,
            last_seen_at=now,
            address=address[:45],
            user_agent=user_agent[:200],
        )
    )
    session.flush()
    return token


def live_session(session: Session, token: str, user_id: int, lifetime: Lifetime) -> LoginSession | None:
    """Return the session of `token` if it is `user_id`'s and live: not ended, idle or too old."""
    login = session.get(LoginSession, _key(token))
    now = utcnow()
    if (
        login is None
        or login.user_id != user_id
        or login.revoked_at is not None
        or now - login.last_seen_at > lifetime.idle
        or now - login.created_at > lifetime.absolute
    ):
        return None
    return login


def touch(engine: Engine, login: LoginSession) -> None:
    """Note that the session was used now, at most once a minute; never wait for SQLite's writer.

    A transaction of its own, so a long request does not hold SQLite's write lock; when an
    import holds it, the note is left for the next request (idle expiry is counted in hours).
    """
    now = utcnow()
    if now - login.last_seen_at < TOUCH_EVERY:
        return
    stmt = (
        update(LoginSession)
        .where(LoginSession.id == login.id, LoginSession.last_seen_at < now)
        .values(last_seen_at=now)
    )
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            conn.exec_driver_sql("PRAGMA busy_timeout=0")
        try:
            conn.execute(stmt)
            conn.commit()
        except OperationalError:  # database is locked
            conn.rollback()
            if not sqlite:
                raise
        finally:
            if sqlite:
                conn.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
                conn.commit()


def end_session(session: Session, token: str) -> bool:
    """End the session of `token` (logout); tell whether a live one was ended."""
    result = session.execute(
        update(LoginSession)
        .where(LoginSession.id == _key(token), LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return result.rowcount > 0


def end_all(session: Session, user_id: int) -> int:
    """End every session of `user_id` (a password change); return how many were not ended yet."""
    result = session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return result.rowcount
