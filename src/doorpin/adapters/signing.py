"""Signed HTTP bodies: `Doorpin-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.

Used for outgoing webhooks and for notifying door systems; receivers verify with `verify`.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "Doorpin-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


def signature(secret: str, body: bytes, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(
    secret: str, body: bytes, header: str, tolerance: int = DEFAULT_TOLERANCE_SECONDS, now: int | None = None
) -> bool:
    """True when `header` signs `body` with `secret` within `tolerance` seconds (replays are refused)."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        t = int(parts.get("t", ""))
    except ValueError:
        return False
    current = int(time.time()) if now is None else now
    if abs(current - t) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))
