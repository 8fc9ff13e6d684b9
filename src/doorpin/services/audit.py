"""The audit trail: append-only rows for every PIN reveal, PIN set and access change."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from doorpin.adapters.db.access_models import AuditEvent
from doorpin.ids import new_id


def record(
    session: Session,
    *,
    account_id: str,
    at: datetime,
    actor_key_id: str | None,
    action: str,
    subject_type: str,
    subject_id: str,
    property_id: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit row. `details` must never hold a PIN; it names what changed, not the value."""
    event = AuditEvent(
        account_id=account_id,
        id=new_id("aud"),
        occurred_at=at,
        actor_key_id=actor_key_id,
        action=action,
        property_id=property_id,
        subject_type=subject_type,
        subject_id=subject_id,
        details=dict(details or {}),
    )
    session.add(event)
    return event
