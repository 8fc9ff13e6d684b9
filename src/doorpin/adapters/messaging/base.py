"""The message-sender port: one message out, one typed outcome back.

A sender never raises for a failed send: it answers `Sent` (with the provider's message id),
`RetryLater` (the network, the server or a rate limit: try again later) or `PermanentFailure`
(the address or the message was refused: retrying cannot help). Message bodies carry PINs, so
no sender logs them or puts them into an outcome's message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from doorpin.domain.deliveries import Channel


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "text/calendar; method=PUBLISH"
    data: bytes


@dataclass(frozen=True)
class Message:
    channel: Channel
    to: str  # normalised: an email address, or an E.164 phone number
    text: str
    subject: str = ""
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    status_callback_url: str | None = None  # where a gateway reports delivered/failed
    reference: str = ""  # our delivery id, for headers and logs
    sender_name: str = ""  # shown as the email sender's name (the property), unless configured


@dataclass(frozen=True)
class Sent:
    provider_message_id: str | None


@dataclass(frozen=True)
class RetryLater:
    code: str
    message: str


@dataclass(frozen=True)
class PermanentFailure:
    code: str
    message: str


SendOutcome = Sent | RetryLater | PermanentFailure


class MessageSender(Protocol):
    """Sends messages of some channels (email; or SMS and WhatsApp)."""

    channels: frozenset[Channel]

    def send(self, message: Message) -> SendOutcome: ...

    def close(self) -> None: ...


def clip(text: str, limit: int = 300) -> str:
    """A provider's error text, on one line and bounded, for an outcome's message."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
