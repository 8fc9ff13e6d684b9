from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from doorpin.domain.stays import StayStatus
from doorpin.entrypoints.api.schemas.common import Id, StrictInput, When


class GuestIn(StrictInput):
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, max_length=40, pattern=r"^\+?[0-9 ()./-]{3,39}$")
    language: str | None = Field(
        default=None, min_length=2, max_length=16, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
    )


class ReservationCreate(StrictInput):
    property_id: Id
    external_ref: str | None = Field(default=None, min_length=1, max_length=200)
    unit_id: Id | None = None
    status: StayStatus = StayStatus.CONFIRMED
    check_in: When
    check_out: When
    guest: GuestIn | None = None


class ReservationUpdate(StrictInput):
    external_ref: str | None = Field(default=None, min_length=1, max_length=200)
    unit_id: Id | None = None
    status: StayStatus | None = None
    check_in: When | None = None
    check_out: When | None = None
    guest: GuestIn | None = None


class GuestOut(BaseModel):
    name: str | None
    email: str | None
    phone: str | None
    language: str | None


class LockAccessOut(BaseModel):
    lock_id: str
    state: Literal["pending", "programmed", "removing", "removed", "failed"]
    error: dict[str, str] | None
    updated_at: str


class AccessWarningOut(BaseModel):
    code: str
    message: str


class AccessOut(BaseModel):
    pin: str | None = Field(description="Masked (••••••) unless the key has the pins or door_provider scope.")
    pin_source: Literal["generated", "custom"] | None
    state: Literal["pending", "scheduled", "active", "expired", "revoked"]
    valid_from: str | None
    valid_until: str | None
    shared_with: list[str]
    locks: list[LockAccessOut]
    warnings: list[AccessWarningOut]
    error: dict[str, str] | None = Field(description="Why no PIN could be issued yet, e.g. code_space_exhausted.")
    first_used_at: str | None = Field(
        default=None, description="When the PIN first opened a door (the lock's clock); null until then."
    )


class PinSet(StrictInput):
    pin: str = Field(max_length=16, description='The PIN to set, or "******" to generate one.', examples=["047291"])


class ReservationOut(BaseModel):
    id: str
    property_id: str
    external_ref: str | None
    unit_id: str | None
    status: Literal["CONFIRMED", "IN_HOUSE", "CHECKED_OUT", "CANCELED", "NO_SHOW"]
    check_in: str
    check_out: str
    guest: GuestOut
    access: AccessOut | None
    created_at: str
    updated_at: str
