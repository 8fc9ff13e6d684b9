"""Allocating PINs on locks without clashes, within the code space a lock can afford.

Everything here runs inside the caller's write transaction, after `lock_doors` has serialized
work on the locks concerned (row locks on PostgreSQL; SQLite's BEGIN IMMEDIATE already admits
one writer). The PostgreSQL exclusion constraint on `lock_codes` is the last word: a claim that
slips past the checks here fails to insert and the caller retries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from doorpin.adapters.db.access_models import AccessCode, LockCode
from doorpin.adapters.db.models import Lock, UnitLock
from doorpin.adapters.pin_vault import PinVault
from doorpin.domain.clash import guess_probability, space_verdict
from doorpin.domain.code_policy import CodePolicy
from doorpin.domain.errors import DomainError
from doorpin.domain.pins import allowed_pin_lengths, generate_pin
from doorpin.ids import new_id


@dataclass(frozen=True)
class Claim:
    """A code wanted on `lock` from `valid_from` to `valid_until` (None: open-ended)."""

    lock: Lock
    valid_from: datetime
    valid_until: datetime | None

    def hold_until(self, cooldown: timedelta) -> datetime | None:
        return None if self.valid_until is None else self.valid_until + cooldown


def doors_of_unit(session: Session, account_id: str, property_id: str, unit_id: str) -> list[Lock]:
    """The unit's own locks and the property's common doors (locks linked to no unit)."""
    linked = select(UnitLock.lock_id).where(UnitLock.account_id == account_id)
    query = select(Lock).where(
        Lock.account_id == account_id,
        Lock.property_id == property_id,
        or_(
            Lock.id.in_(select(UnitLock.lock_id).where(UnitLock.account_id == account_id, UnitLock.unit_id == unit_id)),
            Lock.id.not_in(linked),
        ),
    )
    return list(session.scalars(query.order_by(Lock.id)))


def lock_doors(session: Session, account_id: str, lock_ids: Iterable[str]) -> None:
    """Serialize allocation per lock: concurrent transactions on the same locks queue here."""
    ids = sorted(set(lock_ids))
    if not ids or session.get_bind().dialect.name != "postgresql":
        return
    session.execute(
        select(Lock.id).where(Lock.account_id == account_id, Lock.id.in_(ids)).order_by(Lock.id).with_for_update()
    ).all()


def _overlapping(claim: Claim, cooldown: timedelta) -> list[ColumnElement[bool]]:
    """SQL conditions: a stored claim's [valid_from, hold_until) meets this claim's range.

    An empty stored range (a claim revoked before it began, with no cooldown) holds nothing, as
    an empty tstzrange in the PostgreSQL exclusion constraint and `doorpin.domain.clash`.
    """
    hold = claim.hold_until(cooldown)
    conditions: list[ColumnElement[bool]] = [
        or_(LockCode.hold_until.is_(None), LockCode.hold_until > claim.valid_from),
        or_(LockCode.hold_until.is_(None), LockCode.hold_until > LockCode.valid_from),
    ]
    if hold is not None:
        conditions.append(LockCode.valid_from < hold)
    return conditions


def taken_fingerprints(
    session: Session, account_id: str, claims: Sequence[Claim], cooldown: timedelta, exclude_code_id: str | None
) -> dict[str, set[str]]:
    """Per lock, the fingerprints other codes hold over each claim's range (cooldown included)."""
    taken: dict[str, set[str]] = {}
    for claim in claims:
        query = select(LockCode.code_fingerprint).where(
            LockCode.account_id == account_id, LockCode.lock_id == claim.lock.id, *_overlapping(claim, cooldown)
        )
        if exclude_code_id is not None:
            query = query.where(LockCode.access_code_id != exclude_code_id)
        # Several claims may share a lock (the stays of one unit): each window adds to what is taken.
        taken.setdefault(claim.lock.id, set()).update(session.scalars(query))
    return taken


def clashes_with(vault: PinVault, pin: str, claims: Sequence[Claim], taken: dict[str, set[str]]) -> bool:
    return any(
        vault.lock_fingerprint(pin, claim.lock.capabilities.get("unique_prefix_len")) in taken[claim.lock.id]
        for claim in claims
    )


@dataclass(frozen=True)
class SpaceCheck:
    verdict: str  # ok | warn | refuse
    lock: Lock | None
    probability: float


def check_code_space(
    session: Session,
    account_id: str,
    claims: Sequence[Claim],
    length: int,
    policy: CodePolicy,
    exclude_code_id: str | None,
) -> SpaceCheck:
    """The worst verdict over the claimed locks if one more code went live on each."""
    worst = SpaceCheck("ok", None, 0.0)
    rank = {"ok": 0, "warn": 1, "refuse": 2}
    for claim in claims:
        query = select(func.count(func.distinct(LockCode.access_code_id))).where(
            LockCode.account_id == account_id,
            LockCode.lock_id == claim.lock.id,
            LockCode.revoked_at.is_(None),
            LockCode.desired == "present",
            or_(LockCode.valid_until.is_(None), LockCode.valid_until > claim.valid_from),
        )
        if claim.valid_until is not None:
            query = query.where(LockCode.valid_from < claim.valid_until)
        if exclude_code_id is not None:
            query = query.where(LockCode.access_code_id != exclude_code_id)
        active_after = int(session.scalar(query) or 0) + 1
        verdict = space_verdict(active_after, length, policy)
        if rank[verdict] > rank[worst.verdict]:
            worst = SpaceCheck(verdict, claim.lock, guess_probability(active_after, length))
    return worst


def generated_length(policy: CodePolicy, locks: Sequence[Lock]) -> int:
    """The policy's length when every lock takes it, else the nearest length they all take."""
    allowed = allowed_pin_lengths([lock.capabilities.get("code_lengths") for lock in locks])
    if not allowed:
        raise DomainError(
            "code_constraints_violated", "these doors accept no common PIN length; check the locks' code_lengths"
        )
    if policy.length in allowed:
        return policy.length
    longer = sorted(n for n in allowed if n > policy.length)
    return longer[0] if longer else max(allowed)


def space_exhausted(check: SpaceCheck, length: int) -> DomainError:
    lock_name = check.lock.name if check.lock is not None else "a lock"
    return DomainError(
        "code_space_exhausted",
        f"{lock_name} would have too many live codes of {length} digits (a random guess would succeed with "
        f"probability {check.probability:.2%}); use longer codes (code_policy.length) or fewer overlapping codes",
    )


def pick_pin(
    session: Session,
    vault: PinVault,
    account_id: str,
    claims: Sequence[Claim],
    policy: CodePolicy,
    length: int,
    exclude_code_id: str | None,
) -> str:
    """A fresh random PIN that clashes with nothing on these locks; bounded, never loops forever."""
    taken = taken_fingerprints(session, account_id, claims, policy.reuse_cooldown, exclude_code_id)
    return generate_pin(length, avoid=lambda pin: clashes_with(vault, pin, claims, taken))


def new_code(
    vault: PinVault,
    *,
    account_id: str,
    property_id: str,
    pin: str,
    pin_source: str,
    kind: str,
    holder: str,
    now: datetime,
    reservation_id: str | None = None,
    unit_id: str | None = None,
) -> AccessCode:
    code_id = new_id("ac")
    return AccessCode(
        account_id=account_id,
        id=code_id,
        property_id=property_id,
        kind=kind,
        holder=holder,
        reservation_id=reservation_id,
        unit_id=unit_id,
        name=None,
        pin_ciphertext=vault.seal(pin, account_id, code_id),
        pin_fingerprint=vault.fingerprint(pin),
        pin_length=len(pin),
        pin_source=pin_source,
        enabled=True,
        starts_at=None,
        ends_at=None,
        schedule=None,
        rotate_every_days=None,
        rotated_from_id=None,
        lock_ids=None,
        unit_ids=None,
        revoked_at=None,
        revoke_reason=None,
        created_at=now,
        updated_at=now,
    )


def new_claim_row(
    vault: PinVault,
    code: AccessCode,
    pin: str,
    claim: Claim,
    cooldown: timedelta,
    now: datetime,
    reservation_id: str | None,
) -> LockCode:
    return LockCode(
        account_id=code.account_id,
        id=new_id("lc"),
        access_code_id=code.id,
        lock_id=claim.lock.id,
        reservation_id=reservation_id,
        code_fingerprint=vault.lock_fingerprint(pin, claim.lock.capabilities.get("unique_prefix_len")),
        valid_from=claim.valid_from,
        valid_until=claim.valid_until,
        hold_until=claim.hold_until(cooldown),
        desired="present" if code.enabled else "absent",
        state="pending",
        error_code=None,
        error_message=None,
        revoked_at=None,
        created_at=now,
        updated_at=now,
        sync_due_at=now,
        attempts=0,
    )


def touch_claim(row: LockCode, now: datetime) -> None:
    """The claim changed: the lock must learn of it (the reconciler looks at it next)."""
    if row.desired == "present":
        row.state = "pending"
    elif row.state != "removed":
        row.state = "removing"
    row.sync_due_at = now
    row.attempts = 0
    row.first_failure_at = None
    row.updated_at = now


def revoke_claim(row: LockCode, now: datetime, cooldown: timedelta) -> None:
    """Take a claim off its lock now; it keeps the code reserved through the cooldown.

    Ranges only ever shrink here, so revoking can never collide with another code's claim.
    """
    if row.revoked_at is not None:
        return
    end = max(now, row.valid_from)
    row.valid_until = end if row.valid_until is None else min(row.valid_until, end)
    hold = end + cooldown
    row.hold_until = hold if row.hold_until is None else min(row.hold_until, hold)
    row.revoked_at = now
    row.desired = "absent"
    # Even a pending claim may be on its way to the lock (a command in flight): "removing" lets
    # the reconciler make sure, and it settles as "removed" once the lock does not hold it.
    if row.state != "removed":
        row.state = "removing"
    row.sync_due_at = now
    row.updated_at = now


@dataclass(frozen=True)
class CodeSpace:
    """How guessable a lock is right now: live codes over the codes its length allows."""

    active_codes: int
    code_length: int
    guess_probability: float
    verdict: str


def lock_code_space(session: Session, lock: Lock, policy: CodePolicy, now: datetime) -> CodeSpace:
    active = session.scalar(
        select(func.count(func.distinct(LockCode.access_code_id))).where(
            LockCode.account_id == lock.account_id,
            LockCode.lock_id == lock.id,
            LockCode.revoked_at.is_(None),
            LockCode.desired == "present",
            LockCode.valid_from <= now,
            or_(LockCode.valid_until.is_(None), LockCode.valid_until > now),
        )
    )
    count = int(active or 0)
    lengths = lock.capabilities.get("code_lengths") or [policy.length]
    length = policy.length if policy.length in lengths else min(lengths)
    verdict = space_verdict(count, length, policy) if count else "ok"
    return CodeSpace(count, length, guess_probability(count, length), verdict)
