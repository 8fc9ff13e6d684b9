"""The guest pages' message catalogue, language choice, dates and PIN grouping."""

from __future__ import annotations

from datetime import datetime

import pytest

from doorpin.entrypoints.web import i18n


def test_every_language_has_every_message_and_table() -> None:
    assert set(i18n.LANGUAGES) >= {"en", "de", "fr", "es", "pt"}
    assert i18n.check_catalogue() == []
    for language in i18n.LANGUAGES:
        assert set(i18n.STEPS) == set(i18n.WEEKDAYS) == set(i18n.MONTHS) == set(i18n.MESSAGES)
        for key, text in i18n.MESSAGES[language].items():
            assert text.strip(), f"{language}:{key} is empty"
            assert set(_placeholders(text)) == set(_placeholders(i18n.MESSAGES["en"][key])), (language, key)


def _placeholders(text: str) -> list[str]:
    return [part.split("}", 1)[0] for part in text.split("{")[1:]]


def test_a_gap_in_the_catalogue_is_reported() -> None:
    i18n.MESSAGES["xx"] = {"title": "x"}
    try:
        problems = i18n.check_catalogue(["xx"])
    finally:
        del i18n.MESSAGES["xx"]
    assert "xx: no message 'doors'" in problems


@pytest.mark.parametrize(
    ("preferences", "expected"),
    [
        (("de-AT", "fr"), "de"),
        (("pt_BR",), "pt"),
        ((None, "ES"), "es"),
        (("nl", "fr-CA"), "fr"),
        (("nl", None), "en"),
        ((), "en"),
        (("", "  "), "en"),
    ],
)
def test_the_first_language_we_speak_wins(preferences: tuple[str | None, ...], expected: str) -> None:
    assert i18n.pick_language(*preferences) == expected


def test_accept_language_is_read_by_quality_then_order() -> None:
    assert i18n.accepted_languages("nl;q=0.9, fr-CH, de;q=0.95, *;q=0.1, es;q=0") == ["fr-CH", "de", "nl"]
    assert i18n.negotiate("nl, es;q=0.5, de;q=0.7") == "de"
    assert i18n.negotiate("nl;q=bogus, pt") == "pt"
    assert i18n.negotiate(None) == "en"


WHEN = datetime(2030, 6, 14, 15, 0)  # a Friday
FIRST = datetime(2030, 3, 1, 9, 5)  # a Friday too


@pytest.mark.parametrize(
    ("language", "expected", "first"),
    [
        ("en", "Friday 14 June 2030, 15:00", "Friday 1 March 2030, 09:05"),
        ("de", "Freitag, 14. Juni 2030, 15:00 Uhr", "Freitag, 1. März 2030, 09:05 Uhr"),
        ("fr", "vendredi 14 juin 2030 à 15:00", "vendredi 1er mars 2030 à 09:05"),
        ("es", "viernes, 14 de junio de 2030, 15:00", "viernes, 1 de marzo de 2030, 09:05"),
        ("pt", "sexta-feira, 14 de junho de 2030, 15:00", "sexta-feira, 1 de março de 2030, 09:05"),
    ],
)
def test_dates_read_naturally_in_each_language(language: str, expected: str, first: str) -> None:
    assert i18n.format_when(WHEN, language) == expected
    assert i18n.format_when(FIRST, language) == first


@pytest.mark.parametrize(
    ("pin", "groups"),
    [
        ("1234", ["12", "34"]),
        ("12345", ["12", "345"]),
        ("123456", ["123", "456"]),
        ("1234567", ["123", "4567"]),
        ("12345678", ["1234", "5678"]),
        ("123456789", ["123", "456", "789"]),
        ("1234567890", ["123", "456", "7890"]),
        ("12345678901", ["123", "456", "789", "01"]),
    ],
)
def test_pins_are_grouped_for_reading(pin: str, groups: list[str]) -> None:
    assert i18n.group_digits(pin) == groups
    assert "".join(groups) == pin
