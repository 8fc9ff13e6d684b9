"""The code engine's promises, checked from the database rows of one account.

Used by the property-based and the concurrency tests. Everything is read back from the tables
(`lock_codes`, `access_codes`, `reservations`) and judged with plain Python written for the test,
so a bug in the engine's own queries cannot hide itself here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import combinations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from doorpin.adapters.db.access_models import AccessCode, LockCode
from doorpin.adapters.db.engine import Database
from doorpin.adapters.db.models import Reservation

LIVE = ("CONFIRMED", "IN_HOUSE")
ENDED = ("CANCELED", "NO_SHOW", "CHECKED_OUT")


@dataclass(frozen=True)
class Snapshot:
    stays: dict[str, Reservation]
    codes: dict[str, AccessCode]
    rows: list[LockCode]

    @property
    def live_rows(self) -> list[LockCode]:
        """Claims the lock should hold now or later: not revoked, desired present."""
        return [row for row in self.rows if row.revoked_at is None and row.desired == "present"]

    def live_rows_of(self, stay_id: str) -> list[LockCode]:
        return [row for row in self.rows if row.reservation_id == stay_id and row.revoked_at is None]


def snapshot(db: Database, account_id: str) -> Snapshot:
    with db.reader() as session:
        stays = session.scalars(select(Reservation).where(Reservation.account_id == account_id)).all()
        codes = session.scalars(select(AccessCode).where(AccessCode.account_id == account_id)).all()
        rows = session.scalars(select(LockCode).where(LockCode.account_id == account_id)).all()
    return Snapshot({s.id: s for s in stays}, {c.id: c for c in codes}, list(rows))


def ranges_overlap(a_from: datetime, a_to: datetime | None, b_from: datetime, b_to: datetime | None) -> bool:
    """Half-open `[from, to)` ranges, None = unbounded; an empty range overlaps nothing (as tstzrange)."""

    def nonempty(start: datetime, end: datetime | None) -> bool:
        return end is None or start < end

    if not (nonempty(a_from, a_to) and nonempty(b_from, b_to)):
        return False
    return (b_to is None or a_from < b_to) and (a_to is None or b_from < a_to)


def clashing_pairs(rows: Iterable[LockCode]) -> list[tuple[LockCode, LockCode]]:
    """Pairs of claims of different codes on one lock, same fingerprint, overlapping `[valid_from, hold_until)`."""
    groups: dict[tuple[str, str], list[LockCode]] = defaultdict(list)
    for row in rows:
        groups[(row.lock_id, row.code_fingerprint)].append(row)
    found = []
    for group in groups.values():
        for a, b in combinations(group, 2):
            if a.access_code_id != b.access_code_id and ranges_overlap(
                a.valid_from, a.hold_until, b.valid_from, b.hold_until
            ):
                found.append((a, b))
    return found


def describe(pairs: Sequence[tuple[LockCode, LockCode]]) -> str:
    return "; ".join(
        f"lock {a.lock_id}: {a.access_code_id} [{a.valid_from}, {a.hold_until}) revoked={a.revoked_at} vs "
        f"{b.access_code_id} [{b.valid_from}, {b.hold_until}) revoked={b.revoked_at}"
        for a, b in pairs[:5]
    )


def peak_live_codes(rows: Iterable[LockCode]) -> dict[str, int]:
    """Per lock, the most distinct codes live at one instant (live claims only, `[valid_from, valid_until)`)."""
    by_lock: dict[str, list[LockCode]] = defaultdict(list)
    for row in rows:
        if row.revoked_at is None and row.desired == "present":
            by_lock[row.lock_id].append(row)
    peaks: dict[str, int] = {}
    for lock_id, claims in by_lock.items():
        peak = 0
        for instant in {row.valid_from for row in claims}:
            live = {
                row.access_code_id
                for row in claims
                if row.valid_from <= instant and (row.valid_until is None or instant < row.valid_until)
            }
            peak = max(peak, len(live))
        peaks[lock_id] = peak
    return peaks


def codes_live_during(
    rows: Iterable[LockCode], lock_id: str, start: datetime, end: datetime, exclude: set[str | None]
) -> set[str]:
    """Distinct codes with a live claim on `lock_id` meeting `[start, end)`, other than `exclude`."""
    return {
        row.access_code_id
        for row in rows
        if row.lock_id == lock_id
        and row.revoked_at is None
        and row.desired == "present"
        and row.access_code_id not in exclude
        and ranges_overlap(row.valid_from, row.valid_until, start, end)
    }


def sql_clash_count(session: Session, account_id: str) -> int:
    """The same rule as `clashing_pairs`, in SQL over every claim (revoked ones hold through the cooldown)."""
    query = text(
        "SELECT count(*) FROM lock_codes a JOIN lock_codes b"
        " ON a.account_id = b.account_id AND a.lock_id = b.lock_id AND a.code_fingerprint = b.code_fingerprint"
        " AND a.access_code_id <> b.access_code_id AND a.id < b.id"
        " AND (b.hold_until IS NULL OR a.valid_from < b.hold_until)"
        " AND (a.hold_until IS NULL OR b.valid_from < a.hold_until)"
        " AND (a.hold_until IS NULL OR a.valid_from < a.hold_until)"
        " AND (b.hold_until IS NULL OR b.valid_from < b.hold_until)"
        " WHERE a.account_id = :account"
    )
    return int(session.execute(query, {"account": account_id}).scalar_one())


def window_of(stay: Reservation, activate_before: timedelta, expire_after: timedelta) -> tuple[datetime, datetime]:
    return stay.check_in - activate_before, stay.check_out + expire_after
