"""Org units, departments, users and their login sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    DateTime,
    ForeignKey,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from runtime.models.base import Base, utcnow


class OrgUnit(Base):
    """A district, township (镇街) or village/community (村/社区)."""

    __tablename__ = "org_units"
    #: Administrative code: 6 digits district, 9 township, 12 village.
    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    #: district, township or village.
    level: Mapped[str] = mapped_column(String(10))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("org_units.code"), index=True)
    #: 街道, 镇, 社区, 村.
    kind: Mapped[str] = mapped_column(String(10), default="")


class Department(Base):
    """A district department (区民政局, 区残联 …) that owns reports and data elements."""

    __tablename__ = "departments"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(60))


class User(Base):
    """A person who logs in, with one role, bound to an org unit or a department."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(60))
    password_hash: Mapped[str] = mapped_column(String(255))
    #: admin, keeper, department, reviewer, township, village, leader.
    role: Mapped[str] = mapped_column(String(20))
    org_unit_code: Mapped[str | None] = mapped_column(ForeignKey("org_units.code"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class LoginSession(Base):
    """One login of a user in one browser: live until logged out, revoked, idle or too old.

    The browser holds a random token in its signed session cookie; the row is keyed by the token's
    SHA-256, so reading this table gives no token that could be replayed.
    """

    __tablename__ = "login_sessions"
    #: SHA-256 (hex) of the token in the session cookie.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: Last request seen, kept to the minute (a write at most once a minute per session).
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: Set by logout, a password change or an administrator; the session is dead from then on.
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: Client address and browser at login, for the audit of who was logged in from where.
    address: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")
