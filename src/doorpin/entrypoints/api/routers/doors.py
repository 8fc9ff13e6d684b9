"""/v1/units/{id} and /v1/locks/{id}."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo

import httpx
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from doorpin.adapters.db.models import Lock
from doorpin.bootstrap import AppServices
from doorpin.domain.code_policy import CodePolicy
from doorpin.domain.errors import DomainError
from doorpin.domain.scopes import Scope
from doorpin.entrypoints.api.context import require, run_write, services
from doorpin.entrypoints.api.presenters import lock_out, unit_out
from doorpin.entrypoints.api.schemas.common import ERROR_RESPONSES, StrictInput
from doorpin.entrypoints.api.schemas.properties import LockOut, LockUpdate, UnitOut, UnitUpdate
from doorpin.services import doors, properties
from doorpin.services.code_allocation import lock_code_space
from doorpin.services.lock_sync import pending_commands
from doorpin.services.principal import Principal

router = APIRouter(prefix="/v1", tags=["units and locks"], responses=ERROR_RESPONSES)


def _tz(session: Session, caller: Principal, property_id: str) -> ZoneInfo:
    return ZoneInfo(properties.get_property(session, caller, property_id).timezone)


def present_lock(session: Session, app: AppServices, caller: Principal, lock: Lock) -> LockOut:
    prop = properties.get_property(session, caller, lock.property_id)
    space = lock_code_space(session, lock, CodePolicy.from_mapping(prop.code_policy), app.clock.now())
    pending = pending_commands(session, lock.account_id, [lock.id]).get(lock.id, 0)
    return lock_out(lock, ZoneInfo(prop.timezone), space, pending)


@router.get("/units/{unit_id}", response_model=UnitOut)
def get_unit(
    unit_id: str = Path(max_length=40),
    caller: Principal = Depends(require(Scope.READ)),
    app: AppServices = Depends(services),
) -> UnitOut:
    with app.db.reader() as session:
        unit = doors.get_unit(session, caller, unit_id)
        return unit_out(unit, _tz(session, caller, unit.property_id))


@router.patch("/units/{unit_id}", response_model=UnitOut)
def update_unit(
    body: UnitUpdate,
    request: Request,
    unit_id: str = Path(max_length=40),
    caller: Principal = Depends(require(Scope.WRITE)),
    app: AppServices = Depends(services),
) -> JSONResponse:
    def action(session: Session) -> UnitOut:
        unit = doors.update_unit(session, app.clock, caller, unit_id, body.model_dump(exclude_unset=True))
        return unit_out(unit, _tz(session, caller, unit.property_id))

    return run_write(request, app, caller, body, action)


@router.get("/locks/{lock_id}", response_model=LockOut)
def get_lock(
    lock_id: str = Path(max_length=40),
    caller: Principal = Depends(require(Scope.READ)),
    app: AppServices = Depends(services),
) -> LockOut:
    with app.db.reader() as session:
        lock = doors.get_lock(session, caller, lock_id)
        return present_lock(session, app, caller, lock)


@router.patch("/locks/{lock_id}", response_model=LockOut)
def update_lock(
    body: LockUpdate,
    request: Request,
    lock_id: str = Path(max_length=40),
    caller: Principal = Depends(require(Scope.WRITE)),
    app: AppServices = Depends(services),
) -> JSONResponse:
    changes = body.model_dump(exclude_unset=True)
    for nested in ("capabilities", "settings"):
        if changes.get(nested) is not None:
            changes[nested] = {k: v for k, v in changes[nested].items() if v is not None}

    def action(session: Session) -> LockOut:
        lock = doors.update_lock(session, app.clock, caller, lock_id, changes)
        return present_lock(session, app, caller, lock)

    return run_write(request, app, caller, body, action)


class KeypadEntry(StrictInput):
    code: str = Field(min_length=1, max_length=16, description="The digits typed on the keypad.")


class KeypadResult(BaseModel):
    result: Literal["granted", "denied", "lockout"]


@router.post("/locks/{lock_id}/keypad", response_model=KeypadResult)
def enter_code(
    body: KeypadEntry,
    lock_id: str = Path(max_length=40),
    caller: Principal = Depends(require(Scope.WRITE)),
    app: AppServices = Depends(services),
) -> KeypadResult:
    """Type a code on a simulated keypad lock (demos and door tests). Real locks answer 409."""
    from doorpin.adapters.locks.pool import ProviderPool
    from doorpin.adapters.locks.simulator import HubClient, HubClientError

    with app.db.reader() as session:
        lock = doors.get_lock(session, caller, lock_id)
        ref = ProviderPool(app.provider_settings).ref_for(lock)
    hub_url = ref.settings.get("hub_url")
    if lock.provider != "keypad" or not hub_url:
        raise DomainError("door_provider_unsupported", "only simulated keypad locks have a keypad here")
    try:
        with HubClient(str(hub_url), timeout=5) as hub:
            result = hub.keypad(ref.device_id, body.code)
    except (HubClientError, OSError, ValueError, httpx.HTTPError, httpx.InvalidURL):  # ValueError: IDNA
        raise DomainError("lock_unreachable", "the keypad hub did not answer; try again") from None
    return KeypadResult(result=result)
