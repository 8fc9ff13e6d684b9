"""Guest-message templates per property, channel and language; previews with sample data."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from doorpin.adapters.db.template_models import MessageTemplate
from doorpin.bootstrap import AppServices
from doorpin.domain.deliveries import Channel, Reason
from doorpin.domain.scopes import Scope
from doorpin.entrypoints.api.context import require, run_write, services
from doorpin.entrypoints.api.presenters import local_iso
from doorpin.entrypoints.api.schemas.common import ERROR_RESPONSES
from doorpin.entrypoints.api.schemas.message_templates import (
    LANGUAGE_PATTERN,
    ChannelName,
    PreviewIn,
    PreviewOut,
    TemplateIn,
    TemplateList,
    TemplateOut,
)
from doorpin.services.message_templates import store
from doorpin.services.message_templates.builtin import PHRASES, builtin_templates
from doorpin.services.message_templates.rendering import PLACEHOLDERS, TemplateSet
from doorpin.services.principal import Principal
from doorpin.services.properties import get_property

router = APIRouter(tags=["message templates"], responses=ERROR_RESPONSES)

BASE = "/v1/properties/{property_id}/message-templates"
PropertyId = Path(max_length=40, description="prop_…")
Language = Path(max_length=16, pattern=LANGUAGE_PATTERN, description="A language tag: en, de, pt-BR, …")


def template_out(row: MessageTemplate, tz: ZoneInfo) -> TemplateOut:
    return TemplateOut(
        property_id=row.property_id,
        channel=row.channel,
        language=row.language,
        source="custom",
        subject=row.subject,
        text=row.text,
        html=row.html,
        placeholders=list(PLACEHOLDERS),
        updated_at=local_iso(row.updated_at, tz),
        updated_by_key_id=row.updated_by_key_id,
    )


@router.put(BASE + "/{channel}/{language}", response_model=TemplateOut)
def put_template(
    body: TemplateIn,
    request: Request,
    channel: ChannelName,
    language: str = Language,
    property_id: str = PropertyId,
    caller: Principal = Depends(require(Scope.WRITE)),
    app: AppServices = Depends(services),
) -> JSONResponse:
    """Create or replace the property's template; refused (422) unless it renders with sample data."""

    def action(session: Session) -> TemplateOut:
        templates = TemplateSet(body.subject, body.text, body.html)
        row, _ = store.save_template(
            session, caller, app.clock.now(), app.base_url, property_id, Channel(channel), language, templates
        )
        return template_out(row, ZoneInfo(get_property(session, caller, property_id).timezone))

    return run_write(request, app, caller, body, action)


@router.get(BASE + "/{channel}/{language}", response_model=TemplateOut)
def get_template(
    channel: ChannelName,
    language: str = Language,
    property_id: str = PropertyId,
    caller: Principal = Depends(require(Scope.READ)),
    app: AppServices = Depends(services),
) -> TemplateOut:
    """The property's own template (404 when it uses the built-in one)."""
    with app.db.reader() as session:
        row = store.get_template(session, caller, property_id, Channel(channel), language)
        return template_out(row, ZoneInfo(get_property(session, caller, property_id).timezone))


@router.delete(BASE + "/{channel}/{language}", status_code=204, response_class=Response)
def delete_template(
    channel: ChannelName,
    language: str = Language,
    property_id: str = PropertyId,
    caller: Principal = Depends(require(Scope.WRITE)),
    app: AppServices = Depends(services),
) -> Response:
    """Remove the property's template: its messages go back to the next one in line."""
    with app.db.transaction() as session:
        store.delete_template(session, caller, property_id, Channel(channel), language)
    return Response(status_code=204)


@router.get(BASE, response_model=TemplateList)
def list_templates(
    property_id: str = PropertyId,
    caller: Principal = Depends(require(Scope.READ)),
    app: AppServices = Depends(services),
) -> TemplateList:
    """The property's own templates (built-in ones are not listed)."""
    with app.db.reader() as session:
        tz = ZoneInfo(get_property(session, caller, property_id).timezone)
        return TemplateList(data=[template_out(row, tz) for row in store.list_templates(session, caller, property_id)])


@router.post(BASE + "/preview", response_model=PreviewOut)
def preview_template(
    body: PreviewIn,
    property_id: str = PropertyId,
    caller: Principal = Depends(require(Scope.READ)),
    app: AppServices = Depends(services),
) -> PreviewOut:
    """Render a template (given here, or the one a guest would get) with sample data; sends nothing."""
    given = TemplateSet(body.template.subject, body.template.text, body.template.html) if body.template else None
    with app.db.reader() as session:
        rendered, chosen = store.preview(
            session,
            caller,
            app.clock.now(),
            app.base_url,
            property_id,
            Channel(body.channel),
            body.language,
            Reason(body.reason),
            given,
        )
    return PreviewOut(
        channel=body.channel,
        language=chosen.language,
        reason=body.reason,
        source=chosen.source,
        subject=rendered.subject or None,
        text=rendered.text,
        html=rendered.html,
    )


@router.get("/v1/message-templates/builtin/{channel}/{language}", response_model=TemplateOut)
def get_builtin_template(
    channel: ChannelName,
    language: str = Language,
    caller: Principal = Depends(require(Scope.READ)),
) -> TemplateOut:
    """The built-in template for a language (English when doorpin has none for it): a starting point."""
    base = store.language_candidates(language)[-1]
    chosen = base if base in PHRASES else "en"
    templates = builtin_templates(chosen, channel)
    return TemplateOut(
        property_id=None,
        channel=channel,
        language=chosen,
        source="builtin",
        subject=templates.subject,
        text=templates.text,
        html=templates.html,
        placeholders=list(PLACEHOLDERS),
        updated_at=None,
        updated_by_key_id=None,
    )
