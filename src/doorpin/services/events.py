"""GET /v1/events: the account's event feed. Today it carries the audit trail (`audit.*`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorpin.adapters.db.access_models import AuditEvent
from doorpin.domain.errors import DomainError
from doorpin.domain.scopes import Scope
from doorpin.services.pagination import Page, paginate
from doorpin.services.principal import Principal

AUDIT_PREFIX = "audit"


def event_type(row: AuditEvent) -> str:
    return f"{AUDIT_PREFIX}.{row.action}"


def list_events(
    session: Session,
    principal: Principal,
    type_prefix: str | None,
    property_id: str | None,
    since: datetime | None,
    limit: int,
    cursor: str | None,
) -> Page[AuditEvent]:
    principal.require(Scope.READ)
    query = select(AuditEvent).where(AuditEvent.account_id == principal.account_id)
    if type_prefix:
        head, _, rest = type_prefix.partition(".")
        if head != AUDIT_PREFIX:
            return Page([], None)  # access and alert events join this feed with their own types
        if rest:
            if not all(part.replace("_", "").isalnum() for part in rest.split(".")):
                raise DomainError("validation_error", "type is a dotted event type such as audit.pin.revealed", "type")
            query = query.where((AuditEvent.action == rest) | AuditEvent.action.startswith(rest + "."))
    if principal.property_ids is not None:
        query = query.where(AuditEvent.property_id.in_(sorted(principal.property_ids)))
    if property_id is not None:
        query = query.where(AuditEvent.property_id == property_id)
    if since is not None:
        query = query.where(AuditEvent.occurred_at >= since)
    return paginate(session, query, AuditEvent.id, limit, cursor)
