"""``/webhooks/whatsapp``: Meta's Cloud API webhook.

``GET``   the subscription handshake: the challenge echoed for our verify token, else 403.
``POST``  a delivery, signed with the app secret (``X-Hub-Signature-256`` over the raw body): a wrong or
          missing signature is 403 and nothing is read; a signed delivery is stored in one transaction and
          answered 200 only after it committed (Meta retries anything else, and a retry creates nothing).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from accueil.channels import meta
from accueil.channels.whatsapp.payload import MalformedDelivery, parse_delivery
from accueil.channels.whatsapp.service import receive_delivery
from accueil.core.errors import AccueilError, PermissionDenied, ValidationFailed

router = APIRouter(prefix="/webhooks/whatsapp", tags=["whatsapp"])
MAX_DELIVERY_BYTES = 1024 * 1024  # Meta's deliveries are a few kilobytes; files come by the Graph API


@router.get("", include_in_schema=False)
async def handshake(request: Request) -> Response:
    settings = request.app.state.runtime.settings
    challenge = meta.handshake_challenge(dict(request.query_params), settings.whatsapp_verify_token)
    if challenge is None:
        raise PermissionDenied("forbidden", reason="wrong verify token")
    return PlainTextResponse(challenge)


@router.post("", include_in_schema=False)
async def delivery(request: Request) -> Response:
    rt = request.app.state.runtime
    body = await request.body()
    if len(body) > MAX_DELIVERY_BYTES:
        raise AccueilError("request_too_large", status_code=413, limit=MAX_DELIVERY_BYTES)
    if not meta.signature_is_valid(rt.settings.whatsapp_app_secret, body, request.headers.get(meta.SIGNATURE_HEADER)):
        raise PermissionDenied("forbidden", reason="invalid X-Hub-Signature-256")
    try:
        parsed = parse_delivery(body)
    except MalformedDelivery as exc:
        raise ValidationFailed("validation_error", summary=str(exc)) from None
    outcome = await run_in_threadpool(receive_delivery, rt.factory, delivery=parsed, config=rt.conversation_config,
                                      settings=rt.settings)
    return JSONResponse({"received": outcome.received, "duplicates": outcome.duplicates,
                         "statuses": outcome.statuses, "refused": outcome.refused, "skipped": parsed.skipped})
