"""What a reservation's `access` block shows; showing a PIN in clear is an audited reveal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorpin.adapters.db.access_models import AccessCode, LockCode
from doorpin.adapters.db.models import Property, Reservation
from doorpin.adapters.pin_vault import PinVault
from doorpin.domain.access_windows import stay_access_window
from doorpin.domain.stays import LIVE_STATUSES
from doorpin.services.pin_reveal import shown_pin
from doorpin.services.principal import Principal
from doorpin.services.stay_access import policy_of


@dataclass(frozen=True)
class LockAccess:
    lock_id: str
    state: str
    error: dict[str, str] | None
    updated_at: datetime


@dataclass(frozen=True)
class AccessInfo:
    pin: str | None
    pin_source: str | None
    state: str
    valid_from: datetime | None
    valid_until: datetime | None
    shared_with: list[str]
    locks: list[LockAccess]
    warnings: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, str] | None = None
    first_used_at: datetime | None = None  # the first key-in that opened a door with the stay's PIN


def _state(stay: Reservation, code: AccessCode | None, live: list[LockCode], now: datetime) -> str:
    if stay.status not in LIVE_STATUSES:
        return "revoked"
    if code is None or not live:
        return "pending"
    start = min(row.valid_from for row in live)
    ends = [row.valid_until for row in live]
    end = None if any(e is None for e in ends) else max(e for e in ends if e is not None)
    if now < start:
        return "scheduled"
    if end is not None and now >= end:
        return "expired"
    return "active"


def describe_access(
    session: Session, vault: PinVault, now: datetime, caller: Principal, stay: Reservation, prop: Property
) -> AccessInfo:
    code = session.get(AccessCode, (stay.account_id, stay.access_code_id)) if stay.access_code_id else None
    rows = list(
        session.scalars(
            select(LockCode)
            .where(LockCode.account_id == stay.account_id, LockCode.reservation_id == stay.id)
            .order_by(LockCode.created_at, LockCode.id)
        )
    )
    latest: dict[str, LockCode] = {}
    for row in rows:  # a live claim wins over older, revoked ones on the same lock
        if row.lock_id not in latest or row.revoked_at is None or latest[row.lock_id].revoked_at is not None:
            latest[row.lock_id] = row
    live = [row for row in latest.values() if row.revoked_at is None]
    shown = live or list(latest.values())
    if shown:
        valid_from: datetime | None = min(row.valid_from for row in shown)
        untils = [row.valid_until for row in shown]
        valid_until = None if any(u is None for u in untils) else max(u for u in untils if u is not None)
    else:
        valid_from, valid_until = stay_access_window(stay.check_in, stay.check_out, policy_of(prop))
    pin: str | None = None
    if code is not None and stay.status in LIVE_STATUSES:
        pin = shown_pin(
            session,
            vault,
            caller,
            code,
            at=now,
            subject_type="reservation",
            subject_id=stay.id,
            details={"access_code_id": code.id},
        )
    shared: list[str] = []
    if code is not None and code.holder == "unit" and stay.status in LIVE_STATUSES:
        shared = list(
            session.scalars(
                select(Reservation.id).where(
                    Reservation.account_id == stay.account_id,
                    Reservation.access_code_id == code.id,
                    Reservation.id != stay.id,
                    Reservation.status.in_([s.value for s in LIVE_STATUSES]),
                )
            )
        )
    error = None
    if stay.access_error_code is not None and stay.status in LIVE_STATUSES:
        error = {"code": stay.access_error_code, "message": stay.access_error_message or ""}
    return AccessInfo(
        pin=pin,
        pin_source=code.pin_source if code is not None else None,
        state=_state(stay, code, live, now),
        valid_from=valid_from,
        valid_until=valid_until,
        shared_with=sorted(shared),
        locks=[
            LockAccess(
                lock_id=row.lock_id,
                state=row.state,
                error={"code": row.error_code, "message": row.error_message or ""} if row.error_code else None,
                updated_at=row.updated_at,
            )
            for row in sorted(latest.values(), key=lambda r: r.lock_id)
        ],
        warnings=list(stay.access_warnings or []),
        error=error,
        first_used_at=stay.first_used_at,
    )
