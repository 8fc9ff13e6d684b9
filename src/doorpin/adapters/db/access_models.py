"""Codes, where they are live, and the trail they leave: access codes, lock claims, alerts, audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKeyConstraint, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from doorpin.adapters.db.models import ID, Base


class AccessCode(Base):
    """One PIN value and who holds it: a stay, a unit (shared by its stays), or staff and the like.

    The PIN is stored only encrypted (AES-GCM); `pin_fingerprint` (HMAC) serves equality checks.
    """

    __tablename__ = "access_codes"
    __table_args__ = (
        ForeignKeyConstraint(["account_id", "property_id"], ["properties.account_id", "properties.id"]),
        Index("ix_access_codes_property", "account_id", "property_id", "kind"),
        Index("ix_access_codes_unit", "account_id", "unit_id"),
        Index("ix_access_codes_reservation", "account_id", "reservation_id"),
    )

    account_id: Mapped[str] = mapped_column(ID, primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    property_id: Mapped[str] = mapped_column(ID)
    kind: Mapped[str] = mapped_column(String(16))  # guest | staff | cleaning | ...
    holder: Mapped[str] = mapped_column(String(16))  # reservation | unit | code
    reservation_id: Mapped[str | None] = mapped_column(ID)
    unit_id: Mapped[str | None] = mapped_column(ID)
    name: Mapped[str | None] = mapped_column(String(200))
    pin_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    pin_fingerprint: Mapped[str] = mapped_column(String(64))
    pin_length: Mapped[int] = mapped_column(Integer)
    pin_source: Mapped[str] = mapped_column(String(16))  # generated | custom
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    schedule: Mapped[list[Any] | None]
    rotate_every_days: Mapped[int | None] = mapped_column(Integer)
    rotated_from_id: Mapped[str | None] = mapped_column(ID)
    rotates_at: Mapped[datetime | None]  # when a shared code is next replaced by a fresh one
    lock_ids: Mapped[list[Any] | None]  # doors asked for by lock (non-guest codes)
    unit_ids: Mapped[list[Any] | None]  # doors asked for by unit (non-guest codes)
    revoked_at: Mapped[datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(String(64))
    first_used_at: Mapped[datetime | None]  # the first granted key-in with this code
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class LockCode(Base):
    """A code's claim on one lock for one window: the clash guard and the lock's desired state.

    Two claims clash when they share the lock and `code_fingerprint` (the whole PIN, or its prefix
    on locks with `unique_prefix_len`) and their ranges `[valid_from, hold_until)` overlap, where
    `hold_until` is `valid_until` plus the property's reuse cooldown (NULL: open-ended). PostgreSQL
    enforces this with an exclusion constraint; SQLite serializes allocation with BEGIN IMMEDIATE.
    A revoked claim keeps holding its code through the cooldown, so a code a canceled guest knows
    is not handed to the next guest on the same door.
    """

    __tablename__ = "lock_codes"
    __table_args__ = (
        ForeignKeyConstraint(["account_id", "access_code_id"], ["access_codes.account_id", "access_codes.id"]),
        ForeignKeyConstraint(["account_id", "lock_id"], ["locks.account_id", "locks.id"]),
        Index("ix_lock_codes_lock", "account_id", "lock_id", "code_fingerprint"),
        Index("ix_lock_codes_code", "account_id", "access_code_id"),
        Index("ix_lock_codes_reservation", "account_id", "reservation_id"),
        Index("ix_lock_codes_sync_due", "sync_due_at"),
    )

    account_id: Mapped[str] = mapped_column(ID, primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    access_code_id: Mapped[str] = mapped_column(ID)
    lock_id: Mapped[str] = mapped_column(ID)
    reservation_id: Mapped[str | None] = mapped_column(ID)
    code_fingerprint: Mapped[str] = mapped_column(String(64))
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime | None]
    hold_until: Mapped[datetime | None]
    desired: Mapped[str] = mapped_column(String(8))  # present | absent
    state: Mapped[str] = mapped_column(String(16))  # pending | programmed | removing | removed | failed
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Lock sync: writers set `sync_due_at` to now whenever the claim changes; the reconciler
    # owns everything else (it decides what to do and reschedules itself).
    sync_due_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    slot: Mapped[int | None] = mapped_column(Integer)
    synced_from: Mapped[datetime | None]
    synced_until: Mapped[datetime | None]
    first_failure_at: Mapped[datetime | None]
    programmed_at: Mapped[datetime | None]
    removed_at: Mapped[datetime | None]


class Alert(Base):
    """Something a person must look at. One open alert per `dedupe_key`."""

    __tablename__ = "alerts"
    __table_args__ = (
        ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        Index("ix_alerts_open", "account_id", "dedupe_key", "closed_at"),
    )

    account_id: Mapped[str] = mapped_column(ID, primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    property_id: Mapped[str | None] = mapped_column(ID)
    kind: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))  # info | warning | critical
    message: Mapped[str] = mapped_column(Text)
    subject_type: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[str | None] = mapped_column(ID)
    dedupe_key: Mapped[str] = mapped_column(String(200))
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class AuditEvent(Base):
    """Append-only: who changed access or saw a PIN, and when. Never holds a PIN."""

    __tablename__ = "audit_events"
    __table_args__ = (
        ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        Index("ix_audit_events_subject", "account_id", "subject_id"),
        Index("ix_audit_events_time", "account_id", "occurred_at"),
    )

    account_id: Mapped[str] = mapped_column(ID, primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    occurred_at: Mapped[datetime]
    actor_key_id: Mapped[str | None] = mapped_column(ID)
    action: Mapped[str] = mapped_column(String(64))
    property_id: Mapped[str | None] = mapped_column(ID)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(ID)
    details: Mapped[dict[str, Any]]
