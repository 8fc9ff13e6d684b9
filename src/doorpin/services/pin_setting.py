"""PUT /v1/reservations/{id}/pin: a door provider or PMS sets (or regenerates) a stay's PIN.

The checks run in the documented order, each with its own error code (API.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from doorpin.adapters.db.access_models import AccessCode
from doorpin.adapters.db.models import Property, Reservation
from doorpin.adapters.pin_vault import PinVault
from doorpin.domain.code_policy import PinScope
from doorpin.domain.errors import DomainError
from doorpin.domain.pins import AccessWarning, allowed_pin_lengths, check_strength, validate_pin_format
from doorpin.domain.scopes import Scope
from doorpin.domain.stays import LIVE_STATUSES
from doorpin.services.alerts import close_alerts
from doorpin.services.clock import Clock
from doorpin.services.code_allocation import (
    Claim,
    check_code_space,
    clashes_with,
    lock_doors,
    new_code,
    revoke_claim,
    space_exhausted,
    taken_fingerprints,
)
from doorpin.services.principal import Principal
from doorpin.services.reservations import get_reservation, property_of
from doorpin.services.stay_access import (
    AccessContext,
    audit_stay,
    live_claims,
    pin_conflict,
    place_claims,
    policy_of,
    refresh_stay_access,
    replace_unit_code,
    stay_claims,
    with_race_retry,
)

GENERATE = "******"
PROVIDERS_ACCEPTING_SET_PINS = frozenset({"offline_pin", "keypad", "ttlock"})


def set_stay_pin(
    session: Session, vault: PinVault, clock: Clock, principal: Principal, reservation_id: str, pin: str
) -> Reservation:
    if Scope.WRITE not in principal.scopes and Scope.DOOR_PROVIDER not in principal.scopes:
        raise DomainError("forbidden", "setting a PIN needs the door_provider or write scope")
    stay = get_reservation(session, principal, reservation_id)
    prop = property_of(session, stay)
    if stay.status not in LIVE_STATUSES:
        raise DomainError("reservation_not_eligible", f"a {stay.status} reservation cannot get a PIN")
    if stay.unit_id is None:
        raise DomainError("unit_not_assigned", "assign a unit to the reservation before setting its PIN", "unit_id")
    if prop.door_provider not in PROVIDERS_ACCEPTING_SET_PINS:
        raise DomainError(
            "door_provider_unsupported",
            f"the {prop.door_provider} door provider derives its own codes; PINs cannot be set",
        )
    ctx = AccessContext(session, vault, clock.now(), principal.key_id)
    policy = policy_of(prop)
    claims = stay_claims(ctx, stay, prop, policy)
    if pin == GENERATE:
        return with_race_retry(session, lambda: _regenerate(ctx, stay, prop, claims))
    if not principal.sees_pins:
        # A key that cannot read PINs must not choose one either: pin_conflict would let it
        # probe which codes exist on the doors.
        raise DomainError("forbidden", "choosing a PIN needs a key with the pins or door_provider scope", "pin")
    lengths = allowed_pin_lengths([c.lock.capabilities.get("code_lengths") for c in claims])
    validate_pin_format(pin, lengths)  # empty when the doors share no length: every PIN is refused
    warnings = check_strength(pin, policy)
    return with_race_retry(session, lambda: _set(ctx, stay, prop, claims, pin, warnings))


def _regenerate(ctx: AccessContext, stay: Reservation, prop: Property, claims: Sequence[Claim]) -> Reservation:
    policy = policy_of(prop)
    assert stay.unit_id is not None
    if policy.pin_scope == PinScope.UNIT:
        replace_unit_code(ctx, prop, stay.unit_id, None, "regenerated")
        stay.access_warnings = None
        return stay
    old_id = stay.access_code_id
    stay.access_warnings = None
    stay.access_code_id = None  # forget the current code: refresh issues a fresh one
    for row in live_claims(ctx.session, stay):  # off the doors first: the new code replaces it in the code space
        revoke_claim(row, ctx.now, policy.reuse_cooldown)
    refresh_stay_access(ctx, stay, prop, "regenerated")
    if stay.access_error_code == "code_space_exhausted":
        raise DomainError("code_space_exhausted", stay.access_error_message or "no room for another code")
    _retire(ctx, stay, old_id)
    return stay


def _retire(ctx: AccessContext, stay: Reservation, old_code_id: str | None) -> None:
    if old_code_id is None or old_code_id == stay.access_code_id:
        return
    old = ctx.session.get(AccessCode, (stay.account_id, old_code_id))
    if old is not None and old.holder == "reservation" and old.revoked_at is None:
        old.revoked_at, old.revoke_reason, old.updated_at = ctx.now, "replaced", ctx.now


def _set(
    ctx: AccessContext,
    stay: Reservation,
    prop: Property,
    claims: Sequence[Claim],
    pin: str,
    warnings: list[AccessWarning],
) -> Reservation:
    policy = policy_of(prop)
    assert stay.unit_id is not None
    lock_doors(ctx.session, stay.account_id, [c.lock.id for c in claims])
    current = ctx.session.get(AccessCode, (stay.account_id, stay.access_code_id)) if stay.access_code_id else None
    if (
        current is not None
        and current.revoked_at is None
        and stay.access_error_code is None
        and current.pin_fingerprint == ctx.vault.fingerprint(pin)
    ):
        pass  # already the stay's live PIN: a second code with the same value would clash with it
    elif policy.pin_scope == PinScope.UNIT:
        replace_unit_code(ctx, prop, stay.unit_id, pin, "set_by_api", source="custom")
    else:
        taken = taken_fingerprints(ctx.session, stay.account_id, claims, policy.reuse_cooldown, stay.access_code_id)
        if clashes_with(ctx.vault, pin, claims, taken):
            raise pin_conflict()
        space = check_code_space(ctx.session, stay.account_id, claims, len(pin), policy, stay.access_code_id)
        if space.verdict == "refuse":
            raise space_exhausted(space, len(pin))
        old_id = stay.access_code_id
        if current is not None and current.revoked_at is None and current.pin_fingerprint == ctx.vault.fingerprint(pin):
            # Its own PIN again, for a stay that lost its claims: keep the code, whose revoked
            # claims still hold that PIN through the cooldown (a second code would clash with them).
            code = current
        else:
            code = new_code(
                ctx.vault,
                account_id=stay.account_id,
                property_id=prop.id,
                pin=pin,
                pin_source="custom",
                kind="guest",
                holder="reservation",
                now=ctx.now,
                reservation_id=stay.id,
            )
            ctx.session.add(code)
        ctx.session.flush()
        place_claims(ctx, stay, code, pin, claims, policy)
        _retire(ctx, stay, old_id)
        stay.pin_changed_reason = "set_by_api"
        audit_stay(ctx, stay, "pin.set", source="custom")
    stay.access_warnings = [{"code": w.code, "message": w.message} for w in warnings]
    stay.updated_at = ctx.now
    # A stay that waited for room now has its PIN: its alert is resolved.
    close_alerts(ctx.session, account_id=stay.account_id, at=ctx.now, dedupe_key=f"code_space_exhausted:{stay.id}")
    return stay
