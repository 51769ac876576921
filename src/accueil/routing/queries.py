"""Read models of live routing for the consoles: an agent's work and offers, the queues and agents now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accueil.conversations.models import Case, CaseStatus, Direction, Interaction, Motif
from accueil.core.permissions import ROUTABLE_ROLES
from accueil.customers.models import Customer
from accueil.identity.models import User
from accueil.routing.models import AgentState, Queue, RoutingItem
from accueil.routing.snapshot import HELD

OPEN_CASE_STATUSES = (CaseStatus.new, CaseStatus.open, CaseStatus.pending)


@dataclass(frozen=True)
class WorkRow:
    """One line of an agent's work: a routed interaction they hold, or an open case that is theirs."""

    case_id: str
    reference: str
    subject: str | None
    customer_name: str | None
    channel: str
    motif_fr: str | None
    motif_en: str | None
    status: str  # offered, active, wrapup (routing) or the case status
    interaction_id: str | None
    queue_id: str | None
    offered_at: datetime | None
    offer_expires_at: datetime | None
    sla_due_at: datetime | None
    since: datetime
    reply_due_at: datetime | None = None  # written work still awaiting its first reply: when it is due

    @property
    def is_offer(self) -> bool:
        return self.status == "offered"

    @property
    def due_at(self) -> datetime | None:
        """What the work list is ordered by: the reply due time of written work, else the SLA."""
        return self.reply_due_at or self.sla_due_at

    def overdue_seconds(self, now: datetime) -> float | None:
        """How long past its reply due time written work is (None when not overdue, or no target)."""
        if self.reply_due_at is None or self.reply_due_at > now:
            return None
        return (now - self.reply_due_at).total_seconds()


def _work_columns():
    return (Case.id, Case.reference, Case.subject, Customer.display_name, Motif.label_fr, Motif.label_en)


def _held(session: Session, user_id: str, *, case_id: str | None = None) -> list[WorkRow]:
    statement = (
        select(*_work_columns(), Interaction.channel, RoutingItem.status, RoutingItem.interaction_id,
               RoutingItem.queue_id, RoutingItem.offered_at, RoutingItem.offer_expires_at,
               func.coalesce(RoutingItem.sla_due_at, Case.sla_due_at), RoutingItem.arrived_at,
               Interaction.reply_due_at, Interaction.answered_at)
        .join(Interaction, Interaction.id == RoutingItem.interaction_id)
        .join(Case, Case.id == RoutingItem.case_id)
        .join(Customer, Customer.id == Case.customer_id)
        .outerjoin(Motif, Motif.id == Case.motif_id)
        .where(RoutingItem.agent_id == user_id, RoutingItem.status.in_(HELD))
    )
    if case_id is not None:
        statement = statement.where(RoutingItem.case_id == case_id)
    return [WorkRow(case_id=r[0], reference=r[1], subject=r[2], customer_name=r[3], motif_fr=r[4], motif_en=r[5],
                    channel=r[6].value, status=r[7], interaction_id=r[8], queue_id=r[9], offered_at=r[10],
                    offer_expires_at=r[11], sla_due_at=r[12], since=r[13],
                    reply_due_at=r[14] if r[15] is None else None) for r in session.execute(statement)]


def _awaiting_reply_of_case():  # type: ignore[no-untyped-def]
    """The soonest reply due time among a case's written contacts still awaiting their first reply."""
    return (select(func.min(Interaction.reply_due_at))
            .where(Interaction.case_id == Case.id, Interaction.direction == Direction.inbound,
                   Interaction.reply_due_at.is_not(None), Interaction.answered_at.is_(None),
                   Interaction.ended_at.is_(None))
            .correlate(Case).scalar_subquery())


def my_work(session: Session, user_id: str, *, limit: int = 100) -> list[WorkRow]:
    """Offers first, then by due time — a written contact's reply due time, else the SLA — soonest (so
    overdue) first, none last, then oldest first."""
    rows = _held(session, user_id)
    seen = {row.case_id for row in rows}
    owned = session.execute(
        select(*_work_columns(), Case.first_channel, Case.status, Case.sla_due_at, Case.updated_at,
               _awaiting_reply_of_case())
        .join(Customer, Customer.id == Case.customer_id)
        .outerjoin(Motif, Motif.id == Case.motif_id)
        .where(Case.agent_id == user_id, Case.status.in_(OPEN_CASE_STATUSES))
        .order_by(Case.sla_due_at.is_(None), Case.sla_due_at, Case.updated_at)
        .limit(limit)
    ).all()
    rows += [WorkRow(case_id=r[0], reference=r[1], subject=r[2], customer_name=r[3], motif_fr=r[4], motif_en=r[5],
                     channel=r[6].value, status=r[7].value, interaction_id=None, queue_id=None, offered_at=None,
                     offer_expires_at=None, sla_due_at=r[8], since=r[9], reply_due_at=r[10])
             for r in owned if r[0] not in seen]
    far = datetime.max.replace(tzinfo=rows[0].since.tzinfo) if rows else None
    rows.sort(key=lambda row: (not row.is_offer, row.due_at or far, row.since))
    return rows[:limit]


def held_in_case(session: Session, user_id: str, case_id: str) -> list[WorkRow]:
    """What this agent holds of one case (the controls of the conversation view)."""
    return _held(session, user_id, case_id=case_id)


def my_offers(session: Session, user_id: str) -> list[WorkRow]:
    return [row for row in my_work(session, user_id) if row.is_offer]


def holder_of(session: Session, interaction_id: str) -> RoutingItem | None:
    return session.get(RoutingItem, interaction_id)


@dataclass(frozen=True)
class AgentNow:
    user_id: str
    display_name: str
    site_id: str | None
    presence: str
    reason: str | None
    presence_since: datetime | None
    work: tuple[tuple[str, str, str], ...]  # (case reference, channel, routing status)


def agents_now(session: Session) -> list[AgentNow]:
    """Every active agent who may take routed work, with their state (offline if never signed in) and what
    they hold now (wallboard)."""
    states = session.execute(
        select(User.id, User.display_name, User.site_id, AgentState.presence, AgentState.reason,
               AgentState.presence_since)
        .outerjoin(AgentState, AgentState.user_id == User.id)
        .where(User.active.is_(True), User.role.in_(ROUTABLE_ROLES))
        .order_by(User.display_name)
    ).all()
    held: dict[str, list[tuple[str, str, str]]] = {}
    for agent_id, reference, media, status in session.execute(
        select(RoutingItem.agent_id, Case.reference, RoutingItem.media, RoutingItem.status)
        .join(Case, Case.id == RoutingItem.case_id)
        .where(RoutingItem.status.in_(HELD))
    ):
        held.setdefault(agent_id, []).append((reference, media, status))
    return [AgentNow(user_id=s[0], display_name=s[1], site_id=s[2], presence=s[3] or "offline", reason=s[4],
                     presence_since=s[5], work=tuple(held.get(s[0], ()))) for s in states]


def queues_by_id(session: Session) -> dict[str, Queue]:
    return {queue.id: queue for queue in session.scalars(select(Queue).where(Queue.active.is_(True)))}


@dataclass(frozen=True)
class QueueNow:
    queue_id: str
    code: str
    name_fr: str
    name_en: str
    channel: str
    delivery: str
    waiting: int
    oldest_waiting_since: datetime | None


def queues_served_by(session: Session, config, user_id: str) -> list[QueueNow]:  # type: ignore[no-untyped-def]
    """The queues this agent may take work from at some overflow stage, with what waits in them now."""
    served = {queue_id for stages in config.agent_queues.get(user_id, {}).values() for queue_id in stages}
    if not served:
        return []
    waiting = {queue_id: (count, oldest) for queue_id, count, oldest in session.execute(
        select(RoutingItem.queue_id, func.count(), func.min(RoutingItem.queued_at))
        .where(RoutingItem.status == "waiting", RoutingItem.queue_id.in_(served))
        .group_by(RoutingItem.queue_id))}
    queues = session.scalars(select(Queue).where(Queue.id.in_(served), Queue.active.is_(True))
                             .order_by(Queue.level, Queue.code))
    return [QueueNow(queue_id=q.id, code=q.code, name_fr=q.name_fr, name_en=q.name_en, channel=q.channel,
                     delivery=q.delivery, waiting=waiting.get(q.id, (0, None))[0],
                     oldest_waiting_since=waiting.get(q.id, (0, None))[1]) for q in queues]
