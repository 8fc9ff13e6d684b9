"""Opaque, type-prefixed identifiers (`res_…`) that sort by creation time.

48 bits of milliseconds then 80 random bits, in lower-case Crockford base32 (as ULID). Sorting
by id is creation order, which makes cursor pagination a plain `id > cursor`.
"""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"

PREFIXES = frozenset({"acct", "key", "prop", "unit", "lock", "res", "ac", "evt", "dlv", "wh", "alrt", "lc", "aud"})


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    millis = time.time_ns() // 1_000_000
    return f"{prefix}_{_encode(millis, 10)}{_encode(secrets.randbits(80), 16)}"


def has_prefix(value: str, prefix: str) -> bool:
    return value.startswith(prefix + "_") and len(value) == len(prefix) + 27
