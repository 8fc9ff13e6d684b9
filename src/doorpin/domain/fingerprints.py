"""Keyed fingerprints of PINs, so equality can be checked (and indexed) without the plaintext.

Both functions are HMAC-SHA256 under a key the caller passes in (the keyring's PIN-fingerprint
key), returned as 64 lowercase hex characters:

- `pin_fingerprint`: HMAC over the PIN's ASCII digits, e.g. `b"047291"`.
- `prefix_fingerprint`: HMAC over `b"prefix:<n>:" + first n digits`. Digits never contain `:`,
  so a prefix fingerprint can never equal a full fingerprint, even of a PIN that is that prefix.

Fingerprints are only comparable under the same key: rotating the key means recomputing them all.
"""

from __future__ import annotations

import hashlib
import hmac

from doorpin.domain.pins import PIN_DIGITS


def pin_fingerprint(key: bytes, pin: str) -> str:
    """Hex HMAC-SHA256 of the whole PIN: equal PINs ⇔ equal fingerprints (under one key)."""
    return _hmac(key, _digits(pin))


def prefix_fingerprint(key: bytes, pin: str, prefix_len: int) -> str:
    """Hex HMAC-SHA256 of the first `prefix_len` digits, domain-separated from `pin_fingerprint`.

    `prefix_len` must be between 1 and `len(pin)`; `lock_fingerprint` handles shorter PINs.
    """
    digits = _digits(pin)
    if isinstance(prefix_len, bool) or not 1 <= prefix_len <= len(digits):
        raise ValueError("prefix_len must be between 1 and the PIN's length")
    return _hmac(key, b"prefix:%d:" % prefix_len + digits[:prefix_len])


def lock_fingerprint(key: bytes, pin: str, unique_prefix_len: int | None) -> str:
    """The value that must be unique among the overlapping codes of one lock.

    A lock without `unique_prefix_len` compares whole PINs (`pin_fingerprint`). A lock that
    declares `unique_prefix_len = p` compares the first `p` digits (`prefix_fingerprint`); a PIN
    shorter than `p` is compared whole, as the prefix of its own length. This is the value for a
    per-(lock, code) uniqueness constraint: on one lock, all slots use the same kind.
    """
    if unique_prefix_len is None:
        return pin_fingerprint(key, pin)
    return prefix_fingerprint(key, pin, min(unique_prefix_len, len(pin)))


def _digits(pin: str) -> bytes:
    if not isinstance(pin, str) or pin == "" or any(char not in PIN_DIGITS for char in pin):
        raise ValueError("a PIN to fingerprint must be ASCII digits; validate the format first")
    return pin.encode("ascii")


def _hmac(key: bytes, message: bytes) -> str:
    if not isinstance(key, bytes) or len(key) < 16:
        raise ValueError("the fingerprint key must be at least 16 bytes")
    return hmac.new(key, message, hashlib.sha256).hexdigest()
