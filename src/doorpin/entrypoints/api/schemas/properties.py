from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, Field

from doorpin.entrypoints.api.schemas.common import Id, Name, StrictInput

DoorProvider = Literal["keypad", "offline_pin", "timecode", "ttlock"]
TimeOfDay = str  # "HH:MM"; validated by the domain so the error names the field
Channel = Literal["email", "sms", "whatsapp"]


def _distinct(channels: list[str]) -> list[str]:
    if len(set(channels)) != len(channels):
        raise ValueError("each channel may be listed once")
    return channels


# A channel listed twice planned two identical pre-arrival messages, which the outbox refused (500).
Channels = Annotated[list[Channel], AfterValidator(_distinct), Field(json_schema_extra={"uniqueItems": True})]
# Digits a lock accepts in one code: PINs are 4-8, offline timecodes 8-10.
CodeLength = Annotated[int, Field(ge=4, le=12)]


class CodePolicyIn(StrictInput):
    length: int | None = Field(default=None, ge=4, le=8)
    pin_scope: Literal["reservation", "unit"] | None = None
    reuse_cooldown_hours: int | None = Field(default=None, ge=0, le=8760)
    weak_pins: Literal["reject", "warn"] | None = None
    activate_before_minutes: int | None = Field(default=None, ge=0, le=1440)
    expire_after_minutes: int | None = Field(default=None, ge=0, le=1440)


class DeliveryIn(StrictInput):
    send_before_hours: int | None = Field(default=None, ge=0, le=720)
    channels: Channels | None = Field(default=None, max_length=3)
    language: str | None = Field(
        default=None, min_length=2, max_length=16, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
    )


class PropertyCreate(StrictInput):
    name: Name
    timezone: str = Field(max_length=64, examples=["Europe/Berlin"])
    door_provider: DoorProvider = "keypad"
    check_in_time: TimeOfDay = Field(default="15:00", max_length=5)
    check_out_time: TimeOfDay = Field(default="11:00", max_length=5)
    code_policy: CodePolicyIn | None = None
    delivery: DeliveryIn | None = None


class PropertyUpdate(StrictInput):
    name: Name | None = None
    timezone: str | None = Field(default=None, max_length=64)
    door_provider: DoorProvider | None = None
    check_in_time: TimeOfDay | None = Field(default=None, max_length=5)
    check_out_time: TimeOfDay | None = Field(default=None, max_length=5)
    code_policy: CodePolicyIn | None = None
    delivery: DeliveryIn | None = None


class CodePolicyOut(BaseModel):
    length: int
    pin_scope: Literal["reservation", "unit"]
    reuse_cooldown_hours: int
    weak_pins: Literal["reject", "warn"]
    activate_before_minutes: int
    expire_after_minutes: int


class DeliveryOut(BaseModel):
    send_before_hours: int
    channels: list[Channel]
    language: str


class PropertyOut(BaseModel):
    id: str
    name: str
    timezone: str
    door_provider: DoorProvider
    check_in_time: str
    check_out_time: str
    code_policy: CodePolicyOut
    delivery: DeliveryOut
    created_at: str
    updated_at: str


class UnitCreate(StrictInput):
    name: Name
    lock_ids: list[Id] = Field(default_factory=list, max_length=100)


class UnitUpdate(StrictInput):
    name: Name | None = None
    lock_ids: list[Id] | None = Field(default=None, max_length=100)


class UnitOut(BaseModel):
    id: str
    property_id: str
    name: str
    lock_ids: list[str]
    created_at: str
    updated_at: str


class CapabilitiesIn(StrictInput):
    code_lengths: list[CodeLength] | None = Field(default=None, min_length=1, max_length=9)
    max_codes: int | None = Field(default=None, ge=1, le=100_000)
    native_scheduling: bool | None = None
    unique_prefix_len: int | None = Field(default=None, ge=1, le=8)
    offline: bool | None = None


class CapabilitiesOut(BaseModel):
    code_lengths: list[int]
    max_codes: int
    native_scheduling: bool
    unique_prefix_len: int | None
    offline: bool


class LockHealth(BaseModel):
    status: Literal["unknown", "ok", "degraded", "unreachable"] = Field(
        description="unknown: never contacted; degraded: recent failures; unreachable: 3+ failures in a row."
    )
    last_contact_at: datetime | None
    pending_commands: int
    failures: int


class CodeSpaceOut(BaseModel):
    active_codes: int = Field(description="Codes live on this lock now.")
    code_length: int
    guess_probability: float = Field(description="Chance that one random guess opens the door: active / 10^length.")
    verdict: Literal["ok", "warn", "refuse"]


# An ASCII host name (labels of 1-63 characters), an IPv4 or a bracketed IPv6 address, an optional
# port and path. A looser pattern let through hosts no resolver accepts (a label over 63
# characters, characters IDNA refuses), which failed deep inside the HTTP client with a 500.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"


def _parsable_url(value: str) -> str:
    """The pattern admits `[…]` hosts by their characters; only a real IPv6 address will do."""
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises on a port out of range
    except ValueError:
        raise ValueError("not a usable URL") from None
    if parts.hostname and value.split("//", 1)[1].startswith("["):
        try:
            ipaddress.IPv6Address(parts.hostname)
        except ValueError:
            raise ValueError("the bracketed host is not an IPv6 address") from None
    return value


HttpUrl = Annotated[
    str,
    Field(
        max_length=500,
        pattern=rf"^https?://(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{{1,5}})?(?:[/?#][!-~]*)?$",
    ),
    AfterValidator(_parsable_url),
]


class LockSettingsIn(StrictInput):
    """How doorpin reaches the lock; provider-specific."""

    device_id: str | None = Field(
        default=None, min_length=1, max_length=100, description="The provider's id of the lock."
    )
    hub_url: HttpUrl | None = Field(default=None, description="keypad: the hub that drives this lock.")
    webhook_url: HttpUrl | None = Field(default=None, description="offline_pin: where PIN changes are POSTed.")
    webhook_secret: str | None = Field(default=None, min_length=16, max_length=200, description="Signs those POSTs.")


class LockSettingsOut(BaseModel):
    device_id: str | None = None
    hub_url: str | None = None
    webhook_url: str | None = None
    webhook_secret_set: bool = False


class LockCreate(StrictInput):
    name: Name
    provider: DoorProvider | None = None
    unit_ids: list[Id] = Field(default_factory=list, max_length=1000)
    capabilities: CapabilitiesIn | None = None
    settings: LockSettingsIn | None = None


class LockUpdate(StrictInput):
    name: Name | None = None
    unit_ids: list[Id] | None = Field(default=None, max_length=1000)
    capabilities: CapabilitiesIn | None = None
    settings: LockSettingsIn | None = None


class LockOut(BaseModel):
    id: str
    property_id: str
    name: str
    provider: DoorProvider
    unit_ids: list[str] = Field(description="Empty for a common door, which every stay of the property opens.")
    capabilities: CapabilitiesOut
    settings: LockSettingsOut
    health: LockHealth
    code_space: CodeSpaceOut
    created_at: str
    updated_at: str
