"""ORM rows -> API bodies. Instants are shown on the property's wall clock, with its offset."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from doorpin.adapters.db.models import ApiKey, Lock, Property, Reservation, Unit
from doorpin.domain.scopes import Scope
from doorpin.entrypoints.api.schemas.api_keys import ApiKeyOut
from doorpin.entrypoints.api.schemas.properties import (
    CapabilitiesOut,
    CodePolicyOut,
    CodeSpaceOut,
    DeliveryOut,
    LockHealth,
    LockOut,
    LockSettingsOut,
    PropertyOut,
    UnitOut,
)
from doorpin.entrypoints.api.schemas.reservations import AccessOut, GuestOut, LockAccessOut, ReservationOut
from doorpin.services.access_view import AccessInfo
from doorpin.services.code_allocation import CodeSpace


def local_iso(instant: datetime, tz: ZoneInfo) -> str:
    return instant.astimezone(tz).isoformat()


def api_key_out(row: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=row.id,
        name=row.name,
        scopes=[Scope(s) for s in row.scopes],
        property_ids=row.property_ids,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def property_out(row: Property) -> PropertyOut:
    tz = ZoneInfo(row.timezone)
    return PropertyOut(
        id=row.id,
        name=row.name,
        timezone=row.timezone,
        door_provider=row.door_provider,
        check_in_time=row.check_in_time,
        check_out_time=row.check_out_time,
        code_policy=CodePolicyOut.model_validate(row.code_policy),
        delivery=DeliveryOut.model_validate(row.delivery),
        created_at=local_iso(row.created_at, tz),
        updated_at=local_iso(row.updated_at, tz),
    )


def unit_out(row: Unit, tz: ZoneInfo) -> UnitOut:
    return UnitOut(
        id=row.id,
        property_id=row.property_id,
        name=row.name,
        lock_ids=row.lock_ids,
        created_at=local_iso(row.created_at, tz),
        updated_at=local_iso(row.updated_at, tz),
    )


def lock_health(row: Lock, pending: int) -> LockHealth:
    if row.consecutive_failures >= 3:
        status = "unreachable"
    elif row.consecutive_failures > 0:
        status = "degraded"
    elif row.last_contact_at is None:
        status = "unknown"
    else:
        status = "ok"
    return LockHealth(
        status=status,
        last_contact_at=row.last_contact_at,
        pending_commands=pending,
        failures=row.consecutive_failures,
    )


def lock_out(row: Lock, tz: ZoneInfo, space: CodeSpace, pending: int) -> LockOut:
    return LockOut(
        id=row.id,
        property_id=row.property_id,
        name=row.name,
        provider=row.provider,
        unit_ids=row.unit_ids,
        capabilities=CapabilitiesOut.model_validate(row.capabilities),
        settings=LockSettingsOut(
            device_id=row.settings.get("device_id"),
            hub_url=row.settings.get("hub_url"),
            webhook_url=row.settings.get("webhook_url"),
            webhook_secret_set=bool(row.settings.get("webhook_secret")),
        ),
        health=lock_health(row, pending),
        code_space=CodeSpaceOut(
            active_codes=space.active_codes,
            code_length=space.code_length,
            guess_probability=space.guess_probability,
            verdict=space.verdict,
        ),
        created_at=local_iso(row.created_at, tz),
        updated_at=local_iso(row.updated_at, tz),
    )


def access_out(info: AccessInfo, tz: ZoneInfo) -> AccessOut:
    return AccessOut(
        pin=info.pin,
        pin_source=info.pin_source,
        state=info.state,
        valid_from=local_iso(info.valid_from, tz) if info.valid_from else None,
        valid_until=local_iso(info.valid_until, tz) if info.valid_until else None,
        shared_with=info.shared_with,
        locks=[
            LockAccessOut(
                lock_id=lock.lock_id,
                state=lock.state,
                error=lock.error,
                updated_at=local_iso(lock.updated_at, tz),
            )
            for lock in info.locks
        ],
        warnings=info.warnings,
        error=info.error,
        first_used_at=local_iso(info.first_used_at, tz) if info.first_used_at else None,
    )


def reservation_out(row: Reservation, tz: ZoneInfo, access: AccessInfo | None) -> ReservationOut:
    return ReservationOut(
        id=row.id,
        property_id=row.property_id,
        external_ref=row.external_ref,
        unit_id=row.unit_id,
        status=row.status,
        check_in=local_iso(row.check_in, tz),
        check_out=local_iso(row.check_out, tz),
        guest=GuestOut(
            name=row.guest_name,
            email=row.guest_email,
            phone=row.guest_phone,
            language=row.guest_language,
        ),
        access=access_out(access, tz) if access is not None else None,
        created_at=local_iso(row.created_at, tz),
        updated_at=local_iso(row.updated_at, tz),
    )
