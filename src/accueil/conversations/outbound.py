"""The outbound door: a contact *we* start (a campaign call, a campaign message) becomes an interaction of
the customer's journey, on the case it belongs to — the same case for every attempt to the same person, a
new one the first time. ``receive`` is the inbound door; this is its mirror, much smaller (one row at a
time: outbound work is paced by agents, not by providers)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from accueil.conversations.cases import access_case, do_reopen_case
from accueil.conversations.events import MessageSent
from accueil.conversations.models import (
    OPEN_STATUSES,
    AuthorKind,
    Case,
    CaseStatus,
    ChannelKind,
    Direction,
    Interaction,
    InteractionEvent,
    Message,
)
from accueil.conversations.receive_batch import next_case_reference
from accueil.core.ids import id_at, new_id
from accueil.customers.service import access_customer
from accueil.db.session import queue_event


def do_start_outbound(session: Session, *, customer_id: str, channel: ChannelKind, now: datetime,
                      agent_id: str | None = None, case_id: str | None = None, subject: str | None = None,
                      data: dict | None = None) -> Interaction:
    """An outbound interaction (arrived = started now) on ``case_id`` (reopened if resolved, replaced if
    closed) or on a new case of the customer; ``data`` is kept on its "arrived" log entry."""
    customer = access_customer(session, customer_id)
    case: Case | None = access_case(session, case_id) if case_id else None
    if case is not None and case.customer_id != customer.id:
        case = None  # never write on another person's case
    if case is not None and case.status is CaseStatus.closed:
        case = None
    if case is not None and case.status not in OPEN_STATUSES:
        do_reopen_case(session, case_id=case.id, reason="outbound", now=now)
    if case is None:
        case = Case(id=new_id(), reference=next_case_reference(session, now), customer_id=customer.id,
                    subject=(subject or "")[:300] or None, status=CaseStatus.open, level=1, priority=0,
                    first_channel=channel, created_at=now, updated_at=now, agent_id=agent_id,
                    reopen_count=0, repeat_contact_count=0)
        session.add(case)
        session.flush()
    case.updated_at = now
    interaction = Interaction(id=new_id(), case_id=case.id, customer_id=customer.id, channel=channel,
                              direction=Direction.outbound, agent_id=agent_id, arrived_at=now,
                              is_repeat_contact=False)
    session.add(interaction)
    session.flush()
    session.add(InteractionEvent(id=new_id(), interaction_id=interaction.id, kind="arrived", at=now,
                                 agent_id=agent_id, data={"channel": channel.value, "direction": "outbound",
                                                          **(data or {})}))
    session.flush()
    return interaction


def do_add_outbound_message(session: Session, *, interaction: Interaction, body_text: str, now: datetime,
                            author_user_id: str | None = None, announce: bool = True) -> Message:
    """A message we send on an outbound interaction (a campaign's SMS or email), on the journey like any
    reply. ``announce``: ``message.sent`` is queued, so the channel's outbox sends it in this transaction's
    wake; a caller that sends it its own way (a campaign email, with its unsubscribe headers) says False."""
    message = Message(id=id_at(now.timestamp()), interaction_id=interaction.id, case_id=interaction.case_id,
                      author_kind=AuthorKind.agent if author_user_id else AuthorKind.system,
                      author_user_id=author_user_id, direction=Direction.outbound, body_text=body_text,
                      created_at=now)
    session.add(message)
    session.flush()
    if announce:
        queue_event(session, MessageSent(case_id=interaction.case_id, message_id=message.id,
                                         interaction_id=interaction.id), now)
    return message
