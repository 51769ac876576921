"""Today's figures per queue for the supervisors' wallboard, read live from interactions and routing.

"Today" starts at midnight in the centre's time zone. Service level here is answered within the queue's
target over (answered + abandoned) among today's arrivals that have been answered or abandoned: the
"over offered" convention, contacts still waiting left out until they are settled. For written queues
"answered" is the first reply (its ``answered_at``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from accueil.conversations.models import Interaction, Outcome
from accueil.routing.models import Queue, RoutingItem


@dataclass(frozen=True)
class QueueBoard:
    queue_id: str
    code: str
    name_fr: str
    name_en: str
    channel: str
    waiting: int
    longest_wait_seconds: float | None
    answered: int
    abandoned: int
    answered_in_target: int
    target_percent: int
    target_seconds: int

    @property
    def service_level(self) -> float | None:
        settled = self.answered + self.abandoned
        return self.answered_in_target / settled if settled else None

    @property
    def below_target(self) -> bool:
        level = self.service_level
        return level is not None and level * 100 < self.target_percent


def start_of_day(now: datetime, timezone: str) -> datetime:
    """Local midnight of ``now``'s day, as an aware datetime (compare with UTC columns freely)."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    return datetime.combine(local.date(), time(0), tzinfo=zone)


def queue_board(session: Session, *, now: datetime, timezone: str) -> list[QueueBoard]:
    since = start_of_day(now, timezone)
    queues = list(session.scalars(select(Queue).where(Queue.active.is_(True)).order_by(Queue.level, Queue.code)))
    waiting = {
        queue_id: (count, oldest)
        for queue_id, count, oldest in session.execute(
            select(RoutingItem.queue_id, func.count(), func.min(RoutingItem.queued_at))
            .where(RoutingItem.status == "waiting")
            .group_by(RoutingItem.queue_id)
        )
    }
    target = {queue.id: timedelta(seconds=queue.target_seconds) for queue in queues}
    answered: dict[str, int] = {}
    in_target: dict[str, int] = {}
    abandoned: dict[str, int] = {}
    rows = session.execute(
        select(Interaction.queue_id, Interaction.arrived_at, Interaction.answered_at,
               case((and_(Interaction.outcome == Outcome.abandoned, Interaction.answered_at.is_(None)), 1), else_=0))
        .where(Interaction.arrived_at >= since, Interaction.queue_id.is_not(None),
               (Interaction.answered_at.is_not(None)) | (Interaction.outcome == Outcome.abandoned))
    )
    for queue_id, arrived_at, answered_at, gave_up in rows:
        if gave_up:
            abandoned[queue_id] = abandoned.get(queue_id, 0) + 1
        elif answered_at is not None:
            answered[queue_id] = answered.get(queue_id, 0) + 1
            if queue_id in target and answered_at - arrived_at <= target[queue_id]:
                in_target[queue_id] = in_target.get(queue_id, 0) + 1
    boards = []
    for queue in queues:
        count, oldest = waiting.get(queue.id, (0, None))
        boards.append(QueueBoard(
            queue_id=queue.id, code=queue.code, name_fr=queue.name_fr, name_en=queue.name_en, channel=queue.channel,
            waiting=count, longest_wait_seconds=(now - oldest).total_seconds() if oldest else None,
            answered=answered.get(queue.id, 0), abandoned=abandoned.get(queue.id, 0),
            answered_in_target=in_target.get(queue.id, 0), target_percent=queue.target_percent,
            target_seconds=queue.target_seconds,
        ))
    return boards
