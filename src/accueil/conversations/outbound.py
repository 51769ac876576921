"""The outbound door: a contact *we* start (a campaign call, a campaign message) becomes an interaction of
the customer's journey, on the case it belongs to — the same case for every attempt to the same person, a
new one the first time. ``receive`` is the inbound door; this is its mirror, much smaller (one row at a
time: outbound work is paced by agents, not by providers)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from accueil.conversations.cases import access_case, do_reopen_case
from accueil.conversations.models import (
    OPEN_STATUSES,
    Case,
    CaseStatus,
    ChannelKind,
    Direction,
    Interaction,
    InteractionEvent,
)
from accueil.conversations.receive_batch import next_case_reference
from accueil.core.ids import new_id
from accueil.customers.service import access_customer


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
