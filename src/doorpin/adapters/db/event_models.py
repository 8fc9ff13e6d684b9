"""What the locks report (access events), how doorpin hears it (poll feeds, push endpoints),
and what doorpin tells integrators (outgoing webhook events, their deliveries and attempts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKeyConstraint, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from doorpin.adapters.db.models import ID, Base


class AccessEvent(Base):
    """One key-in (or card, or app unlock) reported by a lock, attributed to the code it used.

    Deduplicated by the provider's own event id per lock; ordered for people by `occurred_at`
    (the lock's time), whatever order the events arrived in. The digits entered are never
    stored: only their fingerprint, to tie a denied try to a revoked or expired code.
    """

    __tablename__ = "access_events"
    __table_args__ = (
        ForeignKeyConstraint(["account_id", "lock_id"], ["locks.account_id", "locks.id"]),
        UniqueConstraint("account_id", "lock_id", "provider_event_id", name="uq_access_events_provider_event"),
        Index("ix_access_events_reservation", "account_id", "reservation_id", "occurred_at"),
        Index("ix_access_events_lock_time", "account_id", "lock_id", "occurred_at"),
        Index("ix_access_events_code", "account_id", "access_code_id"),
    )

    account_id: Mapped[str] = mapped_column(ID, primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    property_id: Mapped[str] = mapped_column(ID)
    lock_id: Mapped[str] = mapped_column(ID)
    provider_event_id: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(24))  # lock | provider_webhook | poll
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime]
    result: Mapped[str] = mapped_column(String(16))  # granted | denied | lockout
    reason: Mapped[str | None] = mapped_column(String(64))  # as the lock gave it
    # Attribution: which code, claim and stay (or staff code) the entered PIN belongs to, and how
    # the try relates to that code's window: in_window | outside_window | revoked | expired | unknown.
    attribution: Mapped[str] = mapped_column(String(24))
    code_fingerprint: Mapped[str | None] = mapped_column(String(64))
    access_code_id: Mapped[str | None] = mapped_column(ID)
    lock_code_id: Mapped[str | None] = mapped_column(ID)
    reservation_id: Mapped[str | None] = mapped_column(ID)


class LockEventFeed(Base):
    """Where the worker is in a lock's event list (providers that are polled), and who polls it."""

    __tablename__ = "lock_event_feeds"
    __table_args__ = (
        ForeignKeyConstraint(["account_id", "lock_id"], ["locks.account_id", "locks.id"], ondelete="CASCADE"),
        Index("ix_lock_event_feeds_due", "next_poll_at"),
    )

    account_id: Mapped[str] = mapped_column(ID, primary_key=True)
    lock_id: Mapped[str] = mapped_column(ID, primary_key=True)
    cursor: Mapped[str | None] = mapped_column(String(200))
    next_poll_at: Mapped[datetime]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    last_polled_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class ProviderEndpoint(Base):
    """A signed endpoint a door provider (or hub) pushes access events to, one secret each."""

    __tablename__ = "provider_endpoints"
    __table_args__ = (ForeignKeyConstraint(["account_id"], ["accounts.id"]),)

    account_id: Mapped[str] = mapped_column(ID, primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class PushReceipt(Base):
    """A signature already accepted on a push endpoint: the same signed request twice is a replay."""

    __tablename__ = "push_receipts"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "signature_digest", name="uq_push_receipts_signature"),
        Index("ix_push_receipts_received", "received_at"),
    )

    account_id: Mapped[str] = mapped_column(ID, primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    endpoint_id: Mapped[str] = mapped_column(ID)
    signature_digest: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime]


class WebhookSubscription(Base):
    """An integrator's URL and the event types it wants. The secret is kept sealed: it signs."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (
        ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        Index("ix_webhook_subscriptions_status", "account_id", "status"),
    )

    account_id: Mapped[str] = mapped_column(ID, primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    events: Mapped[list[Any]]
    secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16))  # active | disabled | deleted
    created_by_key_id: Mapped[str | None] = mapped_column(ID)
    failing_since: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WebhookEvent(Base):
    """One event told to integrators: the body every subscription gets (a retry sends the same)."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        Index("ix_webhook_events_type", "account_id", "type"),
    )

    account_id: Mapped[str] = mapped_column(ID, primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    property_id: Mapped[str | None] = mapped_column(ID)
    created_at: Mapped[datetime]
    data: Mapped[dict[str, Any]]


class WebhookDelivery(Base):
    """The outbox: one event for one subscription, retried with backoff until a 2xx."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        ForeignKeyConstraint(
            ["account_id", "subscription_id"], ["webhook_subscriptions.account_id", "webhook_subscriptions.id"]
        ),
        ForeignKeyConstraint(["account_id", "event_id"], ["webhook_events.account_id", "webhook_events.id"]),
        UniqueConstraint("account_id", "subscription_id", "event_id", name="uq_webhook_deliveries_event"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_subscription", "account_id", "subscription_id", "id"),
        # Deleting an old event (retention) checks that no delivery still refers to it.
        Index("ix_webhook_deliveries_event", "account_id", "event_id"),
    )

    account_id: Mapped[str] = mapped_column(ID, primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    subscription_id: Mapped[str] = mapped_column(ID)
    event_id: Mapped[str] = mapped_column(ID)
    status: Mapped[str] = mapped_column(String(16))  # pending | delivered | canceled
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class WebhookAttempt(Base):
    """The delivery log: every try, its answer and how long it took."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_delivery", "account_id", "delivery_id"),)

    account_id: Mapped[str] = mapped_column(ID, primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    delivery_id: Mapped[str] = mapped_column(ID)
    subscription_id: Mapped[str] = mapped_column(ID)
    attempted_at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)
