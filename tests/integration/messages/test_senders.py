"""The senders against real servers: SMTP with STARTTLS and AUTH, and the gateway's answers."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from doorpin.adapters.messaging.base import Attachment, Message, PermanentFailure, RetryLater, Sent
from doorpin.adapters.messaging.gateway import TwilioGatewaySender
from doorpin.adapters.messaging.smtp import SmtpEmailSender
from doorpin.domain.deliveries import Channel
from tests.support.gateway_server import Gateway, messaging_gateway
from tests.support.smtp_server import SmtpServer, smtp_server
from tests.support.tls import self_signed, server_context

MAIL = Message(
    channel=Channel.EMAIL,
    to="ana@guest.example",
    text="Your code: 482913",
    subject="Your door code",
    html="<p>Your code: <b>482913</b></p>",
    attachments=(Attachment("stay.ics", "text/calendar; method=PUBLISH", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"),),
    reference="dlv_test",
    sender_name="Casa Alfama",
)
SMS = Message(channel=Channel.SMS, to="+351912345678", text="Code 482913", status_callback_url="https://x/cb/1")


@pytest.fixture
def tls_smtp(tmp_path: Path) -> Iterator[tuple[SmtpServer, Path]]:
    cert, key = self_signed(tmp_path)
    with smtp_server(tls_context=server_context(cert, key), credentials=("desk", "s3cr3t/pass")) as server:
        yield server, cert


def test_smtp_with_starttls_and_auth_sends_text_html_and_the_calendar(tls_smtp: tuple[SmtpServer, Path]) -> None:
    server, cert = tls_smtp
    url = f"smtp://desk:s3cr3t%2Fpass@127.0.0.1:{server.port}?from=desk@hotel.example&starttls=1&cafile={cert}"
    outcome = SmtpEmailSender.from_url(url).send(MAIL)
    assert isinstance(outcome, Sent)
    assert outcome.provider_message_id is not None
    assert server.handler.logins == ["desk"]
    [received] = server.received
    assert received.mail_from == "desk@hotel.example"
    message = received.message
    assert message["Message-ID"] == outcome.provider_message_id
    assert message["From"] == "Casa Alfama <desk@hotel.example>"
    assert message.get_content_type() == "multipart/mixed"
    parts = [part.get_content_type() for part in message.walk()]
    assert parts == ["multipart/mixed", "multipart/alternative", "text/plain", "text/html", "text/calendar"]


def test_smtp_login_refused_or_tls_missing_is_retried_not_failed(tls_smtp: tuple[SmtpServer, Path]) -> None:
    server, cert = tls_smtp
    wrong = f"smtp://desk:wrong@127.0.0.1:{server.port}?from=desk@hotel.example&starttls=1&cafile={cert}"
    outcome = SmtpEmailSender.from_url(wrong).send(MAIL)
    assert isinstance(outcome, RetryLater)
    assert outcome.code == "smtp_auth_failed"
    untrusted = f"smtp://desk:s3cr3t@127.0.0.1:{server.port}?from=desk@hotel.example&starttls=1"
    outcome = SmtpEmailSender.from_url(untrusted).send(MAIL)
    assert isinstance(outcome, RetryLater)
    assert outcome.code == "smtp_tls_failed", "a certificate we do not trust is not accepted"
    assert server.received == []


def test_smtp_unreachable_is_retried_and_a_refused_mailbox_is_permanent() -> None:
    with smtp_server() as server:
        port = server.port
        server.refuse("ana@guest.example")
        refused = SmtpEmailSender.from_url(server.url()).send(MAIL)
    assert isinstance(refused, PermanentFailure)
    assert refused.code == "recipient_refused"
    gone = SmtpEmailSender.from_url(f"smtp://127.0.0.1:{port}?from=desk@hotel.example&timeout=2").send(MAIL)
    assert isinstance(gone, RetryLater)
    assert gone.code == "smtp_unavailable"
    assert "482913" not in refused.message + gone.message


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    with messaging_gateway() as server:
        yield server


@pytest.mark.parametrize(
    ("status", "payload", "kind", "code"),
    [
        (201, {"sid": "SMabc", "status": "queued"}, Sent, None),
        (500, None, RetryLater, "gateway_error"),
        (503, {"code": 20503, "message": "Service unavailable"}, RetryLater, "gateway_error"),
        (429, {"code": 20429, "message": "Too Many Requests"}, RetryLater, "rate_limited"),
        (401, {"code": 20003, "message": "Authenticate"}, RetryLater, "gateway_auth_failed"),
        (400, {"code": 21211, "message": "Invalid 'To' Phone Number"}, PermanentFailure, "invalid_address"),
        (
            400,
            {"code": 21614, "message": "'To' number is not a valid mobile number"},
            PermanentFailure,
            "invalid_address",
        ),
        (
            400,
            {"code": 21610, "message": "Attempt to send to unsubscribed recipient"},
            PermanentFailure,
            "recipient_opted_out",
        ),
        (
            400,
            {"code": 21617, "message": "The concatenated message body exceeds the 1600 character limit"},
            PermanentFailure,
            "gateway_rejected",
        ),
    ],
)
def test_gateway_answers_map_to_typed_outcomes(
    gateway: Gateway, status: int, payload: object, kind: type, code: str | None
) -> None:
    gateway.answer_next(status, payload)
    sender = TwilioGatewaySender.from_url(gateway.url)
    try:
        outcome = sender.send(SMS)
    finally:
        sender.close()
    assert isinstance(outcome, kind)
    if isinstance(outcome, Sent):
        assert outcome.provider_message_id == "SMabc"
    else:
        assert getattr(outcome, "code", None) == code
        assert str(status) in getattr(outcome, "message", "")


def test_a_gateway_that_does_not_answer_in_time_is_retried() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts connections, never answers
        port = silent.getsockname()[1]
        sender = TwilioGatewaySender.from_url(f"http://AC1:token@127.0.0.1:{port}?from=%2B15005550006&timeout=1")
        try:
            outcome = sender.send(SMS)
        finally:
            sender.close()
    assert isinstance(outcome, RetryLater)
    assert outcome.code == "gateway_timeout"


def test_an_unreachable_gateway_is_retried() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    sender = TwilioGatewaySender.from_url(f"http://AC1:token@127.0.0.1:{port}?from=%2B15005550006")
    try:
        outcome = sender.send(SMS)
    finally:
        sender.close()
    assert isinstance(outcome, RetryLater)
    assert outcome.code == "gateway_unavailable"
