"""Which messages a stay's guest must get after a change, written to the delivery outbox.

Called in the same transaction as the change. Content is rendered when a message is sent, so
a scheduled pre-arrival message always carries the current PIN: a PIN or date change before
it goes out needs no extra message. After it went out, a change sends `pin_changed` or
`dates_changed` at once. A canceled stay's scheduled messages are canceled.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorpin.adapters.db.delivery_models import Delivery, GuestToken
from doorpin.adapters.db.models import Property, Reservation
from doorpin.adapters.pin_vault import PinVault
from doorpin.domain.deliveries import Channel, Reason, Status, dedupe_key, pre_arrival_at
from doorpin.domain.stays import LIVE_STATUSES
from doorpin.ids import new_id

GUEST_TOKEN_BYTES = 32  # 256 bits


@dataclass(frozen=True)
class StaySnapshot:
    status: str
    access_code_id: str | None
    check_in: datetime
    check_out: datetime
    unit_id: str | None


def snapshot(stay: Reservation) -> StaySnapshot:
    return StaySnapshot(stay.status, stay.access_code_id, stay.check_in, stay.check_out, stay.unit_id)


def address_for(stay: Reservation, channel: Channel) -> str | None:
    return stay.guest_email if channel == Channel.EMAIL else stay.guest_phone


def deliveries_of(session: Session, stay: Reservation) -> list[Delivery]:
    return list(
        session.scalars(
            select(Delivery)
            .where(Delivery.account_id == stay.account_id, Delivery.reservation_id == stay.id)
            .order_by(Delivery.id)
        )
    )


def new_delivery(
    stay: Reservation, channel: Channel, reason: Reason, at: datetime, now: datetime, requested_by: str | None = None
) -> Delivery:
    return Delivery(
        account_id=stay.account_id,
        id=new_id("dlv"),
        property_id=stay.property_id,
        reservation_id=stay.id,
        channel=channel.value,
        to_address=address_for(stay, channel),
        reason=reason.value,
        status=Status.SCHEDULED.value,
        dedupe_key=dedupe_key(stay.id, channel, reason),
        scheduled_for=at,
        next_attempt_at=at,
        attempts=0,
        requested_by_key_id=requested_by,
        created_at=now,
        updated_at=now,
    )


def channels_of(prop: Property) -> list[Channel]:
    return [Channel(c) for c in prop.delivery.get("channels", ["email"])]


def plan_guest_messages(
    session: Session, vault: PinVault, now: datetime, stay: Reservation, prop: Property, before: StaySnapshot | None
) -> None:
    """Bring the stay's outbox in line with the change from `before` (None: the stay is new)."""
    existing = deliveries_of(session, stay)
    if stay.status not in LIVE_STATUSES:
        for delivery in existing:
            if delivery.status == Status.SCHEDULED.value:
                delivery.status, delivery.next_attempt_at, delivery.updated_at = Status.CANCELED.value, None, now
        return
    if stay.access_code_id is None:
        return  # no PIN yet: the pre-arrival message is planned when one is issued
    ensure_guest_token(session, vault, stay, now)
    send_at = pre_arrival_at(stay.check_in, int(prop.delivery.get("send_before_hours", 48)), now)
    pin_changed = before is not None and before.access_code_id not in (None, stay.access_code_id)
    moved = before is not None and (before.check_in, before.check_out, before.unit_id) != (
        stay.check_in,
        stay.check_out,
        stay.unit_id,
    )
    for channel in channels_of(prop):
        pre = next((d for d in existing if d.channel == channel.value and d.reason == Reason.PRE_ARRIVAL.value), None)
        if pre is None:
            session.add(new_delivery(stay, channel, Reason.PRE_ARRIVAL, send_at, now))
        elif pre.status == Status.SCHEDULED.value:
            pre.scheduled_for = pre.next_attempt_at = send_at
            pre.to_address = address_for(stay, channel)
            pre.updated_at = now
        elif pin_changed:
            session.add(new_delivery(stay, channel, Reason.PIN_CHANGED, now, now))
        elif moved:
            session.add(new_delivery(stay, channel, Reason.DATES_CHANGED, now, now))


def request_resend(
    session: Session,
    vault: PinVault,
    now: datetime,
    stay: Reservation,
    prop: Property,
    channels: list[Channel] | None,
    actor: str,
) -> list[Delivery]:
    ensure_guest_token(session, vault, stay, now)
    created = []
    for channel in channels or channels_of(prop):
        delivery = new_delivery(stay, channel, Reason.RESEND, now, now, requested_by=actor)
        session.add(delivery)
        created.append(delivery)
    session.flush()
    return created


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def ensure_guest_token(session: Session, vault: PinVault, stay: Reservation, now: datetime) -> str:
    """The stay's guest-page token (created once); it expires when the stay does."""
    row = session.get(GuestToken, (stay.account_id, stay.id))
    expires = stay.check_out + timedelta(hours=12)
    if row is None:
        token = secrets.token_urlsafe(GUEST_TOKEN_BYTES)
        row = GuestToken(
            account_id=stay.account_id,
            reservation_id=stay.id,
            token_hash=token_hash(token),
            token_sealed=vault.seal_text(token, f"guest-token:{stay.id}"),
            expires_at=expires,
            created_at=now,
        )
        session.add(row)
        return token
    row.expires_at = expires
    return vault.open_text(row.token_sealed, f"guest-token:{stay.id}")
