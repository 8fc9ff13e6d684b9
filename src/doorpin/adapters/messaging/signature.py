"""The Twilio request-signature scheme, for status callbacks from the messaging gateway.

`X-Twilio-Signature` = base64(HMAC-SHA1(auth token, full URL + every POST parameter as
name + value, sorted by name)). A gateway compatible with Twilio's API signs its callbacks so.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable


def twilio_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    payload = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def signature_matches(auth_token: str, url: str, params: Iterable[tuple[str, str]], signature: str) -> bool:
    expected = twilio_signature(auth_token, url, params)
    return hmac.compare_digest(expected.encode(), signature.strip().encode())
