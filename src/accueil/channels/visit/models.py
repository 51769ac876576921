"""Agencies (sites of kind ``agency``) as places customers visit: their booking rules, closures and the
appointments and walk-in visits received there.

The booking rules live beside ``sites`` (not in it): a site row stays what every domain shares.
A place in a slot is the unique triple (agency, start, counter): two customers can never hold the
same place, whatever the database and however close together they book. A cancelled appointment
gives its counter back (``counter`` becomes NULL, and NULLs never collide).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from accueil.core import clock
from accueil.db.base import Base, IdMixin
from accueil.identity.models import enum_column


class AppointmentStatus(enum.StrEnum):
    booked = "booked"  # a place is held; the visitor is not here yet
    arrived = "arrived"  # checked in, waiting in the agency
    in_progress = "in_progress"  # with an agent at a counter
    done = "done"  # the visit ended (its outcome says how)
    no_show = "no_show"  # booked, never came
    cancelled = "cancelled"


OPEN_APPOINTMENT = (AppointmentStatus.booked, AppointmentStatus.arrived, AppointmentStatus.in_progress)


class VisitOutcome(enum.StrEnum):
    resolved = "resolved"
    follow_up = "follow_up"  # needs more work: the case stays open
    redirected = "redirected"  # sent to another channel or service
    no_show = "no_show"


class AgencySettings(Base):
    __tablename__ = "agency_settings"

    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)
    # {"mon": [["09:00", "12:30"], ["14:00", "18:00"]], ...} in the site's time zone; a missing day is closed
    opening_hours: Mapped[dict[str, Any]] = mapped_column(default=dict)
    slot_minutes: Mapped[int] = mapped_column(Integer, default=30)
    counters: Mapped[int] = mapped_column(Integer, default=1)  # appointments in parallel per slot
    motif_codes: Mapped[list[Any]] = mapped_column(default=list)  # motifs bookable there
    closed_on_public_holidays: Mapped[bool] = mapped_column(Boolean, default=True)
    booking_horizon_days: Mapped[int] = mapped_column(Integer, default=30)
    booking_lead_minutes: Mapped[int] = mapped_column(Integer, default=60)
    online_booking: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)


class AgencyClosure(IdMixin, Base):
    """Closed on these local days (inclusive): works, staff event, local holiday."""

    __tablename__ = "agency_closures"

    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class Appointment(IdMixin, Base):
    """A booked appointment or a walk-in visit at an agency; the visit itself is an interaction."""

    __tablename__ = "appointments"
    __table_args__ = (
        UniqueConstraint("site_id", "starts_at", "counter"),  # one customer per place
        Index("ix_appointments_site_starts", "site_id", "starts_at"),
    )

    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    motif_id: Mapped[str] = mapped_column(ForeignKey("motifs.id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    interaction_id: Mapped[str | None] = mapped_column(ForeignKey("interactions.id"))  # the visit, once here
    walk_in: Mapped[bool] = mapped_column(Boolean, default=False)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    counter: Mapped[int | None] = mapped_column(Integer)  # the place held; NULL once cancelled (or walk-in)
    status: Mapped[AppointmentStatus] = mapped_column(enum_column(AppointmentStatus),
                                                      default=AppointmentStatus.booked)
    outcome: Mapped[VisitOutcome | None] = mapped_column(enum_column(VisitOutcome))
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(320))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(5), default="fr")
    note: Mapped[str | None] = mapped_column(Text)
    # SHA-256 of the random secrets in the cancel links (confirmation, reminder): the links are not stored
    cancel_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    reminder_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    request_key: Mapped[str | None] = mapped_column(String(80), unique=True)  # a resubmitted form finds it
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    arrived_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
