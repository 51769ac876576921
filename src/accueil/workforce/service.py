"""Workforce reads of accueil's own data: contact history per queue and interval, for the forecast."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from accueil.conversations.models import Interaction
from accueil.core.errors import NotFound
from accueil.routing.models import Queue
from accueil.workforce.intervals import IntervalVolume


def interval_history(session: Session, *, queue_code: str, interval: int = 900,
                     since: datetime | None = None, until: datetime | None = None) -> list[IntervalVolume]:
    """Contacts offered to a queue per interval (by arrival), with the mean handle time of those answered
    (answer to end of wrap-up, else to end). Intervals without contacts are left out (they count as zero)."""
    queue = session.scalar(select(Queue).where(Queue.code == queue_code))
    if queue is None:
        raise NotFound("not_found", kind="queue", id=queue_code)
    statement = select(Interaction.arrived_at, Interaction.answered_at, Interaction.ended_at,
                       Interaction.wrapup_ended_at).where(Interaction.queue_id == queue.id)
    if since is not None:
        statement = statement.where(Interaction.arrived_at >= since)
    if until is not None:
        statement = statement.where(Interaction.arrived_at < until)
    counts: dict[int, list[float]] = {}
    for arrived, answered, ended, wrapped in session.execute(statement):
        bucket = int(arrived.timestamp()) // interval * interval
        entry = counts.setdefault(bucket, [0.0, 0.0, 0.0])
        entry[0] += 1
        finished = wrapped or ended
        if answered is not None and finished is not None and finished > answered:
            entry[1] += (finished - answered).total_seconds()
            entry[2] += 1
    return [IntervalVolume(datetime.fromtimestamp(start, UTC), volume, handled / n if n else None)
            for start, (volume, handled, n) in sorted(counts.items())]
