"""Guest addresses: emails checked, phone numbers normalised to E.164.

A bad address is not an exception for the caller to catch somewhere up the stack: it is an
`AddressError` with a stable code (`no_address`, `invalid_address`) that the sending job turns
into a failed delivery with a clear reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import phonenumbers

from doorpin.domain.deliveries import Channel

MAX_EMAIL_LENGTH = 254
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


@dataclass(eq=False)
class AddressError(Exception):
    code: str  # no_address | invalid_address
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def normalize_email(raw: str | None) -> str:
    """`local@domain` with an ASCII (IDNA) domain, or `AddressError`."""
    value = (raw or "").strip()
    if not value:
        raise AddressError("no_address", "the guest has no email address")
    if len(value) > MAX_EMAIL_LENGTH or value.count("@") != 1 or any(c.isspace() or ord(c) < 32 for c in value):
        raise AddressError("invalid_address", "the guest's email address is not a valid address")
    local, domain = value.split("@")
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise AddressError("invalid_address", "the guest's email domain is not a valid domain name") from None
    labels = ascii_domain.split(".")
    if (
        len(local) > 64
        or not _LOCAL.match(local)
        or len(labels) < 2
        or not all(_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise AddressError("invalid_address", "the guest's email address is not a valid address")
    return f"{local}@{ascii_domain}"


@cache
def _regions_by_zone() -> dict[str, str]:
    """IANA zone -> ISO country, from the tz database's zone.tab (shipped by `tzdata`)."""
    text = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    regions: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            parts = line.split("\t")
            if len(parts) >= 3:
                regions[parts[2]] = parts[0]
    return regions


def region_of_timezone(timezone: str) -> str | None:
    """The country of a property's time zone: the region a phone number without `+` is read in."""
    return _regions_by_zone().get(timezone)


def normalize_phone(raw: str | None, default_region: str | None = None) -> str:
    """E.164 (`+351912345678`), or `AddressError`. Numbers without `+` are read in `default_region`."""
    value = (raw or "").strip()
    if not value:
        raise AddressError("no_address", "the guest has no phone number")
    try:
        number = phonenumbers.parse(value, None if value.startswith("+") else default_region)
    except phonenumbers.NumberParseException:
        hint = "" if value.startswith("+") else " (give it with its country code, e.g. +44…)"
        raise AddressError("invalid_address", f"the guest's phone number cannot be read{hint}") from None
    if not phonenumbers.is_valid_number(number):
        raise AddressError("invalid_address", "the guest's phone number is not a valid number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_address(channel: Channel, raw: str | None, default_region: str | None = None) -> str:
    if channel == Channel.EMAIL:
        return normalize_email(raw)
    return normalize_phone(raw, default_region)
