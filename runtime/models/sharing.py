"""Sharing: grants of data elements to departments, and changes proposed to an element's owner."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String, true
from sqlalchemy.orm import Mapped, mapped_column

from runtime.models.base import Base, BigId, utcnow


class Grant(Base):
    """An application (按需申请) for elements of one ledger, and the grant it becomes.

    One application goes to one owner: elements of several owners are applied for separately.
    The owner approves it (possibly narrowed: fewer elements, fewer townships, an earlier expiry),
    or refuses it with a reason; a grant in force may be revoked. A grant lets its grantee read
    its elements (in clear, or masked when not `in_clear`), within its townships, from
    `starts_on` until `granted_expires_on` included.
    """

    __tablename__ = "grants"
    __table_args__ = (
        Index("ix_grants_grantee", "grantee_id", "status"),
        Index("ix_grants_owner", "owner_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The department that applies, and reads once granted.
    grantee_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    #: The department that owns the elements and decides; None: an administrator decides.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    ledger: Mapped[str] = mapped_column(String(40))
    #: Element codes applied for.
    elements: Mapped[list[str]] = mapped_column(JSON)
    #: Township codes applied for; None: the whole district.
    townships: Mapped[list[str] | None] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(String(500))
    starts_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    #: pending, granted, refused, revoked or withdrawn (an expired grant stays `granted`).
    status: Mapped[str] = mapped_column(String(12), default="pending")
    #: What was granted: the elements, townships (None: district) and expiry, as narrowed.
    granted_elements: Mapped[list[str] | None] = mapped_column(JSON)
    granted_townships: Mapped[list[str] | None] = mapped_column(JSON)
    granted_expires_on: Mapped[date | None] = mapped_column(Date)
    #: In clear (the default), or access only: the values masked by their sensitivity, as
    #: 无条件共享 ones are (a 有条件共享 phone a department may see as 138****5678).
    in_clear: Mapped[bool] = mapped_column(default=True, server_default=true())
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: Why it was refused or narrowed.
    reason: Mapped[str] = mapped_column(String(500), default="")
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoke_reason: Mapped[str] = mapped_column(String(500), default="")


class ProposedChange(Base):
    """A change to an element by someone other than its owner, waiting for the owner to decide.

    The ledger value changes only when the owner accepts; the record's version then names both the
    proposer (`source`, `proposed_by`) and the owner who accepted it.
    """

    __tablename__ = "proposed_changes"
    __table_args__ = (
        Index("ix_proposed_changes_owner", "owner_id", "status"),
        Index("ix_proposed_changes_record", "record_id", "status"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    ledger: Mapped[str] = mapped_column(String(40))
    #: The ledger field (property name) and the element code it is bound to.
    field: Mapped[str] = mapped_column(String(60))
    element: Mapped[str] = mapped_column(String(80))
    #: The owning department that decides; None: an administrator decides.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    #: The value the proposer saw (the ledger's when proposed; for a write-back conflict, the value
    #: the township based its change on, which the ledger no longer held), and the proposed value.
    old_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    #: The record's version the change was proposed against.
    base_version: Mapped[int] = mapped_column(Integer)
    #: visit, edit, writeback or conflict (a write-back conflict), as record versions name sources.
    source: Mapped[str] = mapped_column(String(20))
    source_ref: Mapped[str | None] = mapped_column(String(200))
    #: What the proposer gives as evidence (a note, a document number).
    evidence: Mapped[str] = mapped_column(String(500), default="")
    proposed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: pending, accepted, rejected, superseded (a later proposal for the same field replaced it) or
    #: withdrawn (the task that proposed it was submitted again without it).
    status: Mapped[str] = mapped_column(String(12), default="pending")
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    reason: Mapped[str] = mapped_column(String(500), default="")
