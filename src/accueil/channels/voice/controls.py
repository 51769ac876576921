"""Call controls from the console: hold, resume, transfer, hang up — recorded in accueil and sent to the
provider carrying the call (``adapter.py``), in that order and in one transaction: if the provider refuses,
the transaction rolls back and nothing is recorded. When an agent accepts a call, a durable job tells the
provider to connect them (once, whichever process heard the acceptance)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from accueil.channels.voice.adapter import CallCommand, provider_named
from accueil.channels.voice.models import VoiceCall
from accueil.conversations.models import ChannelKind, Interaction
from accueil.conversations.service import do_record_interaction_event
from accueil.core import clock
from accueil.core.errors import Conflict, PermissionDenied, ValidationFailed
from accueil.core.events import Event
from accueil.db.jobs import do_schedule_job, job_handler
from accueil.identity.models import User
from accueil.routing import queries as routing_queries
from accueil.routing.models import Queue
from accueil.routing.service import RoutingConfigCache, do_end, do_transfer

log = logging.getLogger(__name__)
CONNECT_KIND = "voice.connect"
SPOKEN = (ChannelKind.voice, ChannelKind.callback)


def call_of(session: Session, interaction_id: str) -> VoiceCall | None:
    return session.scalar(select(VoiceCall).where(VoiceCall.interaction_id == interaction_id))


def _username(session: Session, user_id: str | None) -> str | None:
    return session.scalar(select(User.username).where(User.id == user_id)) if user_id else None


def _held_call(session: Session, interaction_id: str, user_id: str, may_supervise: bool,
               now: datetime) -> tuple[Interaction, VoiceCall]:
    """The call the agent is talking on (a record is opened for calls no provider reported, e.g. the demo's)."""
    row = routing_queries.holder_of(session, interaction_id)
    if row is None or row.status != "active":
        raise ValidationFailed("routing_refused", reason="this call is not in progress")
    if row.agent_id != user_id and not may_supervise:
        raise PermissionDenied("forbidden")
    interaction = session.get(Interaction, interaction_id)
    if interaction.channel not in SPOKEN:
        raise ValidationFailed("validation_error", summary="call controls are for phone calls")
    call = call_of(session, interaction_id)
    if call is None:
        call = VoiceCall(provider="accueil", provider_call_id=interaction_id, interaction_id=interaction_id,
                         last_event_at=now)
        session.add(call)
        session.flush()
    return interaction, call


def _send(session: Session, call: VoiceCall, command: CallCommand) -> bool:
    """Send to the call's provider if it has one (raises ``ProviderFailed``); False when nothing to send to."""
    provider = provider_named(session, call.provider)
    if provider is None:
        return False
    provider.send(command)
    return True


def do_hold(session: Session, *, interaction_id: str, user_id: str, hold: bool, may_supervise: bool = False,
            language: str = "fr", now: datetime | None = None) -> bool:
    """Put the caller on hold (or take them off it); the time on hold is kept apart from talk time."""
    now = now or clock.now()
    interaction, call = _held_call(session, interaction_id, user_id, may_supervise, now)
    if hold == (call.hold_started_at is not None):
        raise Conflict("stale_decision", reason="the call is already on hold" if hold else "the call is not on hold")
    if hold:
        call.hold_started_at = now
    else:
        call.held_ms += max(int((now - clock.ensure_utc(call.hold_started_at)).total_seconds() * 1000), 0)
        call.hold_started_at = None
    call.last_event_at = max(clock.ensure_utc(call.last_event_at), now)
    do_record_interaction_event(session, interaction_id=interaction.id, kind="held" if hold else "unheld", at=now,
                                agent_id=user_id)
    return _send(session, call, CallCommand(call.provider_call_id, "hold" if hold else "resume",
                                   agent=_username(session, user_id), language=language))


def do_hang_up(session: Session, *, rules: RoutingConfigCache, interaction_id: str, user_id: str,
               wrapup: bool = True, may_supervise: bool = False, now: datetime | None = None) -> bool:
    """The agent hangs up: the provider ends the call, the agent goes to wrap-up (or is freed)."""
    now = now or clock.now()
    interaction, call = _held_call(session, interaction_id, user_id, may_supervise, now)
    if call.hold_started_at is not None:
        call.held_ms += max(int((now - clock.ensure_utc(call.hold_started_at)).total_seconds() * 1000), 0)
        call.hold_started_at = None
    call.hung_up_by = "agent"
    holder = routing_queries.holder_of(session, interaction_id)
    do_end(session, rules=rules, item_id=interaction.id, wrapup=wrapup, user_id=holder.agent_id, now=now)
    return _send(session, call, CallCommand(call.provider_call_id, "hangup", agent=_username(session, user_id)))


def do_transfer_call(session: Session, *, rules: RoutingConfigCache, interaction_id: str, user_id: str,
                     to_queue_id: str | None = None, to_agent_id: str | None = None, may_supervise: bool = False,
                     language: str = "fr", now: datetime | None = None) -> bool:
    """Blind transfer: the caller holds while routing offers the call to the queue or the named agent."""
    now = now or clock.now()
    interaction, call = _held_call(session, interaction_id, user_id, may_supervise, now)
    do_transfer(session, rules=rules, item_id=interaction.id, to_queue_id=to_queue_id, to_agent_id=to_agent_id,
                actor_id=user_id, now=now)
    queue_code = session.scalar(select(Queue.code).where(Queue.id == to_queue_id)) if to_queue_id else None
    return _send(session, call, CallCommand(call.provider_call_id, "transfer", agent=_username(session, user_id),
                                   to_agent=_username(session, to_agent_id), to_queue=queue_code,
                                   language=language))


def is_call(session: Session, interaction_id: str) -> bool:
    channel = session.scalar(select(Interaction.channel).where(Interaction.id == interaction_id))
    return channel in SPOKEN


# Connecting the agent who accepted ----------------------------------------------------------------------------

def do_schedule_connect(session: Session, *, interaction_id: str, agent_id: str, at: datetime) -> bool:
    """A provider call accepted by an agent: a job connects them (dedupe: one per acceptance)."""
    call = call_of(session, interaction_id)
    if call is None or provider_named(session, call.provider) is None:
        return False
    do_schedule_job(session, kind=CONNECT_KIND, run_at=at,
                    payload={"interaction_id": interaction_id, "agent_id": agent_id},
                    dedupe_key=f"{CONNECT_KIND}:{interaction_id}:{agent_id}:{at.isoformat()}", max_attempts=3)
    return True


@job_handler(CONNECT_KIND)
def _connect(session: Session, payload: dict, now: datetime) -> None:
    call = call_of(session, payload["interaction_id"])
    holder = routing_queries.holder_of(session, payload["interaction_id"])
    if call is None or holder is None or holder.agent_id != payload["agent_id"] or holder.status != "active":
        return  # hung up, or moved on, before the job ran
    _send(session, call, CallCommand(call.provider_call_id, "connect", agent=_username(session, payload["agent_id"])))


class AcceptedCallConnector:
    """Hears ``routing.accepted`` (after its commit) and schedules the connection for provider calls."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def __call__(self, event: Event) -> None:
        interaction_id, agent_id = event.data.get("interaction_id"), event.data.get("agent_id")
        if not interaction_id or not agent_id:
            return
        with self.factory() as session:
            call = call_of(session, interaction_id)
            if call is None or provider_named(session, call.provider) is None:
                return
        with self.factory() as session, session.begin():
            do_schedule_connect(session, interaction_id=interaction_id, agent_id=agent_id, at=event.at)
