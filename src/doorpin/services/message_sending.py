"""The sending job: due deliveries out to the guests, each outcome recorded.

A pass leases due deliveries (`scheduled`, `next_attempt_at <= now`, no live lease; `FOR UPDATE
SKIP LOCKED` on PostgreSQL, so workers share the work; SQLite's single writer serializes the
lease). Each is then prepared in its own short transaction (the stay must still be live and
hold a PIN; the address is checked; the message is rendered from the stay's current access),
sent OUTSIDE any transaction, and its outcome recorded in another: `sent`; a retry after
`retry_delay` (up to `MAX_ATTEMPTS`, then `failed`); or `failed` at once when retrying cannot
help, with an alert and a `delivery.failed` event. A worker that dies mid-send leaves the lease
to run out, and the message is sent again: at least once, never silently dropped.
Message bodies hold PINs: they are never logged, and error texts are scrubbed of the PIN.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select

from doorpin.adapters.db.delivery_models import Delivery
from doorpin.adapters.db.models import Property, Reservation
from doorpin.adapters.messaging.addresses import AddressError, normalize_address, region_of_timezone
from doorpin.adapters.messaging.base import Message, MessageSender, PermanentFailure, RetryLater, SendOutcome, Sent
from doorpin.bootstrap import AppServices
from doorpin.domain.deliveries import MAX_ATTEMPTS, Channel, Reason, Status, retry_delay
from doorpin.domain.stays import LIVE_STATUSES
from doorpin.services.delivery_failures import GUEST_MESSAGES, NOT_CONFIGURED, fail_delivery
from doorpin.services.guest_messages import address_for, ensure_guest_token
from doorpin.services.message_content import compose, guest_access, guest_page_url
from doorpin.services.message_templates.rendering import TemplateRenderError
from doorpin.services.message_templates.store import DEFAULT_BASE_URL

log = logging.getLogger("doorpin.deliveries")

MASK = "••••••"


@dataclass(frozen=True)
class SendConfig:
    lease: timedelta = timedelta(minutes=5)  # longer than any sender's timeout
    batch: int = 20
    no_pin_recheck: timedelta = timedelta(minutes=15)  # a live stay without a PIN yet


@dataclass(frozen=True)
class _Prepared:
    account_id: str
    delivery_id: str
    message: Message
    pin: str


def callback_url(base_url: str | None, delivery_id: str) -> str:
    return f"{(base_url or DEFAULT_BASE_URL).rstrip('/')}/callbacks/messages/{delivery_id}"


def lease_due_deliveries(app: AppServices, config: SendConfig) -> list[tuple[str, str]]:
    """Lease due deliveries to this pass; returns (account_id, delivery_id) pairs."""
    now = app.clock.now()
    with app.db.transaction() as session:
        query = (
            select(Delivery)
            .where(
                Delivery.status == Status.SCHEDULED.value,
                Delivery.next_attempt_at <= now,
                or_(Delivery.lease_until.is_(None), Delivery.lease_until < now),
            )
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(config.batch)
        )
        if not app.db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        rows = list(session.scalars(query))
        for row in rows:
            row.lease_until = now + config.lease
        return [(row.account_id, row.id) for row in rows]


def _scrub(text: str, pin: str | None) -> str:
    return text.replace(pin, MASK) if pin else text


def _prepare(
    app: AppServices, senders: Mapping[Channel, MessageSender], key: tuple[str, str], config: SendConfig
) -> _Prepared | None:
    """Check and render one leased delivery; None when there is nothing to send (now)."""
    now = app.clock.now()
    with app.db.transaction() as session:
        row = session.get(Delivery, key, with_for_update=True)
        if row is None or row.status != Status.SCHEDULED.value:
            return None
        stay = session.get(Reservation, (row.account_id, row.reservation_id))
        prop = session.get(Property, (row.account_id, row.property_id))
        assert stay is not None
        assert prop is not None
        if stay.status not in LIVE_STATUSES or now >= stay.check_out:
            row.status, row.next_attempt_at, row.lease_until, row.updated_at = Status.CANCELED.value, None, None, now
            row.error_code, row.error_message = "stay_not_live", f"not sent: the stay is {stay.status} or over"
            return None
        access = guest_access(session, app.vault, stay, prop)
        if access is None:  # its PIN is on the way (e.g. the code space was full): look again later
            row.next_attempt_at, row.lease_until, row.updated_at = now + config.no_pin_recheck, None, now
            row.error_code, row.error_message = "no_pin", "waiting: the stay has no PIN yet"
            return None
        channel = Channel(row.channel)
        raw_address = address_for(stay, channel)
        row.to_address = raw_address
        sender = senders.get(channel)
        if sender is None:
            variable = "DOORPIN_SMTP_URL" if channel == Channel.EMAIL else "DOORPIN_SMS_URL"
            fail_delivery(session, row, now, NOT_CONFIGURED, f"no {channel.value} sender is configured ({variable})")
            return None
        try:
            row.to_address = normalize_address(channel, raw_address, region_of_timezone(prop.timezone))
        except AddressError as exc:
            fail_delivery(session, row, now, exc.code, exc.message)
            return None
        token = ensure_guest_token(session, app.vault, stay, now)
        try:
            composed = compose(
                session, prop, stay, access, channel, Reason(row.reason), guest_page_url(app.base_url, token), now
            )
        except TemplateRenderError as exc:
            fail_delivery(
                session, row, now, "template_error", _scrub(f"the message template failed: {exc}", access.pin)
            )
            return None
        row.attempts += 1
        row.updated_at = now
        message = Message(
            channel=channel,
            to=row.to_address,
            text=composed.rendered.text,
            subject=composed.rendered.subject,
            html=composed.rendered.html,
            attachments=composed.attachments,
            status_callback_url=None if channel == Channel.EMAIL else callback_url(app.base_url, row.id),
            reference=row.id,
            sender_name=prop.name,
        )
        return _Prepared(row.account_id, row.id, message, access.pin)


def _send(sender: MessageSender, prepared: _Prepared) -> SendOutcome:
    try:
        return sender.send(prepared.message)
    except Exception as exc:  # a sender bug must not stop the job; its text may quote the message
        log.error(
            "the %s sender raised %s on delivery %s",
            prepared.message.channel.value,
            type(exc).__name__,
            prepared.delivery_id,
        )
        return RetryLater("sender_error", f"the sender failed ({type(exc).__name__})")


def _record(app: AppServices, prepared: _Prepared, outcome: SendOutcome) -> None:
    now = app.clock.now()
    with app.db.transaction() as session:
        row = session.get(Delivery, (prepared.account_id, prepared.delivery_id), with_for_update=True)
        if row is None:
            return
        row.lease_until, row.updated_at = None, now
        if isinstance(outcome, Sent):  # even if canceled meanwhile: it did go out
            row.status, row.sent_at, row.provider_message_id = Status.SENT.value, now, outcome.provider_message_id
            row.next_attempt_at, row.error_code, row.error_message = None, None, None
            GUEST_MESSAGES.labels(row.channel, "sent").inc()
            log.info("delivery %s (%s, %s) sent", row.id, row.channel, row.reason)
            return
        if row.status != Status.SCHEDULED.value:
            return
        message = _scrub(outcome.message, prepared.pin)
        if isinstance(outcome, PermanentFailure):
            fail_delivery(session, row, now, outcome.code, message)
        elif row.attempts >= MAX_ATTEMPTS:
            fail_delivery(session, row, now, outcome.code, f"gave up after {row.attempts} attempts: {message}")
        else:
            row.next_attempt_at = now + retry_delay(row.attempts)
            row.error_code, row.error_message = outcome.code, message
            GUEST_MESSAGES.labels(row.channel, "retry").inc()
            log.info("delivery %s (%s) will be retried: %s", row.id, row.channel, outcome.code)


def run_delivery_pass(
    app: AppServices, senders: Mapping[Channel, MessageSender], config: SendConfig | None = None
) -> int:
    """Send what is due now; returns how many deliveries were handled."""
    config = config or SendConfig()
    handled = 0
    for key in lease_due_deliveries(app, config):
        prepared = _prepare(app, senders, key, config)
        handled += 1
        if prepared is None:
            continue
        sender = senders[prepared.message.channel]
        _record(app, prepared, _send(sender, prepared))
    return handled
