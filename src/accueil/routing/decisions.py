"""What the routing engine takes in and gives out: work items, presences, decisions and errors.

Pure values, shared by the engine, the service that persists decisions, and the simulator.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from accueil.routing.rules import ClosedBehaviour, SkillRequirement


class RoutingError(ValueError):
    code = "routing_error"


class UnknownQueue(RoutingError):
    code = "unknown_queue"


class UnknownAgent(RoutingError):
    code = "unknown_agent"


class UnknownItem(RoutingError):
    code = "unknown_item"


class StaleDecision(RoutingError):
    """The item is no longer where the caller thought (already accepted, withdrawn, ended...)."""

    code = "stale_decision"


class Presence(StrEnum):
    available = "available"
    paused = "paused"
    offline = "offline"


class ItemState(StrEnum):
    waiting = "waiting"
    offered = "offered"  # ringing: the agent must accept
    active = "active"  # being handled
    wrapup = "wrapup"  # ended, the agent is finishing (capacity still held)


@dataclass(frozen=True, slots=True)
class WorkItem:
    id: str
    queue: str
    arrived_at: float
    priority: int = 0
    level: int | None = None  # defaults to the queue's level
    skills: tuple[SkillRequirement, ...] = ()  # beyond the queue's (e.g. a language); never relaxed
    sla_due: float | None = None
    motif: str | None = None  # the case's motif: an agent restricted to some motifs must have this one


# Decisions (named tuples: immutable, and cheap to build on the engine's hot path) -------------------------------------------------------------------------------------------


class Offered(NamedTuple):
    item: str
    agent: str
    queue: str
    at: float
    expires_at: float | None  # None: pushed or pulled work, nothing to accept


class Requeued(NamedTuple):
    item: str
    agent: str
    queue: str
    reason: str  # no_answer, declined, agent_paused, agent_offline, transferred
    at: float


class AgentPaused(NamedTuple):
    agent: str
    reason: str
    at: float


class Overflowed(NamedTuple):
    item: str
    from_queue: str
    to_queue: str
    stage: int  # the stage now in force in to_queue
    at: float


class CallbackOffered(NamedTuple):
    item: str
    queue: str
    predicted_wait: float
    at: float


class Refused(NamedTuple):
    item: str
    queue: str
    behaviour: ClosedBehaviour  # reject or callback: the queue is closed
    at: float


class Escalated(NamedTuple):
    item: str
    from_queue: str
    to_queue: str
    level: int
    at: float


Decision = Offered | Requeued | AgentPaused | Overflowed | CallbackOffered | Refused | Escalated
