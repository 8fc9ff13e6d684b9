"""/v1/properties and the units and locks of each property."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from doorpin.bootstrap import AppServices
from doorpin.domain.scopes import Scope
from doorpin.entrypoints.api.context import require, run_write, services
from doorpin.entrypoints.api.presenters import property_out, unit_out
from doorpin.entrypoints.api.routers.common import ListParams, list_params
from doorpin.entrypoints.api.routers.doors import present_lock
from doorpin.entrypoints.api.schemas.common import ERROR_RESPONSES, Page
from doorpin.entrypoints.api.schemas.properties import (
    LockCreate,
    LockOut,
    PropertyCreate,
    PropertyOut,
    PropertyUpdate,
    UnitCreate,
    UnitOut,
)
from doorpin.services import doors, properties
from doorpin.services.principal import Principal

router = APIRouter(prefix="/v1/properties", tags=["properties"], responses=ERROR_RESPONSES)

PropertyId = Path(max_length=40, description="prop_…")


@router.post("", status_code=201, response_model=PropertyOut)
def create_property(
    body: PropertyCreate,
    request: Request,
    caller: Principal = Depends(require(Scope.WRITE)),
    app: AppServices = Depends(services),
) -> JSONResponse:
    data = body.model_dump(exclude_none=True)
    for nested in ("code_policy", "delivery"):
        if nested in data:
            data[nested] = {k: v for k, v in data[nested].items() if v is not None}
    return run_write(
        request,
        app,
        caller,
        body,
        lambda session: property_out(properties.create_property(session, app.clock, caller, data)),
        status_code=201,
    )


@router.get("", response_model=Page[PropertyOut])
def list_properties(
    page: ListParams = Depends(list_params),
    caller: Principal = Depends(require(Scope.READ)),
    app: AppServices = Depends(services),
) -> Page[PropertyOut]:
    with app.db.reader() as session:
        result = properties.list_properties(session, caller, page.limit, page.cursor)
        return Page(data=[property_out(row) for row in result.items], next_cursor=result.next_cursor)


@router.get("/{property_id}", response_model=PropertyOut)
def get_property(
    property_id: str = PropertyId,
    caller: Principal = Depends(require(Scope.READ)),
    app: AppServices = Depends(services),
) -> PropertyOut:
    with app.db.reader() as session:
        return property_out(properties.get_property(session, caller, property_id))


@router.patch("/{property_id}", response_model=PropertyOut)
def update_property(
    body: PropertyUpdate,
    request: Request,
    property_id: str = PropertyId,
    caller: Principal = Depends(require(Scope.WRITE)),
    app: AppServices = Depends(services),
) -> JSONResponse:
    # An explicit null leaves a field as it is (none of a property's settings can be unset).
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    for nested in ("code_policy", "delivery"):
        if changes.get(nested) is not None:
            changes[nested] = {k: v for k, v in changes[nested].items() if v is not None}
    return run_write(
        request,
        app,
        caller,
        body,
        lambda session: property_out(properties.update_property(session, app.clock, caller, property_id, changes)),
    )


@router.post("/{property_id}/units", status_code=201, response_model=UnitOut)
def create_unit(
    body: UnitCreate,
    request: Request,
    property_id: str = PropertyId,
    caller: Principal = Depends(require(Scope.WRITE)),
    app: AppServices = Depends(services),
) -> JSONResponse:
    def action(session: Session) -> UnitOut:
        unit = doors.create_unit(session, app.clock, caller, property_id, body.name, body.lock_ids)
        tz = ZoneInfo(properties.get_property(session, caller, property_id).timezone)
        return unit_out(unit, tz)

    return run_write(request, app, caller, body, action, status_code=201)


@router.get("/{property_id}/units", response_model=Page[UnitOut])
def list_units(
    property_id: str = PropertyId,
    page: ListParams = Depends(list_params),
    caller: Principal = Depends(require(Scope.READ)),
    app: AppServices = Depends(services),
) -> Page[UnitOut]:
    with app.db.reader() as session:
        result = doors.list_units(session, caller, property_id, page.limit, page.cursor)
        tz = ZoneInfo(properties.get_property(session, caller, property_id).timezone)
        return Page(data=[unit_out(row, tz) for row in result.items], next_cursor=result.next_cursor)


@router.post("/{property_id}/locks", status_code=201, response_model=LockOut)
def create_lock(
    body: LockCreate,
    request: Request,
    property_id: str = PropertyId,
    caller: Principal = Depends(require(Scope.WRITE)),
    app: AppServices = Depends(services),
) -> JSONResponse:
    data = body.model_dump(exclude_unset=True)
    for nested in ("capabilities", "settings"):
        if data.get(nested) is not None:
            data[nested] = {k: v for k, v in data[nested].items() if v is not None}

    def action(session: Session) -> LockOut:
        lock = doors.create_lock(session, app.clock, caller, property_id, data)
        return present_lock(session, app, caller, lock)

    return run_write(request, app, caller, body, action, status_code=201)


@router.get("/{property_id}/locks", response_model=Page[LockOut])
def list_locks(
    property_id: str = PropertyId,
    page: ListParams = Depends(list_params),
    caller: Principal = Depends(require(Scope.READ)),
    app: AppServices = Depends(services),
) -> Page[LockOut]:
    with app.db.reader() as session:
        result = doors.list_locks(session, caller, property_id, page.limit, page.cursor)
        return Page(
            data=[present_lock(session, app, caller, row) for row in result.items], next_cursor=result.next_cursor
        )
