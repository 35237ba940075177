"""The exchange API's state: client systems, their tokens, remembered requests, and the feed log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from runtime.models.base import Base, BigId, utcnow


class ApiClient(Base):
    """A client system (对接系统): an upstream platform or a department's business system.

    It reads and writes as its department: the department's grants and owned elements decide
    what it may pull and push, exactly as for the department's people.
    """

    __tablename__ = "api_clients"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    #: The catalog's upstream system it is (`departments.json` systems), if any: the elements
    #: whose `source` names it are the ones it is expected to keep fresh.
    system: Mapped[str | None] = mapped_column(String(100))
    #: Who to call when its feed is late: a name and a phone or mail address.
    contact: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ApiToken(Base):
    """A bearer token of a client, stored as its SHA-256: the token itself is shown once."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_client", "client_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_clients.id"))
    #: The token's first characters (`ybt_1a2b3c4d`), to tell tokens apart on the page.
    prefix: Mapped[str] = mapped_column(String(16))
    #: Hex SHA-256 of the whole token.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ApiRequest(Base):
    """A request sent with an Idempotency-Key: a retry with the same key gets the first answer."""

    __tablename__ = "api_requests"
    __table_args__ = (UniqueConstraint("client_id", "key"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_clients.id"))
    key: Mapped[str] = mapped_column(String(200))
    #: Method, path and query, and the SHA-256 of the body: the same key with another request is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    #: The first answer: HTTP status and JSON body (null while it is still being worked on).
    status: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class FeedEvent(Base):
    """One push or pull of a client on one ledger: what the feeds page and freshness read."""

    __tablename__ = "feed_events"
    __table_args__ = (
        Index("ix_feed_events_client", "client_id", "ledger", "at"),
        Index("ix_feed_events_ledger", "ledger", "at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_clients.id"))
    ledger: Mapped[str] = mapped_column(String(40))
    #: push, pull (records) or changes (the changes cursor).
    kind: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    #: Values proposed to other departments, owners of elements the client does not own.
    proposed: Mapped[int] = mapped_column(Integer, default=0)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Element codes the push carried values of (freshness is kept per element).
    elements: Mapped[list[str] | None] = mapped_column(JSON)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"))
