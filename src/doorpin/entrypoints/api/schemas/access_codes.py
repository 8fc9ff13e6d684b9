from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from doorpin.entrypoints.api.schemas.common import Id, Name, StrictInput, When
from doorpin.entrypoints.api.schemas.reservations import LockAccessOut

Kind = Literal["staff", "cleaning", "maintenance", "technical", "event", "backup", "delivery"]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class ScheduleWindow(StrictInput):
    days: list[Day] = Field(min_length=1, max_length=7)
    from_: str = Field(alias="from", max_length=5, examples=["08:00"])
    to: str = Field(max_length=5, examples=["17:00"])


class AccessCodeCreate(StrictInput):
    property_id: Id
    kind: Kind
    name: Name
    pin: str = Field(default="******", max_length=16, description='"******" (the default) generates a PIN.')
    enabled: bool = True
    lock_ids: list[Id] | None = Field(default=None, max_length=500)
    unit_ids: list[Id] | None = Field(default=None, max_length=500)
    starts_at: When | None = None
    ends_at: When | None = None
    schedule: list[ScheduleWindow] | None = Field(default=None, max_length=28)
    rotate_every_days: int | None = Field(default=None, ge=1, le=365)


class AccessCodeUpdate(StrictInput):
    name: Name | None = None
    pin: str | None = Field(default=None, max_length=16, description="Always refused: pin_immutable.")
    enabled: bool | None = None
    lock_ids: list[Id] | None = Field(default=None, max_length=500)
    unit_ids: list[Id] | None = Field(default=None, max_length=500)
    starts_at: When | None = None
    ends_at: When | None = None
    schedule: list[ScheduleWindow] | None = Field(default=None, max_length=28)
    rotate_every_days: int | None = Field(default=None, ge=1, le=365)


class CodeAccessOut(BaseModel):
    locks: list[LockAccessOut]
    first_used_at: str | None = Field(
        default=None, description="When the code first opened a door (the lock's clock); null until then."
    )


class AccessCodeOut(BaseModel):
    id: str
    property_id: str
    kind: Kind
    name: str
    pin: str = Field(description="Masked (••••••) unless the key has the pins scope.")
    pin_source: Literal["generated", "custom"]
    enabled: bool
    state: Literal["scheduled", "active", "expired", "revoked", "disabled"]
    lock_ids: list[str] | None
    unit_ids: list[str] | None
    starts_at: str | None
    ends_at: str | None
    schedule: list[dict[str, Any]] | None
    rotate_every_days: int | None
    rotates_at: str | None
    rotated_from_id: str | None
    access: CodeAccessOut
    created_at: str
    updated_at: str
