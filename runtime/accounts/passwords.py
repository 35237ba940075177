"""Passwords: a salted hash per user, checks that cost the same for a missing user, changes that end
the user's login sessions."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from runtime.accounts import sessions as login_sessions
from runtime.audit import record_event
from runtime.errors import ErrorCode, OperationRefused
from runtime.models import User

#: The shortest password a user may choose.
MIN_LENGTH = 8


class PasswordRefused(OperationRefused, ValueError):
    """A new password that cannot be set: which form field it is about, and the Chinese reason."""

    def __init__(self, field: str, error: ErrorCode, **params: Any):
        """Keep the field (current, new or repeat) and the message."""
        super().__init__(error, **params)
        self.field = field
        self.message = str(self)


def hash_method() -> str:
    """Return the hash method of new passwords (PASSWORD_HASH_METHOD lowers it in tests)."""
    return os.environ.get("PASSWORD_HASH_METHOD", "scrypt")


def hash_password(password: str) -> str:
    """Hash a password with a salt of its own."""
    return generate_password_hash(password, method=hash_method())


@lru_cache(maxsize=4)
def _stand_in(method: str) -> str:
    """A hash of a random password: what a login of a missing user is checked against."""
    return generate_password_hash(secrets.token_hex(16), method=method)


def check_password(user: User | None, password: str) -> bool:
    """Tell whether `password` logs `user` in; a missing or inactive user costs the same hash check.

    Without the stand-in check a missing user would answer at once and a real one after the hash:
    the time of the answer would tell which user names exist.
    """
    if user is None or not user.active:
        check_password_hash(_stand_in(hash_method()), password)
        return False
    return check_password_hash(user.password_hash, password)


def check_new_password(user: User, new: str, repeat: str | None = None) -> None:
    """Refuse a new password that is too short, is the user name, or was not typed the same twice."""
    if len(new) < MIN_LENGTH:
        raise PasswordRefused("new", ErrorCode.PASSWORD_TOO_SHORT, min_length=MIN_LENGTH)
    if new.strip().casefold() == user.username.casefold():
        raise PasswordRefused("new", ErrorCode.PASSWORD_IS_USERNAME)
    if repeat is not None and new != repeat:
        raise PasswordRefused("repeat", ErrorCode.PASSWORD_MISMATCH)


def change_password(session: Session, user: User, current: str, new: str, repeat: str) -> int:
    """Set the password `user` chose after checking the current one; end all their sessions.

    Returns how many live login sessions were ended (the caller opens a new one for itself).
    """
    if not check_password(user, current):
        raise PasswordRefused("current", ErrorCode.PASSWORD_WRONG)
    if new == current:
        raise PasswordRefused("new", ErrorCode.PASSWORD_UNCHANGED)
    check_new_password(user, new, repeat)
    return set_password(session, user, new, actor_id=user.id)


def set_password(session: Session, user: User, new: str, actor_id: int | None = None) -> int:
    """Set `user`'s password (checked as a new one) and end all their login sessions; how many."""
    check_new_password(user, new)
    user.password_hash = hash_password(new)
    ended = login_sessions.end_all(session, user.id)
    session.flush()
    record_event(session.connection(), actor_id, "password_changed", user.username, {"sessions_ended": ended})
    return ended
