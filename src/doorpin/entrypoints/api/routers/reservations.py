"""/v1/reservations: stays pushed by a PMS, and their PINs."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from doorpin.adapters.db.models import Reservation
from doorpin.bootstrap import AppServices
from doorpin.domain.scopes import Scope
from doorpin.domain.stays import StayStatus
from doorpin.entrypoints.api.context import reading, require, run_write, services
from doorpin.entrypoints.api.presenters import reservation_out
from doorpin.entrypoints.api.routers.common import ListParams, list_params
from doorpin.entrypoints.api.schemas.common import ERROR_RESPONSES, Page
from doorpin.entrypoints.api.schemas.reservations import PinSet, ReservationCreate, ReservationOut, ReservationUpdate
from doorpin.services import reservations
from doorpin.services.access_view import describe_access
from doorpin.services.pin_messages import set_pin_and_notify
from doorpin.services.principal import Principal

router = APIRouter(prefix="/v1/reservations", tags=["reservations"], responses=ERROR_RESPONSES)


def _present(session: Session, app: AppServices, caller: Principal, row: Reservation) -> ReservationOut:
    prop = reservations.property_of(session, row)
    access = describe_access(session, app.vault, app.clock.now(), caller, row, prop)
    return reservation_out(row, ZoneInfo(prop.timezone), access)


@router.post("", status_code=201, response_model=ReservationOut)
def create_reservation(
    body: ReservationCreate,
    request: Request,
    caller: Principal = Depends(require(Scope.WRITE)),
    app: AppServices = Depends(services),
) -> JSONResponse:
    """Store a stay. A CONFIRMED stay with a unit gets its PIN at once; storing never fails for lack of codes."""
    data = body.model_dump(exclude_unset=True)
    data["check_in"], data["check_out"] = body.check_in, body.check_out

    def action(session: Session) -> ReservationOut:
        row = reservations.create_reservation(session, app.clock, app.vault, caller, data)
        return _present(session, app, caller, row)

    return run_write(request, app, caller, body, action, status_code=201)


@router.get("", response_model=Page[ReservationOut])
def list_reservations(
    page: ListParams = Depends(list_params),
    property_id: str | None = Query(None, max_length=40),
    status: StayStatus | None = Query(None),
    unit_id: str | None = Query(None, max_length=40),
    arriving_on: date | None = Query(None, description="Property-local arrival date; needs property_id."),
    external_ref: str | None = Query(None, max_length=200),
    caller: Principal = Depends(require(Scope.READ)),
    app: AppServices = Depends(services),
) -> Page[ReservationOut]:
    filters = reservations.ReservationFilters(property_id, status, unit_id, arriving_on, external_ref)
    with reading(app, caller) as session:
        result = reservations.list_reservations(session, caller, filters, page.limit, page.cursor)
        return Page(data=[_present(session, app, caller, row) for row in result.items], next_cursor=result.next_cursor)


@router.get("/{reservation_id}", response_model=ReservationOut)
def get_reservation(
    reservation_id: str = Path(max_length=40),
    caller: Principal = Depends(require(Scope.READ)),
    app: AppServices = Depends(services),
) -> ReservationOut:
    with reading(app, caller) as session:
        return _present(session, app, caller, reservations.get_reservation(session, caller, reservation_id))


@router.patch("/{reservation_id}", response_model=ReservationOut)
def update_reservation(
    body: ReservationUpdate,
    request: Request,
    reservation_id: str = Path(max_length=40),
    caller: Principal = Depends(require(Scope.WRITE)),
    app: AppServices = Depends(services),
) -> JSONResponse:
    """Change dates, unit, guest or status. Dates move the PIN's window; CANCELED, NO_SHOW and
    CHECKED_OUT revoke it at once."""
    changes = body.model_dump(exclude_unset=True)
    for field in ("check_in", "check_out"):
        if field in changes:
            changes[field] = getattr(body, field)
    if "guest" in changes and changes["guest"] is not None:
        changes["guest"] = body.guest.model_dump(exclude_unset=True) if body.guest else None

    def action(session: Session) -> ReservationOut:
        row = reservations.update_reservation(session, app.clock, app.vault, caller, reservation_id, changes)
        return _present(session, app, caller, row)

    return run_write(request, app, caller, body, action)


@router.put("/{reservation_id}/pin", response_model=ReservationOut)
def set_pin(
    body: PinSet,
    request: Request,
    reservation_id: str = Path(max_length=40),
    caller: Principal = Depends(require(Scope.READ)),
    app: AppServices = Depends(services),
) -> JSONResponse:
    """Set the stay's PIN (`door_provider` or `write` scope), or `"******"` to generate a new one.

    Checked in this order: reservation_not_eligible, unit_not_assigned, door_provider_unsupported,
    pin_invalid_format, pin_too_weak, pin_conflict. With `pin_scope: "unit"` the PIN changes for
    every stay of the unit.
    """

    def action(session: Session) -> ReservationOut:
        row = set_pin_and_notify(session, app.vault, app.clock, caller, reservation_id, body.pin)
        return _present(session, app, caller, row)

    return run_write(request, app, caller, body, action)
