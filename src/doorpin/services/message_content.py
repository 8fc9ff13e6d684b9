"""What a guest message says, from the stay's access as it is NOW: PIN, doors, window, link.

Rendered when the message is sent (never when it is planned), so a message that waited a week
still carries the current PIN, doors and dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorpin.adapters.db.access_models import AccessCode, LockCode
from doorpin.adapters.db.models import Lock, Property, Reservation
from doorpin.adapters.messaging.base import Attachment
from doorpin.adapters.messaging.stay_calendar import stay_event
from doorpin.adapters.pin_vault import PinVault
from doorpin.domain.access_windows import stay_access_window
from doorpin.domain.deliveries import Channel, Reason
from doorpin.services.code_allocation import doors_of_unit
from doorpin.services.message_templates.builtin import CALENDAR_TITLES
from doorpin.services.message_templates.rendering import MessageContext, Rendered, render
from doorpin.services.message_templates.store import DEFAULT_BASE_URL, ChosenTemplate, choose_template
from doorpin.services.stay_access import policy_of


@dataclass(frozen=True)
class GuestAccess:
    pin: str
    doors: tuple[str, ...]  # lock names, as the guest sees them on the doors
    valid_from: datetime
    valid_until: datetime | None


def guest_access(session: Session, vault: PinVault, stay: Reservation, prop: Property) -> GuestAccess | None:
    """The stay's live PIN, the doors it opens and when; None while the stay has no PIN."""
    if stay.access_code_id is None:
        return None
    code = session.get(AccessCode, (stay.account_id, stay.access_code_id))
    if code is None or code.revoked_at is not None:
        return None
    claims = list(
        session.scalars(
            select(LockCode).where(
                LockCode.account_id == stay.account_id,
                LockCode.reservation_id == stay.id,
                LockCode.access_code_id == code.id,
                LockCode.revoked_at.is_(None),
            )
        )
    )
    if claims:
        ids = sorted({row.lock_id for row in claims})
        locks = session.scalars(select(Lock).where(Lock.account_id == stay.account_id, Lock.id.in_(ids))).all()
        start = min(row.valid_from for row in claims)
        ends = [row.valid_until for row in claims]
        end = None if any(e is None for e in ends) else max(e for e in ends if e is not None)
    else:  # claims not placed yet: the doors and window the stay is entitled to
        locks = doors_of_unit(session, stay.account_id, prop.id, stay.unit_id) if stay.unit_id else []
        start, end = stay_access_window(stay.check_in, stay.check_out, policy_of(prop))
    pin = vault.open(code.pin_ciphertext, code.account_id, code.id)
    return GuestAccess(pin, tuple(sorted(lock.name for lock in locks)), start, end)


def guest_page_url(base_url: str | None, token: str) -> str:
    return f"{(base_url or DEFAULT_BASE_URL).rstrip('/')}/g/{token}"


@dataclass(frozen=True)
class Composed:
    rendered: Rendered
    chosen: ChosenTemplate
    attachments: tuple[Attachment, ...]


def compose(
    session: Session,
    prop: Property,
    stay: Reservation,
    access: GuestAccess,
    channel: Channel,
    reason: Reason,
    page_url: str,
    now: datetime,
) -> Composed:
    """Render the stay's message (`TemplateRenderError` if its template cannot be rendered)."""
    chosen = choose_template(session, prop, channel, stay.guest_language)
    tz = ZoneInfo(prop.timezone)
    context = MessageContext(
        guest_name=stay.guest_name or "",
        pin=access.pin,
        doors=access.doors,
        window_start=access.valid_from.astimezone(tz),
        window_end=access.valid_until.astimezone(tz) if access.valid_until else None,
        timezone=prop.timezone,
        property_name=prop.name,
        guest_page_url=page_url,
        reason=reason.value,
        language=chosen.language,
    )
    rendered = render(chosen.templates, context, channel.value)
    attachments: tuple[Attachment, ...] = ()
    if channel == Channel.EMAIL:
        title = CALENDAR_TITLES.get(chosen.language.split("-")[0], CALENDAR_TITLES["en"])
        attachments = (
            stay_event(
                uid=f"{stay.id}@doorpin",
                summary=f"{title} {prop.name}",
                location=prop.name,
                check_in=stay.check_in,
                check_out=stay.check_out,
                stamp=now,
            ),
        )
    return Composed(rendered, chosen, attachments)
