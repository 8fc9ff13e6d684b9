"""Alerts: stored, deduplicated while open, told to integrators, listed and closed by operators."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from doorpin.adapters.db.access_models import Alert
from doorpin.adapters.db.models import Lock
from doorpin.domain.scopes import Scope
from doorpin.ids import new_id
from doorpin.services import announcements, audit
from doorpin.services.pagination import Page, paginate
from doorpin.services.principal import Principal, not_found


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
    """Open an alert (told to integrators as `alert.raised`), or count one more occurrence of the
    same open alert (not told again)."""
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
    announcements.alert_raised(session, alert)
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


# -- operators: list and close ---------------------------------------------------------------------

ALERT_STATUSES = ("open", "closed", "all")


def _visible(principal: Principal) -> ColumnElement[bool]:
    """Keys limited to some properties see those properties' alerts, not account-wide ones."""
    if principal.property_ids is None:
        return Alert.account_id == principal.account_id
    return and_(Alert.account_id == principal.account_id, Alert.property_id.in_(sorted(principal.property_ids)))


def list_alerts(
    session: Session,
    principal: Principal,
    *,
    status: str,
    property_id: str | None,
    kind: str | None,
    limit: int,
    cursor: str | None,
) -> Page[Alert]:
    principal.require(Scope.READ)
    query = select(Alert).where(_visible(principal))
    if status == "open":
        query = query.where(Alert.closed_at.is_(None))
    elif status == "closed":
        query = query.where(Alert.closed_at.is_not(None))
    if property_id is not None:
        query = query.where(Alert.property_id == property_id)
    if kind is not None:
        query = query.where(Alert.kind == kind)
    return paginate(session, query, Alert.id, limit, cursor)


def get_alert(session: Session, principal: Principal, alert_id: str) -> Alert:
    principal.require(Scope.READ)
    alert = session.scalars(select(Alert).where(_visible(principal), Alert.id == alert_id)).first()
    if alert is None:
        raise not_found("alert")
    return alert


def close_alert(session: Session, principal: Principal, alert_id: str, at: datetime, note: str | None) -> Alert:
    """An operator has dealt with it. Closing a closed alert changes nothing. A condition that
    comes back afterwards opens a new alert."""
    principal.require(Scope.WRITE)
    alert = get_alert(session, principal, alert_id)
    if alert.closed_at is not None:
        return alert
    alert.closed_at = at
    audit.record(
        session,
        account_id=alert.account_id,
        at=at,
        actor_key_id=principal.key_id,
        action="alert.closed",
        subject_type="alert",
        subject_id=alert.id,
        property_id=alert.property_id,
        details={"kind": alert.kind, **({"note": note} if note else {})},
    )
    return alert
