"""Which alerts an access event raises. Pure rules, no I/O: the service applies the decisions.

- `repeated_wrong_codes` (warning, one per lock): someone is guessing. Wrong tries are denials of
  codes doorpin does not know on that lock, and lockouts. The alert is raised when a try makes
  `WRONG_CODE_LIMIT` of them within `WRONG_CODE_WINDOW` (by the lock's clock, so tries that arrive
  late or out of order count where they happened), or the lock reports a lockout. While it is
  open, each further qualifying try counts one more occurrence.
- `revoked_code_tried` (one per claim): a code revoked before its end (canceled or no-show stay,
  replaced PIN, deleted code) was keyed in; critical when the door opened, else a warning.
- `expired_code_tried` (one per claim): a code retired at its normal end (check-out, rotation)
  was keyed in; a warning when the door opened, else for information.
- `code_used_outside_window` (critical, one per lock): the door opened for a code outside its
  window, or for a revoked or expired one: the lock's clock or the codes it holds are wrong.
- `code_refused_in_window` (warning, one per claim): the door refused a live code inside its
  window: the guest may be standing outside (the code is not on the lock, or the lock's clock
  is off).

The last two allow a `Grace` at the window's edges for what is normal: locks without native
scheduling get a code a lead time before its window and lose it when doorpin removes it, and a
lock's clock may be a minute off.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from doorpin.domain.access_attribution import Attribution, ClaimWindow

WRONG_CODE_LIMIT = 5
WRONG_CODE_WINDOW = timedelta(seconds=60)

GRANTED = "granted"
DENIED = "denied"
LOCKOUT = "lockout"
RESULTS = (GRANTED, DENIED, LOCKOUT)


class AlertKind(StrEnum):
    REPEATED_WRONG_CODES = "repeated_wrong_codes"
    REVOKED_CODE_TRIED = "revoked_code_tried"
    EXPIRED_CODE_TRIED = "expired_code_tried"
    CODE_USED_OUTSIDE_WINDOW = "code_used_outside_window"
    CODE_REFUSED_IN_WINDOW = "code_refused_in_window"


class Scope(StrEnum):
    """What one open alert stands for: repeats within it only count occurrences."""

    LOCK = "lock"
    CLAIM = "claim"


@dataclass(frozen=True)
class Grace:
    before: timedelta  # a grant this long before the window is expected
    after: timedelta  # ... and this long after its end (or revocation)
    inside: timedelta = timedelta(minutes=2)  # a refusal this close to an edge is a clock a little off


CLOCK_DRIFT = timedelta(minutes=2)
REMOVAL_DELAY = timedelta(minutes=5)


def grace_for(native_scheduling: bool, lead: timedelta) -> Grace:
    """Locks that keep windows themselves open only inside them (give or take their clock's
    drift); others hold a code from `lead` before its window until doorpin removes it."""
    if native_scheduling:
        return Grace(CLOCK_DRIFT, CLOCK_DRIFT)
    return Grace(lead + CLOCK_DRIFT, REMOVAL_DELAY)


@dataclass(frozen=True)
class Placement:
    """Where a moment lies against a claim's window, cut short at its revocation."""

    early_by: timedelta = timedelta(0)
    late_by: timedelta = timedelta(0)
    inside_by: timedelta = timedelta(0)  # distance to the nearer edge, inside


def placement(claim: ClaimWindow, at: datetime) -> Placement:
    end = claim.valid_until
    if claim.revoked_at is not None:
        end = claim.revoked_at if end is None else min(end, claim.revoked_at)
    if at < claim.valid_from:
        return Placement(early_by=claim.valid_from - at)
    if end is not None and at >= end:
        return Placement(late_by=at - end)
    since_start = at - claim.valid_from
    return Placement(inside_by=since_start if end is None else min(since_start, end - at))


@dataclass(frozen=True)
class EventFacts:
    result: str  # granted | denied | lockout
    attribution: Attribution
    occurred_at: datetime
    claim_desired: str | None = None  # present | absent, of the attributed claim
    placement: Placement = Placement()


@dataclass(frozen=True)
class AlertDecision:
    kind: AlertKind
    severity: str  # info | warning | critical
    scope: Scope


def is_wrong_code(result: str, attribution: Attribution) -> bool:
    """A guess: a denial of digits doorpin does not know on this lock, or a lockout."""
    return result == LOCKOUT or (result == DENIED and attribution == Attribution.UNKNOWN)


def burst_size(times: Sequence[datetime], at: datetime, window: timedelta = WRONG_CODE_WINDOW) -> int:
    """The most of `times` (a lock's wrong tries, this one included, in any order) that fall
    within one span of `window` that includes `at`."""
    ordered = sorted(times)
    first = bisect_left(ordered, at - window + timedelta(microseconds=1))
    last = bisect_right(ordered, at)
    best = 0
    for start in range(first, last):  # each span starts at a try no later than `at`
        best = max(best, bisect_left(ordered, ordered[start] + window) - start)
    return best


def burst_reached(
    times: Sequence[datetime],
    at: datetime,
    limit: int = WRONG_CODE_LIMIT,
    window: timedelta = WRONG_CODE_WINDOW,
) -> bool:
    return burst_size(times, at, window) >= limit


def _beyond_grace(place: Placement, grace: Grace) -> bool:
    return place.early_by > grace.before or place.late_by > grace.after


def decide(event: EventFacts, burst: bool, grace: Grace) -> list[AlertDecision]:
    """The alerts one newly stored event raises; `burst` is `burst_reached` for its wrong tries."""
    decisions: list[AlertDecision] = []
    granted = event.result == GRANTED
    if is_wrong_code(event.result, event.attribution) and (event.result == LOCKOUT or burst):
        decisions.append(AlertDecision(AlertKind.REPEATED_WRONG_CODES, "warning", Scope.LOCK))
    if event.attribution == Attribution.REVOKED:
        severity = "critical" if granted else "warning"
        decisions.append(AlertDecision(AlertKind.REVOKED_CODE_TRIED, severity, Scope.CLAIM))
    elif event.attribution == Attribution.EXPIRED:
        decisions.append(AlertDecision(AlertKind.EXPIRED_CODE_TRIED, "warning" if granted else "info", Scope.CLAIM))
    retired_or_outside = (Attribution.OUTSIDE_WINDOW, Attribution.REVOKED, Attribution.EXPIRED)
    if granted and event.attribution in retired_or_outside and _beyond_grace(event.placement, grace):
        decisions.append(AlertDecision(AlertKind.CODE_USED_OUTSIDE_WINDOW, "critical", Scope.LOCK))
    wanted_here = event.claim_desired in (None, "present")
    refused = event.result == DENIED and event.attribution == Attribution.IN_WINDOW
    if refused and wanted_here and event.placement.inside_by > grace.inside:
        decisions.append(AlertDecision(AlertKind.CODE_REFUSED_IN_WINDOW, "warning", Scope.CLAIM))
    return decisions
