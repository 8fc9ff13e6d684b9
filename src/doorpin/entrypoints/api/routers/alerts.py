"""/v1/alerts: what a person must look at (a door being guessed at, a canceled guest's code
tried, a lock not answering before an arrival...), and closing them once dealt with."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from doorpin.adapters.db.access_models import Alert
from doorpin.bootstrap import AppServices
from doorpin.domain.scopes import Scope
from doorpin.entrypoints.api.context import require, run_write, services
from doorpin.entrypoints.api.routers.common import ListParams, list_params
from doorpin.entrypoints.api.schemas.common import ERROR_RESPONSES, Page, StrictInput
from doorpin.services import alerts
from doorpin.services.principal import Principal

router = APIRouter(prefix="/v1/alerts", tags=["alerts"], responses=ERROR_RESPONSES)


class AlertSubject(BaseModel):
    type: str
    id: str | None


class AlertOut(BaseModel):
    id: str
    kind: str = Field(examples=["repeated_wrong_codes"])
    severity: Literal["info", "warning", "critical"]
    message: str
    property_id: str | None
    subject: AlertSubject | None
    occurrences: int = Field(description="How many times the condition was seen while the alert was open.")
    created_at: datetime
    last_seen_at: datetime
    closed_at: datetime | None


class CloseRequest(StrictInput):
    note: str | None = Field(None, max_length=500, description="What was done; kept in the audit trail.")


def alert_out(row: Alert) -> AlertOut:
    return AlertOut(
        id=row.id,
        kind=row.kind,
        severity=row.severity,
        message=row.message,
        property_id=row.property_id,
        subject=None if row.subject_type is None else AlertSubject(type=row.subject_type, id=row.subject_id),
        occurrences=row.occurrences,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        closed_at=row.closed_at,
    )


@router.get("", response_model=Page[AlertOut])
def list_alerts(
    page: ListParams = Depends(list_params),
    status: Literal["open", "closed", "all"] = Query("open"),
    property_id: str | None = Query(None, max_length=40),
    kind: str | None = Query(None, max_length=64),
    caller: Principal = Depends(require(Scope.READ)),
    app: AppServices = Depends(services),
) -> Page[AlertOut]:
    """Alerts, oldest first; open ones by default."""
    with app.db.reader() as session:
        result = alerts.list_alerts(
            session,
            caller,
            status=status,
            property_id=property_id,
            kind=kind,
            limit=page.limit,
            cursor=page.cursor,
        )
        return Page(data=[alert_out(row) for row in result.items], next_cursor=result.next_cursor)


@router.get("/{alert_id}", response_model=AlertOut)
def get_alert(
    alert_id: str = Path(max_length=40),
    caller: Principal = Depends(require(Scope.READ)),
    app: AppServices = Depends(services),
) -> AlertOut:
    with app.db.reader() as session:
        return alert_out(alerts.get_alert(session, caller, alert_id))


@router.post("/{alert_id}/close", response_model=AlertOut)
def close_alert(
    request: Request,
    body: CloseRequest | None = None,
    alert_id: str = Path(max_length=40),
    caller: Principal = Depends(require(Scope.WRITE)),
    app: AppServices = Depends(services),
) -> JSONResponse:
    """Mark the alert dealt with (recorded in the audit trail with the key and the note)."""

    def action(session: Session) -> AlertOut:
        note = body.note if body is not None else None
        return alert_out(alerts.close_alert(session, caller, alert_id, app.clock.now(), note))

    return run_write(request, app, caller, body, action)
