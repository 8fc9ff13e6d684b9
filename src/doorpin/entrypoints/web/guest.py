"""The guest page, `GET /g/{token}`: a stay's door code, doors and times, for the guest's phone.

No API key: the unguessable token in the link is the credential. Unknown, expired and revoked
tokens all get the same 404 page. Every address is rate limited (`rate_limit`), failed lookups
heavily. Responses are never cached, never indexed, send no Referer onwards and may load nothing
but their own inline style (a hash in the Content-Security-Policy). Request logs name the route
template `/g/{token}`, never the path (`entrypoints.api.middleware`); the PIN is only ever in the
page body.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from doorpin.bootstrap import AppServices
from doorpin.entrypoints.web import i18n
from doorpin.entrypoints.web.rate_limit import (
    FAILURE_COST,
    TokenBucketLimiter,
    bucket_key,
    client_address,
    parse_networks,
)
from doorpin.services.guest_page import GuestPage, find_guest_page, record_reveal

router = APIRouter(include_in_schema=False)
_networks = cache(parse_networks)

_templates = Environment(
    loader=PackageLoader("doorpin.entrypoints.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=False,
)


@cache
def _css() -> str:
    return resources.files("doorpin.entrypoints.web").joinpath("static/guest.css").read_text("utf-8").strip()


@cache
def security_headers() -> dict[str, str]:
    digest = base64.b64encode(hashlib.sha256(_css().encode("utf-8")).digest()).decode("ascii")
    return {
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
        "Referrer-Policy": "no-referrer",
        "X-Robots-Tag": "noindex, nofollow, noarchive",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": (
            f"default-src 'none'; style-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'"
        ),
    }


def install_guest_pages(app: FastAPI) -> None:
    """Serve /g/{token} from `app`, with a rate limiter of its own."""
    app.state.guest_limiter = TokenBucketLimiter()
    app.include_router(router)


def _render(
    template: str, status: int, lang: str, extra_headers: dict[str, str] | None = None, **context: Any
) -> HTMLResponse:
    html = _templates.get_template(template).render(lang=lang, css=_css(), **context)
    headers = {**security_headers(), "Content-Language": lang, **(extra_headers or {})}
    return HTMLResponse(html, status_code=status, headers=headers)


def _error_page(
    request: Request, status: int, message: str, extra_headers: dict[str, str] | None = None
) -> HTMLResponse:
    """An error page in the browser's language; `message` names its `<message>_title`/`_body` texts."""
    lang = i18n.negotiate(request.headers.get("accept-language"))
    messages = i18n.MESSAGES[lang]
    return _render(
        "error.html",
        status,
        lang,
        {**(extra_headers or {}), "Vary": "Accept-Language"},
        title=messages[f"{message}_title"],
        body=messages[f"{message}_body"],
    )


def _not_found(request: Request) -> HTMLResponse:
    """The one answer for unknown, expired and revoked tokens."""
    return _error_page(request, 404, "not_found")


def _rate_limited(request: Request, retry_after: int) -> HTMLResponse:
    return _error_page(request, 429, "rate_limited", {"Retry-After": str(retry_after)})


def _page(page: GuestPage) -> HTMLResponse:
    # The guest's language, else the property's, else English.
    lang = i18n.pick_language(page.guest_language, page.property_language)
    zone = ZoneInfo(page.timezone)
    return _render(
        "guest.html",
        200,
        lang,
        page=page,
        t=i18n.MESSAGES[lang],
        steps=i18n.STEPS[lang],
        pin_groups=i18n.group_digits(page.pin) if page.pin else None,
        valid_from=i18n.format_when(page.valid_from.astimezone(zone), lang),
        valid_until=i18n.format_when(page.valid_until.astimezone(zone), lang) if page.valid_until else None,
    )


@router.get("/g/{token}", response_class=HTMLResponse)
def guest_page(token: str, request: Request) -> HTMLResponse:
    app: AppServices = request.app.state.services
    limiter: TokenBucketLimiter = request.app.state.guest_limiter
    key = bucket_key(client_address(request.scope, _networks(app.trusted_proxies)))
    decision = limiter.take(key)
    if not decision.allowed:
        return _rate_limited(request, decision.retry_after)
    now = app.clock.now()
    with app.db.reader() as session:
        page = find_guest_page(session, app.vault, now, token)
    if page is None:
        limiter.charge(key, FAILURE_COST - 1)
        return _not_found(request)
    if page.pin is not None:
        # Its own write transaction: the reveal is recorded before the PIN leaves the server.
        with app.db.transaction() as session:
            record_reveal(session, page, now)
    return _page(page)
