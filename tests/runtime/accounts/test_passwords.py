"""Passwords: a salted hash per user; checks and changes."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from runtime.accounts.passwords import PasswordRefused, check_password, set_password
from runtime.models import User


def test_no_two_users_share_a_password_hash(engine):
    """The demo users share a password, yet each hash has its own salt."""
    with engine.connect() as conn:
        hashes = conn.scalars(select(User.password_hash)).all()
    assert len(hashes) > 30 and len(set(hashes)) == len(hashes)


def test_set_password_checks_the_new_one_and_keeps_it_salted(engine):
    """A short password is refused; two users given the same one still get different hashes."""
    with Session(engine) as session, session.begin():
        keeper, admin = (
            session.scalar(select(User).where(User.username == name)) for name in ("keeper", "admin")
        )
        with pytest.raises(PasswordRefused) as refused:
            set_password(session, keeper, "kurz")
        assert refused.value.field == "new" and refused.value.message == "新密码至少需要 8 个字符"
        for user in (keeper, admin):
            set_password(session, user, "gleiches-passwort")
        assert keeper.password_hash != admin.password_hash
        assert check_password(keeper, "gleiches-passwort") and not check_password(keeper, "yibiaotong")
        assert not check_password(None, "gleiches-passwort")
