"""GET /v1/events: the account's one feed of what happened — the audit trail (`audit.*`),
access events from the locks (`access.granted`, `access.denied`) and alerts (`alert.raised`).

The three live in their own tables; the feed merges them in id order. Ids sort by creation time
whatever their prefix (`aud_…`, `ae_…`, `alrt_…` share one clock), so a page is the `limit` smallest
ids above the cursor across the three, and the cursor is the last id shown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from doorpin.adapters.db.access_models import Alert, AuditEvent
from doorpin.adapters.db.event_models import AccessEvent
from doorpin.domain.errors import DomainError
from doorpin.domain.scopes import Scope
from doorpin.services.announcements import access_event_data, access_event_type, alert_data
from doorpin.services.pagination import Page, decode_cursor, encode_cursor
from doorpin.services.principal import Principal

FAMILIES = ("audit", "access", "alert")


@dataclass(frozen=True)
class FeedEvent:
    id: str
    type: str
    occurred_at: datetime
    property_id: str | None
    actor_key_id: str | None
    subject_type: str | None
    subject_id: str | None
    data: dict[str, Any]


def _audit(row: AuditEvent) -> FeedEvent:
    return FeedEvent(
        row.id,
        f"audit.{row.action}",
        row.occurred_at,
        row.property_id,
        row.actor_key_id,
        row.subject_type,
        row.subject_id,
        row.details,
    )


def _access(row: AccessEvent) -> FeedEvent:
    return FeedEvent(
        row.id,
        access_event_type(row),
        row.occurred_at,
        row.property_id,
        None,
        "lock",
        row.lock_id,
        access_event_data(row),
    )


def _alert(row: Alert) -> FeedEvent:
    return FeedEvent(
        row.id, "alert.raised", row.created_at, row.property_id, None, row.subject_type, row.subject_id, alert_data(row)
    )


@dataclass(frozen=True)
class _Source:
    family: str
    model: Any
    id_column: InstrumentedAttribute[str]
    property_column: InstrumentedAttribute[Any]
    time_column: InstrumentedAttribute[datetime]
    prefix: str
    present: Callable[[Any], FeedEvent]


_SOURCES = (
    _Source("audit", AuditEvent, AuditEvent.id, AuditEvent.property_id, AuditEvent.occurred_at, "aud", _audit),
    _Source("access", AccessEvent, AccessEvent.id, AccessEvent.property_id, AccessEvent.occurred_at, "ae", _access),
    _Source("alert", Alert, Alert.id, Alert.property_id, Alert.created_at, "alrt", _alert),
)


def _subtype_filter(family: str, rest: str) -> ColumnElement[bool] | None:
    """The rows of `family` whose type is `family.rest` or below it; None: no row can match."""
    if family == "audit":
        return (AuditEvent.action == rest) | AuditEvent.action.startswith(rest + ".")
    if family == "access":
        results = {"granted": ["granted"], "denied": ["denied", "lockout"]}.get(rest)
        return None if results is None else AccessEvent.result.in_(results)
    return true() if rest == "raised" else None


def _sort_key(event_id: str) -> str:
    return event_id.partition("_")[2]


def list_events(
    session: Session,
    principal: Principal,
    type_prefix: str | None,
    property_id: str | None,
    since: datetime | None,
    limit: int,
    cursor: str | None,
) -> Page[FeedEvent]:
    principal.require(Scope.READ)
    family, rest = None, ""
    if type_prefix:
        family, _, rest = type_prefix.partition(".")
        if family not in FAMILIES or (rest and not all(p.replace("_", "").isalnum() for p in rest.split("."))):
            raise DomainError(
                "validation_error",
                "type is audit, access or alert, or a dotted type like audit.pin.revealed",
                "type",
            )
    after = _sort_key(decode_cursor(cursor)) if cursor else None
    if cursor and not after:
        raise DomainError("validation_error", "cursor is not one this API returned", "cursor")
    found: list[FeedEvent] = []
    for source in _SOURCES:
        if family is not None and source.family != family:
            continue
        query: Select[Any] = select(source.model).where(source.model.account_id == principal.account_id)
        if rest:
            condition = _subtype_filter(source.family, rest)
            if condition is None:
                continue
            query = query.where(condition)
        if principal.property_ids is not None:
            query = query.where(source.property_column.in_(sorted(principal.property_ids)))
        if property_id is not None:
            query = query.where(source.property_column == property_id)
        if since is not None:
            query = query.where(source.time_column >= since)
        if after is not None:
            query = query.where(source.id_column > f"{source.prefix}_{after}")
        rows: Sequence[Any] = session.scalars(query.order_by(source.id_column).limit(limit + 1)).all()
        found.extend(source.present(row) for row in rows)
    found.sort(key=lambda event: _sort_key(event.id))
    if len(found) > limit:
        page = found[:limit]
        return Page(page, encode_cursor(page[-1].id))
    return Page(found, None)
