"""The clash rule (no two people hold the same code on a door at the same time) and code space.

Uniqueness is about doors and time, not people. Two codes clash when all three hold:

1. they open at least one common lock;
2. their windows overlap once each is extended at its end by the reuse cooldown. Windows are
   half-open, `[valid_from, valid_until + cooldown)`: with cooldown 0, a window ending exactly
   when the other starts does not overlap it. `None` means unbounded (a staff code with no end);
3. on a common lock their PINs are equal: same full fingerprint, or, when that lock declares
   `unique_prefix_len = p`, same first `p` digits (a PIN shorter than `p` counts as a whole).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Literal

from doorpin.domain.code_policy import CodePolicy
from doorpin.domain.fingerprints import pin_fingerprint, prefix_fingerprint

SpaceVerdict = Literal["ok", "warn", "refuse"]


@dataclass(frozen=True)
class CodeClaim:
    """One code's hold on some locks for some time, known by fingerprints only.

    `prefix_fingerprints[p]` is the prefix fingerprint of the code's first `min(p, len(pin))`
    digits, for every `unique_prefix_len` p declared by one of its locks (build it with
    `CodeClaim.for_pin`, or from stored fingerprints). `valid_from=None` / `valid_until=None`
    mean "since always" / "never ends". Datetimes must be timezone-aware.
    """

    lock_ids: frozenset[str]
    valid_from: datetime | None
    valid_until: datetime | None
    fingerprint: str
    prefix_fingerprints: Mapping[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lock_ids", frozenset(self.lock_ids))
        object.__setattr__(self, "prefix_fingerprints", MappingProxyType(dict(self.prefix_fingerprints)))
        for name in ("valid_from", "valid_until"):
            value = getattr(self, name)
            if value is not None and value.utcoffset() is None:
                raise ValueError(f"{name} must be timezone-aware")
        if self.valid_from is not None and self.valid_until is not None and self.valid_until < self.valid_from:
            raise ValueError("valid_until must not be before valid_from")

    @classmethod
    def for_pin(
        cls,
        key: bytes,
        pin: str,
        lock_ids: Iterable[str],
        valid_from: datetime | None,
        valid_until: datetime | None,
        prefix_lens: Iterable[int | None] = (),
    ) -> CodeClaim:
        """A claim for a plaintext PIN, with prefix fingerprints for each given `prefix_len`.

        Pass the `unique_prefix_len` of the code's locks as `prefix_lens` (`None`s are skipped).
        """
        prefixes = {p: prefix_fingerprint(key, pin, min(p, len(pin))) for p in prefix_lens if p is not None}
        return cls(
            lock_ids=frozenset(lock_ids),
            valid_from=valid_from,
            valid_until=valid_until,
            fingerprint=pin_fingerprint(key, pin),
            prefix_fingerprints=prefixes,
        )


def windows_overlap(a: CodeClaim, b: CodeClaim, cooldown: timedelta) -> bool:
    """Whether `[from, until + cooldown)` of `a` and of `b` intersect (None = unbounded).

    Half-open: touching windows do not overlap, and an empty one (`from == until`, cooldown 0)
    overlaps nothing.
    """
    if cooldown < timedelta(0):
        raise ValueError("cooldown must not be negative")
    a_end = None if a.valid_until is None else a.valid_until + cooldown
    b_end = None if b.valid_until is None else b.valid_until + cooldown
    if not (_before(a.valid_from, a_end) and _before(b.valid_from, b_end)):
        return False  # an empty window overlaps nothing, as an empty tstzrange in PostgreSQL
    return _before(a.valid_from, b_end) and _before(b.valid_from, a_end)


def clashes(
    a: CodeClaim,
    b: CodeClaim,
    cooldown: timedelta,
    prefix_len_by_lock: Mapping[str, int | None],
) -> bool:
    """Whether codes `a` and `b` may not coexist (see the module docstring). Symmetric.

    `prefix_len_by_lock` gives each lock's `unique_prefix_len`; a lock absent from it, or mapped
    to None, compares whole PINs only. Raises ValueError when a claim lacks the prefix
    fingerprint that a shared lock needs, rather than guessing "no clash".
    """
    shared = a.lock_ids & b.lock_ids
    if not shared or not windows_overlap(a, b, cooldown):
        return False
    if a.fingerprint == b.fingerprint:
        return True
    for lock_id in sorted(shared):
        p = prefix_len_by_lock.get(lock_id)
        if p is None:
            continue
        if p < 1:
            raise ValueError(f"unique_prefix_len of lock {lock_id} must be at least 1")
        if _prefix(a, p, lock_id) == _prefix(b, p, lock_id):
            return True
    return False


def guess_probability(active_codes: int, code_length: int) -> float:
    """Chance that one random guess of `code_length` digits opens a lock with that many codes."""
    if active_codes < 0:
        raise ValueError("active_codes must not be negative")
    if code_length < 1:
        raise ValueError("code_length must be at least 1")
    space: int = 10**code_length
    return active_codes / space


def space_verdict(active_after: int, length: int, policy: CodePolicy) -> SpaceVerdict:
    """Judge adding a code to a lock, given the lock's active codes *including* the new one.

    `"refuse"` when the guess probability would be above `policy.refuse_guess_probability`
    (answer `code_space_exhausted`, or use longer codes), `"warn"` when above
    `policy.warn_guess_probability`, else `"ok"`. Exactly at a threshold is not above it.
    """
    probability = guess_probability(active_after, length)
    if probability > policy.refuse_guess_probability:
        return "refuse"
    if probability > policy.warn_guess_probability:
        return "warn"
    return "ok"


def max_active_codes(length: int, policy: CodePolicy) -> int:
    """The most codes of `length` digits one lock may hold before `space_verdict` refuses."""
    count = int(policy.refuse_guess_probability * 10**length)
    while guess_probability(count + 1, length) <= policy.refuse_guess_probability:
        count += 1
    while count > 0 and guess_probability(count, length) > policy.refuse_guess_probability:
        count -= 1
    return count


def _before(start: datetime | None, end: datetime | None) -> bool:
    return start is None or end is None or start < end


def _prefix(claim: CodeClaim, p: int, lock_id: str) -> str:
    try:
        return claim.prefix_fingerprints[p]
    except KeyError:
        raise ValueError(f"a code on lock {lock_id} has no prefix fingerprint for unique_prefix_len {p}") from None
