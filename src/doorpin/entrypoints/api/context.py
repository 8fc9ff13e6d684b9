"""Per-request plumbing: the app's services, the caller, and the write-transaction runner."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from fastapi import Depends, Request, Security
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from doorpin.adapters.db.models import IdempotencyRecord
from doorpin.bootstrap import AppServices
from doorpin.domain.errors import DomainError
from doorpin.domain.scopes import Scope
from doorpin.services import accounts
from doorpin.services.principal import Principal

M = TypeVar("M", bound=BaseModel)

# A lost race (two creations of one external_ref, two uses of one Idempotency-Key) surfaces as an
# IntegrityError; running the use case again sees the winner's row and answers as documented.
_MAX_ATTEMPTS = 3


def services(request: Request) -> AppServices:
    value = request.app.state.services
    assert isinstance(value, AppServices)
    return value


# Declares the scheme in the OpenAPI document (the /docs "Authorize" button); the header itself
# is read below, so every failure keeps our error envelope.
_BEARER = HTTPBearer(auto_error=False, scheme_name="apiKey", description="Authorization: Bearer <api key>")


def principal(
    request: Request,
    app: AppServices = Depends(services),
    _declared: HTTPAuthorizationCredentials | None = Security(_BEARER),
) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or not token.isprintable():
        raise DomainError("unauthenticated", "send your API key as: Authorization: Bearer <key>")
    with app.db.reader() as session:
        return accounts.authenticate(session, app.keyring, token.strip())


def require(scope: Scope) -> Callable[..., Principal]:
    def dependency(caller: Principal = Depends(principal)) -> Principal:
        caller.require(scope)
        return caller

    return dependency


@contextmanager
def reading(app: AppServices, caller: Principal) -> Iterator[Session]:
    """A session for a read. Keys that see PINs write an audit row per reveal, so theirs is a write
    transaction; everyone else reads without taking SQLite's write lock."""
    with app.db.transaction() if caller.sees_pins else app.db.reader() as session:
        yield session


def _fingerprint(app: AppServices, request: Request, body: BaseModel | None) -> str:
    payload = body.model_dump(mode="json", exclude_unset=True) if body is not None else None
    canonical = json.dumps([request.method, request.url.path, payload], sort_keys=True, separators=(",", ":"))
    # Keyed: a body may carry a PIN, and an unkeyed hash of a 4-8 digit PIN is reversed by guessing.
    return hmac.new(app.keyring.pin_fingerprint, b"idempotency:" + canonical.encode(), hashlib.sha256).hexdigest()


def _replay(app: AppServices, record: IdempotencyRecord, fingerprint: str) -> JSONResponse:
    if record.request_fingerprint != fingerprint:
        raise DomainError(
            "idempotency_key_reused",
            "this Idempotency-Key was used with a different request; use a new key for a new request",
        )
    return JSONResponse(
        json.loads(app.vault.open_text(record.response_body, _context(record.account_id, record.key))),
        status_code=record.response_status,
        headers={"Idempotent-Replayed": "true"},
    )


def run_write(
    request: Request,
    app: AppServices,
    caller: Principal,
    body: BaseModel | None,
    action: Callable[[Session], M],
    status_code: int = 200,
) -> JSONResponse:
    """Run one use case in one transaction; with an `Idempotency-Key`, store or replay its answer."""
    key = request.headers.get("idempotency-key")
    if key is not None and not (0 < len(key) <= 255 and key.isascii() and key.isprintable()):
        raise DomainError(
            "validation_error",
            "Idempotency-Key must be 1-255 printable ASCII characters",
            "Idempotency-Key",
        )
    fingerprint = _fingerprint(app, request, body)
    for attempt in range(_MAX_ATTEMPTS):
        try:
            with app.db.transaction() as session:
                record: IdempotencyRecord | None = None
                if key is not None:
                    existing = session.get(IdempotencyRecord, (caller.account_id, key))
                    if existing is not None:
                        return _replay(app, existing, fingerprint)
                    # Claimed first, so a concurrent twin blocks on this row (PostgreSQL) or
                    # waits for the whole transaction (SQLite's BEGIN IMMEDIATE).
                    record = IdempotencyRecord(
                        account_id=caller.account_id,
                        key=key,
                        request_fingerprint=fingerprint,
                        response_status=0,
                        response_body="",
                        created_at=app.clock.now(),
                    )
                    session.add(record)
                    session.flush()
                result = action(session).model_dump(mode="json")
                if record is not None:
                    record.response_status = status_code
                    # Encrypted: a stored answer may show a PIN, which is never kept in clear.
                    record.response_body = app.vault.seal_text(
                        json.dumps(result, separators=(",", ":")), _context(caller.account_id, key)
                    )
            return JSONResponse(result, status_code=status_code)
        except (IntegrityError, OperationalError) as exc:
            if attempt == _MAX_ATTEMPTS - 1 or (
                isinstance(exc, OperationalError) and not _is_serialization_failure(exc)
            ):
                raise
    raise AssertionError("unreachable")


def _context(account_id: str, key: str | None) -> str:
    return f"idempotency:{account_id}:{key}"


def _is_serialization_failure(exc: OperationalError) -> bool:
    code = getattr(exc.orig, "sqlstate", None)
    return code in ("40001", "40P01")
