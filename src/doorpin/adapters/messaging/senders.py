"""The senders of each channel, built from `DOORPIN_SMTP_URL` and `DOORPIN_SMS_URL`."""

from __future__ import annotations

from collections.abc import Mapping

from doorpin.adapters.messaging.base import MessageSender
from doorpin.adapters.messaging.gateway import TwilioGatewaySender
from doorpin.adapters.messaging.smtp import SmtpEmailSender
from doorpin.domain.deliveries import Channel


def build_senders(smtp_url: str | None, sms_url: str | None) -> dict[Channel, MessageSender]:
    """A sender per configured channel; `ConfigError` on a malformed URL. No URL: no sender."""
    senders: dict[Channel, MessageSender] = {}
    if smtp_url:
        senders[Channel.EMAIL] = SmtpEmailSender.from_url(smtp_url)
    if sms_url:
        gateway = TwilioGatewaySender.from_url(sms_url)
        senders[Channel.SMS] = senders[Channel.WHATSAPP] = gateway
    return senders


def close_senders(senders: Mapping[Channel, MessageSender]) -> None:
    for sender in {id(s): s for s in senders.values()}.values():
        sender.close()
