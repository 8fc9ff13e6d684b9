"""Opaque, type-prefixed identifiers (`res_…`) that sort by creation time.

48 bits of milliseconds then 80 random bits, in lower-case Crockford base32 (as ULID). Sorting
by id is creation order, which makes cursor pagination a plain `id > cursor`.
"""

from __future__ import annotations

import secrets
import threading
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"

PREFIXES = frozenset(
    {"acct", "key", "prop", "unit", "lock", "res", "ac", "evt", "dlv", "wh", "alrt", "lc", "aud", "tpl"}
    | {"ae", "pep", "prr", "whd", "wha"}  # access events, push endpoints and receipts, webhook deliveries
)


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


_lock = threading.Lock()
_last = (0, 0)


def new_id(prefix: str) -> str:
    """Within one process ids are strictly increasing, even inside one millisecond (ULID's
    monotonic rule), so a page cursor never skips a row created right after it."""
    global _last
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    with _lock:
        millis = time.time_ns() // 1_000_000
        last_millis, last_random = _last
        if millis <= last_millis:
            millis, random_part = last_millis, last_random + 1 + secrets.randbits(16)
            if random_part >= 1 << 80:  # exhausted within a millisecond: borrow the next one
                millis, random_part = last_millis + 1, secrets.randbits(79)
        else:
            random_part = secrets.randbits(79)  # headroom for increments within the millisecond
        _last = (millis, random_part)
    return f"{prefix}_{_encode(millis, 10)}{_encode(random_part, 16)}"


def has_prefix(value: str, prefix: str) -> bool:
    return value.startswith(prefix + "_") and len(value) == len(prefix) + 27
