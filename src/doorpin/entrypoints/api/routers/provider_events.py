"""Door providers push access events: `/v1/provider-endpoints` (admin) makes the signed
endpoints, `POST /v1/provider-events/{endpoint_id}` (no API key: signed) receives them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from doorpin.adapters.db.event_models import ProviderEndpoint
from doorpin.adapters.locks.base import DeviceEvent
from doorpin.adapters.signing import HEADER
from doorpin.bootstrap import AppServices
from doorpin.domain.errors import DomainError
from doorpin.domain.scopes import Scope
from doorpin.entrypoints.api.context import require, run_write, services
from doorpin.entrypoints.api.routers.common import ListParams, list_params
from doorpin.entrypoints.api.schemas.access_events import (
    ProviderEndpointCreate,
    ProviderEndpointCreated,
    ProviderEndpointOut,
    ProviderPushIn,
    PushResultOut,
    RejectedEventOut,
)
from doorpin.entrypoints.api.schemas.common import ERROR_RESPONSES, Page
from doorpin.services import provider_endpoints, provider_push
from doorpin.services.principal import Principal

router = APIRouter(tags=["provider events"], responses=ERROR_RESPONSES)
_MAX_ATTEMPTS = 3  # a push that lost a deadlock to a concurrent poll of the same lock runs again


def _url(request: Request, app: AppServices, endpoint_id: str) -> str:
    base = (app.base_url or str(request.base_url)).rstrip("/")
    return f"{base}/v1/provider-events/{endpoint_id}"


def _out(request: Request, app: AppServices, row: ProviderEndpoint) -> ProviderEndpointOut:
    return ProviderEndpointOut(
        id=row.id,
        provider=row.provider,
        url=_url(request, app, row.id),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


@router.post("/v1/provider-endpoints", status_code=201, response_model=ProviderEndpointCreated)
def create_provider_endpoint(
    body: ProviderEndpointCreate,
    request: Request,
    caller: Principal = Depends(require(Scope.ADMIN)),
    app: AppServices = Depends(services),
) -> JSONResponse:
    """An endpoint a door provider pushes access events to. The `secret` signs its requests and
    is in this response only."""

    def action(session: Session) -> ProviderEndpointCreated:
        created = provider_endpoints.create_endpoint(session, app.vault, app.clock, caller, body.provider)
        return ProviderEndpointCreated(**_out(request, app, created.row).model_dump(), secret=created.secret)

    return run_write(request, app, caller, body, action, status_code=201)


@router.get("/v1/provider-endpoints", response_model=Page[ProviderEndpointOut])
def list_provider_endpoints(
    request: Request,
    page: ListParams = Depends(list_params),
    caller: Principal = Depends(require(Scope.ADMIN)),
    app: AppServices = Depends(services),
) -> Page[ProviderEndpointOut]:
    with app.db.reader() as session:
        result = provider_endpoints.list_endpoints(session, caller, page.limit, page.cursor)
        return Page(data=[_out(request, app, row) for row in result.items], next_cursor=result.next_cursor)


@router.delete("/v1/provider-endpoints/{endpoint_id}", response_model=ProviderEndpointOut)
def revoke_provider_endpoint(
    request: Request,
    endpoint_id: str = Path(max_length=40),
    caller: Principal = Depends(require(Scope.ADMIN)),
    app: AppServices = Depends(services),
) -> JSONResponse:
    """Revoke at once: pushes to it answer 401 from then on. The row stays for the audit trail."""
    return run_write(
        request,
        app,
        caller,
        None,
        lambda session: _out(request, app, provider_endpoints.revoke_endpoint(session, app.clock, caller, endpoint_id)),
    )


def _pushed(body: bytes) -> list[provider_push.PushedEvent]:
    try:
        parsed = ProviderPushIn.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] in ("json_invalid", "json_type"):
            raise DomainError("invalid_json", "the request body is not valid JSON") from None
        field = ".".join(str(part) for part in first["loc"]) or None
        message = "this field is required" if first["type"] == "missing" else str(first["msg"])
        # pydantic's messages never echo the value, so a PIN cannot leak through here.
        raise DomainError("validation_error", f"{field}: {message}" if field else message, field) from None
    return [
        provider_push.PushedEvent(
            DeviceEvent(item.id, item.occurred_at, item.result, item.code_ref, item.pin, item.reason),
            lock_id=item.lock_id,
            device_id=item.device_id,
        )
        for item in parsed.events
    ]


def _receive(app: AppServices, endpoint_id: str, body: bytes, header: str | None) -> PushResultOut:
    now = app.clock.now()
    with app.db.reader() as session:
        signed = provider_push.verify_push(session, app.vault, endpoint_id, body, header, now)
    pushed = _pushed(body)  # only once the sender is known: strangers learn nothing about bodies
    for attempt in range(_MAX_ATTEMPTS):
        try:
            with app.db.transaction() as session:
                outcome = provider_push.accept_push(session, app.vault, signed, pushed, now)
            break
        except OperationalError as exc:
            if attempt == _MAX_ATTEMPTS - 1 or getattr(exc.orig, "sqlstate", None) not in ("40001", "40P01"):
                raise
    return PushResultOut(
        received=outcome.received,
        stored=outcome.stored,
        duplicates=outcome.duplicates,
        rejected=[
            RejectedEventOut(index=r.index, id=r.event_id, code=r.code, message=r.message) for r in outcome.rejected
        ],
    )


def _inlined(node: Any, defs: dict[str, Any]) -> Any:
    """The schema with its `$defs` references replaced by the definitions themselves."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inlined(defs[ref.removeprefix("#/$defs/")], defs)
        return {key: _inlined(value, defs) for key, value in node.items()}
    if isinstance(node, list):
        return [_inlined(item, defs) for item in node]
    return node


def _push_body() -> dict[str, Any]:
    # The body is read raw (the signature covers its exact bytes) and parsed only once the sender
    # is known, so it is described here rather than declared as a parameter.
    schema = ProviderPushIn.model_json_schema()
    defs = schema.pop("$defs", {})
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": _inlined(schema, defs)}}}}


@router.post("/v1/provider-events/{endpoint_id}", response_model=PushResultOut, openapi_extra=_push_body())
async def receive_provider_events(
    request: Request,
    endpoint_id: str = Path(max_length=40),
    signature: str | None = Header(
        None, alias=HEADER, description='t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>'
    ),
    app: AppServices = Depends(services),
) -> PushResultOut:
    """A door provider's access events (no API key: signed with the endpoint's secret).

    Refused with 401 `unauthenticated` (the message says why): an unknown or revoked endpoint, a
    missing or wrong signature, a timestamp more than 300 s off, or a signature already accepted
    (a replay). Each event names its lock by `lock_id` or `device_id`; an event is stored once
    per lock and id, however often it is sent."""
    body = await request.body()
    return await run_in_threadpool(_receive, app, endpoint_id, body, signature)
