"""/v1/events: the audit trail, access events and alerts in one feed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from doorpin.bootstrap import AppServices
from doorpin.domain.scopes import Scope
from doorpin.entrypoints.api.context import require, services
from doorpin.entrypoints.api.routers.common import ListParams, list_params
from doorpin.entrypoints.api.schemas.common import ERROR_RESPONSES, Page
from doorpin.services import events
from doorpin.services.principal import Principal

router = APIRouter(prefix="/v1/events", tags=["events"], responses=ERROR_RESPONSES)


class Subject(BaseModel):
    type: str
    id: str | None


class EventOut(BaseModel):
    id: str
    type: str
    occurred_at: datetime
    property_id: str | None
    actor_key_id: str | None
    subject: Subject | None
    data: dict[str, Any]


@router.get("", response_model=Page[EventOut])
def list_events(
    page: ListParams = Depends(list_params),
    type: str | None = Query(
        None,
        max_length=64,
        description="An event type or its family: audit, audit.pin.revealed, access, access.denied, alert",
    ),
    property_id: str | None = Query(None, max_length=40),
    since: datetime | None = Query(None, description="Only events at or after this instant (ISO 8601)."),
    caller: Principal = Depends(require(Scope.READ)),
    app: AppServices = Depends(services),
) -> Page[EventOut]:
    """What happened, oldest first: who changed access or saw a PIN (`audit.*`), who keyed in at
    which door (`access.granted`, `access.denied`) and what needed a person (`alert.raised`).
    No event contains a PIN."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    with app.db.reader() as session:
        result = events.list_events(session, caller, type, property_id, since, page.limit, page.cursor)
        return Page(
            data=[
                EventOut(
                    id=row.id,
                    type=row.type,
                    occurred_at=row.occurred_at,
                    property_id=row.property_id,
                    actor_key_id=row.actor_key_id,
                    subject=None if row.subject_type is None else Subject(type=row.subject_type, id=row.subject_id),
                    data=row.data,
                )
                for row in result.items
            ],
            next_cursor=result.next_cursor,
        )
