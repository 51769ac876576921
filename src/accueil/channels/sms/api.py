"""The generic signed JSON SMS webhooks, for any gateway (the format is in docs/channels.md, section SMS).

``POST /webhooks/sms``         a message arrives (``channels/sms/generic.py``: id, from, to, text, media)
``POST /webhooks/sms/status``  what became of a message we sent through the gateway

Signed with ``ACCUEIL_SMS_WEBHOOK_SECRET`` (HMAC-SHA256 of timestamp + "." + body): a missing or wrong
signature, or a timestamp more than 5 minutes off, gets 403 before the body is read as JSON. The answer
(200 ``{"status": "received" | "duplicate" | …}``) comes only after the commit.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from accueil.channels.messaging.outbox import do_record_status
from accueil.channels.sms import generic
from accueil.channels.sms.intake import InboundSms, SmsSettings, receive_sms
from accueil.core import clock
from accueil.core.errors import PermissionDenied, ValidationFailed

router = APIRouter(prefix="/webhooks/sms", tags=["sms"])
PROVIDER = "gateway"  # the provider name of HttpSmsGateway: statuses name the ids it answered
RECORDING = "recording"  # the demo's local outbox, whose statuses the simulator posts in the same format
MAX_BODY = 20 * 1024 * 1024  # a message with its media, base64


async def _signed_json(request: Request) -> object:
    settings = request.app.state.runtime.settings
    body = await request.body()
    if not generic.signature_is_valid(settings.sms_webhook_secret, request.headers, body, clock.now()):
        raise PermissionDenied("forbidden", reason="invalid or expired signature")
    if len(body) > MAX_BODY:
        raise ValidationFailed("validation_error", summary="body too large")
    try:
        return json.loads(body)
    except ValueError:
        raise ValidationFailed("validation_error", summary="the body is not JSON") from None


@router.post("")
async def incoming_sms(request: Request) -> Response:
    payload = await _signed_json(request)
    try:
        fields = generic.parse_message(payload)
    except generic.BadPayload as exc:
        raise ValidationFailed("validation_error", summary=str(exc)) from None
    rt = request.app.state.runtime
    sms = InboundSms(provider=PROVIDER, message_id=fields["message_id"], sender=fields["sender"], to=fields["to"],
                     text=fields["text"], media=fields["media"], received_at=fields["received_at"])
    outcome = await run_in_threadpool(receive_sms, rt.factory, sms=sms,
                                      settings=SmsSettings.from_settings(rt.settings), config=rt.conversation_config)
    return JSONResponse({"status": outcome.status})


@router.post("/status")
async def sms_status(request: Request) -> Response:
    payload = await _signed_json(request)
    try:
        fields = generic.parse_status(payload)
    except generic.BadPayload as exc:
        raise ValidationFailed("validation_error", summary=str(exc)) from None
    known = True
    if fields["status"] is not None:
        rt = request.app.state.runtime

        def record() -> bool:
            with rt.factory() as session, session.begin():
                return any(do_record_status(session, provider=provider, provider_message_id=fields["message_id"],
                                            status=fields["status"], at=fields["at"] or clock.now(),
                                            error=fields["error"]) is not None
                           for provider in (PROVIDER, RECORDING))

        known = await run_in_threadpool(record)
    return JSONResponse({"status": "recorded" if known else "unknown"})
