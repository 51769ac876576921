"""The one door into routing: every piece of work that waits for an agent enters a queue here.

Three kinds of work come in: inbound contacts received in a batch (``conversations.receive`` asks
``ArrivalDoor`` where each goes and writes the row built here with the batch's multi-row INSERT), an
existing interaction put in a queue later (a call that chose its queue in the IVR, a callback attempt:
``do_enqueue``), and a callback that keeps the place its caller had (``do_enqueue`` with ``place``).
``interaction.arrived`` is emitted here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from accueil.conversations.models import Interaction
from accueil.core import clock
from accueil.core.errors import NotFound, ValidationFailed
from accueil.db.session import TRANSACTION_CACHE, queue_event
from accueil.routing.config_loader import parse_opening_hours
from accueil.routing.events import InteractionArrived
from accueil.routing.models import Queue, RoutingItem, routing_item_row

INSERT_ITEM = RoutingItem.__table__.insert()

_QUEUE_COLUMNS = (Queue.id, Queue.level, Queue.channel, Queue.target_seconds, Queue.opening_hours, Queue.timezone,
                  Queue.closed_behaviour, Queue.closed_queue_id)
_QUEUE = select(*_QUEUE_COLUMNS).where(Queue.code == bindparam("code"), Queue.active.is_(True))
_QUEUE_BY_ID = select(*_QUEUE_COLUMNS).where(Queue.id == bindparam("id"), Queue.active.is_(True))


@dataclass(frozen=True)
class Placement:
    """Where an arriving contact goes: its queue (after a closed queue's overflow), and whether it waits."""

    queue_id: str
    level: int
    channel: str
    target_seconds: int
    queued: bool
    closed: str | None  # the queue was closed: "reject" or "callback" (not queued), "overflow" (moved)


def _queue_row(session: Session, statement: Any, key: str, value: str) -> Any:
    """A queue read once per transaction (a batch of contacts shares the answer)."""
    cache = session.info.setdefault(TRANSACTION_CACHE, {})
    if (key, value) not in cache:
        cache[(key, value)] = session.connection().execute(statement, {key: value}).first()
    return cache[(key, value)]


def _closed_behaviour(session: Session, queue: Any, at: datetime) -> str | None:
    """What the queue does with a contact arriving while it is closed; None when it is open."""
    if not queue.opening_hours:
        return None
    cache = session.info.setdefault(TRANSACTION_CACHE, {})
    key = ("hours", queue.id)
    if key not in cache:
        cache[key] = parse_opening_hours(queue.opening_hours, queue.timezone)
    hours = cache[key]
    if hours is None or hours.is_open(at.timestamp()) or queue.closed_behaviour == "wait":
        return None
    return queue.closed_behaviour


class ArrivalDoor:
    """What ``conversations`` asks of routing while receiving contacts (its ``WorkDoor`` port)."""

    def queue_level(self, session: Session, queue_code: str) -> int:
        """The level of the queue a contact names (its case starts at that level); refuses an unknown one."""
        queue = _queue_row(session, _QUEUE, "code", queue_code)
        if queue is None:
            raise ValidationFailed("unknown_queue", value=queue_code)
        return queue.level

    def place(self, session: Session, *, queue_code: str, arrived: datetime) -> Placement:
        queue = _queue_row(session, _QUEUE, "code", queue_code)
        if queue is None:
            raise ValidationFailed("unknown_queue", value=queue_code)
        closed = _closed_behaviour(session, queue, arrived)
        if closed == "overflow":
            queue = _queue_row(session, _QUEUE_BY_ID, "id", queue.closed_queue_id) or queue
        return Placement(queue_id=queue.id, level=queue.level, channel=queue.channel,
                         target_seconds=queue.target_seconds, queued=closed not in ("reject", "callback"),
                         closed=closed)

    def item_row(self, *, placement: Placement, interaction_id: str, case_id: str, priority: int,
                 arrived: datetime, now: datetime, skills: list[list], motif_id: str | None,
                 due: datetime | None = None) -> tuple[Any, dict]:
        """(statement, row) that puts the arriving contact in its queue, for the batch's multi-row INSERT.

        ``due``: the written contact's reply due time (business calendar), which an ``order_by: sla``
        queue serves first; else the queue's target after arrival."""
        return INSERT_ITEM, routing_item_row(
            interaction_id=interaction_id, case_id=case_id, queue_id=placement.queue_id, channel=placement.channel,
            priority=priority, level=placement.level, arrived_at=arrived, queued_at=now,
            sla_due_at=due or arrived + timedelta(seconds=placement.target_seconds), skills=skills, motif_id=motif_id)

    def announce(self, session: Session, *, interaction_id: str, case_id: str, customer_id: str, channel: str,
                 queue_id: str | None, motif: str | None, case_created: bool, now: datetime) -> None:
        announce_arrival(session, InteractionArrived(
            interaction_id=interaction_id, case_id=case_id, customer_id=customer_id, channel=channel,
            queue_id=queue_id, motif=motif, case_created=case_created), now)

    def held_interactions(self, session: Session, *, case_id: str, agent_id: str) -> Any:
        """The exchanges of ``case_id`` that ``agent_id`` holds now (a select of interaction ids)."""
        return select(RoutingItem.interaction_id).where(
            RoutingItem.case_id == case_id, RoutingItem.agent_id == agent_id,
            RoutingItem.status.in_(("active", "wrapup")))


def announce_arrival(session: Session, arrival: InteractionArrived, now: datetime) -> None:
    """The only place ``interaction.arrived`` is emitted (it wakes the dispatcher)."""
    queue_event(session, arrival, now)


def do_enqueue(session: Session, *, interaction_id: str, queue_id: str, priority: int = 0,
               skills: list[list] | None = None, now: datetime | None = None, place: dict | None = None,
               announce: InteractionArrived | None = None) -> RoutingItem:
    """Put an existing interaction in a queue (a call after its IVR, a callback attempt, an outbound task).

    ``place`` keeps a place held elsewhere (virtual hold: the caller's arrival time, stage and skills);
    ``announce`` is the arrival to announce once queued. A repeat creates nothing."""
    now = now or clock.now()
    interaction = session.get(Interaction, interaction_id)
    if interaction is None:
        raise NotFound("not_found", kind="interaction", id=interaction_id)
    queue = session.get(Queue, queue_id)
    if queue is None or not (queue.active or place is not None):  # a kept place outlives a closed queue
        raise ValidationFailed("unknown_queue", value=queue_id)
    existing = session.get(RoutingItem, interaction_id)
    if existing is not None:
        return existing  # already queued: a repeat creates nothing
    if place is None:
        row = routing_item_row(
            interaction_id=interaction_id, case_id=interaction.case_id, queue_id=queue.id, channel=queue.channel,
            priority=priority, level=queue.level, arrived_at=interaction.arrived_at, queued_at=now,
            sla_due_at=interaction.case.sla_due_at, skills=skills or [], motif_id=interaction.case.motif_id)
    else:
        row = routing_item_row(
            interaction_id=interaction_id, case_id=interaction.case_id, queue_id=queue.id, channel=queue.channel,
            priority=place["priority"], level=place["level"], arrived_at=place["arrived_at"],
            queued_at=place["queued_at"], sla_due_at=place["sla_due_at"], skills=place["skills"],
            motif_id=interaction.case.motif_id)
        row["stage"] = place["stage"]
    item = RoutingItem(**row)
    session.add(item)
    interaction.queue_id = queue.id
    interaction.queued_at = now if place is not None else (interaction.queued_at or now)
    session.flush()
    if announce is not None:
        announce_arrival(session, announce, now)
    return item
