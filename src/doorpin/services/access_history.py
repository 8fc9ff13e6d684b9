"""Who keyed in where: a stay's access events, in the order they happened at the door.

Events are listed by the lock's time (`occurred_at`), not by arrival, so an event that came in
late takes its place in the history. The cursor is the id of the last event shown; the next page
continues after that event's (occurred_at, id).
"""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from doorpin.adapters.db.event_models import AccessEvent
from doorpin.adapters.db.models import Reservation
from doorpin.domain.errors import DomainError
from doorpin.domain.scopes import Scope
from doorpin.services.pagination import Page, decode_cursor, encode_cursor
from doorpin.services.principal import Principal
from doorpin.services.reservations import get_reservation


def list_stay_events(
    session: Session, principal: Principal, reservation_id: str, limit: int, cursor: str | None
) -> tuple[Reservation, Page[AccessEvent]]:
    """The stay's access events, oldest first; `not_found` for a stay the key may not see."""
    principal.require(Scope.READ)
    stay = get_reservation(session, principal, reservation_id)
    query = select(AccessEvent).where(AccessEvent.account_id == stay.account_id, AccessEvent.reservation_id == stay.id)
    if cursor:
        last = session.get(AccessEvent, (stay.account_id, decode_cursor(cursor)))
        if last is None or last.reservation_id != stay.id:
            raise DomainError("validation_error", "cursor is not one this API returned", "cursor")
        query = query.where(
            or_(
                AccessEvent.occurred_at > last.occurred_at,
                and_(AccessEvent.occurred_at == last.occurred_at, AccessEvent.id > last.id),
            )
        )
    rows = list(session.scalars(query.order_by(AccessEvent.occurred_at, AccessEvent.id).limit(limit + 1)))
    if len(rows) > limit:
        rows = rows[:limit]
        return stay, Page(rows, encode_cursor(rows[-1].id))
    return stay, Page(rows, None)
