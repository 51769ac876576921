"""What happens to appointments and visits at an agency's desk (typed events, listed in docs/events.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from accueil.core.events import DomainEvent


@dataclass(frozen=True)
class AppointmentBooked(DomainEvent):
    """An appointment was booked at an agency for ``starts_at`` (ISO 8601 UTC)."""

    name: ClassVar[str] = "appointment.booked"
    appointment_id: str
    site_id: str
    case_id: str
    starts_at: str


@dataclass(frozen=True)
class AppointmentCancelled(DomainEvent):
    """An appointment was cancelled, by the customer (their link) or by staff (``by``)."""

    name: ClassVar[str] = "appointment.cancelled"
    appointment_id: str
    by: str
    site_id: str


@dataclass(frozen=True)
class AppointmentProgressed(DomainEvent):
    """A visit moved on at the desk; one event type per step (below); ``status`` is the appointment's new one."""

    appointment_id: str
    site_id: str
    case_id: str
    status: str


@dataclass(frozen=True)
class AppointmentArrived(AppointmentProgressed):
    """The visitor checked in at the desk (with an appointment, or as a walk-in)."""

    name: ClassVar[str] = "appointment.arrived"


@dataclass(frozen=True)
class AppointmentStarted(AppointmentProgressed):
    """An agent took the visitor to a counter."""

    name: ClassVar[str] = "appointment.started"


@dataclass(frozen=True)
class AppointmentFinished(AppointmentProgressed):
    """The visit ended with an outcome (resolved, follow-up, no-show…)."""

    name: ClassVar[str] = "appointment.finished"
