"""Guest deliveries: when a stay's code must be (re)sent, and to where.

Pure rules. A delivery is an outbox row; its content is rendered when it is sent, so a message
always carries the stay's current PIN, doors and window.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WHATSAPP = "whatsapp"


class Reason(StrEnum):
    PRE_ARRIVAL = "pre_arrival"
    PIN_CHANGED = "pin_changed"
    DATES_CHANGED = "dates_changed"
    RESEND = "resend"


class Status(StrEnum):
    SCHEDULED = "scheduled"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELED = "canceled"


OPEN_STATUSES = frozenset({Status.SCHEDULED})
DONE_STATUSES = frozenset({Status.SENT, Status.DELIVERED})


def pre_arrival_at(check_in: datetime, send_before_hours: int, now: datetime) -> datetime:
    """`send_before_hours` before check-in, or now when the stay was booked later than that."""
    return max(now, check_in - timedelta(hours=send_before_hours))


def retry_delay(attempts: int) -> timedelta:
    """1 min, 2, 4, ... capped at 1 h between attempts of a failing send."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


MAX_ATTEMPTS = 8


def dedupe_key(reservation_id: str, channel: Channel, reason: Reason) -> str | None:
    """Never two pre-arrival messages for one stay and channel; other reasons may repeat."""
    if reason == Reason.PRE_ARRIVAL:
        return f"pre_arrival:{reservation_id}:{channel.value}"
    return None
