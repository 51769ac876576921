"""A generic CTI event API: any PBX or contact-centre provider reports a call's life, accueil keeps its record.

Events: offered, ivr, queued, ringing, answered, held, unheld, transferred, ended, wrapup_ended, recording.
Each becomes an event of the call's interaction (created, with its customer and case, from the first event
seen, whichever it is), so durations and KPIs come from one log. The provider routes these calls itself:
nothing is put in accueil's own queues (no double ACD); the agent named on ``ringing`` gets the screen pop.

Providers deliver late, twice, out of order, or not at all: a repeated event changes nothing (a receipt per
event), timestamps keep the earliest value seen, and the outcome is worked out again after every event from
what is known: answered → handled; ended without answered → abandoned, in the IVR (never queued), short
(within ``short_abandon_seconds`` of queueing) or in the queue. Never a crash, never a lost call record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from accueil.channels.voice.models import CtiReceipt, VoiceCall
from accueil.conversations.models import ChannelKind, Interaction, Outcome
from accueil.conversations.service import ConversationConfig, InboundContact, do_receive_inbound
from accueil.conversations.service import do_record_interaction_event as record
from accueil.core.errors import AccueilError, ValidationFailed
from accueil.customers.models import IdentityKind
from accueil.customers.service import IdentityRef, normalise_identity
from accueil.db.session import TRANSACTION_CACHE
from accueil.identity.models import User
from accueil.routing.models import Queue

EVENTS = ("offered", "ivr", "queued", "ringing", "answered", "held", "unheld", "transferred", "ended",
          "wrapup_ended", "recording")
LOG_KIND = {"queued": "queued", "ringing": "offered", "answered": "answered", "held": "held",
            "unheld": "unheld", "transferred": "transferred", "ended": "ended", "wrapup_ended": "wrapup_ended",
            "recording": "recording"}
COLUMN = {"queued": "queued_at", "ringing": "offered_at", "answered": "answered_at", "ended": "ended_at",
          "wrapup_ended": "wrapup_ended_at"}


@dataclass(frozen=True)
class CtiEvent:
    provider: str
    call_id: str
    event: str
    at: datetime
    event_id: str | None = None
    caller: str | None = None
    called: str | None = None
    ivr_path: tuple[str, ...] = ()
    queue: str | None = None
    agent: str | None = None
    hung_up_by: str | None = None
    recording: str | None = None
    motif: str | None = None
    to_queue: str | None = None
    to_agent: str | None = None


@dataclass(frozen=True)
class CallSummary:
    call_id: str
    interaction_id: str
    case_id: str
    duplicate: bool
    outcome: str | None
    abandon_kind: str | None
    durations: dict[str, float | None]


def call_durations(interaction: Interaction, call: VoiceCall) -> dict[str, float | None]:
    """Seconds spent in the IVR, waiting in the queue, ringing, talking (hold excluded), on hold, in wrap-up."""
    def gap(start: datetime | None, end: datetime | None) -> float | None:
        return None if start is None or end is None else max((end - start).total_seconds(), 0.0)

    leaves_ivr = interaction.queued_at or interaction.answered_at or interaction.ended_at
    after_queue = interaction.answered_at or interaction.ended_at
    hold = call.held_ms / 1000
    talk = gap(interaction.answered_at, interaction.ended_at)
    return {
        "ivr": gap(interaction.arrived_at, leaves_ivr) if call.ivr_entered_at or call.ivr_path else None,
        "queue": gap(interaction.queued_at, after_queue),
        "ring": gap(interaction.offered_at, interaction.answered_at),
        "talk": None if talk is None else max(talk - hold, 0.0),
        "hold": hold if interaction.answered_at else None,
        "wrapup": gap(interaction.ended_at, interaction.wrapup_ended_at),
    }


def _caller_identity(event: CtiEvent, region: str) -> IdentityRef:
    """The caller's number; a withheld or malformed one still gets the call recorded, under its call id."""
    if event.caller and event.caller.lower() not in ("anonymous", "withheld", "unknown", "restricted"):
        try:
            return normalise_identity(IdentityKind.phone, event.caller, phone_region=region)
        except AccueilError:
            pass
    return IdentityRef(IdentityKind.customer_number, f"cti:{event.provider}:{event.call_id}")


def _open_call(session: Session, event: CtiEvent, config: ConversationConfig) -> VoiceCall:
    """The first event seen of a call (normally ``offered``, but any will do) creates its record."""
    contact = InboundContact(
        channel=ChannelKind.voice, identities=[_caller_identity(event, config.phone_region)],
        motif_code=event.motif, body_text="(appel téléphonique)", occurred_at=event.at,
        provider_message_id=f"cti:{event.provider}:{event.call_id}")
    result = do_receive_inbound(session, contact=contact, config=config, now=event.at)
    call = VoiceCall(provider=event.provider, provider_call_id=event.call_id, interaction_id=result.interaction_id,
                     caller=event.caller, called=event.called, ivr_path=list(event.ivr_path), last_event_at=event.at)
    session.add(call)
    session.flush()
    session.info.setdefault(TRANSACTION_CACHE, {}).setdefault(CALLS, {})[(event.provider, event.call_id)] = call
    return call


CALLS = "voice_calls"  # in the transaction cache: the calls this transaction already found, by provider id


def find_call(session: Session, provider: str, call_id: str) -> VoiceCall | None:
    """The call record, looked up once per transaction (a webhook step reaches it three or four times)."""
    known = session.info.setdefault(TRANSACTION_CACHE, {}).setdefault(CALLS, {})  # dropped at commit/rollback
    call = known.get((provider, call_id))
    if call is None:
        call = session.scalar(select(VoiceCall).where(VoiceCall.provider == provider,
                                                      VoiceCall.provider_call_id == call_id))
        if call is not None:
            known[(provider, call_id)] = call
    return call


def _user_id(session: Session, username: str | None) -> str | None:
    if not username:
        return None
    return session.scalar(select(User.id).where(User.username == username.strip().lower()))


def _reconcile(interaction: Interaction, call: VoiceCall, short_abandon: float) -> None:
    """Outcome and abandon kind from what is known now (a late ``answered`` turns an abandon into a call)."""
    if interaction.ended_at is None:
        return
    if interaction.answered_at is not None:
        interaction.outcome, call.abandon_kind = Outcome.handled, None
        return
    if call.callback_id is not None:  # hung up after asking to be called back: served by the callback
        interaction.outcome, call.abandon_kind = Outcome.deflected, None
        return
    interaction.outcome = Outcome.abandoned
    if interaction.queued_at is None:
        call.abandon_kind = "ivr"
    elif (interaction.ended_at - interaction.queued_at).total_seconds() < short_abandon:
        call.abandon_kind = "short"
    else:
        call.abandon_kind = "queue"


def _summary(session: Session, call: VoiceCall, duplicate: bool) -> CallSummary:
    interaction = session.get(Interaction, call.interaction_id)
    return CallSummary(call_id=call.provider_call_id, interaction_id=interaction.id, case_id=interaction.case_id,
                       duplicate=duplicate, outcome=interaction.outcome.value if interaction.outcome else None,
                       abandon_kind=call.abandon_kind, durations=call_durations(interaction, call))


def do_cti_event(session: Session, *, event: CtiEvent, config: ConversationConfig,
                 short_abandon_seconds: float = 5.0) -> CallSummary:
    """Apply one provider event to its call (see the module docstring); the caller's transaction commits."""
    if event.event not in EVENTS:
        raise ValidationFailed("validation_error", summary=f"unknown CTI event {event.event!r}")
    if event.at.tzinfo is None:
        raise ValidationFailed("validation_error", summary="event time needs a time zone")
    key = event.event_id or f"{event.event}@{event.at.isoformat()}"
    key = f"{event.provider}:{event.call_id}:{key}"[:200]
    call = find_call(session, event.provider, event.call_id)
    if session.get(CtiReceipt, key) is not None and call is not None:
        return _summary(session, call, duplicate=True)
    session.add(CtiReceipt(key=key))
    if call is None:
        call = _open_call(session, event, config)
    interaction = session.get(Interaction, call.interaction_id)
    call.last_event_at = max(call.last_event_at, event.at)
    agent_id = _user_id(session, event.agent)
    data: dict = {}
    if event.event in ("offered", "ivr"):
        if event.ivr_path:
            call.ivr_path = list(event.ivr_path)
        if event.event == "ivr" and (call.ivr_entered_at is None or event.at < call.ivr_entered_at):
            call.ivr_entered_at = event.at
    if event.queue:
        queue_id = session.scalar(select(Queue.id).where(Queue.code == event.queue))
        if queue_id is None:
            raise ValidationFailed("unknown_queue", value=event.queue)
        if event.event == "queued" or interaction.queue_id is None:
            interaction.queue_id = queue_id
    if event.event == "held" and call.hold_started_at is None:
        call.hold_started_at = event.at
    elif event.event in ("unheld", "ended") and call.hold_started_at is not None:
        call.held_ms += max(int((event.at - call.hold_started_at).total_seconds() * 1000), 0)
        call.hold_started_at = None
    if event.event == "ended":
        call.hung_up_by = event.hung_up_by or call.hung_up_by
        data["hung_up_by"] = event.hung_up_by
    if event.event == "recording":
        call.recording_ref = event.recording
        data["recording"] = event.recording
    if event.event == "transferred":
        data.update(to_queue=event.to_queue, to_agent=event.to_agent)
    kind = LOG_KIND.get(event.event)
    if kind is not None:
        record(session, interaction_id=interaction.id, kind=kind, at=event.at, agent_id=agent_id, data=data,
               outcome=Outcome.handled if interaction.answered_at else None)
        column = COLUMN.get(event.event)
        if column and getattr(interaction, column) is not None and event.at < getattr(interaction, column):
            setattr(interaction, column, event.at)  # an earlier report of the same moment, delivered late
    if agent_id and event.event in ("ringing", "answered"):
        interaction.agent_id = agent_id
    _reconcile(interaction, call, short_abandon_seconds)
    session.flush()
    return _summary(session, call, duplicate=False)
