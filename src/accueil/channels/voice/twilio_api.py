"""``/webhooks/twilio/voice`` (a call comes in) and ``/webhooks/twilio/status`` (what became of it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from email.utils import parsedate_to_datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from accueil.channels.voice.cti import CtiEvent, do_cti_event
from accueil.channels.voice.twilio import STATUS_EVENTS, signature_is_valid, twiml_welcome_and_enqueue
from accueil.core import clock
from accueil.core.errors import PermissionDenied, ValidationFailed

router = APIRouter(prefix="/webhooks/twilio", tags=["voice"])
GREETING = {"fr": "Bonjour et bienvenue. Un conseiller va vous répondre.",
            "en": "Hello and welcome. An advisor will answer you shortly."}


async def _signed_form(request: Request) -> dict[str, str]:
    """The POST parameters, once the signature over them is checked (403 otherwise, nothing recorded)."""
    settings = request.app.state.runtime.settings
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    url = str(request.url)
    if settings.public_url:
        url = settings.public_url.rstrip("/") + request.url.path + (f"?{request.url.query}" if request.url.query
                                                                      else "")
    if not signature_is_valid(settings.twilio_auth_token, url, form, request.headers.get("x-twilio-signature")):
        raise PermissionDenied("forbidden", reason="invalid Twilio signature")
    if not form.get("CallSid"):
        raise ValidationFailed("validation_error", summary="CallSid is missing")
    return form


def _apply(request: Request, event: CtiEvent) -> Callable[[], None]:
    """The work of recording one event, to run in the thread pool."""
    rt = request.app.state.runtime

    def run() -> None:
        with rt.factory() as session, session.begin():
            do_cti_event(session, event=event, config=rt.conversation_config,
                         short_abandon_seconds=rt.settings.short_abandon_seconds)

    return run


@router.post("/voice", include_in_schema=False)
async def incoming_call(request: Request) -> Response:
    form = await _signed_form(request)
    settings = request.app.state.runtime.settings
    now = clock.now()
    call = form["CallSid"]
    await run_in_threadpool(_apply(request, CtiEvent(provider="twilio", call_id=call, event="offered", at=now,
                                                     event_id=f"voice:{call}", caller=form.get("From"),
                                                     called=form.get("To"))))
    await run_in_threadpool(_apply(request, CtiEvent(provider="twilio", call_id=call, event="queued", at=now,
                                                     event_id=f"queued:{call}", queue=settings.twilio_queue)))
    language = settings.default_language
    twiml = twiml_welcome_and_enqueue(GREETING[language], "fr-FR" if language == "fr" else "en-GB",
                                      settings.twilio_queue)
    return Response(twiml, media_type="application/xml")


def _when(form: dict[str, str]) -> datetime:
    try:
        return parsedate_to_datetime(form["Timestamp"])
    except (KeyError, TypeError, ValueError):
        return clock.now()


@router.post("/status", include_in_schema=False)
async def call_status(request: Request) -> Response:
    form = await _signed_form(request)
    name = STATUS_EVENTS.get(form.get("CallStatus", ""))
    if name is not None:
        call = form["CallSid"]
        sequence = form.get("SequenceNumber") or form.get("Timestamp") or ""
        await run_in_threadpool(_apply(request, CtiEvent(
            provider="twilio", call_id=call, event=name, at=_when(form), caller=form.get("From"),
            event_id=f"status:{call}:{form.get('CallStatus')}:{sequence}",
            hung_up_by="customer" if form.get("CallStatus") == "completed" else None)))
    return Response(status_code=204)
