"""/v1/webhooks: outgoing webhook subscriptions (admin), and each one's delivery log."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from doorpin.adapters.db.event_models import WebhookSubscription
from doorpin.bootstrap import AppServices
from doorpin.domain.scopes import Scope
from doorpin.domain.webhooks import DeliveryStatus
from doorpin.entrypoints.api.context import require, run_write, services
from doorpin.entrypoints.api.routers.common import ListParams, list_params
from doorpin.entrypoints.api.schemas.common import ERROR_RESPONSES, Page
from doorpin.entrypoints.api.schemas.webhooks import (
    WebhookAttemptOut,
    WebhookCreate,
    WebhookCreated,
    WebhookDeliveryOut,
    WebhookOut,
)
from doorpin.services import webhooks
from doorpin.services.principal import Principal

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], responses=ERROR_RESPONSES)

WebhookId = Path(max_length=40, description="wh_…")


def webhook_out(row: WebhookSubscription) -> WebhookOut:
    return WebhookOut(
        id=row.id,
        url=row.url,
        description=row.description,
        events=list(row.events),
        status="disabled" if row.status == "disabled" else "active",
        created_at=row.created_at,
        updated_at=row.updated_at,
        failing_since=row.failing_since,
        disabled_at=row.disabled_at,
        disabled_reason=row.disabled_reason,
    )


def delivery_out(view: webhooks.DeliveryView) -> WebhookDeliveryOut:
    row = view.delivery
    return WebhookDeliveryOut(
        id=row.id,
        event_id=row.event_id,
        event_type=view.event_type,
        status=DeliveryStatus(row.status).value,
        attempt_count=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_attempt_at=row.last_attempt_at,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
        created_at=row.created_at,
        attempts=[
            WebhookAttemptOut(
                id=a.id,
                attempted_at=a.attempted_at,
                status_code=a.status_code,
                error=a.error,
                duration_ms=a.duration_ms,
            )
            for a in view.attempts
        ],
    )


@router.post("", status_code=201, response_model=WebhookCreated)
def create_webhook(
    body: WebhookCreate,
    request: Request,
    caller: Principal = Depends(require(Scope.ADMIN)),
    app: AppServices = Depends(services),
) -> JSONResponse:
    """Subscribe a URL to events. The `secret` is in this response only: keep it to verify signatures."""

    def action(session: Session) -> WebhookCreated:
        created = webhooks.create_subscription(
            session,
            app.vault,
            app.clock,
            caller,
            url=body.url,
            events=body.events,
            secret=body.secret,
            description=body.description,
        )
        return WebhookCreated(**webhook_out(created.row).model_dump(), secret=created.secret)

    return run_write(request, app, caller, body, action, status_code=201)


@router.get("", response_model=Page[WebhookOut])
def list_webhooks(
    page: ListParams = Depends(list_params),
    caller: Principal = Depends(require(Scope.ADMIN)),
    app: AppServices = Depends(services),
) -> Page[WebhookOut]:
    """Active and disabled subscriptions, oldest first (deleted ones are gone)."""
    with app.db.reader() as session:
        result = webhooks.list_subscriptions(session, caller, page.limit, page.cursor)
        return Page(data=[webhook_out(row) for row in result.items], next_cursor=result.next_cursor)


@router.get("/{webhook_id}", response_model=WebhookOut)
def get_webhook(
    webhook_id: str = WebhookId,
    caller: Principal = Depends(require(Scope.ADMIN)),
    app: AppServices = Depends(services),
) -> WebhookOut:
    with app.db.reader() as session:
        return webhook_out(webhooks.get_subscription(session, caller, webhook_id))


@router.delete("/{webhook_id}", status_code=204, response_class=Response)
def delete_webhook(
    webhook_id: str = WebhookId,
    caller: Principal = Depends(require(Scope.ADMIN)),
    app: AppServices = Depends(services),
) -> Response:
    """Stop sending to this URL at once; deliveries still pending are canceled."""
    with app.db.transaction() as session:
        webhooks.delete_subscription(session, app.clock, caller, webhook_id)
    return Response(status_code=204)


@router.post("/{webhook_id}/enable", response_model=WebhookOut)
def enable_webhook(
    request: Request,
    webhook_id: str = WebhookId,
    caller: Principal = Depends(require(Scope.ADMIN)),
    app: AppServices = Depends(services),
) -> JSONResponse:
    """Activate a subscription that was disabled after failing; what it missed is sent at once."""
    return run_write(
        request,
        app,
        caller,
        None,
        lambda session: webhook_out(webhooks.enable_subscription(session, app.clock, caller, webhook_id)),
    )


@router.get("/{webhook_id}/deliveries", response_model=Page[WebhookDeliveryOut])
def list_webhook_deliveries(
    webhook_id: str = WebhookId,
    status: Literal["pending", "delivered", "canceled"] | None = Query(
        None, description="Only deliveries in this state."
    ),
    page: ListParams = Depends(list_params),
    caller: Principal = Depends(require(Scope.ADMIN)),
    app: AppServices = Depends(services),
) -> Page[WebhookDeliveryOut]:
    """The delivery log: one entry per event sent to this subscription, oldest first, with every attempt."""
    with app.db.reader() as session:
        result = webhooks.list_deliveries(
            session, caller, webhook_id, None if status is None else DeliveryStatus(status), page.limit, page.cursor
        )
        return Page(data=[delivery_out(view) for view in result.items], next_cursor=result.next_cursor)
