"""The FastAPI application: routers, error envelope, middleware."""

from __future__ import annotations

from fastapi import FastAPI

from doorpin import __version__
from doorpin.bootstrap import AppServices
from doorpin.entrypoints.api.errors import install_error_handlers
from doorpin.entrypoints.api.middleware import BodyGuardMiddleware, RequestContextMiddleware
from doorpin.entrypoints.api.routers import (
    access_codes,
    access_events,
    alerts,
    api_keys,
    deliveries,
    doors,
    events,
    health,
    message_callbacks,
    message_templates,
    properties,
    provider_events,
    reservations,
    webhooks,
)
from doorpin.entrypoints.web.guest import install_guest_pages

DESCRIPTION = """
Door PINs for stays: every confirmed reservation gets a PIN, live only from check-in to
check-out, on exactly the doors the guest may open.

Authenticate with `Authorization: Bearer <api key>`. Errors look like
`{"error": {"code": "...", "message": "...", "field": "..."}}`; branch on `code`.
"""


def create_app(app_services: AppServices) -> FastAPI:
    app = FastAPI(
        title="doorpin",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.services = app_services
    install_error_handlers(app)
    app.add_middleware(BodyGuardMiddleware)
    app.add_middleware(RequestContextMiddleware)
    for module in (health, api_keys, properties, doors, reservations, deliveries, access_codes, events):
        app.include_router(module.router)
    for module in (access_events, alerts, webhooks, provider_events, message_templates, message_callbacks):
        app.include_router(module.router)
    install_guest_pages(app)
    return app
