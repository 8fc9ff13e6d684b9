"""/v1/access-codes: staff, cleaning, maintenance, technical, event, backup and delivery codes."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from doorpin.adapters.db.access_models import AccessCode
from doorpin.bootstrap import AppServices
from doorpin.domain.local_time import load_timezone, to_instant
from doorpin.domain.scopes import Scope
from doorpin.entrypoints.api.context import reading, require, run_write, services
from doorpin.entrypoints.api.presenters import local_iso
from doorpin.entrypoints.api.routers.common import ListParams, list_params
from doorpin.entrypoints.api.schemas.access_codes import (
    AccessCodeCreate,
    AccessCodeOut,
    AccessCodeUpdate,
    CodeAccessOut,
    Kind,
)
from doorpin.entrypoints.api.schemas.common import ERROR_RESPONSES, Page
from doorpin.entrypoints.api.schemas.reservations import LockAccessOut
from doorpin.services import access_codes, properties
from doorpin.services.pin_reveal import MASK, shown_pin
from doorpin.services.principal import Principal

router = APIRouter(prefix="/v1/access-codes", tags=["access codes"], responses=ERROR_RESPONSES)
MIDNIGHT = datetime.min.time()


def _state(code: AccessCode, now: datetime) -> str:
    if code.revoked_at is not None:
        return "revoked"
    if not code.enabled:
        return "disabled"
    if code.starts_at is not None and now < code.starts_at:
        return "scheduled"
    if code.ends_at is not None and now >= code.ends_at:
        return "expired"
    return "active"


def _present(session: Session, app: AppServices, caller: Principal, code: AccessCode) -> AccessCodeOut:
    tz = ZoneInfo(properties.get_property(session, caller, code.property_id).timezone)
    now = app.clock.now()
    pin = (
        shown_pin(session, app.vault, caller, code, at=now, subject_type="access_code", subject_id=code.id)
        if code.revoked_at is None
        else MASK
    )
    latest = {row.lock_id: row for row in access_codes.claims_of(session, code)}
    return AccessCodeOut(
        id=code.id,
        property_id=code.property_id,
        kind=code.kind,
        name=code.name or "",
        pin=pin,
        pin_source=code.pin_source,
        enabled=code.enabled,
        state=_state(code, now),
        lock_ids=code.lock_ids,
        unit_ids=code.unit_ids,
        starts_at=local_iso(code.starts_at, tz) if code.starts_at else None,
        ends_at=local_iso(code.ends_at, tz) if code.ends_at else None,
        schedule=code.schedule,
        rotate_every_days=code.rotate_every_days,
        rotates_at=local_iso(code.rotates_at, tz) if code.rotates_at else None,
        rotated_from_id=code.rotated_from_id,
        access=CodeAccessOut(
            locks=[
                LockAccessOut(
                    lock_id=row.lock_id,
                    state=row.state,
                    error={"code": row.error_code, "message": row.error_message or ""} if row.error_code else None,
                    updated_at=local_iso(row.updated_at, tz),
                )
                for row in latest.values()
            ],
            first_used_at=local_iso(code.first_used_at, tz) if code.first_used_at else None,
        ),
        created_at=local_iso(code.created_at, tz),
        updated_at=local_iso(code.updated_at, tz),
    )


def _instants(session: Session, caller: Principal, property_id: str, data: dict[str, Any]) -> None:
    """starts_at/ends_at as instants: dates are property-local midnights."""
    tz = load_timezone(properties.get_property(session, caller, property_id, "property_id").timezone)
    for field in ("starts_at", "ends_at"):
        if data.get(field) is not None:
            data[field] = to_instant(data[field], tz, MIDNIGHT)
    if data.get("schedule") is not None:
        data["schedule"] = [{"days": w["days"], "from": w["from_"], "to": w["to"]} for w in data["schedule"]]


@router.post("", status_code=201, response_model=AccessCodeOut)
def create_access_code(
    body: AccessCodeCreate,
    request: Request,
    caller: Principal = Depends(require(Scope.WRITE)),
    app: AppServices = Depends(services),
) -> JSONResponse:
    data = body.model_dump()

    def action(session: Session) -> AccessCodeOut:
        _instants(session, caller, body.property_id, data)
        code = access_codes.create_access_code(session, app.clock, app.vault, caller, data)
        return _present(session, app, caller, code)

    return run_write(request, app, caller, body, action, status_code=201)


@router.get("", response_model=Page[AccessCodeOut])
def list_access_codes(
    page: ListParams = Depends(list_params),
    property_id: str | None = Query(None, max_length=40),
    kind: Kind | None = Query(None),
    caller: Principal = Depends(require(Scope.READ)),
    app: AppServices = Depends(services),
) -> Page[AccessCodeOut]:
    with reading(app, caller) as session:
        result = access_codes.list_access_codes(
            session, caller, access_codes.CodeFilters(property_id, kind), page.limit, page.cursor
        )
        return Page(data=[_present(session, app, caller, c) for c in result.items], next_cursor=result.next_cursor)


@router.get("/{code_id}", response_model=AccessCodeOut)
def get_access_code(
    code_id: str = Path(max_length=40),
    caller: Principal = Depends(require(Scope.READ)),
    app: AppServices = Depends(services),
) -> AccessCodeOut:
    with reading(app, caller) as session:
        return _present(session, app, caller, access_codes.get_access_code(session, caller, code_id))


@router.patch("/{code_id}", response_model=AccessCodeOut)
def update_access_code(
    body: AccessCodeUpdate,
    request: Request,
    code_id: str = Path(max_length=40),
    caller: Principal = Depends(require(Scope.WRITE)),
    app: AppServices = Depends(services),
) -> JSONResponse:
    """Change name, doors, window, schedule, enabled or rotation. The PIN never changes (pin_immutable)."""
    changes = body.model_dump(exclude_unset=True)

    def action(session: Session) -> AccessCodeOut:
        code = access_codes.get_access_code(session, caller, code_id)
        _instants(session, caller, code.property_id, changes)
        updated = access_codes.update_access_code(session, app.clock, app.vault, caller, code_id, changes)
        return _present(session, app, caller, updated)

    return run_write(request, app, caller, body, action)


@router.delete("/{code_id}", response_model=AccessCodeOut)
def delete_access_code(
    request: Request,
    code_id: str = Path(max_length=40),
    caller: Principal = Depends(require(Scope.WRITE)),
    app: AppServices = Depends(services),
) -> JSONResponse:
    """Revoke the code at once on every lock; it stays listed as `revoked` for the record."""

    def action(session: Session) -> AccessCodeOut:
        code = access_codes.delete_access_code(session, app.clock, caller, code_id)
        return _present(session, app, caller, code)

    return run_write(request, app, caller, None, action)
