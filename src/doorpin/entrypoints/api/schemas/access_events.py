from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from doorpin.entrypoints.api.schemas.common import StrictInput

Result = Literal["granted", "denied", "lockout"]


class CredentialOut(BaseModel):
    type: Literal["access_code"]
    id: str | None = Field(description="The access code keyed in; null when doorpin does not know the digits.")


class AccessEventOut(BaseModel):
    id: str
    occurred_at: str = Field(description="When it happened, by the lock's clock.")
    received_at: str = Field(description="When doorpin learned of it.")
    property_id: str
    lock_id: str
    provider_event_id: str = Field(description="The lock's or provider's own id of the event.")
    result: Result
    reason: str | None = Field(description="The lock's own word for it, e.g. unknown_code, outside_window.")
    credential: CredentialOut
    reservation_id: str | None
    access_code_id: str | None
    attribution: Literal["in_window", "outside_window", "revoked", "expired", "unknown"]
    source: Literal["lock", "provider_webhook", "poll"]


class ProviderEndpointCreate(StrictInput):
    provider: str = Field(min_length=1, max_length=32, examples=["keypad"])


class ProviderEndpointOut(BaseModel):
    id: str
    provider: str
    url: str = Field(description="Where the provider POSTs its events (no API key; signed).")
    created_at: datetime
    revoked_at: datetime | None


class ProviderEndpointCreated(ProviderEndpointOut):
    secret: str = Field(description="Signs the provider's requests. Shown only in this response.")


class PushedEventIn(BaseModel):
    """One key-in as the provider reports it. Fields doorpin does not know are ignored."""

    model_config = ConfigDict(extra="ignore")

    lock_id: str | None = Field(default=None, min_length=1, max_length=40, description="doorpin's lock id, or ...")
    device_id: str | None = Field(default=None, min_length=1, max_length=200, description="... the provider's.")
    id: str = Field(
        min_length=1, max_length=200, description="The provider's event id: the same event twice is stored once."
    )
    occurred_at: datetime = Field(description="ISO 8601; without an offset it is read as UTC.")
    result: Result
    code_ref: str | None = Field(default=None, max_length=200, description="The ref doorpin gave the code, if known.")
    pin: str | None = Field(default=None, max_length=32, description="The digits entered; never stored, only matched.")
    reason: str | None = Field(default=None, max_length=64)

    @field_validator("occurred_at")
    @classmethod
    def _an_instant(cls, value: datetime) -> datetime:
        if not 1970 <= value.year < 9000:
            raise ValueError("the year must be between 1970 and 8999")
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

    @model_validator(mode="after")
    def _names_a_lock(self) -> PushedEventIn:
        if (self.lock_id is None) == (self.device_id is None):
            raise ValueError("give exactly one of lock_id and device_id")
        return self


class ProviderPushIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    events: list[PushedEventIn] = Field(max_length=1000)


class RejectedEventOut(BaseModel):
    index: int
    id: str
    code: str = Field(examples=["unknown_lock"])
    message: str


class PushResultOut(BaseModel):
    received: int
    stored: int = Field(description="New events stored by this request.")
    duplicates: int = Field(description="Events doorpin already had (the same lock and id).")
    rejected: list[RejectedEventOut] = Field(description="Events not stored, each with why.")
