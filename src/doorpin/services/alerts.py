"""Alerts: stored, deduplicated while open, for a person to act on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorpin.adapters.db.access_models import Alert
from doorpin.adapters.db.models import Lock
from doorpin.ids import new_id


def raise_alert(
    session: Session,
    *,
    account_id: str,
    at: datetime,
    kind: str,
    severity: str,
    message: str,
    dedupe_key: str,
    property_id: str | None = None,
    subject_type: str | None = None,
    subject_id: str | None = None,
) -> Alert:
    """Open an alert, or count one more occurrence of the same open alert."""
    existing = session.scalars(
        select(Alert).where(Alert.account_id == account_id, Alert.dedupe_key == dedupe_key, Alert.closed_at.is_(None))
    ).first()
    if existing is not None:
        existing.occurrences += 1
        existing.last_seen_at = at
        existing.message = message
        return existing
    alert = Alert(
        account_id=account_id,
        id=new_id("alrt"),
        property_id=property_id,
        kind=kind,
        severity=severity,
        message=message,
        subject_type=subject_type,
        subject_id=subject_id,
        dedupe_key=dedupe_key,
        occurrences=1,
        created_at=at,
        last_seen_at=at,
        closed_at=None,
    )
    session.add(alert)
    return alert


def alert_on_lock(
    session: Session, lock: Lock, *, at: datetime, kind: str, severity: str, message: str, dedupe_key: str
) -> Alert:
    """An alert about one lock (unreachable, refusing codes, holding a stranger's code...)."""
    return raise_alert(
        session,
        account_id=lock.account_id,
        at=at,
        kind=kind,
        severity=severity,
        message=message,
        dedupe_key=dedupe_key,
        property_id=lock.property_id,
        subject_type="lock",
        subject_id=lock.id,
    )


def close_alerts(session: Session, *, account_id: str, at: datetime, dedupe_key: str) -> int:
    """Close the open alert with this key, when the condition it reported has cleared."""
    open_alerts = session.scalars(
        select(Alert).where(Alert.account_id == account_id, Alert.dedupe_key == dedupe_key, Alert.closed_at.is_(None))
    ).all()
    for alert in open_alerts:
        alert.closed_at = at
    return len(open_alerts)
