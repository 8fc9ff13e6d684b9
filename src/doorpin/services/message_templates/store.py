"""Custom templates per property, channel and language; which template a message uses; previews.

A template is checked when it is saved: it must parse and render, for every reason a message
is sent, with sample data. Sending therefore never meets a template an operator could have
fixed. Which template a message uses, first match wins:
property + the guest's language (`pt-br`, then `pt`) -> property + the property's language ->
built-in in the guest's language -> built-in in the property's language -> built-in English.
WhatsApp uses the property's SMS template when it has no WhatsApp template of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorpin.adapters.db.models import Property
from doorpin.adapters.db.template_models import MessageTemplate
from doorpin.domain.deliveries import Channel, Reason
from doorpin.domain.errors import DomainError
from doorpin.domain.local_time import parse_time_of_day
from doorpin.domain.message_dates import base_language
from doorpin.domain.scopes import Scope
from doorpin.services.message_templates.builtin import PHRASES, builtin_templates
from doorpin.services.message_templates.rendering import (
    MessageContext,
    Rendered,
    TemplateRenderError,
    TemplateSet,
    render,
)
from doorpin.services.principal import Principal, not_found
from doorpin.services.properties import get_property

_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8}){0,3}$")
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
SAMPLE_GUEST = "Ana Silva"
SAMPLE_DOORS = ("Entrance", "Room 12")


@dataclass(frozen=True)
class ChosenTemplate:
    templates: TemplateSet
    language: str  # the language it is written in (dates are formatted in it)
    source: str  # "custom" | "builtin"


def normalize_language(tag: str, field: str = "language") -> str:
    value = tag.strip().lower().replace("_", "-")
    if not _LANGUAGE.match(value) or len(value) > 16:
        raise DomainError("validation_error", f"{field}: a language tag such as en, de or pt-br", field)
    return value


def language_candidates(*tags: str | None) -> list[str]:
    """`pt-BR`, `en` -> ["pt-br", "pt", "en"]: each tag, then its base language, without repeats."""
    out: list[str] = []
    for tag in tags:
        if not tag:
            continue
        value = tag.strip().lower().replace("_", "-")
        for candidate in (value, base_language(value)):
            if candidate and candidate not in out:
                out.append(candidate)
    return out


def check_shape(channel: Channel, templates: TemplateSet, prefix: str = "") -> None:
    """Email needs a subject and text (HTML optional); SMS and WhatsApp have text only."""
    if channel == Channel.EMAIL:
        if not (templates.subject or "").strip():
            raise DomainError(
                "validation_error", f"{prefix}subject: an email template needs a subject", prefix + "subject"
            )
    else:
        for part in ("subject", "html"):
            if getattr(templates, part) is not None:
                message = f"{prefix}{part}: {channel.value} templates have only a text part"
                raise DomainError("validation_error", message, prefix + part)
    if not templates.text.strip():
        raise DomainError("validation_error", f"{prefix}text: the text must not be empty", prefix + "text")


def sample_context(
    prop: Property, now: datetime, language: str, reason: Reason, base_url: str | None
) -> MessageContext:
    """A believable stay a week from now at the property's check-in/out times, with a sample PIN."""
    tz = ZoneInfo(prop.timezone)
    day = now.astimezone(tz).date() + timedelta(days=7)
    start = datetime.combine(day, parse_time_of_day(prop.check_in_time, "check_in_time"), tz)
    end = datetime.combine(day + timedelta(days=2), parse_time_of_day(prop.check_out_time, "check_out_time"), tz)
    length = int(prop.code_policy.get("length", 6))
    return MessageContext(
        guest_name=SAMPLE_GUEST,
        pin="1234567890"[:length],
        doors=SAMPLE_DOORS,
        window_start=start,
        window_end=end,
        timezone=prop.timezone,
        property_name=prop.name,
        guest_page_url=f"{base_url or DEFAULT_BASE_URL}/g/sample-guest-page-token",
        reason=reason.value,
        language=language,
    )


def check_renders(
    prop: Property, channel: Channel, language: str, templates: TemplateSet, now: datetime, base_url: str | None
) -> None:
    """Render for every reason with sample data; `TemplateRenderError` names the failing part."""
    for reason in Reason:
        render(templates, sample_context(prop, now, language, reason, base_url), channel.value)


def _row(session: Session, prop: Property, channel: Channel, language: str) -> MessageTemplate | None:
    return session.get(MessageTemplate, (prop.account_id, prop.id, channel.value, language))


def save_template(
    session: Session,
    principal: Principal,
    now: datetime,
    base_url: str | None,
    property_id: str,
    channel: Channel,
    language: str,
    templates: TemplateSet,
) -> tuple[MessageTemplate, bool]:
    """Create or replace; returns the row and whether it is new. Refuses templates that do not render."""
    principal.require(Scope.WRITE)
    prop = get_property(session, principal, property_id)
    language = normalize_language(language)
    check_shape(channel, templates)
    try:
        check_renders(prop, channel, language, templates, now, base_url)
    except TemplateRenderError as exc:
        raise DomainError("validation_error", str(exc), exc.part) from None
    row = _row(session, prop, channel, language)
    created = row is None
    if row is None:
        row = MessageTemplate(
            account_id=prop.account_id,
            property_id=prop.id,
            channel=channel.value,
            language=language,
            created_at=now,
        )
        session.add(row)
    row.subject, row.text, row.html = templates.subject, templates.text, templates.html
    row.updated_at, row.updated_by_key_id = now, principal.key_id
    session.flush()
    return row, created


def get_template(
    session: Session, principal: Principal, property_id: str, channel: Channel, language: str
) -> MessageTemplate:
    principal.require(Scope.READ)
    prop = get_property(session, principal, property_id)
    row = _row(session, prop, channel, normalize_language(language))
    if row is None:
        raise not_found("message template")
    return row


def delete_template(session: Session, principal: Principal, property_id: str, channel: Channel, language: str) -> None:
    principal.require(Scope.WRITE)
    session.delete(get_template(session, principal, property_id, channel, language))


def list_templates(session: Session, principal: Principal, property_id: str) -> list[MessageTemplate]:
    principal.require(Scope.READ)
    prop = get_property(session, principal, property_id)
    return list(
        session.scalars(
            select(MessageTemplate)
            .where(MessageTemplate.account_id == prop.account_id, MessageTemplate.property_id == prop.id)
            .order_by(MessageTemplate.channel, MessageTemplate.language)
        )
    )


def choose_template(session: Session, prop: Property, channel: Channel, guest_language: str | None) -> ChosenTemplate:
    """The template a message to this guest uses (see the module docstring for the order)."""
    candidates = language_candidates(guest_language, str(prop.delivery.get("language") or "en"))
    channels = [channel, Channel.SMS] if channel == Channel.WHATSAPP else [channel]
    for language in candidates:
        for ch in channels:
            row = _row(session, prop, ch, language)
            if row is not None:
                return ChosenTemplate(TemplateSet(row.subject, row.text, row.html), language, "custom")
    builtin = next((c for c in candidates if c in PHRASES), "en")
    return ChosenTemplate(builtin_templates(builtin, channel.value), builtin, "builtin")


def preview(
    session: Session,
    principal: Principal,
    now: datetime,
    base_url: str | None,
    property_id: str,
    channel: Channel,
    language: str | None,
    reason: Reason,
    templates: TemplateSet | None,
) -> tuple[Rendered, ChosenTemplate]:
    """Render a given template, or the one a guest of this language would get, with sample data."""
    principal.require(Scope.READ)
    prop = get_property(session, principal, property_id)
    tag = normalize_language(language) if language else None
    if templates is not None:
        check_shape(channel, templates, "template.")
        chosen = ChosenTemplate(templates, tag or base_language(str(prop.delivery.get("language"))), "request")
    else:
        chosen = choose_template(session, prop, channel, tag)
    try:
        rendered = render(chosen.templates, sample_context(prop, now, chosen.language, reason, base_url), channel.value)
    except TemplateRenderError as exc:
        raise DomainError("validation_error", f"template.{exc}", f"template.{exc.part}") from None
    return rendered, chosen
