"""Dates and times in guest messages, written the way each language writes them.

Pure: the caller passes an aware datetime already in the property's time zone. Languages other
than these fall back to English; a regional tag (`pt-BR`, `de-AT`) uses its base language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class DateStyle:
    weekdays: tuple[str, ...]  # Monday first
    months: tuple[str, ...]
    pattern: str  # {weekday} {day} {month} {year} {time}
    date_pattern: str


def _names(words: str) -> tuple[str, ...]:
    return tuple(words.split(" "))


STYLES: dict[str, DateStyle] = {
    "en": DateStyle(
        _names("Monday Tuesday Wednesday Thursday Friday Saturday Sunday"),
        _names("January February March April May June July August September October November December"),
        "{weekday} {day} {month} {year}, {time}",
        "{weekday} {day} {month} {year}",
    ),
    "de": DateStyle(
        _names("Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag"),
        _names("Januar Februar März April Mai Juni Juli August September Oktober November Dezember"),
        "{weekday}, {day}. {month} {year}, {time} Uhr",
        "{weekday}, {day}. {month} {year}",
    ),
    "fr": DateStyle(
        _names("lundi mardi mercredi jeudi vendredi samedi dimanche"),
        _names("janvier février mars avril mai juin juillet août septembre octobre novembre décembre"),
        "{weekday} {day} {month} {year} à {time}",
        "{weekday} {day} {month} {year}",
    ),
    "es": DateStyle(
        _names("lunes martes miércoles jueves viernes sábado domingo"),
        _names("enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre"),
        "{weekday}, {day} de {month} de {year}, {time}",
        "{weekday}, {day} de {month} de {year}",
    ),
    "pt": DateStyle(
        _names("segunda-feira terça-feira quarta-feira quinta-feira sexta-feira sábado domingo"),
        _names("janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro"),
        "{weekday}, {day} de {month} de {year}, {time}",
        "{weekday}, {day} de {month} de {year}",
    ),
}


def base_language(tag: str | None) -> str:
    """`pt-BR` -> `pt`; empty -> `en`."""
    return (tag or "en").split("-")[0].lower() or "en"


def style_for(language: str | None) -> DateStyle:
    return STYLES.get(base_language(language), STYLES["en"])


def _parts(moment: datetime, style: DateStyle) -> dict[str, str]:
    return {
        "weekday": style.weekdays[moment.weekday()],
        "day": str(moment.day),
        "month": style.months[moment.month - 1],
        "year": str(moment.year),
        "time": moment.strftime("%H:%M"),
    }


def format_moment(moment: datetime, language: str | None) -> str:
    """`Friday 10 July 2026, 15:00` / `Freitag, 10. Juli 2026, 15:00 Uhr` / …"""
    style = style_for(language)
    return style.pattern.format(**_parts(moment, style))


def format_day(moment: datetime, language: str | None) -> str:
    style = style_for(language)
    return style.date_pattern.format(**_parts(moment, style))


def format_time(moment: datetime) -> str:
    return moment.strftime("%H:%M")
