"""A stay's access: which code it holds, on which doors, over which window.

`refresh_stay_access` brings a stay's claims in line with its status, unit and dates after
any change; `set_stay_pin` is PUT /v1/reservations/{id}/pin. Both run in the caller's
transaction, so the booking change and its access change commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from doorpin.adapters.db.access_models import AccessCode, LockCode
from doorpin.adapters.db.models import Property, Reservation
from doorpin.adapters.pin_vault import PinVault
from doorpin.domain.access_windows import stay_access_window
from doorpin.domain.code_policy import CodePolicy, PinScope
from doorpin.domain.errors import DomainError
from doorpin.domain.stays import LIVE_STATUSES, StayStatus
from doorpin.services import announcements, audit
from doorpin.services.alerts import close_alerts, raise_alert
from doorpin.services.code_allocation import (
    Claim,
    check_code_space,
    clashes_with,
    doors_of_unit,
    generated_length,
    lock_doors,
    new_claim_row,
    new_code,
    pick_pin,
    revoke_claim,
    space_exhausted,
    taken_fingerprints,
    touch_claim,
)

_MAX_RACE_RETRIES = 5
T = TypeVar("T")


@dataclass(frozen=True)
class AccessContext:
    session: Session
    vault: PinVault
    now: datetime
    actor_key_id: str | None


def pin_conflict() -> DomainError:
    return DomainError("pin_conflict", "this PIN is already in use on one of these doors at an overlapping time", "pin")


def policy_of(prop: Property) -> CodePolicy:
    return CodePolicy.from_mapping(prop.code_policy)


def live_claims(session: Session, stay: Reservation) -> list[LockCode]:
    """The stay's live claims as the database holds them now (a worker may have just written)."""
    return list(
        session.scalars(
            select(LockCode)
            .where(
                LockCode.account_id == stay.account_id,
                LockCode.reservation_id == stay.id,
                LockCode.revoked_at.is_(None),
            )
            .execution_options(populate_existing=True)
        )
    )


def growing_claims(session: Session, stay: Reservation, code_id: str | None, claims: Sequence[Claim]) -> list[Claim]:
    """What the claims add to those the stay already holds with `code_id`: new doors, and the
    parts of a window that reach earlier or later than before (as claims of their own).

    Only these put a code on a lock at an instant it was not on before, so only these need room
    in the code space: a stay whose doors and window did not grow never loses its code to the
    space check, and an early check-in is judged by the hours it adds, not by the whole stay.
    """
    held = {row.lock_id: row for row in live_claims(session, stay) if row.access_code_id == code_id}
    growing = []
    for claim in claims:
        row = held.get(claim.lock.id)
        if row is None:
            growing.append(claim)
            continue
        if claim.valid_from < row.valid_from:
            until = row.valid_from if claim.valid_until is None else min(row.valid_from, claim.valid_until)
            growing.append(Claim(claim.lock, claim.valid_from, until))
        if row.valid_until is not None and (claim.valid_until is None or claim.valid_until > row.valid_until):
            growing.append(Claim(claim.lock, max(row.valid_until, claim.valid_from), claim.valid_until))
    return growing


def current_unit_code(session: Session, account_id: str, unit_id: str) -> AccessCode | None:
    return session.scalars(
        select(AccessCode)
        .where(
            AccessCode.account_id == account_id,
            AccessCode.unit_id == unit_id,
            AccessCode.holder == "unit",
            AccessCode.revoked_at.is_(None),
        )
        .order_by(AccessCode.created_at.desc(), AccessCode.id.desc())
    ).first()


def stay_claims(ctx: AccessContext, stay: Reservation, prop: Property, policy: CodePolicy) -> list[Claim]:
    assert stay.unit_id is not None
    valid_from, valid_until = stay_access_window(stay.check_in, stay.check_out, policy)
    if stay.status == StayStatus.IN_HOUSE.value:
        valid_from = min(valid_from, ctx.now)  # an early check-in opens the doors now
    locks = doors_of_unit(ctx.session, stay.account_id, prop.id, stay.unit_id)
    return [Claim(lock, valid_from, valid_until) for lock in locks]


def _revoke_stay_claims(ctx: AccessContext, stay: Reservation, policy: CodePolicy) -> None:
    # The door rows first, as the worker does before recording an answer: neither overwrites the other.
    lock_doors(ctx.session, stay.account_id, [row.lock_id for row in live_claims(ctx.session, stay)])
    for row in live_claims(ctx.session, stay):
        revoke_claim(row, ctx.now, policy.reuse_cooldown)


def place_claims(
    ctx: AccessContext, stay: Reservation, code: AccessCode, pin: str, claims: Sequence[Claim], policy: CodePolicy
) -> None:
    """Make the stay's live claims exactly `claims` with `code`, reusing rows that still fit."""
    existing = {row.lock_id: row for row in live_claims(ctx.session, stay)}
    wanted = {claim.lock.id: claim for claim in claims}
    for lock_id, row in existing.items():
        claim = wanted.get(lock_id)
        if claim is None or row.access_code_id != code.id:
            revoke_claim(row, ctx.now, policy.reuse_cooldown)
            continue
        hold = claim.hold_until(policy.reuse_cooldown)
        if (row.valid_from, row.valid_until, row.hold_until) != (claim.valid_from, claim.valid_until, hold):
            row.valid_from, row.valid_until, row.hold_until = claim.valid_from, claim.valid_until, hold
            touch_claim(row, ctx.now)  # the lock must learn the new window
    for lock_id, claim in wanted.items():
        kept = existing.get(lock_id)
        if kept is None or kept.access_code_id != code.id:
            ctx.session.add(new_claim_row(ctx.vault, code, pin, claim, policy.reuse_cooldown, ctx.now, stay.id))
    if stay.access_code_id != code.id:
        announcements.pin_changed(ctx.session, stay, code, stay.access_code_id, ctx.now)
    stay.access_code_id = code.id
    stay.access_error_code = None
    stay.access_error_message = None
    ctx.session.flush()


def _fail(ctx: AccessContext, stay: Reservation, policy: CodePolicy, error: DomainError) -> None:
    """No code can be issued yet: the stay is kept, says why, and a person is alerted."""
    _revoke_stay_claims(ctx, stay, policy)
    stay.access_error_code = error.code
    stay.access_error_message = error.message
    raise_alert(
        ctx.session,
        account_id=stay.account_id,
        at=ctx.now,
        kind=error.code,
        severity="critical",
        message=f"reservation {stay.id} has no PIN: {error.message}",
        dedupe_key=f"{error.code}:{stay.id}",
        property_id=stay.property_id,
        subject_type="reservation",
        subject_id=stay.id,
    )


def pin_of(ctx: AccessContext, code: AccessCode) -> str:
    return ctx.vault.open(code.pin_ciphertext, code.account_id, code.id)


def refresh_stay_access(ctx: AccessContext, stay: Reservation, prop: Property, reason: str) -> None:
    """Bring the stay's code and claims in line with its status, unit and dates."""
    policy = policy_of(prop)
    if stay.status not in LIVE_STATUSES:
        had_code = bool(live_claims(ctx.session, stay))
        _revoke_stay_claims(ctx, stay, policy)
        code = ctx.session.get(AccessCode, (stay.account_id, stay.access_code_id)) if stay.access_code_id else None
        if code is not None and code.holder == "reservation" and code.revoked_at is None:
            code.revoked_at, code.revoke_reason, code.updated_at = ctx.now, stay.status.lower(), ctx.now
        stay.access_error_code = stay.access_error_message = None
        close_alerts(ctx.session, account_id=stay.account_id, at=ctx.now, dedupe_key=f"code_space_exhausted:{stay.id}")
        if had_code:
            audit_stay(ctx, stay, "pin.revoked", reason=stay.status.lower())
        return
    if stay.unit_id is None:
        _revoke_stay_claims(ctx, stay, policy)
        stay.access_error_code = "unit_not_assigned"
        stay.access_error_message = "no unit is assigned yet: the PIN is issued when one is"
        return
    claims = stay_claims(ctx, stay, prop, policy)
    current_doors = [row.lock_id for row in live_claims(ctx.session, stay)]
    lock_doors(ctx.session, stay.account_id, [c.lock.id for c in claims] + current_doors)
    try:
        code = _code_for(ctx, stay, prop, policy, claims, reason)
    except DomainError as error:
        if error.code not in ("code_space_exhausted", "code_constraints_violated"):
            raise
        _fail(ctx, stay, policy, error)
        return
    close_alerts(ctx.session, account_id=stay.account_id, at=ctx.now, dedupe_key=f"code_space_exhausted:{stay.id}")
    place_claims(ctx, stay, code, pin_of(ctx, code), claims, policy)


def _release(ctx: AccessContext, stay: Reservation, policy: CodePolicy, keep: str | None) -> None:
    """Take the stay's claims of any code but `keep` off its doors now: they are being replaced,
    so they must not count against the room the stay's next code needs."""
    for row in live_claims(ctx.session, stay):
        if row.access_code_id != keep:
            revoke_claim(row, ctx.now, policy.reuse_cooldown)


def _code_for(
    ctx: AccessContext, stay: Reservation, prop: Property, policy: CodePolicy, claims: Sequence[Claim], reason: str
) -> AccessCode:
    """The code the stay should hold: its current one while still free, else a new one."""
    unit_scope = policy.pin_scope == PinScope.UNIT
    assert stay.unit_id is not None
    if unit_scope:
        current = current_unit_code(ctx.session, stay.account_id, stay.unit_id)
    else:
        current = ctx.session.get(AccessCode, (stay.account_id, stay.access_code_id)) if stay.access_code_id else None
        if current is not None and (current.holder != "reservation" or current.revoked_at is not None):
            current = None
    if current is not None:
        taken = taken_fingerprints(ctx.session, stay.account_id, claims, policy.reuse_cooldown, current.id)
        if not clashes_with(ctx.vault, pin_of(ctx, current), claims, taken):
            _release(ctx, stay, policy, keep=current.id)
            # Kept, but moved or lengthened onto busier days: the lock must still have room for it.
            growing = growing_claims(ctx.session, stay, current.id, claims)
            space = check_code_space(ctx.session, stay.account_id, growing, current.pin_length, policy, current.id)
            if space.verdict == "refuse":
                raise space_exhausted(space, current.pin_length)
            return current
    _release(ctx, stay, policy, keep=None)
    change_reason = reason if current is None else f"{reason}_conflict"
    if unit_scope and current is not None:
        return replace_unit_code(ctx, prop, stay.unit_id, None, change_reason)
    length = generated_length(policy, [c.lock for c in claims])
    space = check_code_space(ctx.session, stay.account_id, claims, length, policy, None)
    if space.verdict == "refuse":
        raise space_exhausted(space, length)
    pin = pick_pin(ctx.session, ctx.vault, stay.account_id, claims, policy, length, None)
    code = new_code(
        ctx.vault,
        account_id=stay.account_id,
        property_id=prop.id,
        pin=pin,
        pin_source="generated",
        kind="guest",
        holder="unit" if unit_scope else "reservation",
        now=ctx.now,
        reservation_id=None if unit_scope else stay.id,
        unit_id=stay.unit_id if unit_scope else None,
    )
    ctx.session.add(code)
    if current is not None:
        current.revoked_at, current.revoke_reason, current.updated_at = ctx.now, "replaced", ctx.now
    stay.pin_changed_reason = change_reason
    audit_stay(
        ctx, stay, "pin.assigned" if current is None else "pin.changed", reason=change_reason, source="generated"
    )
    return code


def audit_stay(ctx: AccessContext, stay: Reservation, action: str, **details: str) -> None:
    audit.record(
        ctx.session,
        account_id=stay.account_id,
        at=ctx.now,
        actor_key_id=ctx.actor_key_id,
        action=action,
        subject_type="reservation",
        subject_id=stay.id,
        property_id=stay.property_id,
        details=details,
    )


def live_stays_of_unit(session: Session, account_id: str, unit_id: str) -> list[Reservation]:
    return list(
        session.scalars(
            select(Reservation)
            .where(
                Reservation.account_id == account_id,
                Reservation.unit_id == unit_id,
                Reservation.status.in_([s.value for s in LIVE_STATUSES]),
            )
            .order_by(Reservation.id)
        )
    )


def replace_unit_code(
    ctx: AccessContext, prop: Property, unit_id: str, pin: str | None, reason: str, source: str = "generated"
) -> AccessCode:
    """A new PIN for the unit (given, or generated): every live stay of the unit moves to it."""
    policy = policy_of(prop)
    stays = live_stays_of_unit(ctx.session, prop.account_id, unit_id)
    old = current_unit_code(ctx.session, prop.account_id, unit_id)
    per_stay = {stay.id: stay_claims(ctx, stay, prop, policy) for stay in stays}
    all_claims = [claim for claims in per_stay.values() for claim in claims]
    if not all_claims:
        all_claims = [
            Claim(lock, ctx.now, None) for lock in doors_of_unit(ctx.session, prop.account_id, prop.id, unit_id)
        ]
    lock_doors(ctx.session, prop.account_id, [c.lock.id for c in all_claims])
    exclude = old.id if old is not None else None
    if pin is None:
        length = generated_length(policy, [c.lock for c in all_claims])
        # Nothing excluded: a fresh PIN is neither the old one nor one its revoked claims still hold.
        pin = pick_pin(ctx.session, ctx.vault, prop.account_id, all_claims, policy, length, None)
    else:
        taken = taken_fingerprints(ctx.session, prop.account_id, all_claims, policy.reuse_cooldown, exclude)
        if clashes_with(ctx.vault, pin, all_claims, taken):
            raise DomainError(
                "pin_conflict", "this PIN is already in use on one of these doors at an overlapping time", "pin"
            )
    # The new code takes the old one's place; stays that held no claim yet need room for it.
    growing = [claim for stay in stays for claim in growing_claims(ctx.session, stay, exclude, per_stay[stay.id])]
    space = check_code_space(ctx.session, prop.account_id, growing, len(pin), policy, exclude)
    if space.verdict == "refuse":
        raise space_exhausted(space, len(pin))
    if old is not None and old.pin_fingerprint == ctx.vault.fingerprint(pin):
        # The unit's PIN again: keep its code, whose claims (revoked ones in their cooldown too)
        # would clash with a second code of the same value.
        code = old
    else:
        code = new_code(
            ctx.vault,
            account_id=prop.account_id,
            property_id=prop.id,
            pin=pin,
            pin_source=source,
            kind="guest",
            holder="unit",
            now=ctx.now,
            unit_id=unit_id,
        )
        ctx.session.add(code)
        if old is not None:
            old.revoked_at, old.revoke_reason, old.updated_at = ctx.now, "replaced", ctx.now
    ctx.session.flush()
    for stay in stays:
        place_claims(ctx, stay, code, pin, per_stay[stay.id], policy)
        stay.pin_changed_reason = reason
        audit_stay(ctx, stay, "pin.changed" if old is not None else "pin.assigned", reason=reason, source=source)
    return code


def with_race_retry(session: Session, attempt: Callable[[], T]) -> T:
    """Run `attempt` in a savepoint; a claim lost to a concurrent writer (exclusion constraint) retries."""
    for tries in range(_MAX_RACE_RETRIES):
        try:
            with session.begin_nested():
                return attempt()
        except IntegrityError:
            if tries == _MAX_RACE_RETRIES - 1:
                raise
    raise AssertionError("unreachable")
