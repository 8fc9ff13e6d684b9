"""Acceptance: the pre-arrival email goes out once, on time, with the current code and window.

Time is driven with the fake clock and the sending job is run directly; the email is read back
from a real SMTP server.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import icalendar

from doorpin.domain.deliveries import MAX_ATTEMPTS
from tests.integration.messages.conftest import book, deliveries, guest_property, pin_of
from tests.support.api import Tenant
from tests.support.clock import FakeClock
from tests.support.resources import create_lock, create_unit, ok
from tests.support.smtp_server import SmtpServer

# The fake clock starts on Monday 2026-06-01 12:00 UTC. Lisbon is UTC+1 in June.
PRE_ARRIVAL_AT = datetime(2026, 6, 9, 14, 0, tzinfo=UTC)  # 48 h before check-in, 15:00 Lisbon on 11 June


def _body(smtp: SmtpServer, index: int) -> tuple[str, str, str]:
    message = smtp.received[index].message
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    return str(message["Subject"]), text.get_content(), html.get_content()


def test_a_stay_booked_ten_days_ahead_gets_one_pre_arrival_email_at_the_configured_time(
    tenant: Tenant, clock: FakeClock, smtp: SmtpServer, send: Callable[[], int]
) -> None:
    prop, unit = guest_property(tenant)
    stay = book(tenant, prop, unit, "2026-06-11", "2026-06-13")
    pin = pin_of(tenant, stay)
    [planned] = deliveries(tenant, stay)
    assert planned["reason"] == "pre_arrival"
    assert planned["status"] == "scheduled"
    assert planned["scheduled_for"] == "2026-06-09T15:00:00+01:00"

    send()
    clock.set(datetime(2026, 6, 9, 13, 59, tzinfo=UTC))
    send()
    assert smtp.received == [], "nothing may go out before send_before_hours"

    clock.set(PRE_ARRIVAL_AT)
    assert send() == 1
    for _ in range(3):  # later passes and later days send nothing more
        clock.advance(hours=6)
        send()
    assert len(smtp.received) == 1

    received = smtp.received[0]
    assert received.rcpt_tos == ["ana@guest.example"]
    subject, text, html = _body(smtp, 0)
    assert "Casa Alfama" in subject
    assert "Hello Ana Silva" in text
    assert f"Your code: {pin}" in text
    assert "Doors: Entrance, Room 12 door" in text
    # The window in property time (15:00 and 11:00 in Lisbon), not in UTC.
    assert "Valid from: Thursday 11 June 2026, 15:00" in text
    assert "Valid until: Saturday 13 June 2026, 11:00" in text
    assert f"{pin}</strong>" in html
    assert "https://stay.doorpin.example/g/" in text

    [done] = deliveries(tenant, stay)
    assert done["status"] == "sent"
    assert done["sent_at"] == "2026-06-09T15:00:00+01:00"
    assert done["attempts"] == 1
    assert done["error"] is None


def test_the_email_carries_the_stay_as_a_calendar_event_without_the_pin(
    tenant: Tenant, clock: FakeClock, smtp: SmtpServer, send: Callable[[], int]
) -> None:
    prop, unit = guest_property(tenant)
    stay = book(tenant, prop, unit, "2026-06-11", "2026-06-13")
    pin = pin_of(tenant, stay)
    clock.set(PRE_ARRIVAL_AT)
    send()
    [attachment] = list(smtp.received[0].message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_filename() == "stay.ics"
    raw = attachment.get_content()
    ics = raw if isinstance(raw, bytes) else raw.encode()
    assert pin.encode() not in ics
    assert b"/g/" not in ics, "the guest-page link opens the code: it stays out of calendars"
    [event] = icalendar.Calendar.from_ical(ics).walk("VEVENT")
    assert event.decoded("dtstart") == datetime(2026, 6, 11, 14, 0, tzinfo=UTC)
    assert event.decoded("dtend") == datetime(2026, 6, 13, 10, 0, tzinfo=UTC)
    assert str(event.get("location")) == "Casa Alfama"


def test_a_stay_booked_for_tonight_gets_it_at_once(tenant: Tenant, smtp: SmtpServer, send: Callable[[], int]) -> None:
    prop, unit = guest_property(tenant)
    stay = book(tenant, prop, unit, "2026-06-01", "2026-06-03")
    [planned] = deliveries(tenant, stay)
    assert planned["scheduled_for"] == "2026-06-01T13:00:00+01:00"  # the booking's own moment
    assert send() == 1
    assert len(smtp.received) == 1
    assert f"Your code: {pin_of(tenant, stay)}" in _body(smtp, 0)[1]


def test_a_pin_changed_after_the_pre_arrival_email_sends_pin_changed_with_the_new_pin(
    tenant: Tenant, clock: FakeClock, smtp: SmtpServer, send: Callable[[], int]
) -> None:
    prop, unit = guest_property(tenant)
    stay = book(tenant, prop, unit, "2026-06-11", "2026-06-13")
    old_pin = pin_of(tenant, stay)
    clock.set(PRE_ARRIVAL_AT)
    send()
    clock.advance(hours=2)
    ok(tenant.put(f"/v1/reservations/{stay['id']}/pin", {"pin": "******"}))
    new_pin = pin_of(tenant, stay)
    assert new_pin != old_pin
    reasons = [(d["reason"], d["status"]) for d in deliveries(tenant, stay)]
    assert reasons == [("pre_arrival", "sent"), ("pin_changed", "scheduled")]
    assert send() == 1
    assert len(smtp.received) == 2
    subject, text, _ = _body(smtp, 1)
    assert "new door code" in subject.lower()
    assert f"Your code: {new_pin}" in text
    assert old_pin not in text


def test_a_pin_changed_before_the_pre_arrival_email_only_changes_what_it_will_say(
    tenant: Tenant, clock: FakeClock, smtp: SmtpServer, send: Callable[[], int]
) -> None:
    prop, unit = guest_property(tenant)
    stay = book(tenant, prop, unit, "2026-06-11", "2026-06-13")
    ok(tenant.put(f"/v1/reservations/{stay['id']}/pin", {"pin": "******"}))
    new_pin = pin_of(tenant, stay)
    assert [d["reason"] for d in deliveries(tenant, stay)] == ["pre_arrival"]
    clock.set(PRE_ARRIVAL_AT)
    send()
    assert len(smtp.received) == 1
    assert f"Your code: {new_pin}" in _body(smtp, 0)[1]


def test_a_unit_pin_changed_through_one_stay_re_delivers_it_to_every_stay_of_the_unit(
    tenant: Tenant, clock: FakeClock, smtp: SmtpServer, send: Callable[[], int]
) -> None:
    prop, unit = guest_property(tenant)
    ok(tenant.patch(f"/v1/properties/{prop['id']}", {"code_policy": {"pin_scope": "unit"}}))
    first = book(tenant, prop, unit, "2026-06-01", "2026-06-04", email="first@guest.example")
    second = book(tenant, prop, unit, "2026-06-02", "2026-06-05", email="second@guest.example")
    assert pin_of(tenant, first) == pin_of(tenant, second)
    clock.advance(days=1)
    send()
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == ["first@guest.example", "second@guest.example"]

    ok(tenant.put(f"/v1/reservations/{first['id']}/pin", {"pin": "******"}))
    new_pin = pin_of(tenant, second)
    assert new_pin == pin_of(tenant, first)
    for stay in (first, second):
        assert [d["reason"] for d in deliveries(tenant, stay)] == ["pre_arrival", "pin_changed"]
    send()
    changed = {r.rcpt_tos[0]: r for r in smtp.received[2:]}
    assert sorted(changed) == ["first@guest.example", "second@guest.example"]
    for received in changed.values():
        body = received.message.get_body(preferencelist=("plain",))
        assert body is not None
        assert f"Your code: {new_pin}" in body.get_content()


def test_canceling_before_the_send_time_sends_nothing(
    tenant: Tenant, clock: FakeClock, smtp: SmtpServer, send: Callable[[], int]
) -> None:
    prop, unit = guest_property(tenant)
    stay = book(tenant, prop, unit, "2026-06-11", "2026-06-13")
    clock.advance(days=2)
    ok(tenant.patch(f"/v1/reservations/{stay['id']}", {"status": "CANCELED"}))
    for _ in range(MAX_ATTEMPTS):
        clock.set(PRE_ARRIVAL_AT)
        send()
        clock.advance(days=1)
        send()
    assert smtp.received == []
    [delivery] = deliveries(tenant, stay)
    assert delivery["status"] == "canceled"
    assert delivery["sent_at"] is None


def test_guests_get_the_message_in_their_language_with_dates_written_in_it(
    tenant: Tenant, clock: FakeClock, smtp: SmtpServer, send: Callable[[], int]
) -> None:
    prop, unit = guest_property(tenant)
    expected = {
        "de": ("Ihr Türcode für Casa Alfama", "Gültig ab: Donnerstag, 11. Juni 2026, 15:00 Uhr"),
        "fr-CA": ("Votre code d'accès pour Casa Alfama", "Valable à partir du: jeudi 11 juin 2026 à 15:00"),
        "es": ("Su código de acceso para Casa Alfama", "Válido desde: jueves, 11 de junio de 2026, 15:00"),
        "pt-BR": ("O seu código de acesso para Casa Alfama", "Válido a partir de: quinta-feira, 11 de junho de 2026"),
        "ja": ("Your door code for Casa Alfama", "Valid from: Thursday 11 June 2026, 15:00"),
    }
    for language in expected:
        book(
            tenant, prop, unit, "2026-06-11", "2026-06-13", email=f"{language.lower()}@guest.example", language=language
        )
    clock.set(PRE_ARRIVAL_AT)
    send()
    got = {r.rcpt_tos[0].split("@")[0]: r.message for r in smtp.received}
    assert len(got) == len(expected)
    for language, (subject, line) in expected.items():
        message = got[language.lower()]
        assert message["Subject"] == subject
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        assert line in body.get_content()


def test_a_unit_pin_forced_to_change_by_editing_one_stay_re_delivers_it_to_every_stay_of_the_unit(
    tenant: Tenant, clock: FakeClock, smtp: SmtpServer, send: Callable[[], int]
) -> None:
    prop, unit = guest_property(tenant)
    ok(tenant.patch(f"/v1/properties/{prop['id']}", {"code_policy": {"pin_scope": "unit"}}))
    other_door = create_lock(tenant, prop["id"], "Room 14 door")
    other_unit = create_unit(tenant, prop["id"], "Room 14", lock_ids=[other_door["id"]])
    first = book(tenant, prop, unit, "2026-06-01", "2026-06-04", email="first@guest.example")
    second = book(tenant, prop, unit, "2026-06-02", "2026-06-05", email="second@guest.example")
    ok(tenant.put(f"/v1/reservations/{first['id']}/pin", {"pin": "583920"}))
    # Room 14's guests get the same digits weeks later: no overlap on the shared entrance, no clash.
    later = book(tenant, prop, other_unit, "2026-06-20", "2026-06-22", email="later@guest.example")
    ok(tenant.put(f"/v1/reservations/{later['id']}/pin", {"pin": "583920"}))
    clock.advance(days=1)
    send()
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == ["first@guest.example", "second@guest.example"]

    # The first guest extends into Room 14's dates: Room 12's PIN would clash on the entrance, so
    # the unit gets a new one — for the second guest too, who must hear of it.
    ok(tenant.patch(f"/v1/reservations/{first['id']}", {"check_out": "2026-06-21"}))
    new_pin = pin_of(tenant, second)
    assert new_pin != "583920"
    assert pin_of(tenant, first) == new_pin
    assert [d["reason"] for d in deliveries(tenant, second)] == ["pre_arrival", "pin_changed"]
    send()
    changed = {r.rcpt_tos[0]: r for r in smtp.received[2:]}
    assert sorted(changed) == ["first@guest.example", "second@guest.example"]
    body = changed["second@guest.example"].message.get_body(preferencelist=("plain",))
    assert body is not None
    assert f"Your code: {new_pin}" in body.get_content()
