"""Built-in templates and dates per language, and the sandbox around custom templates."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from doorpin.domain.deliveries import Reason
from doorpin.domain.message_dates import format_moment
from doorpin.services.message_templates.builtin import LANGUAGES, builtin_templates
from doorpin.services.message_templates.rendering import (
    MessageContext,
    TemplateRenderError,
    TemplateSet,
    render,
    render_part,
)

LISBON = ZoneInfo("Europe/Lisbon")


def _context(language: str, reason: Reason = Reason.PRE_ARRIVAL, name: str = "Ana") -> MessageContext:
    return MessageContext(
        guest_name=name,
        pin="482913",
        doors=("Entrance", "Room 12"),
        window_start=datetime(2026, 10, 25, 15, 0, tzinfo=LISBON),  # the day clocks go back
        window_end=datetime(2026, 10, 27, 11, 0, tzinfo=LISBON),
        timezone="Europe/Lisbon",
        property_name="Casa <Alfama> & Co",
        guest_page_url="https://d.example/g/tok",
        reason=reason.value,
        language=language,
    )


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Sunday 25 October 2026, 15:00"),
        ("de", "Sonntag, 25. Oktober 2026, 15:00 Uhr"),
        ("fr", "dimanche 25 octobre 2026 à 15:00"),
        ("es", "domingo, 25 de octubre de 2026, 15:00"),
        ("pt-BR", "domingo, 25 de outubro de 2026, 15:00"),
        ("xx", "Sunday 25 October 2026, 15:00"),
    ],
)
def test_dates_are_written_in_the_language(language: str, expected: str) -> None:
    assert format_moment(datetime(2026, 10, 25, 15, 0, tzinfo=LISBON), language) == expected


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("reason", list(Reason))
def test_every_builtin_template_renders_the_code_doors_window_and_link(language: str, reason: Reason) -> None:
    context = _context(language, reason)
    mail = render(builtin_templates(language, "email"), context, "email")
    assert "Casa <Alfama> & Co" in mail.subject
    for part in (mail.text, mail.html or ""):
        assert "482913" in part
        assert "Entrance, Room 12" in part
        assert "https://d.example/g/tok" in part
        assert format_moment(context.window_start, language) in part
    assert mail.html is not None
    assert "Casa &lt;Alfama&gt; &amp; Co" in mail.html
    assert "<Alfama>" not in mail.html
    sms = render(builtin_templates(language, "sms"), context, "sms")
    assert "482913" in sms.text
    assert sms.subject == ""
    assert sms.html is None


def test_reasons_read_differently() -> None:
    texts = {reason: render(builtin_templates("en", "email"), _context("en", reason), "email") for reason in Reason}
    assert len({t.text for t in texts.values()}) == len(Reason)
    assert texts[Reason.PIN_CHANGED].subject.startswith("Your new door code")
    assert "no longer works" in texts[Reason.PIN_CHANGED].text
    assert "Your stay has changed" in texts[Reason.DATES_CHANGED].text


def test_a_guest_without_a_name_is_greeted_without_a_blank() -> None:
    mail = render(builtin_templates("en", "email"), _context("en", name=""), "email")
    assert mail.text.startswith("Hello,")


def test_an_email_template_without_html_gets_its_text_as_escaped_html() -> None:
    mail = render(TemplateSet("Hi", "Code {{ pin }} at {{ property_name }}", None), _context("en"), "email")
    assert mail.html is not None
    assert "Code 482913 at Casa &lt;Alfama&gt; &amp; Co" in mail.html


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "unsafe"),
        ("{{ pin.format.__globals__ }}", "unsafe"),
        ("{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}", "too much work"),
        ("{{ 'ab' * 6000 }}", "longer than"),
        ("{{ ((9 ** 100) ** 100) ** 100 }}", "powers"),
        ("{{ lipsum() }}", "lipsum"),
        ("{{ missing }}", "missing"),
    ],
)
def test_the_sandbox_stops_what_a_message_has_no_business_doing(source: str, words: str) -> None:
    with pytest.raises(TemplateRenderError) as caught:
        render_part("text", source, {"pin": "1"})
    assert caught.value.part == "text"
    assert words in caught.value.message
