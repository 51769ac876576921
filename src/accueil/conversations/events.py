"""What happens to cases, interactions and messages (typed events, listed in docs/events.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from accueil.core.events import DomainEvent


@dataclass(frozen=True)
class CaseStatusChanged(DomainEvent):
    name: ClassVar[str] = "case.status_changed"
    case_id: str
    from_: str
    to: str


@dataclass(frozen=True)
class CaseMotifChanged(DomainEvent):
    name: ClassVar[str] = "case.motif_changed"
    case_id: str
    from_: str | None
    to: str
    actor_id: str | None


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
