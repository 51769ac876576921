"""What happens to callbacks (typed events, listed in docs/events.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from accueil.core.events import DomainEvent


@dataclass(frozen=True)
class CallbackScheduled(DomainEvent):
    """A callback was promised for ``due_at`` (ISO 8601), asked by the customer, an agent or the IVR (``source``)."""

    name: ClassVar[str] = "callback.scheduled"
    callback_id: str
    case_id: str
    due_at: str
    source: str


@dataclass(frozen=True)
class CallbackAttempted(DomainEvent):
    """An attempt at a callback got its outcome; ``status`` is the callback's after it (rescheduled, done…)."""

    name: ClassVar[str] = "callback.attempted"
    callback_id: str
    case_id: str
    attempt: int
    outcome: str
    status: str
    agent_id: str | None
