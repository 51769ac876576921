"""Twilio-format SMS webhooks, next to the voice ones (``/webhooks/twilio/…``).

``/sms``         a text (or MMS) arrives: form-encoded ``MessageSid``, ``From``, ``To``, ``Body``,
                 ``NumMedia``, ``MediaUrl0``/``MediaContentType0``…; answered with an empty TwiML
                 ``<Response/>`` only once the message is committed (a failure answers 5xx: nothing was
                 acknowledged).
``/sms/status``  what became of a message we sent: ``MessageSid``, ``MessageStatus`` (queued, sent,
                 delivered, undelivered, failed…), ``ErrorCode``; recorded forward only, in any order.

Both are signed by Twilio (``X-Twilio-Signature``, checked as for voice with ``ACCUEIL_TWILIO_AUTH_TOKEN``):
a wrong signature gets 403 and nothing is recorded or fetched.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from accueil.channels.messaging.outbox import do_record_status
from accueil.channels.sms.intake import InboundSms, SmsSettings, already_received, receive_sms
from accueil.channels.sms.media import fetch_media
from accueil.channels.voice.twilio_api import signed_form
from accueil.core import clock
from accueil.core.errors import ValidationFailed

router = APIRouter(prefix="/webhooks/twilio", tags=["sms"])
PROVIDER = "twilio"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
# Twilio's MessageStatus -> the delivery status it means (the others change nothing we track)
STATUSES = {"sent": "sent", "delivered": "delivered", "read": "read", "undelivered": "failed", "failed": "failed"}
MAX_MEDIA = 10  # Twilio's own limit per MMS


def _media_items(form: dict[str, str]) -> list[tuple[str, str]]:
    count = int(form.get("NumMedia") or 0) if (form.get("NumMedia") or "0").isdigit() else 0
    return [(form[f"MediaUrl{i}"], form.get(f"MediaContentType{i}", "")) for i in range(min(count, MAX_MEDIA))
            if form.get(f"MediaUrl{i}")]


@router.post("/sms", include_in_schema=False)
async def incoming_sms(request: Request) -> Response:
    form = await signed_form(request)
    if not form.get("MessageSid") or not form.get("From"):
        raise ValidationFailed("validation_error", summary="MessageSid and From are required")
    rt = request.app.state.runtime
    settings = rt.settings
    key = f"{PROVIDER}:{form['MessageSid']}"

    def seen() -> bool:
        with rt.read_factory() as session:
            return already_received(session, key)

    if await run_in_threadpool(seen):  # a replay: nothing fetched, nothing new
        return Response(EMPTY_TWIML, media_type="application/xml")
    media, notes = [], []
    items = _media_items(form)
    if items:
        media, notes = await run_in_threadpool(
            fetch_media, items, provider_base=settings.twilio_api_base,
            auth=(settings.twilio_account_sid, settings.twilio_auth_token) if settings.twilio_account_sid else None,
            max_bytes=settings.max_attachment_bytes, enabled=settings.sms_fetch_media)
    sms = InboundSms(provider=PROVIDER, message_id=form["MessageSid"], sender=form["From"], to=form.get("To", ""),
                     text=form.get("Body", ""), media=media, media_notes=notes)
    await run_in_threadpool(receive_sms, rt.factory, sms=sms, settings=SmsSettings.from_settings(settings),
                            config=rt.conversation_config)
    return Response(EMPTY_TWIML, media_type="application/xml")


@router.post("/sms/status", include_in_schema=False, status_code=204)
async def sms_status(request: Request) -> Response:
    form = await signed_form(request)
    if not form.get("MessageSid") or not form.get("MessageStatus"):
        raise ValidationFailed("validation_error", summary="MessageSid and MessageStatus are required")
    status = STATUSES.get(form["MessageStatus"].lower())
    if status is not None:
        rt = request.app.state.runtime
        error = f"Twilio error {form['ErrorCode']}" if form.get("ErrorCode") else None

        def record() -> None:
            with rt.factory() as session, session.begin():
                do_record_status(session, provider=PROVIDER, provider_message_id=form["MessageSid"], status=status,
                                 at=clock.now(), error=error)

        await run_in_threadpool(record)
    return Response(status_code=204)
