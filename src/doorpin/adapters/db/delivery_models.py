"""Guest deliveries (an outbox) and guest-page tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from doorpin.adapters.db.models import ID, Base


class Delivery(Base):
    """One message to a guest, written in the same transaction as the change that causes it."""

    __tablename__ = "deliveries"
    __table_args__ = (
        ForeignKeyConstraint(["account_id", "reservation_id"], ["reservations.account_id", "reservations.id"]),
        UniqueConstraint("account_id", "dedupe_key", name="uq_deliveries_dedupe_key"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
        Index("ix_deliveries_reservation", "account_id", "reservation_id"),
        Index("ix_deliveries_provider_message", "provider_message_id"),
    )

    account_id: Mapped[str] = mapped_column(ID, primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    property_id: Mapped[str] = mapped_column(ID)
    reservation_id: Mapped[str] = mapped_column(ID)
    channel: Mapped[str] = mapped_column(String(16))
    to_address: Mapped[str | None] = mapped_column(String(320))
    reason: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    dedupe_key: Mapped[str | None] = mapped_column(String(120))
    scheduled_for: Mapped[datetime]
    next_attempt_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    provider_message_id: Mapped[str | None] = mapped_column(String(120))
    requested_by_key_id: Mapped[str | None] = mapped_column(ID)
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class GuestToken(Base):
    """The secret in a guest page link. Looked up by HMAC; kept sealed so messages can carry it."""

    __tablename__ = "guest_tokens"
    __table_args__ = (
        ForeignKeyConstraint(["account_id", "reservation_id"], ["reservations.account_id", "reservations.id"]),
        UniqueConstraint("token_hash", name="uq_guest_tokens_token_hash"),
        Index("ix_guest_tokens_reservation", "account_id", "reservation_id"),
    )

    account_id: Mapped[str] = mapped_column(ID, primary_key=True)
    reservation_id: Mapped[str] = mapped_column(ID, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    token_sealed: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime]
