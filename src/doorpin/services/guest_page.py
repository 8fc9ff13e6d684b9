"""What a guest page (`/g/{token}`) shows: the stay's PIN, doors and window, or nothing at all.

The token is looked up by its SHA-256 (`guest_messages.token_hash`): the database compares
hashes, so response timing says nothing about how much of a guessed token was right. A token
leads nowhere once it expires (`expires_at`, after the stay), or when the stay is over in any
other way (CHECKED_OUT, CANCELED, NO_SHOW); callers cannot tell these cases from an unknown token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorpin.adapters.db.access_models import AccessCode
from doorpin.adapters.db.delivery_models import GuestToken
from doorpin.adapters.db.models import Lock, Property, Reservation
from doorpin.adapters.pin_vault import PinVault
from doorpin.domain.stays import LIVE_STATUSES
from doorpin.services import audit
from doorpin.services.access_view import describe_access
from doorpin.services.code_allocation import doors_of_unit
from doorpin.services.guest_messages import token_hash
from doorpin.services.principal import Principal
from doorpin.services.stay_access import live_claims

# Tokens are `secrets.token_urlsafe(32)` (43 characters); anything far from that shape is not
# looked up at all. Generous bounds, so a future token length needs no change here.
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,128}$")
# A token's expiry follows the stay's check-out (guest_messages.ensure_guest_token). This bound
# holds even if a stay's dates moved without its token being touched.
AFTER_STAY = timedelta(hours=12)


@dataclass(frozen=True)
class Door:
    name: str
    common: bool  # a door every stay of the property opens (an entrance), not the unit's own


@dataclass(frozen=True)
class GuestPage:
    account_id: str
    property_id: str
    reservation_id: str
    property_name: str
    timezone: str
    guest_language: str | None
    property_language: str | None  # the property's `delivery.language`
    guest_name: str | None
    pin: str | None  # None: the stay has no code yet
    doors: list[Door]
    valid_from: datetime
    valid_until: datetime | None


def _viewer(stay: Reservation) -> Principal:
    """describe_access's caller for a guest: no scopes, so it neither opens nor audits the PIN."""
    return Principal(stay.account_id, "guest-page", frozenset(), frozenset({stay.property_id}))


def _doors(session: Session, stay: Reservation, lock_ids: list[str]) -> list[Door]:
    if lock_ids:
        locks = list(
            session.scalars(select(Lock).where(Lock.account_id == stay.account_id, Lock.id.in_(sorted(lock_ids))))
        )
    elif stay.unit_id is not None:
        locks = doors_of_unit(session, stay.account_id, stay.property_id, stay.unit_id)
    else:
        locks = []
    doors = [Door(lock.name, not lock.unit_ids) for lock in locks]
    return sorted(doors, key=lambda door: (door.common, door.name.casefold()))


def find_guest_page(session: Session, vault: PinVault, now: datetime, token: str) -> GuestPage | None:
    """The page for `token`, or None when it leads nowhere (unknown, expired or revoked)."""
    if not TOKEN_SHAPE.match(token):
        return None
    row = session.scalars(select(GuestToken).where(GuestToken.token_hash == token_hash(token))).first()
    if row is None or now >= row.expires_at:
        return None
    stay = session.get(Reservation, (row.account_id, row.reservation_id))
    if stay is None or stay.status not in LIVE_STATUSES or now >= stay.check_out + AFTER_STAY:
        return None
    prop = session.get(Property, (stay.account_id, stay.property_id))
    assert prop is not None
    access = describe_access(session, vault, now, _viewer(stay), stay, prop)
    code = session.get(AccessCode, (stay.account_id, stay.access_code_id)) if stay.access_code_id else None
    pin = None
    if code is not None and code.revoked_at is None and access.state != "pending":
        pin = vault.open(code.pin_ciphertext, code.account_id, code.id)
    live_locks = sorted({claim.lock_id for claim in live_claims(session, stay)})
    return GuestPage(
        account_id=stay.account_id,
        property_id=stay.property_id,
        reservation_id=stay.id,
        property_name=prop.name,
        timezone=prop.timezone,
        guest_language=stay.guest_language,
        property_language=prop.delivery.get("language"),
        guest_name=stay.guest_name,
        pin=pin,
        doors=_doors(session, stay, live_locks),
        valid_from=access.valid_from or stay.check_in,
        valid_until=access.valid_until,
    )


def record_reveal(session: Session, page: GuestPage, now: datetime) -> None:
    """The audit row for a guest seeing their PIN on the page (no actor: the guest holds no key)."""
    audit.record(
        session,
        account_id=page.account_id,
        at=now,
        actor_key_id=None,
        action="pin.revealed",
        subject_type="reservation",
        subject_id=page.reservation_id,
        property_id=page.property_id,
        details={"via": "guest_page"},
    )
