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


@dataclass(frozen=True)
class RoutingOffered(DomainEvent):
    """Routing gave a waiting item to an agent: an offer to accept by ``expires_at`` (ISO 8601), or pushed work (None)."""

    name: ClassVar[str] = "routing.offered"
    interaction_id: str
    agent_id: str
    queue_id: str
    expires_at: str | None


@dataclass(frozen=True)
class RoutingAccepted(DomainEvent):
    """An agent accepted the item offered to them: it is theirs now."""

    name: ClassVar[str] = "routing.accepted"
    interaction_id: str
    agent_id: str


@dataclass(frozen=True)
class RoutingRequeued(DomainEvent):
    """An item went back to waiting: ``reason`` no_answer, declined, agent_paused, agent_offline or transferred."""

    name: ClassVar[str] = "routing.requeued"
    interaction_id: str
    agent_id: str
    reason: str


@dataclass(frozen=True)
class RoutingFreed(DomainEvent):
    """An agent's capacity was freed (work ended, wrap-up over, work forgotten): they may take more."""

    name: ClassVar[str] = "routing.freed"
    agent_id: str


@dataclass(frozen=True)
class RoutingEnded(DomainEvent):
    """A routed item ended: handled if an agent had it (``wrapup`` if they now wrap up), else abandoned."""

    name: ClassVar[str] = "routing.ended"
    interaction_id: str
    agent_id: str | None
    handled: bool
    wrapup: bool


@dataclass(frozen=True)
class RoutingPresence(DomainEvent):
    """An agent's presence changed (available, paused with a reason, offline), by them or by routing."""

    name: ClassVar[str] = "routing.presence"
    agent_id: str
    presence: str
    reason: str | None
