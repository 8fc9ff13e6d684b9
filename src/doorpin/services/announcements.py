"""What each outgoing event says: the `data` of reservation.pin_changed, access_code.*,
alert.raised and delivery.failed, built from the rows that changed and queued with `emit`.

No event carries a PIN: an integrator that needs the value reads it with a `pins` key, and that
read is audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from doorpin.adapters.db.access_models import AccessCode, Alert, LockCode
from doorpin.adapters.db.delivery_models import Delivery
from doorpin.adapters.db.event_models import AccessEvent
from doorpin.adapters.db.models import Reservation
from doorpin.services.outbound import emit

# A claim entering one of these states is told as access_code.<event>.
_CLAIM_EVENTS = {
    "programmed": "access_code.programmed",
    "removed": "access_code.removed",
    "failed": "access_code.failed",
}


def alert_data(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "kind": alert.kind,
        "severity": alert.severity,
        "message": alert.message,
        "property_id": alert.property_id,
        "subject": None if alert.subject_type is None else {"type": alert.subject_type, "id": alert.subject_id},
        "occurrences": alert.occurrences,
        "created_at": alert.created_at.isoformat(),
        "closed_at": None if alert.closed_at is None else alert.closed_at.isoformat(),
    }


def alert_raised(session: Session, alert: Alert) -> None:
    emit(
        session,
        account_id=alert.account_id,
        type="alert.raised",
        at=alert.created_at,
        data=alert_data(alert),
        property_id=alert.property_id,
    )


def pin_changed(
    session: Session, stay: Reservation, code: AccessCode, previous_code_id: str | None, at: datetime
) -> None:
    """The stay now opens its doors with `code` (its first PIN when `previous_code_id` is None)."""
    emit(
        session,
        account_id=stay.account_id,
        type="reservation.pin_changed",
        at=at,
        property_id=stay.property_id,
        data={
            "reservation_id": stay.id,
            "external_ref": stay.external_ref,
            "property_id": stay.property_id,
            "unit_id": stay.unit_id,
            "access_code_id": code.id,
            "pin_source": code.pin_source,
            "pin_scope": "unit" if code.holder == "unit" else "reservation",
            "first_assignment": previous_code_id is None,
        },
    )


def claim_state_changed(session: Session, row: LockCode, property_id: str, before: str, at: datetime) -> None:
    """Tell integrators when a code reached a lock, left it, or failed for good."""
    event_type = _CLAIM_EVENTS.get(row.state)
    if event_type is None or row.state == before:
        return
    emit(
        session,
        account_id=row.account_id,
        type=event_type,
        at=at,
        property_id=property_id,
        data={
            "access_code_id": row.access_code_id,
            "reservation_id": row.reservation_id,
            "lock_id": row.lock_id,
            "property_id": property_id,
            "state": row.state,
            "error": None if row.error_code is None else {"code": row.error_code, "message": row.error_message},
        },
    )


def delivery_failed(session: Session, row: Delivery, at: datetime) -> None:
    emit(
        session,
        account_id=row.account_id,
        type="delivery.failed",
        at=at,
        property_id=row.property_id,
        data={
            "delivery_id": row.id,
            "reservation_id": row.reservation_id,
            "channel": row.channel,
            "reason": row.reason,
            "error": {"code": row.error_code, "message": row.error_message},
        },
    )


def access_event_type(row: AccessEvent) -> str:
    return "access.granted" if row.result == "granted" else "access.denied"


def access_event_data(row: AccessEvent) -> dict[str, Any]:
    """The access event resource (API.md): never the digits entered."""
    return {
        "id": row.id,
        "occurred_at": row.occurred_at.isoformat(),
        "received_at": row.received_at.isoformat(),
        "lock_id": row.lock_id,
        "property_id": row.property_id,
        "result": row.result,
        "reason": row.reason,
        "credential": {"type": "access_code", "id": row.access_code_id},
        "access_code_id": row.access_code_id,
        "reservation_id": row.reservation_id,
        "attribution": row.attribution,
        "source": row.source,
    }
