"""/v1/reservations/{id}/deliveries: every message to the guest, and resends."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from doorpin.adapters.db.delivery_models import Delivery
from doorpin.bootstrap import AppServices
from doorpin.domain.deliveries import Channel
from doorpin.domain.errors import DomainError
from doorpin.domain.scopes import Scope
from doorpin.domain.stays import LIVE_STATUSES
from doorpin.entrypoints.api.context import require, run_write, services
from doorpin.entrypoints.api.presenters import local_iso
from doorpin.entrypoints.api.schemas.common import ERROR_RESPONSES, StrictInput
from doorpin.services import audit, reservations
from doorpin.services.guest_messages import deliveries_of, request_resend
from doorpin.services.principal import Principal

router = APIRouter(prefix="/v1/reservations", tags=["deliveries"], responses=ERROR_RESPONSES)


class ResendRequest(StrictInput):
    channels: list[Literal["email", "sms", "whatsapp"]] | None = Field(
        default=None, min_length=1, max_length=3, description="Default: the property's delivery channels."
    )


class DeliveryError(BaseModel):
    code: str
    message: str


class DeliveryOut(BaseModel):
    id: str
    reservation_id: str
    channel: Literal["email", "sms", "whatsapp"]
    to: str | None
    status: Literal["scheduled", "sent", "delivered", "failed", "canceled"]
    reason: Literal["pre_arrival", "pin_changed", "resend", "dates_changed"]
    scheduled_for: str
    sent_at: str | None
    delivered_at: str | None
    attempts: int
    error: DeliveryError | None
    requested_by_key_id: str | None
    created_at: str


class DeliveryList(BaseModel):
    data: list[DeliveryOut]
    next_cursor: str | None = None


def delivery_out(row: Delivery, tz: ZoneInfo) -> DeliveryOut:
    return DeliveryOut(
        id=row.id,
        reservation_id=row.reservation_id,
        channel=row.channel,
        to=row.to_address,
        status=row.status,
        reason=row.reason,
        scheduled_for=local_iso(row.scheduled_for, tz),
        sent_at=local_iso(row.sent_at, tz) if row.sent_at else None,
        delivered_at=local_iso(row.delivered_at, tz) if row.delivered_at else None,
        attempts=row.attempts,
        error=DeliveryError(code=row.error_code, message=row.error_message or "") if row.error_code else None,
        requested_by_key_id=row.requested_by_key_id,
        created_at=local_iso(row.created_at, tz),
    )


@router.get("/{reservation_id}/deliveries", response_model=DeliveryList)
def list_deliveries(
    reservation_id: str = Path(max_length=40),
    caller: Principal = Depends(require(Scope.READ)),
    app: AppServices = Depends(services),
) -> DeliveryList:
    """Every message planned or sent to the guest, newest last, with its status and error."""
    with app.db.reader() as session:
        stay = reservations.get_reservation(session, caller, reservation_id)
        tz = ZoneInfo(reservations.property_of(session, stay).timezone)
        return DeliveryList(data=[delivery_out(row, tz) for row in deliveries_of(session, stay)])


@router.post("/{reservation_id}/deliveries", status_code=201, response_model=DeliveryList)
def resend(
    request: Request,
    body: ResendRequest | None = None,
    reservation_id: str = Path(max_length=40),
    caller: Principal = Depends(require(Scope.WRITE)),
    app: AppServices = Depends(services),
) -> JSONResponse:
    """Send the guest their code again now (on the given channels), recorded with who asked."""

    def action(session: Session) -> DeliveryList:
        stay = reservations.get_reservation(session, caller, reservation_id)
        if stay.status not in LIVE_STATUSES or stay.access_code_id is None:
            raise DomainError("reservation_not_eligible", "only a confirmed or in-house stay with a PIN can be resent")
        prop = reservations.property_of(session, stay)
        now = app.clock.now()
        channels = [Channel(c) for c in body.channels] if body and body.channels else None
        created = request_resend(session, app.vault, now, stay, prop, channels, caller.key_id)
        audit.record(
            session,
            account_id=stay.account_id,
            at=now,
            actor_key_id=caller.key_id,
            action="delivery.resend_requested",
            subject_type="reservation",
            subject_id=stay.id,
            property_id=stay.property_id,
            details={"channels": [d.channel for d in created]},
        )
        return DeliveryList(data=[delivery_out(row, ZoneInfo(prop.timezone)) for row in created])

    return run_write(request, app, caller, body, action, status_code=201)
