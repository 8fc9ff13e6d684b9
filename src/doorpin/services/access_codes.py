"""Non-guest codes: staff, cleaning, maintenance, technical, event, backup and delivery.

A code opens the locks it names, or the doors of the units it names (their own locks and the
common doors), from `starts_at` (default: now) to `ends_at` (default: open-ended). Its value
never changes; a shared code with `rotate_every_days` is replaced by a new one on schedule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorpin.adapters.db.access_models import AccessCode, LockCode
from doorpin.adapters.db.models import Lock, Property, Unit
from doorpin.adapters.pin_vault import PinVault
from doorpin.domain.code_policy import CodePolicy
from doorpin.domain.errors import DomainError
from doorpin.domain.pins import allowed_pin_lengths, check_strength, validate_pin_format
from doorpin.domain.schedules import parse_schedule
from doorpin.domain.scopes import Scope
from doorpin.services import audit
from doorpin.services.clock import Clock
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
from doorpin.services.pagination import Page, paginate
from doorpin.services.principal import Principal, not_found
from doorpin.services.properties import get_property
from doorpin.services.stay_access import pin_conflict, policy_of, with_race_retry

KINDS = ("staff", "cleaning", "maintenance", "technical", "event", "backup", "delivery")
GENERATE = "******"


@dataclass(frozen=True)
class CodeFilters:
    property_id: str | None = None
    kind: str | None = None


def get_access_code(session: Session, principal: Principal, code_id: str) -> AccessCode:
    row = session.get(AccessCode, (principal.account_id, code_id))
    if row is None or row.holder != "code" or not principal.reaches(row.property_id):
        raise not_found("access code")
    return row


def _doors(session: Session, prop: Property, lock_ids: list[str] | None, unit_ids: list[str] | None) -> list[Lock]:
    if not lock_ids and not unit_ids:
        raise DomainError("validation_error", "name the doors: lock_ids or unit_ids", "lock_ids")
    doors: dict[str, Lock] = {}
    if lock_ids:
        found = {
            lock.id: lock
            for lock in session.scalars(
                select(Lock).where(
                    Lock.account_id == prop.account_id, Lock.property_id == prop.id, Lock.id.in_(lock_ids)
                )
            )
        }
        for lock_id in lock_ids:
            if lock_id not in found:
                raise DomainError("validation_error", f"{lock_id!r} is not a lock of this property", "lock_ids")
        doors.update(found)
    for unit_id in unit_ids or []:
        unit_doors = doors_of_unit(session, prop.account_id, prop.id, unit_id)
        unit = session.get(Unit, (prop.account_id, unit_id))
        if unit is None or unit.property_id != prop.id:
            raise DomainError("validation_error", f"{unit_id!r} is not a unit of this property", "unit_ids")
        doors.update({lock.id: lock for lock in unit_doors})
    return [doors[key] for key in sorted(doors)]


def _window(starts_at: datetime | None, ends_at: datetime | None, now: datetime) -> tuple[datetime, datetime | None]:
    start = starts_at or now
    if ends_at is not None and ends_at <= start:
        raise DomainError("invalid_window", "ends_at must be after starts_at", "ends_at")
    return start, ends_at


def _claims(doors: list[Lock], start: datetime, end: datetime | None) -> list[Claim]:
    return [Claim(lock, start, end) for lock in doors]


def create_access_code(
    session: Session, clock: Clock, vault: PinVault, principal: Principal, data: Mapping[str, Any]
) -> AccessCode:
    principal.require(Scope.WRITE)
    prop = get_property(session, principal, data["property_id"], "property_id")
    policy = policy_of(prop)
    now = clock.now()
    if data.get("schedule"):
        parse_schedule(data["schedule"])
    start, end = _window(data.get("starts_at"), data.get("ends_at"), now)
    doors = _doors(session, prop, data.get("lock_ids"), data.get("unit_ids"))
    claims = _claims(doors, start, end)
    pin = data.get("pin") or GENERATE
    if pin != GENERATE:
        if not principal.sees_pins:
            raise DomainError("forbidden", "choosing a PIN needs a key with the pins scope", "pin")
        validate_pin_format(pin, allowed_pin_lengths([lock.capabilities.get("code_lengths") for lock in doors]))
        check_strength(pin, policy)

    def attempt() -> AccessCode:
        lock_doors(session, prop.account_id, [lock.id for lock in doors])
        length = len(pin) if pin != GENERATE else generated_length(policy, doors)
        space = check_code_space(session, prop.account_id, claims, length, policy, None)
        if space.verdict == "refuse":
            raise space_exhausted(space, length)
        if pin == GENERATE:
            value = pick_pin(session, vault, prop.account_id, claims, policy, length, None)
        else:
            taken = taken_fingerprints(session, prop.account_id, claims, policy.reuse_cooldown, None)
            if clashes_with(vault, pin, claims, taken):
                raise pin_conflict()
            value = pin
        code = new_code(
            vault,
            account_id=prop.account_id,
            property_id=prop.id,
            pin=value,
            pin_source="generated" if pin == GENERATE else "custom",
            kind=data["kind"],
            holder="code",
            now=now,
        )
        code.name = data["name"]
        code.enabled = bool(data.get("enabled", True))
        code.starts_at, code.ends_at = data.get("starts_at"), data.get("ends_at")
        code.schedule = list(data.get("schedule") or []) or None
        code.rotate_every_days = data.get("rotate_every_days")
        if code.rotate_every_days:
            code.rotates_at = start + timedelta(days=code.rotate_every_days)
        code.lock_ids = list(data.get("lock_ids") or []) or None
        code.unit_ids = list(data.get("unit_ids") or []) or None
        session.add(code)
        session.flush()
        for claim in claims:
            session.add(new_claim_row(vault, code, value, claim, policy.reuse_cooldown, now, None))
        session.flush()
        return code

    code = with_race_retry(session, attempt)
    _audit(session, now, principal.key_id, code, "access_code.created", {"kind": code.kind})
    return code


def _audit(
    session: Session, now: datetime, actor: str | None, code: AccessCode, action: str, details: dict[str, Any]
) -> None:
    audit.record(
        session,
        account_id=code.account_id,
        at=now,
        actor_key_id=actor,
        action=action,
        subject_type="access_code",
        subject_id=code.id,
        property_id=code.property_id,
        details=details,
    )


def claims_of(session: Session, code: AccessCode) -> list[LockCode]:
    return list(
        session.scalars(
            select(LockCode)
            .where(LockCode.account_id == code.account_id, LockCode.access_code_id == code.id)
            .order_by(LockCode.lock_id, LockCode.created_at)
        )
    )


def _replace_claims(
    session: Session, vault: PinVault, code: AccessCode, policy: CodePolicy, claims: list[Claim], now: datetime
) -> None:
    pin = vault.open(code.pin_ciphertext, code.account_id, code.id)
    taken = taken_fingerprints(session, code.account_id, claims, policy.reuse_cooldown, code.id)
    if clashes_with(vault, pin, claims, taken):
        raise pin_conflict()
    live = {row.lock_id: row for row in claims_of(session, code) if row.revoked_at is None}
    wanted = {claim.lock.id: claim for claim in claims}
    for lock_id, row in live.items():
        if lock_id not in wanted:
            revoke_claim(row, now, policy.reuse_cooldown)
    for lock_id, claim in wanted.items():
        existing = live.get(lock_id)
        if existing is None:
            session.add(new_claim_row(vault, code, pin, claim, policy.reuse_cooldown, now, None))
            continue
        row = existing
        hold = claim.hold_until(policy.reuse_cooldown)
        wanted_state = "present" if code.enabled else "absent"
        window = (claim.valid_from, claim.valid_until, hold)
        if (row.valid_from, row.valid_until, row.hold_until) != window or row.desired != wanted_state:
            row.valid_from, row.valid_until, row.hold_until = window
            row.desired = wanted_state
            touch_claim(row, now)
    session.flush()


def update_access_code(
    session: Session, clock: Clock, vault: PinVault, principal: Principal, code_id: str, changes: Mapping[str, Any]
) -> AccessCode:
    principal.require(Scope.WRITE)
    code = get_access_code(session, principal, code_id)
    if "pin" in changes:
        raise DomainError("pin_immutable", "a code's PIN never changes; create a new code instead", "pin")
    if code.revoked_at is not None:
        raise DomainError("invalid_transition", "this code has been deleted", "id")
    prop = get_property(session, principal, code.property_id)
    policy = policy_of(prop)
    now = clock.now()
    if changes.get("schedule") is not None:
        parse_schedule(changes["schedule"])
    for field in ("name", "enabled"):
        if changes.get(field) is not None:
            setattr(code, field, changes[field])
    if "rotate_every_days" in changes:
        code.rotate_every_days = changes["rotate_every_days"]
        code.rotates_at = now + timedelta(days=code.rotate_every_days) if code.rotate_every_days else None
    if "schedule" in changes:
        code.schedule = list(changes["schedule"] or []) or None
    if "starts_at" in changes:
        code.starts_at = changes["starts_at"]
    if "ends_at" in changes:
        code.ends_at = changes["ends_at"]
    if "lock_ids" in changes or "unit_ids" in changes:
        code.lock_ids = list(changes.get("lock_ids", code.lock_ids) or []) or None
        code.unit_ids = list(changes.get("unit_ids", code.unit_ids) or []) or None
    live = [row for row in claims_of(session, code) if row.revoked_at is None]
    current_start = min((row.valid_from for row in live), default=now)
    start, end = _window(code.starts_at or current_start, code.ends_at, now)
    doors = _doors(session, prop, code.lock_ids, code.unit_ids)

    def attempt() -> None:
        lock_doors(session, code.account_id, [lock.id for lock in doors])
        _replace_claims(session, vault, code, policy, _claims(doors, start, end), now)

    with_race_retry(session, attempt)
    code.updated_at = now
    _audit(session, now, principal.key_id, code, "access_code.updated", {"fields": sorted(changes)})
    return code


def revoke_code(session: Session, code: AccessCode, policy: CodePolicy, now: datetime, reason: str) -> None:
    for row in claims_of(session, code):
        revoke_claim(row, now, policy.reuse_cooldown)
    code.revoked_at, code.revoke_reason, code.updated_at = now, reason, now


def delete_access_code(session: Session, clock: Clock, principal: Principal, code_id: str) -> AccessCode:
    principal.require(Scope.WRITE)
    code = get_access_code(session, principal, code_id)
    now = clock.now()
    if code.revoked_at is None:
        prop = get_property(session, principal, code.property_id)
        revoke_code(session, code, policy_of(prop), now, "deleted")
        _audit(session, now, principal.key_id, code, "access_code.deleted", {})
    return code


def list_access_codes(
    session: Session, principal: Principal, filters: CodeFilters, limit: int, cursor: str | None
) -> Page[AccessCode]:
    principal.require(Scope.READ)
    query = select(AccessCode).where(AccessCode.account_id == principal.account_id, AccessCode.holder == "code")
    if principal.property_ids is not None:
        query = query.where(AccessCode.property_id.in_(sorted(principal.property_ids)))
    if filters.property_id is not None:
        query = query.where(AccessCode.property_id == filters.property_id)
    if filters.kind is not None:
        query = query.where(AccessCode.kind == filters.kind)
    return paginate(session, query, AccessCode.id, limit, cursor)


def rotate_due_codes(session: Session, vault: PinVault, now: datetime, limit: int = 100) -> int:
    """Replace shared codes whose rotation period has passed: the old one ends, a new one starts."""
    due = session.scalars(
        select(AccessCode)
        .where(AccessCode.holder == "code", AccessCode.revoked_at.is_(None), AccessCode.rotates_at <= now)
        .order_by(AccessCode.rotates_at)
        .limit(limit)
    ).all()
    rotated = 0
    for code in due:
        prop = session.get(Property, (code.account_id, code.property_id))
        assert prop is not None
        policy = policy_of(prop)
        admin = Principal(code.account_id, "system", frozenset(Scope), None)
        successor = create_access_code(
            session,
            _FixedClock(now),
            vault,
            admin,
            {
                "property_id": code.property_id,
                "kind": code.kind,
                "name": code.name,
                "enabled": code.enabled,
                "lock_ids": code.lock_ids,
                "unit_ids": code.unit_ids,
                "starts_at": now,
                "ends_at": code.ends_at if code.ends_at and code.ends_at > now else None,
                "schedule": code.schedule,
                "rotate_every_days": code.rotate_every_days,
            },
        )
        successor.rotated_from_id = code.id
        revoke_code(session, code, policy, now, "rotated")
        _audit(session, now, None, code, "access_code.rotated", {"successor_id": successor.id})
        rotated += 1
    return rotated


@dataclass(frozen=True)
class _FixedClock:
    at: datetime

    def now(self) -> datetime:
        return self.at
