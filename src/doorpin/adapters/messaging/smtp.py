"""Email over SMTP (`DOORPIN_SMTP_URL`): plain text + HTML, with the stay's `.ics` attached.

    smtp://user:pass@mail.example.com:587?from=desk@example.com&starttls=1
    smtps://user:pass@mail.example.com?from=desk@example.com          (TLS from the start, port 465)

Query parameters: `from` (required, the envelope and header sender), `from_name` (display name;
default: the property's name), `starttls` (1/0, default 0 for smtp://), `timeout` (seconds,
default 30), `cafile` (a CA bundle to trust, for a relay with a private CA). User and password
are percent-decoded; AUTH runs only when a user is given. One connection per message.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import parse_qsl, unquote, urlsplit

from doorpin.adapters.messaging.addresses import AddressError, normalize_email
from doorpin.adapters.messaging.base import Message, PermanentFailure, RetryLater, SendOutcome, Sent, clip
from doorpin.config import ConfigError
from doorpin.domain.deliveries import Channel

_PARAMS = frozenset({"from", "from_name", "starttls", "timeout", "cafile"})
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None
    password: str | None
    sender: str
    sender_name: str | None
    timeout: float
    cafile: str | None


def parse_smtp_url(url: str) -> SmtpSettings:
    """Read `DOORPIN_SMTP_URL`; `ConfigError` names what is wrong (never the password)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError("DOORPIN_SMTP_URL must look like smtp://user:pass@host:587?from=desk@example.com")
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(params) - _PARAMS)
    if unknown:
        raise ConfigError(f"DOORPIN_SMTP_URL: unknown parameter {unknown[0]!r} (known: {', '.join(sorted(_PARAMS))})")
    try:
        sender = normalize_email(params.get("from"))
    except AddressError:
        raise ConfigError("DOORPIN_SMTP_URL needs ?from=<sender address>, e.g. ?from=desk@example.com") from None
    starttls = params.get("starttls", "0").lower()
    if starttls not in _TRUE + _FALSE:
        raise ConfigError("DOORPIN_SMTP_URL: starttls must be 1 or 0")
    try:
        port = parts.port
        timeout = float(params.get("timeout", "30"))
    except ValueError:
        raise ConfigError("DOORPIN_SMTP_URL: the port and timeout must be numbers") from None
    if not 0 < timeout <= 300:
        raise ConfigError("DOORPIN_SMTP_URL: timeout must be between 0 and 300 seconds")
    implicit_tls = parts.scheme == "smtps"
    return SmtpSettings(
        host=parts.hostname,
        port=port or (465 if implicit_tls else 25),
        implicit_tls=implicit_tls,
        starttls=not implicit_tls and starttls in _TRUE,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        sender=sender,
        sender_name=params.get("from_name") or None,
        timeout=timeout,
        cafile=params.get("cafile") or None,
    )


def _text(reply: bytes | str) -> str:
    return clip(reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply)


def _outcome_of(exc: Exception, to: str) -> SendOutcome:
    """Typed outcome of a failed SMTP exchange: 5xx about the recipient is permanent, the rest retries."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = exc.recipients.get(to, (0, b""))
        text = _text(reply)
        if 500 <= code < 600:
            return PermanentFailure("recipient_refused", f"the mail server refused the address ({code} {text})")
        return RetryLater("smtp_recipient_deferred", f"the mail server deferred the address ({code} {text})")
    if isinstance(exc, smtplib.SMTPDataError) and 500 <= exc.smtp_code < 600:
        text = _text(exc.smtp_error)
        return PermanentFailure("message_refused", f"the mail server refused the message ({exc.smtp_code} {text})")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return RetryLater("smtp_auth_failed", f"the mail server refused our login ({exc.smtp_code})")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return RetryLater("smtp_unsupported", clip(f"the mail server does not support a required command: {exc}"))
    if isinstance(exc, smtplib.SMTPResponseException):
        text = _text(exc.smtp_error)
        return RetryLater("smtp_error", f"the mail server answered {exc.smtp_code} {text}")
    if isinstance(exc, ssl.SSLError):
        return RetryLater("smtp_tls_failed", clip(f"TLS with the mail server failed: {exc}"))
    return RetryLater("smtp_unavailable", clip(f"the mail server could not be reached: {type(exc).__name__}: {exc}"))


class SmtpEmailSender:
    channels = frozenset({Channel.EMAIL})

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    @classmethod
    def from_url(cls, url: str) -> SmtpEmailSender:
        return cls(parse_smtp_url(url))

    def _mime(self, message: Message, message_id: str) -> EmailMessage:
        mime = EmailMessage()
        local, _, domain = self.settings.sender.partition("@")
        mime["From"] = Address(self.settings.sender_name or message.sender_name or "", local, domain)
        mime["To"] = message.to
        mime["Subject"] = message.subject
        mime["Message-ID"] = message_id
        mime["Auto-Submitted"] = "auto-generated"
        mime["Date"] = format_datetime(datetime.now(UTC))
        mime.set_content(message.text)
        if message.html is not None:
            mime.add_alternative(message.html, subtype="html")
        for attachment in message.attachments:
            maintype, _, rest = attachment.content_type.partition("/")
            subtype, *params = [p.strip() for p in rest.split(";")]
            extra = dict(p.split("=", 1) for p in params if "=" in p)
            mime.add_attachment(
                attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename, params=extra
            )
        return mime

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.cafile)

    def send(self, message: Message) -> SendOutcome:
        s = self.settings
        message_id = make_msgid(idstring=message.reference or None, domain=s.sender.partition("@")[2])
        try:
            mime = self._mime(message, message_id)
        except (ValueError, TypeError) as exc:  # e.g. an address the email package cannot encode
            return PermanentFailure("invalid_address", clip(f"the message could not be addressed: {exc}"))
        try:
            client = (
                smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self._context())
                if s.implicit_tls
                else smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            )
            with client:
                client.ehlo()
                if s.starttls:
                    client.starttls(context=self._context())
                    client.ehlo()
                if s.username is not None:
                    client.login(s.username, s.password or "")
                client.send_message(mime, from_addr=s.sender, to_addrs=[message.to])
        except (smtplib.SMTPException, OSError) as exc:
            return _outcome_of(exc, message.to)
        return Sent(message_id)

    def close(self) -> None:
        """Nothing held between messages."""
