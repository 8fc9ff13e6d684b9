"""SMS and WhatsApp through an HTTP gateway compatible with the Twilio Messages API.

`DOORPIN_SMS_URL` holds the account's API root, its credentials and the sender:

    https://ACCOUNT_SID:AUTH_TOKEN@api.twilio.com/2010-04-01/Accounts/ACCOUNT_SID?from=+15551234567

The path may be left out (`https://SID:TOKEN@api.twilio.com?from=…` means the path above).
Parameters: `from` (an E.164 number, or an alphanumeric sender id), `whatsapp_from` (the WhatsApp
sender; default `from`), `messaging_service_sid` (send SMS through a messaging service instead
of `from`), `timeout` (seconds, default 15). A `+` may be written as is or as `%2B`.

Each message is one form-encoded `POST {root}/Messages.json` with `To`, `From` (or
`MessagingServiceSid`), `Body` and `StatusCallback`; WhatsApp addresses carry the `whatsapp:`
prefix. A 2xx answer's `sid` is the provider message id. 4xx answers about the recipient (the
Twilio error codes below) are permanent, as are other refusals of the message; authentication,
rate limits, 5xx answers and timeouts are retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import phonenumbers

from doorpin.adapters.messaging.base import Message, PermanentFailure, RetryLater, SendOutcome, Sent, clip
from doorpin.config import ConfigError
from doorpin.domain.deliveries import Channel

_PARAMS = frozenset({"from", "whatsapp_from", "messaging_service_sid", "timeout"})
# Twilio error codes that say the recipient cannot get the message: a retry cannot help.
RECIPIENT_ERRORS = frozenset({21211, 21214, 21217, 21401, 21407, 21421, 21604, 21612, 21614, 63003, 63024})
OPTED_OUT = 21610  # the recipient answered STOP
_RETRIED_STATUSES = frozenset({401, 403, 404, 408, 409, 425, 429})


@dataclass(frozen=True)
class GatewaySettings:
    root: str  # https://host[:port]/2010-04-01/Accounts/SID, no credentials
    account_sid: str
    auth_token: str
    sms_from: str | None
    whatsapp_from: str | None
    messaging_service_sid: str | None
    timeout: float

    @property
    def messages_url(self) -> str:
        return f"{self.root}/Messages.json"


def _query(raw: str) -> dict[str, str]:
    # Not parse_qsl: it reads "+" as a space, and "from=+1555…" is how people write a number.
    params: dict[str, str] = {}
    for pair in filter(None, raw.split("&")):
        name, _, value = pair.partition("=")
        params[unquote(name)] = unquote(value)
    return params


def _sender(value: str | None, name: str) -> str | None:
    if not value:
        return None
    if value.startswith("+"):
        try:  # "possible", not "valid": gateways hand out test and short-code senders too
            number = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_possible_number(number):
            raise ConfigError(f"DOORPIN_SMS_URL: {name} is not an E.164 phone number")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not value.replace(" ", "").isalnum() or len(value) > 11:
        raise ConfigError(f"DOORPIN_SMS_URL: {name} must be a +E.164 number or an alphanumeric sender id")
    return value


def parse_gateway_url(url: str) -> GatewaySettings:
    """Read `DOORPIN_SMS_URL`; `ConfigError` names what is wrong (never the token)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("DOORPIN_SMS_URL must look like https://ACCOUNT_SID:AUTH_TOKEN@host?from=+15551234567")
    if not parts.username or not parts.password:
        raise ConfigError("DOORPIN_SMS_URL needs the account id and auth token: https://ACCOUNT_SID:AUTH_TOKEN@host…")
    params = _query(parts.query)
    unknown = sorted(set(params) - _PARAMS)
    if unknown:
        raise ConfigError(f"DOORPIN_SMS_URL: unknown parameter {unknown[0]!r} (known: {', '.join(sorted(_PARAMS))})")
    sid = unquote(parts.username)
    sms_from = _sender(params.get("from"), "from")
    whatsapp_from = _sender(params.get("whatsapp_from"), "whatsapp_from") or sms_from
    service = params.get("messaging_service_sid") or None
    if sms_from is None and service is None:
        raise ConfigError("DOORPIN_SMS_URL needs ?from=+15551234567 (or ?messaging_service_sid=MG…)")
    try:
        timeout = float(params.get("timeout", "15"))
        port = parts.port
    except ValueError:
        raise ConfigError("DOORPIN_SMS_URL: the port and timeout must be numbers") from None
    if not 0 < timeout <= 120:
        raise ConfigError("DOORPIN_SMS_URL: timeout must be between 0 and 120 seconds")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    path = parts.path.rstrip("/") or f"/2010-04-01/Accounts/{sid}"
    return GatewaySettings(
        root=f"{parts.scheme}://{host}{f':{port}' if port else ''}{path}",
        account_sid=sid,
        auth_token=unquote(parts.password),
        sms_from=sms_from,
        whatsapp_from=whatsapp_from,
        messaging_service_sid=service,
        timeout=timeout,
    )


def _whatsapp(address: str) -> str:
    return address if address.startswith("whatsapp:") else f"whatsapp:{address}"


def _error_of(response: httpx.Response) -> tuple[int | None, str]:
    try:
        body: Any = response.json()
    except ValueError:
        return None, ""
    if not isinstance(body, dict):
        return None, ""
    code = body.get("code")
    return (code if isinstance(code, int) else None), clip(str(body.get("message") or ""), 200)


def outcome_of(response: httpx.Response) -> SendOutcome:
    status = response.status_code
    if 200 <= status < 300:
        try:
            body: Any = response.json()
        except ValueError:
            body = {}
        sid = body.get("sid") if isinstance(body, dict) else None
        return Sent(str(sid)[:120] if sid else None)
    code, text = _error_of(response)
    detail = f"HTTP {status}" + (f", error {code}" if code is not None else "") + (f": {text}" if text else "")
    if status >= 500 or status in _RETRIED_STATUSES:
        kind = {401: "gateway_auth_failed", 403: "gateway_auth_failed", 429: "rate_limited"}.get(
            status, "gateway_error"
        )
        return RetryLater(kind, f"the messaging gateway answered {detail}")
    if code == OPTED_OUT:
        return PermanentFailure("recipient_opted_out", f"the guest opted out of these messages ({detail})")
    if code in RECIPIENT_ERRORS:
        return PermanentFailure("invalid_address", f"the messaging gateway refused the number ({detail})")
    return PermanentFailure("gateway_rejected", f"the messaging gateway refused the message ({detail})")


class TwilioGatewaySender:
    channels = frozenset({Channel.SMS, Channel.WHATSAPP})

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self._client = httpx.Client(
            auth=(settings.account_sid, settings.auth_token),
            timeout=settings.timeout,
            headers={"Accept": "application/json"},
        )

    @classmethod
    def from_url(cls, url: str) -> TwilioGatewaySender:
        return cls(parse_gateway_url(url))

    def form(self, message: Message) -> dict[str, str]:
        s = self.settings
        form = {"To": message.to, "Body": message.text}
        if message.channel == Channel.WHATSAPP:
            form["To"] = _whatsapp(message.to)
            if s.whatsapp_from is not None:
                form["From"] = _whatsapp(s.whatsapp_from)
            elif s.messaging_service_sid is not None:
                form["MessagingServiceSid"] = s.messaging_service_sid
        elif s.messaging_service_sid is not None:
            form["MessagingServiceSid"] = s.messaging_service_sid
        elif s.sms_from is not None:
            form["From"] = s.sms_from
        if message.status_callback_url:
            form["StatusCallback"] = message.status_callback_url
        return form

    def send(self, message: Message) -> SendOutcome:
        if message.channel not in self.channels:
            return PermanentFailure("channel_not_configured", f"this gateway does not send {message.channel.value}")
        try:
            response = self._client.post(self.settings.messages_url, data=self.form(message))
        except httpx.TimeoutException:
            return RetryLater("gateway_timeout", "the messaging gateway did not answer in time")
        except httpx.HTTPError as exc:
            return RetryLater(
                "gateway_unavailable", f"the messaging gateway could not be reached ({type(exc).__name__})"
            )
        return outcome_of(response)

    def close(self) -> None:
        self._client.close()
