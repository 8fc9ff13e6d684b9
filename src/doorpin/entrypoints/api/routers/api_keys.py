"""/v1/api-keys: admin-only key management. The secret is shown once, at creation."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from doorpin.bootstrap import AppServices
from doorpin.domain.scopes import Scope
from doorpin.entrypoints.api.context import require, run_write, services
from doorpin.entrypoints.api.presenters import api_key_out
from doorpin.entrypoints.api.routers.common import ListParams, list_params
from doorpin.entrypoints.api.schemas.api_keys import ApiKeyCreate, ApiKeyCreated, ApiKeyOut
from doorpin.entrypoints.api.schemas.common import ERROR_RESPONSES, Page
from doorpin.services import accounts
from doorpin.services.principal import Principal

router = APIRouter(prefix="/v1/api-keys", tags=["api keys"], responses=ERROR_RESPONSES)


@router.post("", status_code=201, response_model=ApiKeyCreated)
def create_api_key(
    body: ApiKeyCreate,
    request: Request,
    caller: Principal = Depends(require(Scope.ADMIN)),
    app: AppServices = Depends(services),
) -> JSONResponse:
    def action(session: Session) -> ApiKeyCreated:
        issued = accounts.create_api_key(
            session, app.keyring, app.clock, caller, body.name, body.scopes, body.property_ids
        )
        return ApiKeyCreated(**api_key_out(issued.key).model_dump(), api_key=issued.token)

    return run_write(request, app, caller, body, action, status_code=201)


@router.get("", response_model=Page[ApiKeyOut])
def list_api_keys(
    page: ListParams = Depends(list_params),
    caller: Principal = Depends(require(Scope.ADMIN)),
    app: AppServices = Depends(services),
) -> Page[ApiKeyOut]:
    with app.db.reader() as session:
        result = accounts.list_api_keys(session, caller, page.limit, page.cursor)
        return Page(data=[api_key_out(row) for row in result.items], next_cursor=result.next_cursor)


@router.delete("/{key_id}", response_model=ApiKeyOut)
def revoke_api_key(
    request: Request,
    key_id: str = Path(max_length=40),
    caller: Principal = Depends(require(Scope.ADMIN)),
    app: AppServices = Depends(services),
) -> JSONResponse:
    """Revoke a key at once; it answers 401 from then on. The row stays for the audit trail."""
    return run_write(
        request,
        app,
        caller,
        None,
        lambda session: api_key_out(accounts.revoke_api_key(session, app.clock, caller, key_id)),
    )
