"""Callbacks: the one write path for asking, scheduling and firing them (outcomes are in ``outcomes``).

Every request — the website form, the chat widget, the IVR, an agent — goes through
``do_request_callback`` (agents on a case also through ``do_schedule_callback``). The timer is a durable
job (``callback.due``, one per attempt): it survives restarts, and a repeated run creates nothing new.
When it fires, the attempt becomes an outbound ``callback`` interaction of the case, routed as voice work
to skilled agents like any call. With *virtual hold* (``keep_position_of``), the caller's waiting call
leaves the queue (outcome ``deflected``, reason ``virtual_hold``: not an abandon) and the callback takes
its place at once — same queue, same arrival time and priority — so it is served when the caller would
have been.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from accueil.channels.callback.events import CallbackScheduled
from accueil.channels.callback.models import Callback, CallbackAttempt, CallbackSource, CallbackStatus
from accueil.channels.callback.notices import do_notify_customer, text
from accueil.config import get_settings
from accueil.conversations.models import ChannelKind, Direction, Interaction, Outcome
from accueil.conversations.service import (
    ConversationConfig,
    InboundContact,
    access_case,
    do_receive_inbound,
    do_record_interaction_event,
)
from accueil.core import clock
from accueil.core.errors import Conflict, NotFound, ValidationFailed
from accueil.core.ids import new_id
from accueil.customers.models import Identity, IdentityKind
from accueil.customers.service import (
    access_customer,
    do_add_identity,
    find_customer_by_identity,
    normalise_identity,
)
from accueil.db.jobs import do_schedule_job, job_handler
from accueil.db.session import queue_event
from accueil.identity.models import Skill
from accueil.routing.enqueue import ArrivalDoor, do_enqueue
from accueil.routing.events import InteractionArrived
from accueil.routing.models import Queue, RoutingItem

DUE_KIND = "callback.due"
LATEST = timedelta(days=60)  # a callback further out than this is a mistake
GRACE = timedelta(minutes=5)  # "now" typed a moment ago is still fine
REPEAT = timedelta(minutes=2)  # the same public request again within this is a repeat, not a new one
SOURCES = frozenset(s.value for s in CallbackSource)


def callback_queue(session: Session, code: str | None = None) -> Queue:
    """The named queue, else the first active callback queue (lowest level)."""
    statement = select(Queue).where(Queue.active.is_(True))
    statement = statement.where(Queue.code == code) if code else statement.where(Queue.channel == "callback")
    queue = session.scalars(statement.order_by(Queue.level, Queue.code)).first()
    if queue is None:
        raise ValidationFailed("unknown_queue", value=code or "callback")
    return queue


def due_job_key(callback_id: str, attempt: int) -> str:
    """One timer per attempt (the first keeps the key it always had)."""
    return f"{DUE_KIND}:{callback_id}" if attempt == 1 else f"{DUE_KIND}:{callback_id}:{attempt}"


def check_due_at(due_at: datetime, now: datetime) -> None:
    if due_at.tzinfo is None:
        raise ValidationFailed("validation_error", summary="the callback time needs a time zone")
    if due_at < now - GRACE or due_at > now + LATEST:
        raise ValidationFailed("validation_error", summary="a callback is for now or the next 60 days")


def _new_callback(session: Session, *, case_id: str, customer_id: str, phone: str, due_at: datetime,
                  queue_id: str, source: str, user_id: str | None, note: str | None, language: str,
                  email: str | None, asap: bool, now: datetime, kept_position_of: str | None = None) -> Callback:
    callback = Callback(id=new_id(), case_id=case_id, customer_id=customer_id, phone=phone,
                        due_at=max(due_at, now), queue_id=queue_id, requested_by=source,
                        requested_by_user_id=user_id, note=(note or "").strip()[:500] or None, created_at=now,
                        language=language, email=email, asap=asap, kept_position_of=kept_position_of,
                        status=CallbackStatus.scheduled, attempts=0)
    session.add(callback)
    session.flush()
    queue_event(session, CallbackScheduled(callback_id=callback.id, case_id=case_id,
                                           due_at=callback.due_at.isoformat(), source=source), now)
    return callback


def do_schedule_callback(session: Session, *, case_id: str, due_at: datetime, phone: str | None = None,
                         queue_code: str | None = None, requested_by: str = "agent",
                         user_id: str | None = None, note: str | None = None,
                         now: datetime | None = None, timezone: str = "Europe/Paris") -> Callback:
    """A callback on one of the customer's phone numbers at ``due_at`` (UTC-aware), routed when due."""
    now = now or clock.now()
    case = access_case(session, case_id)
    check_due_at(due_at, now)
    phones = list(session.scalars(select(Identity.value).where(Identity.customer_id == case.customer_id,
                                                               Identity.kind == IdentityKind.phone)))
    if not phones:
        raise ValidationFailed("validation_error", summary="the customer has no phone number to call back")
    number = phone or phones[0]
    if number not in phones:
        raise ValidationFailed("validation_error", summary="call back one of the customer's own numbers")
    queue = callback_queue(session, queue_code)
    customer = case.customer_id
    callback = _new_callback(session, case_id=case.id, customer_id=customer, phone=number, due_at=due_at,
                             queue_id=queue.id, source=requested_by, user_id=user_id, note=note,
                             language=access_customer(session, customer).preferred_language or "fr",
                             email=None, asap=False, now=now)
    do_schedule_job(session, kind=DUE_KIND, run_at=callback.due_at, payload={"callback_id": callback.id, "attempt": 1},
                    dedupe_key=due_job_key(callback.id, 1))
    do_notify_customer(session, callback=callback, kind="booked", now=now, timezone=timezone)
    return callback


def do_request_callback(session: Session, *, phone: str, source: str, due_at: datetime | None = None,
                        case_id: str | None = None, customer_name: str | None = None, email: str | None = None,
                        motif_code: str | None = None, language: str = "fr", keep_position_of: str | None = None,
                        note: str | None = None, now: datetime, user_id: str | None = None,
                        config: ConversationConfig | None = None, timezone: str = "Europe/Paris") -> Callback:
    """A customer asks to be called back (any source). ``due_at=None``: as soon as possible.

    Without ``case_id`` the customer is found or created by their phone (and email), and the request is
    recorded on their open case for the motif, or a new one (an inbound ``callback`` interaction, ended at
    once as ``deflected``: the request needs no answer, the callback is the answer).
    """
    if source not in SOURCES:
        raise ValidationFailed("validation_error", summary=f"source is one of {sorted(SOURCES)}")
    if language not in ("fr", "en"):
        raise ValidationFailed("validation_error", summary="language is fr or en")
    region = config.phone_region if config else "FR"
    number = normalise_identity(IdentityKind.phone, phone, phone_region=region)
    mail = normalise_identity(IdentityKind.email, email) if email and email.strip() else None
    if due_at is not None:
        check_due_at(due_at, now)
    if source in ("web", "chat"):  # a double submit or a reload of a public form: the same request, once
        repeat = session.scalar(select(Callback).where(
            Callback.phone == number.value, Callback.requested_by == source, Callback.created_at >= now - REPEAT,
            Callback.status.in_((CallbackStatus.scheduled, CallbackStatus.queued))).order_by(Callback.created_at))
        if repeat is not None and (due_at is None) == repeat.asap and (due_at is None or repeat.due_at == due_at):
            return repeat
    voice: RoutingItem | None = None
    if keep_position_of is not None:
        if due_at is not None and due_at > now + GRACE:
            raise ValidationFailed("validation_error", summary="a kept place in the queue is called back now")
        voice = _waiting_call(session, keep_position_of)
        case_id = case_id or voice.case_id
    if case_id is not None:
        case = access_case(session, case_id)
        owner = find_customer_by_identity(session, number)
        if owner is None:  # a new number of this customer (another customer's number is called, not taken)
            do_add_identity(session, customer_id=case.customer_id, ref=number)
        customer_id = case.customer_id
    else:
        contact = InboundContact(
            channel=ChannelKind.callback, identities=[number, *([mail] if mail else [])],
            display_name=(customer_name or "").strip()[:200] or None, language=language, motif_code=motif_code,
            body_text=text("request_body", language, source=source) + (f"\n{note.strip()}" if note else ""),
            occurred_at=now)
        received = do_receive_inbound(session, contact=contact, config=config or _default_config(),
                                      now=now)
        do_record_interaction_event(session, interaction_id=received.interaction_id, kind="ended", at=now,
                                    outcome=Outcome.deflected, data={"reason": "callback_requested",
                                                                     "source": source})
        case_id, customer_id = received.case_id, received.customer_id
    try:
        queue = callback_queue(session)
    except ValidationFailed:
        if voice is None:
            raise
        queue = session.get(Queue, voice.queue_id)  # no callback queue: retries go where the call was
    callback = _new_callback(session, case_id=case_id, customer_id=customer_id, phone=number.value,
                             due_at=due_at or now, queue_id=queue.id, source=source, user_id=user_id, note=note,
                             language=language, email=mail.value if mail else None, asap=due_at is None,
                             now=now, kept_position_of=keep_position_of)
    if voice is not None:
        _take_the_place_of(session, callback, voice, now)
    else:
        do_schedule_job(session, kind=DUE_KIND, run_at=callback.due_at,
                        payload={"callback_id": callback.id, "attempt": 1}, dedupe_key=due_job_key(callback.id, 1))
    do_notify_customer(session, callback=callback, kind="booked", now=now, timezone=timezone)
    return callback


def _default_config() -> ConversationConfig:
    return ConversationConfig.from_settings(get_settings(), work=ArrivalDoor())


def _waiting_call(session: Session, interaction_id: str) -> RoutingItem:
    interaction = session.get(Interaction, interaction_id)
    if interaction is None:
        raise NotFound("not_found", kind="interaction", id=interaction_id)
    if interaction.channel is not ChannelKind.voice:
        raise ValidationFailed("validation_error", summary="only a waiting call keeps its place")
    item = session.get(RoutingItem, interaction_id)
    if item is None or item.status != "waiting":
        raise Conflict("stale_decision", reason="the call is no longer waiting in a queue")
    return item


def _take_the_place_of(session: Session, callback: Callback, voice: RoutingItem, now: datetime) -> None:
    """Virtual hold: the call leaves the queue (deflected, not abandoned); the callback gets its place."""
    place = {"queue_id": voice.queue_id, "priority": voice.priority, "arrived_at": voice.arrived_at,
             "queued_at": voice.queued_at, "stage": voice.stage, "skills": list(voice.skills or []),
             "level": voice.level, "sla_due_at": voice.sla_due_at}
    do_record_interaction_event(session, interaction_id=voice.interaction_id, kind="ended", at=now,
                                outcome=Outcome.deflected,
                                data={"reason": "virtual_hold", "callback_id": callback.id})
    _queue_attempt(session, callback, now, place=place)


def _language_skills(session: Session, language: str) -> list[list]:
    """A callback in English needs an agent with the ``lang_en`` skill, when that skill is defined."""
    code = f"lang_{language}"
    return [[code, 1]] if session.scalar(select(Skill.id).where(Skill.code == code)) else []


def _queue_attempt(session: Session, callback: Callback, now: datetime, place: dict | None = None) -> Interaction:
    """The next attempt: an outbound callback interaction of the case, waiting in a queue for an agent."""
    number = callback.attempts + 1
    interaction = Interaction(id=new_id(), case_id=callback.case_id, customer_id=callback.customer_id,
                              channel=ChannelKind.callback, direction=Direction.outbound, arrived_at=now)
    session.add(interaction)
    session.flush()
    arrival = InteractionArrived(
        interaction_id=interaction.id, case_id=callback.case_id, customer_id=callback.customer_id,
        channel=ChannelKind.callback.value, queue_id=place["queue_id"] if place else callback.queue_id,
        callback_id=callback.id, attempt=number)
    do_enqueue(session, interaction_id=interaction.id, queue_id=arrival.queue_id, now=now, place=place,
               skills=_language_skills(session, callback.language) if place is None else None, announce=arrival)
    session.add(CallbackAttempt(callback_id=callback.id, number=number, interaction_id=interaction.id,
                                queued_at=now))
    callback.status, callback.interaction_id, callback.attempts = CallbackStatus.queued, interaction.id, number
    session.flush()
    return interaction


def do_cancel_callback(session: Session, *, callback_id: str, now: datetime | None = None) -> Callback:
    # Locked (and read afresh): a cancel and the due timer never both win.
    callback = session.get(Callback, callback_id, with_for_update=True, populate_existing=True)
    if callback is None:
        raise NotFound("not_found", kind="callback", id=callback_id)
    if callback.status is not CallbackStatus.scheduled:
        raise Conflict("validation_error", summary=f"the callback is already {callback.status.value}")
    callback.status = CallbackStatus.cancelled
    return callback


@job_handler(DUE_KIND)
def _callback_due(session: Session, payload: dict, now: datetime) -> None:
    """Due: the attempt is queued (once, whatever retries: a timer of another attempt does nothing)."""
    callback = session.get(Callback, payload["callback_id"], with_for_update=True)  # see do_cancel_callback
    if callback is None or callback.status is not CallbackStatus.scheduled:
        return
    if int(payload.get("attempt", 1)) != callback.attempts + 1:
        return
    _queue_attempt(session, callback, now)
