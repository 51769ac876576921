"""What routing announces: arrivals in a queue, offers, acceptances, presence (typed; docs/events.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from accueil.core.events import DomainEvent


@dataclass(frozen=True)
class InteractionArrived(DomainEvent):
    """New work: an inbound contact, or an outbound task (a callback attempt) put in a queue.

    Emitted only by ``routing.enqueue``, the one door into routing; ``queue_id`` is None for a contact
    that waits in no queue (no queue named, or a closed queue that refuses it)."""

    name: ClassVar[str] = "interaction.arrived"
    interaction_id: str
    case_id: str
    customer_id: str
    channel: str
    queue_id: str | None
    case_created: bool = False
    motif: str | None = None
    callback_id: str | None = None
    attempt: int | None = None
