"""Schedule a callback and, when it falls due, put an outbound call in the callback queue.

The timer is a durable job (``callback.due``): it survives restarts, and a repeated run creates nothing
new. When it fires, the callback becomes an outbound ``callback`` interaction of the same case, routed to
skilled agents like any call. Retry policies, outcomes and customer notifications build on this (issue 5).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from accueil.channels.callback.models import Callback, CallbackStatus
from accueil.conversations.models import ChannelKind, Direction, Interaction
from accueil.conversations.service import access_case
from accueil.core import clock
from accueil.core.errors import Conflict, NotFound, ValidationFailed
from accueil.core.events import Event
from accueil.core.ids import new_id
from accueil.core.jobs import do_schedule_job, job_handler
from accueil.customers.models import Identity, IdentityKind
from accueil.db.session import queue_event
from accueil.routing.models import Queue
from accueil.routing.service import do_enqueue

DUE_KIND = "callback.due"
LATEST = timedelta(days=60)  # a callback further out than this is a mistake
GRACE = timedelta(minutes=5)  # "now" typed a moment ago is still fine


def callback_queue(session: Session, code: str | None = None) -> Queue:
    """The named queue, else the first active callback queue (lowest level)."""
    statement = select(Queue).where(Queue.active.is_(True))
    statement = statement.where(Queue.code == code) if code else statement.where(Queue.channel == "callback")
    queue = session.scalars(statement.order_by(Queue.level, Queue.code)).first()
    if queue is None:
        raise ValidationFailed("unknown_queue", value=code or "callback")
    return queue


def do_schedule_callback(session: Session, *, case_id: str, due_at: datetime, phone: str | None = None,
                         queue_code: str | None = None, requested_by: str = "agent",
                         user_id: str | None = None, note: str | None = None,
                         now: datetime | None = None) -> Callback:
    """A callback on one of the customer's phone numbers at ``due_at`` (UTC-aware), routed when due."""
    now = now or clock.now()
    case = access_case(session, case_id)
    if due_at.tzinfo is None:
        raise ValidationFailed("validation_error", summary="the callback time needs a time zone")
    if due_at < now - GRACE or due_at > now + LATEST:
        raise ValidationFailed("validation_error", summary="a callback is for now or the next 60 days")
    phones = list(session.scalars(select(Identity.value).where(Identity.customer_id == case.customer_id,
                                                               Identity.kind == IdentityKind.phone)))
    if not phones:
        raise ValidationFailed("validation_error", summary="the customer has no phone number to call back")
    number = phone or phones[0]
    if number not in phones:
        raise ValidationFailed("validation_error", summary="call back one of the customer's own numbers")
    queue = callback_queue(session, queue_code)
    callback = Callback(id=new_id(), case_id=case.id, customer_id=case.customer_id, phone=number,
                        due_at=max(due_at, now), queue_id=queue.id, requested_by=requested_by,
                        requested_by_user_id=user_id, note=(note or "")[:500] or None, created_at=now)
    session.add(callback)
    session.flush()
    do_schedule_job(session, kind=DUE_KIND, run_at=callback.due_at, payload={"callback_id": callback.id},
                    dedupe_key=f"{DUE_KIND}:{callback.id}")
    queue_event(session, Event("callback.scheduled", {"callback_id": callback.id, "case_id": case.id,
                                                      "due_at": callback.due_at.isoformat()}, now))
    return callback


def do_cancel_callback(session: Session, *, callback_id: str, now: datetime | None = None) -> Callback:
    callback = session.get(Callback, callback_id)
    if callback is None:
        raise NotFound("not_found", kind="callback", id=callback_id)
    if callback.status is not CallbackStatus.scheduled:
        raise Conflict("validation_error", summary=f"the callback is already {callback.status.value}")
    callback.status = CallbackStatus.cancelled
    return callback


@job_handler(DUE_KIND)
def _callback_due(session: Session, payload: dict, now: datetime) -> None:
    """Due: an outbound callback interaction of the case, in the callback queue (once, whatever retries)."""
    callback = session.get(Callback, payload["callback_id"])
    if callback is None or callback.status is not CallbackStatus.scheduled:
        return
    interaction = Interaction(id=new_id(), case_id=callback.case_id, customer_id=callback.customer_id,
                              channel=ChannelKind.callback, direction=Direction.outbound, arrived_at=now)
    session.add(interaction)
    session.flush()
    do_enqueue(session, interaction_id=interaction.id, queue_id=callback.queue_id, now=now)
    callback.status, callback.interaction_id, callback.attempts = CallbackStatus.queued, interaction.id, 1
    queue_event(session, Event("interaction.arrived", {
        "interaction_id": interaction.id, "case_id": callback.case_id, "customer_id": callback.customer_id,
        "channel": ChannelKind.callback.value, "queue_id": callback.queue_id, "callback_id": callback.id,
        "case_created": False}, now))
