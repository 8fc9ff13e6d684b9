"""GET /v1/reservations/{id}/access-events: who keyed in at which door, and what the door did."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path

from doorpin.adapters.db.event_models import AccessEvent
from doorpin.bootstrap import AppServices
from doorpin.domain.scopes import Scope
from doorpin.entrypoints.api.context import require, services
from doorpin.entrypoints.api.presenters import local_iso
from doorpin.entrypoints.api.routers.common import ListParams, list_params
from doorpin.entrypoints.api.schemas.access_events import AccessEventOut, CredentialOut
from doorpin.entrypoints.api.schemas.common import ERROR_RESPONSES, Page
from doorpin.services.access_history import list_stay_events
from doorpin.services.principal import Principal
from doorpin.services.reservations import property_of

router = APIRouter(prefix="/v1/reservations", tags=["access events"], responses=ERROR_RESPONSES)


def access_event_out(row: AccessEvent, tz: ZoneInfo) -> AccessEventOut:
    return AccessEventOut(
        id=row.id,
        occurred_at=local_iso(row.occurred_at, tz),
        received_at=local_iso(row.received_at, tz),
        property_id=row.property_id,
        lock_id=row.lock_id,
        provider_event_id=row.provider_event_id,
        result=row.result,
        reason=row.reason,
        credential=CredentialOut(type="access_code", id=row.access_code_id),
        reservation_id=row.reservation_id,
        access_code_id=row.access_code_id,
        attribution=row.attribution,
        source=row.source,
    )


@router.get("/{reservation_id}/access-events", response_model=Page[AccessEventOut])
def list_access_events(
    reservation_id: str = Path(max_length=40),
    page: ListParams = Depends(list_params),
    caller: Principal = Depends(require(Scope.READ)),
    app: AppServices = Depends(services),
) -> Page[AccessEventOut]:
    """The stay's key-ins, in the order they happened at the door (the lock's clock), each
    attributed to the code used and to how the moment related to its window. Never a PIN."""
    with app.db.reader() as session:
        stay, result = list_stay_events(session, caller, reservation_id, page.limit, page.cursor)
        tz = ZoneInfo(property_of(session, stay).timezone)
        return Page(data=[access_event_out(row, tz) for row in result.items], next_cursor=result.next_cursor)
