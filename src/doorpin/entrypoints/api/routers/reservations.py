"""/v1/reservations: stays pushed by a PMS."""

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
from doorpin.entrypoints.api.context import require, run_write, services
from doorpin.entrypoints.api.presenters import reservation_out
from doorpin.entrypoints.api.routers.common import ListParams, list_params
from doorpin.entrypoints.api.schemas.common import ERROR_RESPONSES, Page
from doorpin.entrypoints.api.schemas.reservations import (
    ReservationCreate,
    ReservationOut,
    ReservationUpdate,
)
from doorpin.services import reservations
from doorpin.services.principal import Principal

router = APIRouter(prefix="/v1/reservations", tags=["reservations"], responses=ERROR_RESPONSES)


def _present(session: Session, row: Reservation) -> ReservationOut:
    return reservation_out(row, ZoneInfo(reservations.property_of(session, row).timezone))


@router.post("", status_code=201, response_model=ReservationOut)
def create_reservation(
    body: ReservationCreate,
    request: Request,
    caller: Principal = Depends(require(Scope.WRITE)),
    app: AppServices = Depends(services),
) -> JSONResponse:
    data = body.model_dump(exclude_unset=True)
    data["check_in"], data["check_out"] = body.check_in, body.check_out
    return run_write(
        request,
        app,
        caller,
        body,
        lambda session: _present(session, reservations.create_reservation(session, app.clock, caller, data)),
        status_code=201,
    )


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
    with app.db.reader() as session:
        result = reservations.list_reservations(session, caller, filters, page.limit, page.cursor)
        return Page(data=[_present(session, row) for row in result.items], next_cursor=result.next_cursor)


@router.get("/{reservation_id}", response_model=ReservationOut)
def get_reservation(
    reservation_id: str = Path(max_length=40),
    caller: Principal = Depends(require(Scope.READ)),
    app: AppServices = Depends(services),
) -> ReservationOut:
    with app.db.reader() as session:
        return _present(session, reservations.get_reservation(session, caller, reservation_id))


@router.patch("/{reservation_id}", response_model=ReservationOut)
def update_reservation(
    body: ReservationUpdate,
    request: Request,
    reservation_id: str = Path(max_length=40),
    caller: Principal = Depends(require(Scope.WRITE)),
    app: AppServices = Depends(services),
) -> JSONResponse:
    changes = body.model_dump(exclude_unset=True)
    for field in ("check_in", "check_out"):
        if field in changes:
            changes[field] = getattr(body, field)
    if "guest" in changes and changes["guest"] is not None:
        changes["guest"] = body.guest.model_dump(exclude_unset=True) if body.guest else None
    return run_write(
        request,
        app,
        caller,
        body,
        lambda session: _present(
            session,
            reservations.update_reservation(session, app.clock, caller, reservation_id, changes),
        ),
    )
