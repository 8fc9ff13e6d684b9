"""Bodies of /v1/properties/{id}/message-templates and the template preview."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from doorpin.entrypoints.api.schemas.common import StrictInput
from doorpin.services.message_templates.rendering import MAX_SOURCE_CHARS, PLACEHOLDERS

ChannelName = Literal["email", "sms", "whatsapp"]
ReasonName = Literal["pre_arrival", "pin_changed", "dates_changed", "resend"]
LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$"
PLACEHOLDER_HELP = "Jinja2 (sandboxed). Placeholders: " + ", ".join(PLACEHOLDERS) + "."


class TemplateIn(StrictInput):
    subject: str | None = Field(
        default=None, max_length=1000, description="Email only (required there). " + PLACEHOLDER_HELP
    )
    text: str = Field(min_length=1, max_length=MAX_SOURCE_CHARS, description="The plain-text body (SMS: the message).")
    html: str | None = Field(
        default=None,
        max_length=MAX_SOURCE_CHARS,
        description="Email only, optional (default: the text as HTML). Placeholders are HTML-escaped.",
    )


class TemplateOut(BaseModel):
    property_id: str | None
    channel: ChannelName
    language: str
    source: Literal["custom", "builtin"]
    subject: str | None
    text: str
    html: str | None
    placeholders: list[str]
    updated_at: str | None
    updated_by_key_id: str | None


class TemplateList(BaseModel):
    data: list[TemplateOut]
    next_cursor: str | None = None


class PreviewIn(StrictInput):
    channel: ChannelName
    language: str | None = Field(
        default=None,
        max_length=16,
        pattern=LANGUAGE_PATTERN,
        description="The guest's language (default: the property's). Ignored for choosing when `template` is given.",
    )
    reason: ReasonName = "pre_arrival"
    template: TemplateIn | None = Field(default=None, description="Render this instead of the stored or built-in one.")


class PreviewOut(BaseModel):
    channel: ChannelName
    language: str
    reason: ReasonName
    source: Literal["custom", "builtin", "request"]
    subject: str | None
    text: str
    html: str | None
