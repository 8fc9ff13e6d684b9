"""Access events pushed by a door provider to its endpoint: verified, replay-checked, ingested.

A push is believed only when it is signed with the endpoint's secret
(`Doorpin-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`), its timestamp is
within `TOLERANCE_SECONDS` of doorpin's clock, the endpoint is not revoked, and that signature was
never accepted before (a receipt per accepted signature; receipts older than any acceptable
timestamp are pruned). Every refusal is `401 unauthenticated` with a message saying which rule
failed. Events name their lock by doorpin's `lock_id` or the provider's `device_id`, looked up
only among the endpoint's account's locks of the endpoint's provider; others are rejected one by
one, never stored.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, lazyload

from doorpin.adapters.db.event_models import ProviderEndpoint, PushReceipt
from doorpin.adapters.db.models import Lock
from doorpin.adapters.locks.base import DeviceEvent
from doorpin.adapters.pin_vault import PinVault
from doorpin.adapters.signing import DEFAULT_TOLERANCE_SECONDS, HEADER
from doorpin.domain.errors import DomainError
from doorpin.ids import new_id
from doorpin.services.access_events import ingest
from doorpin.services.provider_endpoints import secret_of

TOLERANCE_SECONDS = DEFAULT_TOLERANCE_SECONDS
# A receipt is needed only while its timestamp could still pass the tolerance check.
_RECEIPT_KEPT = timedelta(seconds=2 * TOLERANCE_SECONDS + 60)


@dataclass(frozen=True)
class PushedEvent:
    event: DeviceEvent
    lock_id: str | None = None  # doorpin's id ...
    device_id: str | None = None  # ... or the provider's


@dataclass(frozen=True)
class Rejected:
    index: int
    event_id: str
    code: str
    message: str


@dataclass(frozen=True)
class PushOutcome:
    received: int
    stored: int
    duplicates: int
    rejected: list[Rejected] = field(default_factory=list)


@dataclass(frozen=True)
class Signed:
    """A push whose signature checked out: the endpoint and the digest of the signature used."""

    account_id: str
    endpoint_id: str
    provider: str
    digest: str


def _refuse(why: str) -> DomainError:
    return DomainError("unauthenticated", why)


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    macs: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            macs.append(value.strip().lower())
    if timestamp is None or not macs:
        raise _refuse(f"the {HEADER} header must read t=<unix seconds>,v1=<hex HMAC-SHA256>")
    return timestamp, macs


def verify_push(
    session: Session, vault: PinVault, endpoint_id: str, body: bytes, header: str | None, now: datetime
) -> Signed:
    """Who signed this push, or `unauthenticated` saying why not."""
    row = session.scalars(select(ProviderEndpoint).where(ProviderEndpoint.id == endpoint_id)).first()
    if row is None or row.revoked_at is not None:
        raise _refuse("unknown or revoked provider endpoint")
    if not header:
        raise _refuse(f"the {HEADER} header is missing: sign the body with the endpoint's secret")
    timestamp, macs = _parse(header)
    skew = int(now.timestamp()) - timestamp
    if abs(skew) > TOLERANCE_SECONDS:
        raise _refuse(
            f"the signature's timestamp is {abs(skew)} s {'old' if skew > 0 else 'ahead'} (at most "
            f"{TOLERANCE_SECONDS} s allowed): sign each request when sending it, with a synchronized clock"
        )
    expected = hmac.new(secret_of(vault, row).encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    matching = next((mac for mac in macs if hmac.compare_digest(expected, mac)), None)
    if matching is None:
        raise _refuse("the signature does not match the body: wrong secret, or the body changed after signing")
    digest = hashlib.sha256(f"{timestamp}.{matching}".encode()).hexdigest()
    return Signed(row.account_id, row.id, row.provider, digest)


def _record_receipt(session: Session, signed: Signed, now: datetime) -> None:
    """Refuse a signature accepted before (a replay); prune receipts too old to matter."""
    session.execute(
        delete(PushReceipt).where(
            PushReceipt.account_id == signed.account_id,
            PushReceipt.endpoint_id == signed.endpoint_id,
            PushReceipt.received_at < now - _RECEIPT_KEPT,
        )
    )
    receipt = PushReceipt(
        account_id=signed.account_id,
        id=new_id("prr"),
        endpoint_id=signed.endpoint_id,
        signature_digest=signed.digest,
        received_at=now,
    )
    try:
        with session.begin_nested():
            session.add(receipt)
    except IntegrityError:
        raise _refuse("this signed request was already accepted (a replay): sign every request anew") from None


def _locks(session: Session, signed: Signed, pushed: Sequence[PushedEvent]) -> dict[tuple[str, str], Lock]:
    """The endpoint's account's locks of its provider, by ("lock", id) and ("device", device id)."""
    query = (
        select(Lock)
        .options(lazyload(Lock.unit_links))
        .where(Lock.account_id == signed.account_id, Lock.provider == signed.provider)
    )
    lock_ids = sorted({item.lock_id for item in pushed if item.lock_id})
    if not any(item.device_id for item in pushed):
        query = query.where(Lock.id.in_(lock_ids))
    found: dict[tuple[str, str], Lock] = {}
    for lock in session.scalars(query):
        found[("lock", lock.id)] = lock
        found.setdefault(("device", str((lock.settings or {}).get("device_id") or lock.id)), lock)
    return found


def accept_push(
    session: Session, vault: PinVault, signed: Signed, pushed: Sequence[PushedEvent], now: datetime
) -> PushOutcome:
    """Store a verified push's events (in the caller's transaction) once the signature is recorded."""
    _record_receipt(session, signed, now)
    locks = _locks(session, signed, pushed)
    by_lock: dict[str, list[DeviceEvent]] = defaultdict(list)
    rejected: list[Rejected] = []
    for index, item in enumerate(pushed):
        lock = locks.get(("lock", item.lock_id) if item.lock_id else ("device", item.device_id or ""))
        if lock is None:
            named = "lock_id" if item.lock_id else "device_id"
            message = f"no {signed.provider} lock with this {named} in this account"
            rejected.append(Rejected(index, item.event.event_id, "unknown_lock", message))
            continue
        by_lock[lock.id].append(item.event)
    stored = 0
    for lock_id in sorted(by_lock):  # one order for all pushes: ingestions queue, never deadlock
        stored += len(ingest(session, vault, locks[("lock", lock_id)], by_lock[lock_id], "provider_webhook", now))
    received = len(pushed)
    return PushOutcome(received, stored, received - stored - len(rejected), rejected)
