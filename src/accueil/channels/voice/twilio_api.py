"""Twilio-compatible voice webhooks: the IVR played step by step, the call routed by accueil, status callbacks.

``/voice``      a call comes in: closed (hours, holiday) → message, callback offer or voicemail; open →
                welcome and the first menu (``<Gather>``). With no IVR defined, straight to the default queue.
``/ivr``        a key was pressed (or none) at a menu node: next menu, or the queue (wait announced; a callback
                that keeps the caller's place offered when the predicted wait passes the flow's threshold).
``/ivr/wait``   the answer to that offer.        ``/ivr/closed``  the answer to the out-of-hours offer.
``/voicemail``  a message was recorded.          ``/hold``        what a waiting caller hears, again and again.
``/status``     what became of the call (answered, completed...), as CTI events.

Every request is signed by Twilio (``X-Twilio-Signature``); a bad signature gets 403 and nothing is recorded.
Twilio retries a webhook that failed: each step is keyed so that a retry changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from accueil.channels.voice import ivr, twilio
from accueil.channels.voice.calls import (
    RoutedCall,
    access_call,
    do_call_back_instead,
    do_ivr_step,
    do_route_call,
)
from accueil.channels.voice.cti import CtiEvent, do_cti_event
from accueil.channels.voice.service import access_flow, flow_for_number, flow_of
from accueil.channels.voice.twilio import STATUS_EVENTS, signature_is_valid
from accueil.core import clock
from accueil.core.errors import AccueilError, PermissionDenied, ValidationFailed

router = APIRouter(prefix="/webhooks/twilio", tags=["voice"])
PROVIDER = "twilio"
GREETING = {"fr": "Bonjour et bienvenue. Un conseiller va vous répondre.",
            "en": "Hello and welcome. An advisor will answer you shortly."}
HOLD = {"fr": "Merci de patienter, un conseiller va vous répondre.",
        "en": "Thank you for holding, an advisor will answer you shortly."}
GOODBYE = {"fr": "Merci de votre appel. Au revoir.", "en": "Thank you for calling. Goodbye."}
VOICEMAIL_THANKS = {"fr": "Votre message est enregistré. Un conseiller vous rappellera. Au revoir.",
                    "en": "Your message has been recorded. An advisor will call you back. Goodbye."}
T = TypeVar("T")


async def signed_form(request: Request) -> dict[str, str]:
    """The POST parameters of any Twilio webhook (voice, SMS), once the signature over them is checked
    (403 otherwise, nothing recorded)."""
    settings = request.app.state.runtime.settings
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    url = str(request.url)
    if settings.public_url:
        url = settings.public_url.rstrip("/") + request.url.path + (f"?{request.url.query}" if request.url.query
                                                                      else "")
    if not signature_is_valid(settings.twilio_auth_token, url, form, request.headers.get("x-twilio-signature")):
        raise PermissionDenied("forbidden", reason="invalid Twilio signature")
    return form


async def _signed_form(request: Request) -> dict[str, str]:
    form = await signed_form(request)
    if not form.get("CallSid"):
        raise ValidationFailed("validation_error", summary="CallSid is missing")
    return form


async def _in_transaction(request: Request, work: Callable[..., T]) -> T:
    """Run ``work(session, runtime)`` in one write transaction, off the event loop. One per webhook: each
    commit waits for SQLite's single writer and the disk, and Twilio waits on the answer."""
    rt = request.app.state.runtime

    def run() -> T:
        with rt.factory() as session, session.begin():
            return work(session, rt)

    return await run_in_threadpool(run)


async def _read(request: Request, work: Callable[..., T]) -> T:
    """Run ``work(session, runtime)`` in a read session (never waits for writers)."""
    rt = request.app.state.runtime

    def run() -> T:
        with rt.read_factory() as session:
            return work(session, rt)

    return await run_in_threadpool(run)


def _cti(form: dict[str, str], event: str, now: datetime, event_id: str, **fields: object) -> Callable:
    def work(session, rt):  # noqa: ANN001, ANN202
        return do_cti_event(session, event=CtiEvent(provider=PROVIDER, call_id=form["CallSid"], event=event, at=now,
                                                    event_id=event_id, **fields),
                            config=rt.conversation_config, short_abandon_seconds=rt.settings.short_abandon_seconds)
    return work


def _xml(*verbs: str) -> Response:
    return Response(twilio.twiml(*verbs), media_type="application/xml")


def _url(path: str, **query: object) -> str:
    return f"/webhooks/twilio/{path}?{urlencode({k: v for k, v in query.items() if v is not None})}"


def _menu(flow: ivr.Flow, node_name: str, retry: int = 0, before: str = "") -> Response:
    """Say the node's prompt inside a ``<Gather>``; no key within the timeout comes back as an empty press."""
    node = flow.nodes[node_name]
    action = _url("ivr", flow=flow.code, node=node_name, retry=retry)
    return _xml(before, twilio.gather(action, twilio.say(node.prompt.text(flow.language), flow.language),
                                      timeout=node.timeout_seconds),
                twilio.redirect(action + "&Digits="))


@router.post("/voice", include_in_schema=False)
async def incoming_call(request: Request) -> Response:
    form = await _signed_form(request)
    now = clock.now()
    call = form["CallSid"]
    offered = _cti(form, "offered", now, f"voice:{call}", caller=form.get("From"), called=form.get("To"))
    flow = await _read(request, lambda session, rt: flow_for_number(session, form.get("To")))
    settings = request.app.state.runtime.settings
    if flow is None:  # no IVR defined: greet and queue in the default queue
        language = settings.default_language
        return await _to_queue(request, form, None, settings.twilio_queue, None, language, GREETING[language],
                               first=offered)
    welcome = flow.welcome.text(flow.language) if flow.welcome else ""
    reason = ivr.closed_reason(flow, now)

    def record(session, rt):  # noqa: ANN001, ANN202 - the call, and where it went, in one transaction
        offered(session, rt)
        if reason is not None:
            do_ivr_step(session, provider=PROVIDER, call_id=call, path=[f"closed:{reason}"],
                        config=rt.conversation_config, now=now)

    await _in_transaction(request, record)
    if reason is not None:
        return _closed(flow, welcome)
    return _menu(flow, flow.start, before=twilio.say(welcome, flow.language))


def _closed(flow: ivr.Flow, welcome: str) -> Response:
    language = flow.language
    closed = flow.closed
    message = twilio.say(welcome, language) + twilio.say(closed.prompt.text(language), language)
    if closed.action == "voicemail":
        return _xml(message, twilio.say(ivr.VOICEMAIL_PROMPT[language], language),
                    twilio.record(_url("voicemail", flow=flow.code)), twilio.hangup())
    if closed.action == "callback":
        offer = twilio.gather(_url("ivr/closed", flow=flow.code), twilio.say(ivr.CLOSED_CALLBACK_OFFER[language],
                                                                             language))
        return _xml(message, offer, twilio.say(GOODBYE[language], language), twilio.hangup())
    return _xml(message, twilio.hangup())


async def _flow(request: Request) -> ivr.Flow | None:
    code = request.query_params.get("flow", "")

    def lookup(session, rt):  # noqa: ANN001, ANN202

        return flow_of(access_flow(session, code))
    try:
        return await _read(request, lookup)
    except Exception:  # noqa: BLE001 - a flow deleted mid-call: the caller still reaches the default queue
        return None


def _query_int(request: Request, name: str) -> int:
    try:
        return max(int(request.query_params.get(name, "0")), 0)
    except ValueError:
        return 0


@router.post("/ivr", include_in_schema=False)
async def menu_choice(request: Request) -> Response:
    form = await _signed_form(request)
    flow = await _flow(request)
    settings = request.app.state.runtime.settings
    if flow is None:
        language = settings.default_language
        return await _to_queue(request, form, None, settings.twilio_queue, None, language, "")
    node_name = request.query_params.get("node", flow.start)
    digits = form.get("Digits") or request.query_params.get("Digits") or ""
    result = ivr.step(flow, node_name, digits, _query_int(request, "retry"))
    language, now, call = flow.language, clock.now(), form["CallSid"]
    pressed = f"{node_name}#{_query_int(request, 'retry')}:{result.pressed or '-'}"

    def remember(session, rt):  # noqa: ANN001, ANN202
        path = list(access_call(session, provider=PROVIDER, call_id=call).ivr_path)
        if not path or path[-1] != pressed:  # a retried webhook is not a second key press
            path.append(pressed)
        return do_ivr_step(session, provider=PROVIDER, call_id=call, path=path, config=rt.conversation_config,
                           now=now)
    before = twilio.say(result.prompt.text(language), language) if result.prompt else ""
    if result.queue is not None:  # the step and the queueing: one transaction
        return await _to_queue(request, form, flow, result.queue, result.motif, language, "", before, first=remember)
    await _in_transaction(request, remember)
    if result.node is not None:
        return _menu(flow, result.node, result.retry, before=before)
    if result.action == "voicemail":
        return _xml(before, twilio.say(ivr.VOICEMAIL_PROMPT[language], language),
                    twilio.record(_url("voicemail", flow=flow.code)), twilio.hangup())
    if result.action == "callback":
        try:
            await _callback(request, call, keep_place=False, due_at=None, language=language, note="IVR")
        except AccueilError:  # e.g. a withheld number: nobody to call back
            return _xml(before, twilio.say(GOODBYE[language], language), twilio.hangup())
        return _xml(before, twilio.say(ivr.CALLBACK_CONFIRMED[language], language), twilio.hangup())
    return _xml(before, twilio.say(GOODBYE[language], language), twilio.hangup())


async def _to_queue(request: Request, form: dict[str, str], flow: ivr.Flow | None, queue: str,
                    motif: str | None, language: str, greeting: str, before: str = "",
                    first: Callable | None = None) -> Response:
    """Join accueil's queue, hear the wait, maybe be offered a callback, then hold in the provider's queue.
    ``first(session, runtime)`` (the call's record, its IVR step) is written in the same transaction."""
    now, call = clock.now(), form["CallSid"]
    fallback = request.app.state.runtime.settings.twilio_queue

    def route(session, rt):  # noqa: ANN001, ANN202
        if first is not None:
            first(session, rt)
        return do_route_call(session, rules=rt.routing_rules, provider=PROVIDER, call_id=call, queue_code=queue,
                             motif_code=motif, config=rt.conversation_config, now=now)

    try:
        routed: RoutedCall = await _in_transaction(request, route)
    except AccueilError:  # the queue went away (deactivated since the IVR was saved): the default queue
        if queue == fallback:
            if first is not None:
                await _in_transaction(request, first)
            return _xml(before, twilio.say(ivr.NOBODY[language], language), twilio.say(GOODBYE[language], language),
                        twilio.hangup())
        return await _to_queue(request, form, flow, fallback, motif, language, greeting, before, first)
    verbs = [before, twilio.say(greeting, language)]
    waiting = flow.waiting if flow else ivr.Waiting(callback_offer_after_seconds=None)
    if waiting.announce_wait:
        text = (ivr.NOBODY[language] if math.isinf(routed.predicted_wait)
                else ivr.wait_announcement(language, routed.predicted_wait))
        verbs.append(twilio.say(text, language))
    hold = twilio.enqueue(queue, _url("hold", lang=language))
    if flow is not None and ivr.offers_callback(flow, routed.predicted_wait):
        offer = ivr.CALLBACK_OFFER[language].format(key=waiting.callback_key)
        verbs.append(twilio.gather(_url("ivr/wait", flow=flow.code, queue=queue), twilio.say(offer, language),
                                   timeout=5))
    return _xml(*verbs, hold)


async def _callback(request: Request, call: str, *, keep_place: bool, due_at: datetime | None, language: str,
                    note: str) -> str:
    now = clock.now()
    return await _in_transaction(request, lambda s, rt: do_call_back_instead(
        s, provider=PROVIDER, call_id=call, keep_place=keep_place, due_at=due_at, language=language, note=note,
        now=now))


@router.post("/ivr/wait", include_in_schema=False)
async def wait_choice(request: Request) -> Response:
    form = await _signed_form(request)
    flow = await _flow(request)
    language = flow.language if flow else request.app.state.runtime.settings.default_language
    queue = request.query_params.get("queue") or request.app.state.runtime.settings.twilio_queue
    key = flow.waiting.callback_key if flow else "1"
    if form.get("Digits", "")[:1] == key:
        try:
            await _callback(request, form["CallSid"], keep_place=True, due_at=None, language=language,
                            note="IVR: keep my place")
        except AccueilError:  # a withheld number cannot be called back: the caller stays in the queue
            return _xml(twilio.enqueue(queue, _url("hold", lang=language)))
        return _xml(twilio.say(ivr.CALLBACK_CONFIRMED[language], language), twilio.hangup())
    return _xml(twilio.enqueue(queue, _url("hold", lang=language)))


@router.post("/ivr/closed", include_in_schema=False)
async def closed_choice(request: Request) -> Response:
    form = await _signed_form(request)
    flow = await _flow(request)
    language = flow.language if flow else request.app.state.runtime.settings.default_language
    if flow is not None and form.get("Digits", "")[:1] == "1":
        opening = ivr.next_opening(flow, clock.now())
        if opening is None:  # nothing open in the next four weeks: no promise to call back
            return _xml(twilio.say(GOODBYE[language], language), twilio.hangup())
        try:
            await _callback(request, form["CallSid"], keep_place=False, due_at=opening, language=language,
                            note="IVR: out of hours")
        except AccueilError:
            return _xml(twilio.say(GOODBYE[language], language), twilio.hangup())
        return _xml(twilio.say(ivr.CLOSED_CALLBACK_CONFIRMED[language], language), twilio.hangup())
    return _xml(twilio.say(GOODBYE[language], language), twilio.hangup())


@router.post("/voicemail", include_in_schema=False)
async def voicemail(request: Request) -> Response:
    """A message was left: its recording goes on the call, and a callback (at the next opening) follows it up."""
    form = await _signed_form(request)
    flow = await _flow(request)
    language = flow.language if flow else request.app.state.runtime.settings.default_language
    now, recording = clock.now(), form.get("RecordingUrl")
    if recording:
        await _in_transaction(request, _cti(form, "recording", now, f"voicemail:{recording}", recording=recording))
        opening = ivr.next_opening(flow, now) if flow else now
        try:
            await _callback(request, form["CallSid"], keep_place=False, due_at=opening, language=language,
                            note=f"voicemail: {recording}")
        except AccueilError:
            pass  # a withheld number: the recording stays on the call for an agent to hear
    return _xml(twilio.say(VOICEMAIL_THANKS[language], language), twilio.hangup())


@router.post("/hold", include_in_schema=False)
async def hold_music(request: Request) -> Response:
    """Twilio plays this to a caller in its queue, and asks again when it ends."""
    await _signed_form(request)
    language = "en" if request.query_params.get("lang") == "en" else "fr"
    return _xml(twilio.say(HOLD[language], language), twilio.pause(20))


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
        await _in_transaction(request, _cti(
            form, name, _when(form), f"status:{call}:{form.get('CallStatus')}:{sequence}", caller=form.get("From"),
            hung_up_by=None))  # Twilio does not say who hung up (an agent's hang-up is recorded by the console)
    return Response(status_code=204)
