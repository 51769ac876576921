"""What happens to cases, interactions and messages (typed events, listed in docs/events.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from accueil.core.events import DomainEvent


@dataclass(frozen=True)
class CaseStatusChanged(DomainEvent):
    """A case moved from one status to another (opened, pending, resolved, closed…)."""

    name: ClassVar[str] = "case.status_changed"
    case_id: str
    from_: str
    to: str


@dataclass(frozen=True)
class CaseMotifChanged(DomainEvent):
    """A case was given a motif, or its motif was corrected (its SLA due time follows)."""

    name: ClassVar[str] = "case.motif_changed"
    case_id: str
    from_: str | None
    to: str
    actor_id: str | None


@dataclass(frozen=True)
class CaseNoteAdded(DomainEvent):
    """An agent added an internal note to a case (staff only, never sent)."""

    name: ClassVar[str] = "case.note_added"
    case_id: str
    message_id: str


@dataclass(frozen=True)
class CaseReopened(DomainEvent):
    """A resolved or closed case was opened again (by an agent, or because the customer came back)."""

    name: ClassVar[str] = "case.reopened"
    case_id: str
    from_: str
    reason: str


@dataclass(frozen=True)
class CaseEscalated(DomainEvent):
    """A case was handed to a higher support level (N1 → N2); nobody holds it any more."""

    name: ClassVar[str] = "case.escalated"
    case_id: str
    from_level: int
    to_level: int


@dataclass(frozen=True)
class CaseAssigned(DomainEvent):
    """A case was given to an agent, or taken back to nobody (``to`` and ``agent_id`` None)."""

    name: ClassVar[str] = "case.assigned"
    case_id: str
    from_: str | None
    to: str | None
    agent_id: str | None
    actor_id: str | None


@dataclass(frozen=True)
class CaseSlaBreached(DomainEvent):
    """A case was still open at its SLA due time."""

    name: ClassVar[str] = "case.sla_breached"
    case_id: str
    reference: str


@dataclass(frozen=True)
class MessageSent(DomainEvent):
    """An agent's reply was stored on a case's exchange (to be delivered on its channel)."""

    name: ClassVar[str] = "message.sent"
    case_id: str
    message_id: str
    interaction_id: str


@dataclass(frozen=True)
class MessageReceived(DomainEvent):
    """A customer's next line arrived on a live exchange (a chat), not a new arrival."""

    name: ClassVar[str] = "message.received"
    interaction_id: str
    case_id: str
    customer_id: str
    message_id: str
    channel: str


@dataclass(frozen=True)
class InteractionLogged(DomainEvent):
    """An entry appended to an interaction's log; one event type per kind of entry (below)."""

    interaction_id: str
    case_id: str


def _logged(kind: str) -> type[InteractionLogged]:
    title = "".join(part.title() for part in kind.split("_"))
    return type(f"Interaction{title}", (InteractionLogged,), {
        "name": f"interaction.{kind}", "__doc__": f"The interaction's log recorded ``{kind}``.",
        "__module__": __name__})


# ``interaction.arrived`` is routing's: the one door into routing announces arrivals.
INTERACTION_LOG_EVENTS: dict[str, type[InteractionLogged]] = {
    kind: _logged(kind) for kind in (
        "queued", "offered", "answered", "first_reply", "ended", "wrapup_ended", "held", "unheld", "transferred",
        "declined", "abandoned", "escalated", "note", "recording", "requeued", "overflowed", "closed")
}
InteractionEnded = INTERACTION_LOG_EVENTS["ended"]


def logged_event(kind: str) -> type[InteractionLogged] | None:
    """The event a log entry of this kind publishes (None for ``arrived``: routing announces arrivals)."""
    return INTERACTION_LOG_EVENTS.get(kind)
