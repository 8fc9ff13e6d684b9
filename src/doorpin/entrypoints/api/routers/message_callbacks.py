"""POST /callbacks/messages/{delivery_id}: the messaging gateway reports delivered / failed.

Not an API-key endpoint: the gateway proves itself with `X-Twilio-Signature`, an HMAC-SHA1 with
the auth token of `DOORPIN_SMS_URL` over the callback URL we gave it (built from
`DOORPIN_BASE_URL`) and the sorted form parameters. A bad or missing signature is 403.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Path, Request, Response
from starlette.concurrency import run_in_threadpool

from doorpin.adapters.messaging.gateway import parse_gateway_url
from doorpin.adapters.messaging.signature import signature_matches
from doorpin.bootstrap import AppServices
from doorpin.domain.errors import DomainError
from doorpin.entrypoints.api.context import services
from doorpin.entrypoints.api.schemas.common import ERROR_RESPONSES
from doorpin.services.message_sending import callback_url
from doorpin.services.message_status import record_gateway_status

router = APIRouter(tags=["callbacks"])

_FORM = {
    "content": {
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "properties": {
                    "MessageSid": {"type": "string"},
                    "MessageStatus": {
                        "type": "string",
                        "description": "queued, sent, delivered, read, undelivered, failed, …",
                    },
                    "ErrorCode": {"type": "string"},
                },
            }
        }
    }
}


@router.post(
    "/callbacks/messages/{delivery_id}",
    status_code=204,
    response_class=Response,
    responses={code: ERROR_RESPONSES[code] for code in (403, 404, 413, 422)},
    openapi_extra={"requestBody": _FORM},
)
async def message_status_callback(
    request: Request, delivery_id: str = Path(max_length=40), app: AppServices = Depends(services)
) -> Response:
    """Twilio-style status callback, signed with `X-Twilio-Signature` (403 when the signature is wrong)."""
    body = await request.body()
    params = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    if not app.sms_url:
        raise DomainError("forbidden", "no messaging gateway is configured")
    url = callback_url(app.base_url, delivery_id) + (f"?{request.url.query}" if request.url.query else "")
    token = parse_gateway_url(app.sms_url).auth_token
    if not signature_matches(token, url, params, request.headers.get("x-twilio-signature", "")):
        raise DomainError("forbidden", "the request signature does not match")
    form = dict(params)

    def apply() -> None:
        with app.db.transaction() as session:
            record_gateway_status(
                session,
                app.clock.now(),
                delivery_id,
                form.get("MessageSid") or form.get("SmsSid"),
                form.get("MessageStatus") or form.get("SmsStatus") or "",
                form.get("ErrorCode"),
            )

    await run_in_threadpool(apply)
    return Response(status_code=204)
