"""Attribution: which claim a key-in at a door used, and how the moment relates to its window.

Pure rules, no I/O. The service finds the candidate claims (those named by the device's
`code_ref`, or holding the entered digits' fingerprint on that lock) and asks:
- `choose`: the claim whose window covers the event, else the one nearest to it in time;
- `classify`: where the event falls for that claim.

Classes, judged at the event's own time (the lock's clock), whatever order events arrive in:
- `in_window`: the claim was live and the moment inside [valid_from, valid_until);
- `outside_window`: the claim was live (not revoked) but the moment before valid_from or at or after
  valid_until: an early arrival, a stay the PMS never checked out, a lock that kept a code too long;
- `revoked`: the claim had been revoked at or before the event, cutting its access short (a canceled
  or no-show stay, a replaced PIN, a deleted code, a stay moved to another unit);
- `expired`: the claim had been revoked at or before the event at the normal end of its access (a
  check-out, a rotated shared code, or a window that had already run out before the revocation);
- `unknown`: no claim of doorpin's holds these digits on this lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Attribution(StrEnum):
    IN_WINDOW = "in_window"
    OUTSIDE_WINDOW = "outside_window"
    REVOKED = "revoked"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ClaimWindow:
    """What attribution needs to know of one claim (a code's window on one lock)."""

    claim_id: str
    access_code_id: str
    valid_from: datetime
    valid_until: datetime | None  # None: open-ended
    revoked_at: datetime | None
    created_at: datetime
    ended_normally: bool = False  # revoked at the holder's normal end (check-out, rotation)


def revoked_by(claim: ClaimWindow, at: datetime) -> bool:
    return claim.revoked_at is not None and claim.revoked_at <= at


def covers(claim: ClaimWindow, at: datetime) -> bool:
    """The claim was live at `at` and `at` lies inside its window."""
    if revoked_by(claim, at) or at < claim.valid_from:
        return False
    return claim.valid_until is None or at < claim.valid_until


def distance(claim: ClaimWindow, at: datetime) -> timedelta:
    """How far `at` lies from the claim's window (zero inside it)."""
    if at < claim.valid_from:
        return claim.valid_from - at
    if claim.valid_until is not None and at >= claim.valid_until:
        return at - claim.valid_until
    return timedelta(0)


def choose(claims: Sequence[ClaimWindow], at: datetime, preferred: str | None = None) -> ClaimWindow | None:
    """The claim an event at `at` used.

    A claim covering `at` wins (the newest, should two); else `preferred` (the claim the device
    named); else the claim whose window lies nearest to `at` (the newest on a tie). Nearest, not
    newest: a code shared by consecutive stays is keyed in before the first stay's window by that
    stay's early guest, not by the guest of a later stay.
    """
    if not claims:
        return None
    covering = [claim for claim in claims if covers(claim, at)]
    if covering:
        return max(covering, key=lambda claim: (claim.created_at, claim.claim_id))
    named = next((claim for claim in claims if claim.claim_id == preferred), None)
    if named is not None:
        return named
    return min(claims, key=lambda claim: (distance(claim, at), -claim.created_at.timestamp(), claim.claim_id))


def classify(claim: ClaimWindow | None, at: datetime) -> Attribution:
    if claim is None:
        return Attribution.UNKNOWN
    if revoked_by(claim, at):
        assert claim.revoked_at is not None
        ran_out_first = claim.valid_until is not None and claim.valid_until < claim.revoked_at
        return Attribution.EXPIRED if claim.ended_normally or ran_out_first else Attribution.REVOKED
    if covers(claim, at):
        return Attribution.IN_WINDOW
    return Attribution.OUTSIDE_WINDOW
