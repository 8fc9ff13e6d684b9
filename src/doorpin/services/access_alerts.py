"""Alerts from access events: the rules of `domain/access_alerts.py`, applied to a stored event.

Messages say what an operator needs to act without opening anything else: which door (by name),
when (on the property's wall clock), whose code (the stay's PMS reference and id, or the staff
code's name), what the door did, and what to check. Never the digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from doorpin.adapters.db.access_models import AccessCode, Alert, LockCode
from doorpin.adapters.db.event_models import AccessEvent
from doorpin.adapters.db.models import Lock, Property, Reservation
from doorpin.domain.access_alerts import (
    DENIED,
    LOCKOUT,
    WRONG_CODE_LIMIT,
    WRONG_CODE_WINDOW,
    AlertDecision,
    AlertKind,
    EventFacts,
    Placement,
    Scope,
    burst_size,
    decide,
    grace_for,
    is_wrong_code,
    placement,
)
from doorpin.domain.access_attribution import Attribution, ClaimWindow
from doorpin.domain.sync_plan import SyncTiming
from doorpin.services.alerts import alert_on_lock, raise_alert


@dataclass(frozen=True)
class AttributedEvent:
    row: AccessEvent
    attribution: Attribution
    claim: LockCode | None
    window: ClaimWindow | None  # the claim as attribution saw it
    code: AccessCode | None
    stay: Reservation | None


def _when(instant: datetime | None, tz: ZoneInfo) -> str:
    return "open-ended" if instant is None else instant.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %Z")


def _holder(event: AttributedEvent) -> str:
    stay, code = event.stay, event.code
    if stay is not None:
        ref = f"{stay.external_ref}, {stay.id}" if stay.external_ref else stay.id
        return f"the code of stay {ref} ({stay.status.lower().replace('_', ' ')})"
    if code is not None:
        name = f" “{code.name}”" if code.name else ""
        return f"the {code.kind} code{name} ({code.id})"
    return "a code"


def _door_did(event: AttributedEvent) -> str:
    return {"granted": "the door opened", "denied": "the door stayed shut"}.get(
        event.row.result, "the keypad was locked out"
    )


def _wrong_tries_near(session: Session, lock: Lock, at: datetime) -> list[datetime]:
    """The lock's stored wrong tries within one window of `at`, either side (late ones count)."""
    return list(
        session.scalars(
            select(AccessEvent.occurred_at).where(
                AccessEvent.account_id == lock.account_id,
                AccessEvent.lock_id == lock.id,
                AccessEvent.occurred_at > at - WRONG_CODE_WINDOW,
                AccessEvent.occurred_at < at + WRONG_CODE_WINDOW,
                or_(
                    AccessEvent.result == LOCKOUT,
                    and_(AccessEvent.result == DENIED, AccessEvent.attribution == Attribution.UNKNOWN.value),
                ),
            )
        )
    )


def _message(decision: AlertDecision, event: AttributedEvent, lock: Lock, tz: ZoneInfo, tries: int) -> str:
    when = _when(event.row.occurred_at, tz)
    holder = _holder(event)
    claim = event.claim
    window = "" if claim is None else f"{_when(claim.valid_from, tz)} – {_when(claim.valid_until, tz)}"
    if decision.kind == AlertKind.REPEATED_WRONG_CODES:
        lockout = "; the keypad locked itself out" if event.row.result == LOCKOUT else ""
        return (
            f"{lock.name}: {tries} wrong code{'s' if tries != 1 else ''} within {WRONG_CODE_WINDOW.seconds} s "
            f"around {when}{lockout}. Someone may be guessing codes; check the door and its camera."
        )
    if decision.kind == AlertKind.REVOKED_CODE_TRIED:
        revoked = _when(claim.revoked_at if claim is not None else None, tz)
        return f"{holder} was keyed in at {lock.name} at {when} and {_door_did(event)}; it was revoked at {revoked}."
    if decision.kind == AlertKind.EXPIRED_CODE_TRIED:
        ended = _when(claim.revoked_at if claim is not None else None, tz)
        return f"{holder} was keyed in at {lock.name} at {when} and {_door_did(event)}; its access ended at {ended}."
    if decision.kind == AlertKind.CODE_USED_OUTSIDE_WINDOW:
        state = {Attribution.REVOKED: "revoked ", Attribution.EXPIRED: "expired "}.get(event.attribution, "")
        return (
            f"{lock.name} opened at {when} for {state}{holder}, outside its window ({window}). "
            "Check the lock's clock and the codes it holds."
        )
    return (
        f"{lock.name} refused {holder} at {when}, inside its window ({window}): someone may be locked out. "
        "Check that the code is on the lock and the lock's clock."
    )


_SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}


def _escalated(alert: Alert, severity: str) -> Alert:
    """An open alert takes the gravest severity seen (a revoked code that is refused, then opens)."""
    if _SEVERITY_RANK.get(severity, 0) > _SEVERITY_RANK.get(alert.severity, 0):
        alert.severity = severity
    return alert


def raise_access_alerts(
    session: Session, lock: Lock, prop: Property, event: AttributedEvent, now: datetime
) -> list[Alert]:
    """Raise (or count again) the alerts a newly stored event calls for."""
    row = event.row
    tries = 0
    if is_wrong_code(row.result, event.attribution):
        tries = burst_size(_wrong_tries_near(session, lock, row.occurred_at), row.occurred_at)
    claim = event.claim
    facts = EventFacts(
        row.result,
        event.attribution,
        row.occurred_at,
        None if claim is None else claim.desired,
        Placement() if event.window is None else placement(event.window, row.occurred_at),
    )
    grace = grace_for(bool(lock.capabilities.get("native_scheduling")), SyncTiming().lead)
    raised = []
    tz = ZoneInfo(prop.timezone)
    for decision in decide(facts, tries >= WRONG_CODE_LIMIT, grace):
        message = _message(decision, event, lock, tz, tries)
        if decision.scope == Scope.LOCK or event.claim is None:
            key = f"{decision.kind.value}:{lock.id}"
            alert = alert_on_lock(
                session,
                lock,
                at=now,
                kind=decision.kind.value,
                severity=decision.severity,
                message=message,
                dedupe_key=key,
            )
            raised.append(_escalated(alert, decision.severity))
            continue
        subject_type, subject_id = (
            ("reservation", event.stay.id) if event.stay is not None else ("access_code", event.claim.access_code_id)
        )
        alert = raise_alert(
            session,
            account_id=lock.account_id,
            at=now,
            kind=decision.kind.value,
            severity=decision.severity,
            message=message,
            dedupe_key=f"{decision.kind.value}:{event.claim.id}",
            property_id=lock.property_id,
            subject_type=subject_type,
            subject_id=subject_id,
        )
        raised.append(_escalated(alert, decision.severity))
    return raised
