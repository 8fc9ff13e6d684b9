"""The relational model. Every tenant table leads its keys with `account_id`.

Composite keys `(account_id, id)` and composite foreign keys make a row of one account
unreachable from another at the database level, and let a Citus cluster shard by account
later without rewriting the schema.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from doorpin.adapters.db.types import UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID = String(40)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (
        ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        Index("ix_api_keys_id", "id"),
    )

    account_id: Mapped[str] = mapped_column(ID, primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[Any]]
    property_ids: Mapped[list[Any] | None]
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    created_by_key_id: Mapped[str | None] = mapped_column(ID)


class Property(Base):
    __tablename__ = "properties"
    __table_args__ = (ForeignKeyConstraint(["account_id"], ["accounts.id"]),)

    account_id: Mapped[str] = mapped_column(ID, primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    door_provider: Mapped[str] = mapped_column(String(32))
    check_in_time: Mapped[str] = mapped_column(String(5))
    check_out_time: Mapped[str] = mapped_column(String(5))
    code_policy: Mapped[dict[str, Any]]
    delivery: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (
        ForeignKeyConstraint(["account_id", "property_id"], ["properties.account_id", "properties.id"]),
        Index("ix_units_property", "account_id", "property_id"),
    )

    account_id: Mapped[str] = mapped_column(ID, primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    property_id: Mapped[str] = mapped_column(ID)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    lock_links: Mapped[list[UnitLock]] = relationship(
        back_populates="unit",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="UnitLock.lock_id",
        overlaps="unit_links",
    )

    @property
    def lock_ids(self) -> list[str]:
        return [link.lock_id for link in self.lock_links]


class Lock(Base):
    __tablename__ = "locks"
    __table_args__ = (
        ForeignKeyConstraint(["account_id", "property_id"], ["properties.account_id", "properties.id"]),
        Index("ix_locks_property", "account_id", "property_id"),
    )

    account_id: Mapped[str] = mapped_column(ID, primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    property_id: Mapped[str] = mapped_column(ID)
    name: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(32))
    capabilities: Mapped[dict[str, Any]]
    # Provider-specific connection settings (hub URL, device id); never returned with secrets.
    settings: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Health and sync bookkeeping, written by the reconciler.
    last_contact_at: Mapped[datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error_code: Mapped[str | None] = mapped_column(String(64))
    sync_lease_owner: Mapped[str | None] = mapped_column(String(64))
    sync_lease_until: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]

    unit_links: Mapped[list[UnitLock]] = relationship(
        back_populates="lock",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="UnitLock.unit_id",
        overlaps="lock_links",
    )

    @property
    def unit_ids(self) -> list[str]:
        return [link.unit_id for link in self.unit_links]


class UnitLock(Base):
    """A door of a unit. A lock with no unit is a common door (every stay of the property)."""

    __tablename__ = "unit_locks"
    __table_args__ = (
        ForeignKeyConstraint(["account_id", "unit_id"], ["units.account_id", "units.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["account_id", "lock_id"], ["locks.account_id", "locks.id"], ondelete="CASCADE"),
        Index("ix_unit_locks_lock", "account_id", "lock_id"),
    )

    account_id: Mapped[str] = mapped_column(ID, primary_key=True)
    unit_id: Mapped[str] = mapped_column(ID, primary_key=True)
    lock_id: Mapped[str] = mapped_column(ID, primary_key=True)

    unit: Mapped[Unit] = relationship(back_populates="lock_links", overlaps="lock,unit_links")
    lock: Mapped[Lock] = relationship(back_populates="unit_links", overlaps="unit,lock_links")


class Reservation(Base):
    __tablename__ = "reservations"
    __table_args__ = (
        ForeignKeyConstraint(["account_id", "property_id"], ["properties.account_id", "properties.id"]),
        ForeignKeyConstraint(["account_id", "unit_id"], ["units.account_id", "units.id"]),
        UniqueConstraint("account_id", "property_id", "external_ref", name="uq_reservations_external_ref"),
        Index("ix_reservations_property_check_in", "account_id", "property_id", "check_in"),
        Index("ix_reservations_unit", "account_id", "unit_id"),
    )

    account_id: Mapped[str] = mapped_column(ID, primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    property_id: Mapped[str] = mapped_column(ID)
    external_ref: Mapped[str | None] = mapped_column(String(200))
    unit_id: Mapped[str | None] = mapped_column(ID)
    status: Mapped[str] = mapped_column(String(16))
    check_in: Mapped[datetime]
    check_out: Mapped[datetime]
    guest_name: Mapped[str | None] = mapped_column(String(200))
    guest_email: Mapped[str | None] = mapped_column(String(320))
    guest_phone: Mapped[str | None] = mapped_column(String(40))
    guest_language: Mapped[str | None] = mapped_column(String(16))
    # The code this stay opens doors with (its own, or its unit's shared one) and, when it has
    # none, why not: a stay is always stored, even when no code can be issued yet.
    access_code_id: Mapped[str | None] = mapped_column(ID)
    access_error_code: Mapped[str | None] = mapped_column(String(64))
    access_error_message: Mapped[str | None] = mapped_column(Text)
    access_warnings: Mapped[list[Any] | None]
    pin_changed_reason: Mapped[str | None] = mapped_column(String(64))
    first_used_at: Mapped[datetime | None]  # the first granted key-in with this stay's PIN
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)


class IdempotencyRecord(Base):
    """The first response to a POST with an `Idempotency-Key`, stored in the same transaction."""

    __tablename__ = "idempotency_records"
    __table_args__ = (
        ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        Index("ix_idempotency_records_created_at", "created_at"),
    )

    account_id: Mapped[str] = mapped_column(ID, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
