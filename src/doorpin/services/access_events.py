"""Ingesting access events: the one way a key-in reported by a lock (polled, pushed by a
provider, or told by the lock itself) becomes an `AccessEvent`.

Each event is stored once per (lock, provider event id), however often and by whichever path it
arrives: the insert does nothing on a conflict (`ON CONFLICT DO NOTHING`), and on PostgreSQL a
per-lock advisory lock queues a poll and a push of the same lock so their alert decisions see each
other's rows (SQLite's single writer already does). A newly stored event is attributed to the claim
and stay whose code was keyed in, moves `first_used_at` of its stay and code (by the lock's time,
so a late, older event moves it earlier), is told to integrators (`access.granted`/`access.denied`)
and may raise alerts (`services/access_alerts.py`). The digits entered are never stored, only
their keyed fingerprint.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from doorpin.adapters.db.access_models import AccessCode, LockCode
from doorpin.adapters.db.event_models import AccessEvent
from doorpin.adapters.db.models import Lock, Property, Reservation
from doorpin.adapters.locks.base import DeviceEvent
from doorpin.adapters.pin_vault import PinVault
from doorpin.domain.access_alerts import RESULTS
from doorpin.domain.access_attribution import Attribution, ClaimWindow, choose, classify
from doorpin.domain.pins import PIN_DIGITS
from doorpin.domain.stays import StayStatus
from doorpin.ids import new_id
from doorpin.services.access_alerts import AttributedEvent, raise_access_alerts
from doorpin.services.announcements import access_event_data, access_event_type
from doorpin.services.outbound import emit

log = logging.getLogger("doorpin.access_events")

SOURCES = ("lock", "provider_webhook", "poll")
MAX_PIN_LENGTH = 16  # longer "digits" are not a PIN any lock takes: not fingerprinted
_UNIQUE = ["account_id", "lock_id", "provider_event_id"]
_QUERY_CHUNK = 500


@dataclass
class _Codes:
    """The lock's claims that the batch's events may have used, and their codes and stays."""

    claims: dict[str, LockCode] = field(default_factory=dict)
    codes: dict[str, AccessCode] = field(default_factory=dict)
    stays: dict[str, Reservation] = field(default_factory=dict)

    def window(self, claim: LockCode) -> ClaimWindow:
        return ClaimWindow(
            claim_id=claim.id,
            access_code_id=claim.access_code_id,
            valid_from=claim.valid_from,
            valid_until=claim.valid_until,
            revoked_at=claim.revoked_at,
            created_at=claim.created_at,
            ended_normally=self._ended_normally(claim),
        )

    def _ended_normally(self, claim: LockCode) -> bool:
        """Revoked at the normal end of its holder's access: a check-out, or a rotated shared code."""
        stay = self.stays.get(claim.reservation_id or "")
        if stay is not None:
            return stay.status == StayStatus.CHECKED_OUT.value and stay.access_code_id == claim.access_code_id
        code = self.codes.get(claim.access_code_id)
        return code is not None and code.revoke_reason == "rotated"


def utc(value: datetime) -> datetime:
    """A device's instant; one without an offset is taken as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _digits(pin: str | None) -> str | None:
    if not pin or len(pin) > MAX_PIN_LENGTH or any(char not in PIN_DIGITS for char in pin):
        return None
    return pin


def _fingerprints(vault: PinVault, pin: str | None, prefix_len: int | None) -> set[str]:
    """What a claim on this lock may store for these digits: the whole PIN's fingerprint, or the
    prefix fingerprint on locks that compare prefixes (claims made before the lock declared
    `unique_prefix_len` keep the whole one)."""
    digits = _digits(pin)
    if digits is None:
        return set()
    return {vault.fingerprint(digits), vault.lock_fingerprint(digits, prefix_len)}


def _chunks(values: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), _QUERY_CHUNK):
        yield list(values[start : start + _QUERY_CHUNK])


def _serialize(session: Session, lock: Lock) -> None:
    """Queue concurrent ingestions of one lock on PostgreSQL (SQLite has one writer already)."""
    if session.get_bind().dialect.name == "postgresql":
        key = f"doorpin:access_events:{lock.account_id}:{lock.id}"
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})


def _stored_ids(session: Session, lock: Lock, event_ids: Sequence[str]) -> set[str]:
    known: set[str] = set()
    for chunk in _chunks(event_ids):
        known.update(
            session.scalars(
                select(AccessEvent.provider_event_id).where(
                    AccessEvent.account_id == lock.account_id,
                    AccessEvent.lock_id == lock.id,
                    AccessEvent.provider_event_id.in_(chunk),
                )
            )
        )
    return known


def _usable(event: DeviceEvent) -> bool:
    if event.result not in RESULTS or not event.event_id or len(event.event_id) > 200:
        log.warning("access event %r has an unknown result or a bad id; not stored", event.event_id[:200])
        return False
    return True


def _load_codes(session: Session, lock: Lock, refs: set[str], fingerprints: set[str]) -> _Codes:
    def claims_where(*conditions: Any) -> list[LockCode]:
        return list(
            session.scalars(
                select(LockCode).where(
                    LockCode.account_id == lock.account_id, LockCode.lock_id == lock.id, or_(*conditions)
                )
            )
        )

    found = {row.id: row for row in claims_where(LockCode.id.in_(refs), LockCode.code_fingerprint.in_(fingerprints))}
    # A named claim's siblings on this lock (a unit's shared code, held by each of its stays).
    siblings = {row.code_fingerprint for row in found.values() if row.id in refs} - fingerprints
    if siblings:
        found.update((row.id, row) for row in claims_where(LockCode.code_fingerprint.in_(siblings)))
    codes = {row.access_code_id for row in found.values()}
    stays = {row.reservation_id for row in found.values() if row.reservation_id}
    loaded = _Codes(claims=found)
    if codes:
        code_rows = select(AccessCode).where(AccessCode.account_id == lock.account_id, AccessCode.id.in_(codes))
        loaded.codes = {code.id: code for code in session.scalars(code_rows)}
    if stays:
        stay_rows = select(Reservation).where(Reservation.account_id == lock.account_id, Reservation.id.in_(stays))
        loaded.stays = {stay.id: stay for stay in session.scalars(stay_rows)}
    return loaded


def _attribute(codes: _Codes, event: DeviceEvent, fingerprints: set[str], at: datetime) -> LockCode | None:
    named = codes.claims.get(event.code_ref or "")
    if named is not None:
        # The claim the lock named, unless another claim of the same code (another stay sharing a
        # unit's code) covers the moment.
        candidates = [row for row in codes.claims.values() if row.access_code_id == named.access_code_id]
    else:
        candidates = [row for row in codes.claims.values() if row.code_fingerprint in fingerprints]
    chosen = choose([codes.window(row) for row in candidates], at, named.id if named is not None else None)
    return None if chosen is None else codes.claims[chosen.claim_id]


def _insert(session: Session, values: dict[str, Any]) -> bool:
    """Insert unless the lock's event is already stored; True when this call stored it."""
    if session.get_bind().dialect.name == "postgresql":
        pg = pg_insert(AccessEvent).values(values).on_conflict_do_nothing(index_elements=_UNIQUE)
        return session.execute(pg.returning(AccessEvent.id)).first() is not None
    lite = sqlite_insert(AccessEvent).values(values).on_conflict_do_nothing(index_elements=_UNIQUE)
    return session.execute(lite.returning(AccessEvent.id)).first() is not None


def _rows(session: Session, account_id: str, ids: Sequence[str]) -> dict[str, AccessEvent]:
    rows: dict[str, AccessEvent] = {}
    for chunk in _chunks(ids):
        query = select(AccessEvent).where(AccessEvent.account_id == account_id, AccessEvent.id.in_(chunk))
        rows.update((row.id, row) for row in session.scalars(query))
    return rows


def _mark_first_use(session: Session, row: AccessEvent) -> None:
    """`first_used_at` is the earliest grant by the lock's time, whatever order events arrive in."""
    at = row.occurred_at
    targets: list[tuple[type[Reservation] | type[AccessCode], str | None]] = [
        (Reservation, row.reservation_id),
        (AccessCode, row.access_code_id),
    ]
    for model, target_id in targets:
        if target_id is None:
            continue
        session.execute(
            update(model)
            .where(
                model.account_id == row.account_id,
                model.id == target_id,
                or_(model.first_used_at.is_(None), model.first_used_at > at),
            )
            .values(first_used_at=at)
            .execution_options(synchronize_session=False)
        )


def ingest(
    session: Session,
    vault: PinVault,
    lock: Lock,
    events: Sequence[DeviceEvent],
    source: str,
    now: datetime,
) -> list[AccessEvent]:
    """Store the events of `lock` not stored yet, in the caller's transaction; returns those
    stored by this call, by the lock's time. Events already stored are skipped silently."""
    assert source in SOURCES, source
    unique: dict[str, DeviceEvent] = {}
    for event in events:
        if _usable(event):
            unique.setdefault(event.event_id, event)
    if not unique:
        return []
    _serialize(session, lock)
    known = _stored_ids(session, lock, list(unique))
    fresh = sorted(
        (event for event_id, event in unique.items() if event_id not in known),
        key=lambda event: (utc(event.occurred_at), event.event_id),
    )
    if not fresh:
        return []
    prefix_len = lock.capabilities.get("unique_prefix_len")
    fingerprints = {event.event_id: _fingerprints(vault, event.pin, prefix_len) for event in fresh}
    refs = {event.code_ref for event in fresh if event.code_ref}
    codes = _load_codes(session, lock, refs, set().union(*fingerprints.values()))
    prop = session.get(Property, (lock.account_id, lock.property_id))
    assert prop is not None
    inserted: list[str] = []
    for event in fresh:  # by the lock's time: each is judged with the tries stored before it
        at = utc(event.occurred_at)
        claim = _attribute(codes, event, fingerprints[event.event_id], at)
        digits = _digits(event.pin)
        values: dict[str, Any] = {
            "account_id": lock.account_id,
            "id": new_id("ae"),
            "property_id": lock.property_id,
            "lock_id": lock.id,
            "provider_event_id": event.event_id,
            "source": source,
            "occurred_at": at,
            "received_at": now,
            "result": event.result,
            "reason": None if event.reason is None else event.reason[:64],
            "attribution": classify(None if claim is None else codes.window(claim), at).value,
            "code_fingerprint": None if digits is None else vault.fingerprint(digits),
            "access_code_id": None if claim is None else claim.access_code_id,
            "lock_code_id": None if claim is None else claim.id,
            "reservation_id": None if claim is None else claim.reservation_id,
        }
        if _insert(session, values):
            inserted.append(values["id"])
            _follow_up(session, lock, prop, codes, AccessEvent(**values), claim, now)
    rows = _rows(session, lock.account_id, inserted)
    return [rows[event_id] for event_id in inserted]


def _follow_up(
    session: Session,
    lock: Lock,
    prop: Property,
    codes: _Codes,
    row: AccessEvent,
    claim: LockCode | None,
    now: datetime,
) -> None:
    """What a newly stored event causes: the first use, the event told, alerts."""
    if row.result == "granted" and claim is not None:
        _mark_first_use(session, row)
    emit(
        session,
        account_id=row.account_id,
        type=access_event_type(row),
        at=now,
        data=access_event_data(row),
        property_id=row.property_id,
    )
    attributed = AttributedEvent(
        row=row,
        attribution=Attribution(row.attribution),
        claim=claim,
        window=None if claim is None else codes.window(claim),
        code=None if claim is None else codes.codes.get(claim.access_code_id),
        stay=None if claim is None else codes.stays.get(claim.reservation_id or ""),
    )
    raise_access_alerts(session, lock, prop, attributed, now)
