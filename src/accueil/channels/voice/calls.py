"""What an IVR step does to a live call: record where the caller went, put the call in accueil's own queue
(accueil routes it: the provider only holds the caller until an agent accepts), or turn it into a callback.

Each function runs in the caller's transaction; ``do_cti_event`` keeps the call record and its durations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from accueil.channels.callback.service import do_request_callback
from accueil.channels.voice.cti import CtiEvent, do_cti_event, find_call
from accueil.channels.voice.models import VoiceCall
from accueil.conversations.models import Interaction
from accueil.conversations.service import ConversationConfig, do_set_motif
from accueil.core.errors import NotFound, ValidationFailed
from accueil.routing.enqueue import do_enqueue
from accueil.routing.events import InteractionArrived
from accueil.routing.models import Queue
from accueil.routing.service import RoutingConfigCache, predicted_wait


@dataclass(frozen=True)
class RoutedCall:
    interaction_id: str
    queue_id: str
    predicted_wait: float  # seconds; inf when nobody can answer now


def access_call(session: Session, *, provider: str, call_id: str) -> VoiceCall:
    call = find_call(session, provider, call_id)
    if call is None:
        raise NotFound("not_found", kind="call", id=call_id)
    return call


def do_ivr_step(session: Session, *, provider: str, call_id: str, path: list[str], config: ConversationConfig,
                now: datetime) -> VoiceCall:
    """The caller went one step further in the menus (``path`` is the whole way so far)."""
    do_cti_event(session, event=CtiEvent(provider=provider, call_id=call_id, event="ivr", at=now,
                                         event_id=f"ivr:{'/'.join(path)}", ivr_path=tuple(path)), config=config)
    return access_call(session, provider=provider, call_id=call_id)


def do_route_call(session: Session, *, rules: RoutingConfigCache, provider: str, call_id: str, queue_code: str,
                  motif_code: str | None, config: ConversationConfig, now: datetime) -> RoutedCall:
    """The caller chose: the case gets the motif, the call waits in the queue for the routing engine."""
    queue = session.scalar(select(Queue).where(Queue.code == queue_code, Queue.active.is_(True)))
    if queue is None:
        raise ValidationFailed("unknown_queue", value=queue_code)
    call = access_call(session, provider=provider, call_id=call_id)
    interaction = session.get(Interaction, call.interaction_id)
    if motif_code and interaction.case.motif_id is None:
        do_set_motif(session, case_id=interaction.case_id, motif_code=motif_code, now=now)
    wait = predicted_wait(session, rules=rules, queue_id=queue.id, now=now)  # before joining: ahead of them
    do_cti_event(session, event=CtiEvent(provider=provider, call_id=call_id, event="queued", at=now,
                                         event_id=f"queued:{queue_code}", queue=queue_code), config=config)
    do_enqueue(session, interaction_id=interaction.id, queue_id=queue.id, now=now, announce=InteractionArrived(
        interaction_id=interaction.id, case_id=interaction.case_id, customer_id=interaction.customer_id,
        channel="voice", queue_id=queue.id))
    return RoutedCall(interaction_id=interaction.id, queue_id=queue.id, predicted_wait=wait)


def do_call_back_instead(session: Session, *, provider: str, call_id: str, keep_place: bool,
                         due_at: datetime | None, language: str, note: str | None, now: datetime):  # noqa: ANN201
    """The caller asked to be called back: from the queue, keeping their place (virtual hold), or out of hours
    at ``due_at``. The call then ends as deflected to that callback, not as an abandon."""

    call = access_call(session, provider=provider, call_id=call_id)
    if call.callback_id is not None:
        return call.callback_id  # the same key pressed twice (or a provider retry): one callback
    if not call.caller or not call.caller.startswith("+"):
        raise ValidationFailed("validation_error", summary="the caller's number is withheld")
    interaction = session.get(Interaction, call.interaction_id)
    callback = do_request_callback(
        session, phone=call.caller, source="ivr", due_at=due_at, case_id=interaction.case_id, language=language,
        keep_position_of=interaction.id if keep_place else None, note=note, now=now)
    call.callback_id = callback.id
    session.flush()
    return callback.id
