"""Addresses, sender URLs and the callback signature: pure parts of the messaging adapters."""

from __future__ import annotations

import pytest

from doorpin.adapters.messaging.addresses import (
    AddressError,
    normalize_email,
    normalize_phone,
    region_of_timezone,
)
from doorpin.adapters.messaging.base import Message
from doorpin.adapters.messaging.gateway import TwilioGatewaySender, parse_gateway_url
from doorpin.adapters.messaging.signature import signature_matches, twilio_signature
from doorpin.adapters.messaging.smtp import parse_smtp_url
from doorpin.config import ConfigError
from doorpin.domain.deliveries import Channel


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+351 912 345 678", None, "+351912345678"),
        ("912 345 678", "PT", "+351912345678"),
        ("0151 23456789", "DE", "+4915123456789"),
        ("+49 (0)151 2345-6789", None, "+4915123456789"),
        ("  +44 7911 123456 ", "PT", "+447911123456"),
    ],
)
def test_phone_numbers_are_normalised_to_e164(raw: str, region: str | None, expected: str) -> None:
    assert normalize_phone(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "region", "code"),
    [
        ("", "PT", "no_address"),
        (None, "PT", "no_address"),
        ("+351 12", None, "invalid_address"),
        ("912 345 678", None, "invalid_address"),  # no country code and no region to read it in
        ("call me maybe", "PT", "invalid_address"),
        ("+1 000 000 0000", None, "invalid_address"),
    ],
)
def test_bad_phone_numbers_are_address_errors(raw: str | None, region: str | None, code: str) -> None:
    with pytest.raises(AddressError) as caught:
        normalize_phone(raw, region)
    assert caught.value.code == code
    assert caught.value.message


def test_the_region_comes_from_the_property_time_zone() -> None:
    assert region_of_timezone("Europe/Lisbon") == "PT"
    assert region_of_timezone("America/New_York") == "US"
    assert region_of_timezone("Etc/UTC") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ana@guest.example", "ana@guest.example"),
        (" Ana.Silva+stay@Guest.Example ", "Ana.Silva+stay@guest.example"),
        ("josé@bücher.example", None),  # a non-ASCII local part is refused
        ("ana@bücher.example", "ana@xn--bcher-kva.example"),
    ],
)
def test_emails_are_checked(raw: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(AddressError):
            normalize_email(raw)
    else:
        assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "ana",
        "ana@",
        "@guest.example",
        "ana@@guest.example",
        "ana@guest",
        "a..b@guest.example",
        "ana@guest.example\r\nBcc: x@y.example",
        "ana@-guest.example",
        "ana @guest.example",
        "ana@guest.123",
    ],
)
def test_bad_emails_are_address_errors(raw: str) -> None:
    with pytest.raises(AddressError) as caught:
        normalize_email(raw)
    assert caught.value.code == ("no_address" if not raw else "invalid_address")


def test_smtp_urls() -> None:
    plain = parse_smtp_url("smtp://mail.example?from=desk@hotel.example")
    assert (plain.host, plain.port, plain.starttls, plain.implicit_tls, plain.username) == (
        "mail.example",
        25,
        False,
        False,
        None,
    )
    tls = parse_smtp_url("smtps://user%40x:p%3Ass@mail.example?from=desk@hotel.example&from_name=Front%20Desk")
    assert (tls.port, tls.implicit_tls, tls.username, tls.password, tls.sender_name) == (
        465,
        True,
        "user@x",
        "p:ss",
        "Front Desk",
    )
    submission = parse_smtp_url("smtp://u:p@mail.example:587?from=desk@hotel.example&starttls=1")
    assert (submission.port, submission.starttls) == (587, True)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("smtp://mail.example", "from="),
        ("smtp://mail.example?from=nobody", "from="),
        ("smtp://mail.example?from=a@b.example&starttls=maybe", "starttls"),
        ("smtp://mail.example?from=a@b.example&tls=1", "unknown parameter 'tls'"),
        ("http://mail.example?from=a@b.example", "smtp://"),
    ],
)
def test_bad_smtp_urls_are_config_errors(url: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_smtp_url(url)
    assert words in str(caught.value)


def test_gateway_urls() -> None:
    full = parse_gateway_url("https://AC1:tok@api.example/2010-04-01/Accounts/AC1?from=+15005550006")
    assert full.messages_url == "https://api.example/2010-04-01/Accounts/AC1/Messages.json"
    assert (full.account_sid, full.auth_token, full.sms_from, full.whatsapp_from) == (
        "AC1",
        "tok",
        "+15005550006",
        "+15005550006",
    )
    short = parse_gateway_url("http://AC2:t%2Fk@127.0.0.1:9000?from=%2B15005550006&whatsapp_from=+14155238886")
    assert short.messages_url == "http://127.0.0.1:9000/2010-04-01/Accounts/AC2/Messages.json"
    assert (short.auth_token, short.whatsapp_from) == ("t/k", "+14155238886")
    service = parse_gateway_url("https://AC3:tok@api.example?messaging_service_sid=MG123")
    assert (service.sms_from, service.messaging_service_sid) == (None, "MG123")
    assert "tok" not in service.messages_url


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("https://api.example?from=+15005550006", "auth token"),
        ("https://AC1:s3cret@api.example", "from="),
        ("https://AC1:s3cret@api.example?from=+1", "E.164"),
        ("https://AC1:s3cret@api.example?from=+15005550006&sender=x", "unknown parameter"),
    ],
)
def test_bad_gateway_urls_are_config_errors(url: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_gateway_url(url)
    assert words in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_whatsapp_messages_carry_the_prefix_and_sms_can_use_a_messaging_service() -> None:
    sender = TwilioGatewaySender(parse_gateway_url("https://AC1:tok@api.example?from=+15005550006"))
    try:
        whatsapp = sender.form(Message(Channel.WHATSAPP, "+351912345678", "hi", status_callback_url="https://d/cb"))
        assert whatsapp == {
            "To": "whatsapp:+351912345678",
            "From": "whatsapp:+15005550006",
            "Body": "hi",
            "StatusCallback": "https://d/cb",
        }
    finally:
        sender.close()
    service = TwilioGatewaySender(parse_gateway_url("https://AC1:tok@api.example?messaging_service_sid=MG1"))
    try:
        assert service.form(Message(Channel.SMS, "+351912345678", "hi")) == {
            "To": "+351912345678",
            "Body": "hi",
            "MessagingServiceSid": "MG1",
        }
    finally:
        service.close()


def test_the_signature_matches_twilios_published_example() -> None:
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675309",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
    }
    assert twilio_signature("12345", url, params.items()) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert signature_matches("12345", url, reversed(list(params.items())), "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not signature_matches("12345", url, {**params, "Digits": "9"}.items(), "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not signature_matches("12345", url + "&x=1", params.items(), "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not signature_matches("12345", url, params.items(), "")
