"""Outgoing webhooks: what a subscription may say, what a delivery's body is, and when to retry.

Pure rules, no I/O, no clock: the caller passes `now`. The HTTP side lives in
`adapters/webhook_http.py`, the job in `services/webhook_delivery.py`.
"""

from __future__ import annotations

import ipaddress
import json
import random
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from doorpin.domain.errors import DomainError
from doorpin.domain.event_types import EVENT_TYPES, is_pattern

MAX_URL_LENGTH = 2000
SECRET_PREFIX = "whsec_"  # noqa: S105 - a public marker, not a secret
MAX_RETRY_DELAY = timedelta(hours=6)
MAX_ERROR_LENGTH = 200
JITTER = 0.2


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"  # failing too long: nothing is sent until it is enabled again
    DELETED = "deleted"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    CANCELED = "canceled"


# An ASCII host name (labels of 1-63 characters), an IPv4 or a bracketed IPv6 address.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_NAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*\.?$")


def _bad_url(message: str) -> DomainError:
    return DomainError("validation_error", f"url: {message}", "url")


def check_url(url: str) -> str:
    """An http(s) URL with a host and no credentials, at most 2000 printable ASCII characters."""
    if not url or len(url) > MAX_URL_LENGTH:
        raise _bad_url(f"must be 1-{MAX_URL_LENGTH} characters")
    if not url.isascii() or not url.isprintable() or " " in url:
        raise _bad_url("must be printable ASCII without spaces (percent-encode the rest)")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a port out of range
    except ValueError:
        raise _bad_url("is not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise _bad_url("must start with http:// or https://")
    if "@" in parts.netloc:
        raise _bad_url("must not carry a user name or password: the signature authenticates doorpin")
    host = parts.hostname or ""
    if parts.netloc.startswith("["):
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise _bad_url("the bracketed host is not an IPv6 address") from None
    elif not _HOST_NAME.match(host):
        raise _bad_url("needs a host name or IP address")
    return url


def check_events(events: Sequence[str]) -> list[str]:
    """The subscription's patterns, each an event type, `family.*` or `*`; duplicates dropped."""
    if not events:
        raise DomainError("validation_error", "events: list at least one event type", "events")
    for value in events:
        if not is_pattern(value):
            raise DomainError(
                "validation_error",
                f"events: {value[:64]!r} is not an event type, a family such as 'access.*', or '*'; "
                f"types are: {', '.join(EVENT_TYPES)}",
                "events",
            )
    return list(dict.fromkeys(events))


def event_body(event_id: str, event_type: str, created_at: datetime, data: Mapping[str, Any]) -> bytes:
    """The exact bytes POSTed: keys sorted, no spaces, ASCII only, so a retry sends the same bytes."""
    body = {"id": event_id, "type": event_type, "created_at": created_at.isoformat(), "data": data}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def retry_delay(failed_attempts: int, base_seconds: float, rng: random.Random | None = None) -> timedelta:
    """After the n-th failed attempt: base * 2^(n-1), capped at 6 h, minus up to 20 % jitter.

    The jitter spreads the retries of deliveries that failed together (a receiver that was down);
    taking it off, never adding it, keeps the cap a cap and each delay longer than the one before.
    """
    rng = rng or random.Random()  # noqa: S311 - jitter, not security
    nominal = min(MAX_RETRY_DELAY.total_seconds(), base_seconds * 2 ** min(max(failed_attempts, 1) - 1, 40))
    return timedelta(seconds=nominal * rng.uniform(1 - JITTER, 1))


def should_disable(failing_since: datetime | None, now: datetime, disable_after: timedelta) -> bool:
    """A subscription whose deliveries have failed, with no success since, for `disable_after`."""
    return failing_since is not None and now - failing_since >= disable_after


def short_error(text: str) -> str:
    """What is kept of an error: one line of printable text, at most 200 characters."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    return cleaned if len(cleaned) <= MAX_ERROR_LENGTH else cleaned[: MAX_ERROR_LENGTH - 1] + "…"
