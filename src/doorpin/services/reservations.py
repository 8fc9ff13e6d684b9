"""Reservations (stays): created and changed by a PMS, with a validated lifecycle.

The `access` side (PINs, locks) hangs off a reservation and is computed by the code engine;
this module owns the booking itself: guest, dates, unit and status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorpin.adapters.db.models import Property, Reservation, Unit
from doorpin.adapters.pin_vault import PinVault
from doorpin.domain.errors import DomainError
from doorpin.domain.local_time import load_timezone, local_day_bounds, parse_time_of_day, to_instant
from doorpin.domain.scopes import Scope
from doorpin.domain.stays import StayStatus, check_transition
from doorpin.ids import new_id
from doorpin.services import unit_mates
from doorpin.services.clock import Clock
from doorpin.services.guest_messages import plan_guest_messages, snapshot
from doorpin.services.pagination import Page, paginate
from doorpin.services.principal import Principal, not_found
from doorpin.services.properties import get_property
from doorpin.services.stay_access import AccessContext, refresh_stay_access, with_race_retry

MAX_STAY = timedelta(days=731)
GUEST_FIELDS = ("name", "email", "phone", "language")


@dataclass(frozen=True)
class ReservationFilters:
    property_id: str | None = None
    status: StayStatus | None = None
    unit_id: str | None = None
    arriving_on: date | None = None
    external_ref: str | None = None


def get_reservation(session: Session, principal: Principal, reservation_id: str) -> Reservation:
    row = session.get(Reservation, (principal.account_id, reservation_id))
    if row is None or not principal.reaches(row.property_id):
        raise not_found("reservation")
    return row


def property_of(session: Session, row: Reservation) -> Property:
    prop = session.get(Property, (row.account_id, row.property_id))
    assert prop is not None
    return prop


def _window(prop: Property, check_in: date | datetime, check_out: date | datetime) -> tuple[datetime, datetime]:
    tz = load_timezone(prop.timezone)
    start = to_instant(check_in, tz, parse_time_of_day(prop.check_in_time, "check_in_time"))
    end = to_instant(check_out, tz, parse_time_of_day(prop.check_out_time, "check_out_time"))
    if end <= start:
        raise DomainError("invalid_window", "check_out must be after check_in", "check_out")
    if end - start > MAX_STAY:
        raise DomainError("invalid_window", "a stay may last at most two years", "check_out")
    return start, end


def _check_unit(session: Session, prop: Property, unit_id: str | None) -> None:
    if unit_id is None:
        return
    unit = session.get(Unit, (prop.account_id, unit_id))
    if unit is None or unit.property_id != prop.id:
        raise DomainError("validation_error", "unit_id does not name a unit of this property", "unit_id")


def _check_external_ref(session: Session, prop: Property, external_ref: str | None, exclude: str | None) -> None:
    if external_ref is None:
        return
    query = select(Reservation.id).where(
        Reservation.account_id == prop.account_id,
        Reservation.property_id == prop.id,
        Reservation.external_ref == external_ref,
    )
    existing = session.scalars(query).first()
    if existing is not None and existing != exclude:
        raise DomainError(
            "duplicate_external_ref",
            f"reservation {existing} already has this external_ref in this property",
            "external_ref",
        )


def create_reservation(
    session: Session, clock: Clock, vault: PinVault, principal: Principal, data: Mapping[str, Any]
) -> Reservation:
    principal.require(Scope.WRITE)
    prop = get_property(session, principal, data["property_id"], "property_id")
    check_in, check_out = _window(prop, data["check_in"], data["check_out"])
    _check_unit(session, prop, data.get("unit_id"))
    _check_external_ref(session, prop, data.get("external_ref"), None)
    guest = data.get("guest") or {}
    now = clock.now()
    row = Reservation(
        account_id=prop.account_id,
        id=new_id("res"),
        property_id=prop.id,
        external_ref=data.get("external_ref"),
        unit_id=data.get("unit_id"),
        status=StayStatus(data.get("status") or StayStatus.CONFIRMED).value,
        check_in=check_in,
        check_out=check_out,
        guest_name=guest.get("name"),
        guest_email=guest.get("email"),
        guest_phone=guest.get("phone"),
        guest_language=guest.get("language"),
        created_at=now,
        updated_at=now,
        version=1,
    )
    session.add(row)
    session.flush()
    mates = unit_mates.before_change(session, prop, [row.unit_id], row.id)
    _refresh_access(session, vault, now, principal, row, prop, "created")
    plan_guest_messages(session, vault, now, row, prop, None)
    unit_mates.tell_changed(session, vault, now, prop, mates)
    return row


def _refresh_access(
    session: Session,
    vault: PinVault,
    now: datetime,
    principal: Principal,
    row: Reservation,
    prop: Property,
    reason: str,
) -> None:
    ctx = AccessContext(session, vault, now, principal.key_id)
    with_race_retry(session, lambda: refresh_stay_access(ctx, row, prop, reason))


def update_reservation(
    session: Session,
    clock: Clock,
    vault: PinVault,
    principal: Principal,
    reservation_id: str,
    changes: Mapping[str, Any],
) -> Reservation:
    principal.require(Scope.WRITE)
    row = get_reservation(session, principal, reservation_id)
    prop = property_of(session, row)
    before = (row.status, row.unit_id, row.check_in, row.check_out)
    guest_before = snapshot(row)
    if changes.get("status") is not None:
        check_transition(StayStatus(row.status), StayStatus(changes["status"]))
    if "check_in" in changes or "check_out" in changes:
        # The side not given keeps its stored instant: a round trip through naive wall time
        # would move the second occurrence of an ambiguous hour to the first.
        check_in = changes.get("check_in") or row.check_in
        check_out = changes.get("check_out") or row.check_out
        row.check_in, row.check_out = _window(prop, check_in, check_out)
    if "unit_id" in changes:
        _check_unit(session, prop, changes["unit_id"])
        row.unit_id = changes["unit_id"]
    if "external_ref" in changes:
        _check_external_ref(session, prop, changes["external_ref"], row.id)
        row.external_ref = changes["external_ref"]
    if changes.get("status") is not None:
        row.status = StayStatus(changes["status"]).value
    guest = changes.get("guest")
    if guest:
        for field in GUEST_FIELDS:
            if field in guest:
                setattr(row, f"guest_{field}", guest[field])
    row.updated_at = clock.now()
    row.version += 1
    session.flush()
    after = (row.status, row.unit_id, row.check_in, row.check_out)
    mates: unit_mates.UnitMates = []
    if after != before:
        reason = (
            "status_changed" if after[0] != before[0] else "unit_changed" if after[1] != before[1] else "dates_changed"
        )
        mates = unit_mates.before_change(session, prop, [before[1], after[1]], row.id)
        _refresh_access(session, vault, row.updated_at, principal, row, prop, reason)
    plan_guest_messages(session, vault, row.updated_at, row, prop, guest_before)
    unit_mates.tell_changed(session, vault, row.updated_at, prop, mates)
    return row


def list_reservations(
    session: Session,
    principal: Principal,
    filters: ReservationFilters,
    limit: int,
    cursor: str | None,
) -> Page[Reservation]:
    principal.require(Scope.READ)
    query = select(Reservation).where(Reservation.account_id == principal.account_id)
    if principal.property_ids is not None:
        query = query.where(Reservation.property_id.in_(sorted(principal.property_ids)))
    if filters.property_id is not None:
        get_property(session, principal, filters.property_id, "property_id")  # 404 if not reachable
        query = query.where(Reservation.property_id == filters.property_id)
    if filters.status is not None:
        query = query.where(Reservation.status == filters.status.value)
    if filters.unit_id is not None:
        query = query.where(Reservation.unit_id == filters.unit_id)
    if filters.external_ref is not None:
        query = query.where(Reservation.external_ref == filters.external_ref)
    if filters.arriving_on is not None:
        if filters.property_id is None:
            raise DomainError(
                "validation_error",
                "arriving_on is a property-local date: give property_id too",
                "arriving_on",
            )
        prop = get_property(session, principal, filters.property_id, "property_id")
        start, end = local_day_bounds(filters.arriving_on, load_timezone(prop.timezone))
        query = query.where(Reservation.check_in >= start, Reservation.check_in < end)
    return paginate(session, query, Reservation.id, limit, cursor)
