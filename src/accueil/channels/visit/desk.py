"""The agency desk: check in booked visitors and walk-ins, start and finish visits.

A visit is an interaction of channel ``visit`` on the customer's case (so it is on their journey and in
every KPI): arrived at check-in, answered when an agent starts it, ended with an outcome when it
finishes — its handle time is start → end, its wait is check-in → start. Agencies serve their own
waiting room, so visits are not put in a routing queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from accueil.channels.visit import messages
from accueil.channels.visit import slots as pure
from accueil.channels.visit.agencies import Agency, access_agency
from accueil.channels.visit.events import (
    AppointmentArrived,
    AppointmentFinished,
    AppointmentProgressed,
    AppointmentStarted,
)
from accueil.channels.visit.models import Appointment, AppointmentStatus, VisitOutcome
from accueil.channels.visit.service import check_contacts, check_request_key
from accueil.conversations.models import (
    OPEN_STATUSES,
    Case,
    CaseStatus,
    ChannelKind,
    Direction,
    Interaction,
    Motif,
    Outcome,
)
from accueil.conversations.service import (
    ConversationConfig,
    InboundContact,
    do_add_note,
    do_change_status,
    do_receive_inbound,
    do_record_interaction_event,
    do_reopen_case,
    do_resolve_case,
)
from accueil.core import clock
from accueil.core.errors import Conflict, NotFound, ValidationFailed
from accueil.core.ids import id_at
from accueil.db.session import queue_event
from accueil.routing.enqueue import announce_arrival
from accueil.routing.events import InteractionArrived

# The outcome of a visit, as the interaction's outcome (KPIs) and what becomes of the case.
INTERACTION_OUTCOME = {VisitOutcome.resolved: Outcome.handled, VisitOutcome.follow_up: Outcome.handled,
                       VisitOutcome.redirected: Outcome.handled, VisitOutcome.no_show: Outcome.abandoned}


@dataclass
class DeskRow:
    appointment: Appointment
    customer_name: str
    motif: Motif | None
    case_reference: str

    @property
    def duration_seconds(self) -> float | None:
        a = self.appointment
        if a.started_at is None or a.ended_at is None:
            return None
        return (a.ended_at - a.started_at).total_seconds()


def access_appointment(session: Session, appointment_id: str) -> Appointment:
    found = session.get(Appointment, appointment_id)
    if found is None:
        raise NotFound("not_found", kind="appointment", id=appointment_id)
    return found


def _expect(appointment: Appointment, action: str, *allowed: AppointmentStatus) -> None:
    if appointment.status not in allowed:
        raise Conflict("appointment_state", status=appointment.status.value, action=action)


def day_list(session: Session, *, agency: Agency, day: date) -> list[DeskRow]:
    """The day's appointments and walk-ins at an agency, in order (cancelled ones left out)."""
    since, until = pure.day_range_utc(agency.rules, day)
    rows = session.execute(
        select(Appointment, Case.reference, Motif).join(Case, Case.id == Appointment.case_id)
        .outerjoin(Motif, Motif.id == Appointment.motif_id)
        .where(Appointment.site_id == agency.site.id, Appointment.starts_at >= since, Appointment.starts_at < until,
               Appointment.status != AppointmentStatus.cancelled)
        .order_by(Appointment.starts_at, Appointment.counter))
    return [DeskRow(appointment, appointment.contact_name or "", motif, reference or "")
            for appointment, reference, motif in rows]


def do_check_in(session: Session, *, appointment_id: str, actor_id: str | None = None,
                now: datetime | None = None) -> Appointment:
    """A booked visitor is here: their visit begins (an interaction on their case, waiting)."""
    now = now or clock.now()
    appointment = access_appointment(session, appointment_id)
    if appointment.status is AppointmentStatus.arrived:
        return appointment  # checked in twice (two desks, a double click): once
    _expect(appointment, "check in", AppointmentStatus.booked)
    case = session.get(Case, appointment.case_id)
    if case is not None and case.status is CaseStatus.resolved:
        do_reopen_case(session, case_id=case.id, reason="customer_contact", now=now)
    interaction = Interaction(id=id_at(now.timestamp()), case_id=appointment.case_id,
                              customer_id=appointment.customer_id, channel=ChannelKind.visit,
                              direction=Direction.inbound, arrived_at=now)
    session.add(interaction)
    session.flush()
    do_record_interaction_event(session, interaction_id=interaction.id, kind="arrived", at=now, agent_id=actor_id,
                                data={"channel": "visit", "appointment_id": appointment.id})
    announce_arrival(session, InteractionArrived(
        interaction_id=interaction.id, case_id=interaction.case_id, customer_id=interaction.customer_id,
        channel=ChannelKind.visit.value, queue_id=None), now)
    appointment.status, appointment.arrived_at, appointment.interaction_id = (
        AppointmentStatus.arrived, now, interaction.id)
    _event(session, AppointmentArrived, appointment, now)
    return appointment


def do_walk_in(session: Session, *, site_id: str, motif_code: str, name: str, email: str | None = None,
               phone: str | None = None, language: str = "fr", request_key: str | None = None,
               config: ConversationConfig, actor_id: str | None = None, now: datetime | None = None) -> Appointment:
    """Someone comes in without an appointment: found or created as a customer, their case, their visit."""
    now = now or clock.now()
    key = check_request_key(request_key)
    if key is not None:
        seen = session.scalar(select(Appointment).where(Appointment.request_key == key))
        if seen is not None:
            return seen
    agency = access_agency(session, site_id=site_id)
    motif = session.scalar(select(Motif).where(Motif.code == motif_code, Motif.active.is_(True)))
    if motif is None:
        raise ValidationFailed("unknown_motif", value=motif_code)
    name, identities = check_contacts(name=name, email=email, phone=phone, phone_region=config.phone_region)
    language = language if language in ("fr", "en") else "fr"
    received = do_receive_inbound(session, config=config, now=now, contact=InboundContact(
        channel=ChannelKind.visit, identities=identities, display_name=name, language=language,
        motif_code=motif.code, body_text=messages.text("walk_in_note", language, agency=agency.site.name),
        provider_message_id=f"walk-in:{key}" if key else None, occurred_at=now))
    appointment = Appointment(
        site_id=agency.site.id, motif_id=motif.id, customer_id=received.customer_id, case_id=received.case_id,
        interaction_id=received.interaction_id, walk_in=True, starts_at=now,
        ends_at=now + timedelta(minutes=agency.rules.slot_minutes), counter=None, status=AppointmentStatus.arrived,
        contact_name=name, language=language, request_key=key, created_at=now, arrived_at=now,
        contact_email=next((i.value for i in identities if i.kind.value == "email"), None),
        contact_phone=next((i.value for i in identities if i.kind.value == "phone"), None), agent_id=None)
    session.add(appointment)
    session.flush()
    _event(session, AppointmentArrived, appointment, now)
    return appointment


def do_start_visit(session: Session, *, appointment_id: str, agent_id: str, now: datetime | None = None) -> Appointment:
    """An agent takes the visitor to a counter: the interaction is answered by them."""
    now = now or clock.now()
    appointment = access_appointment(session, appointment_id)
    if appointment.status is AppointmentStatus.in_progress and appointment.agent_id == agent_id:
        return appointment
    _expect(appointment, "start", AppointmentStatus.arrived)
    assert appointment.interaction_id is not None
    do_record_interaction_event(session, interaction_id=appointment.interaction_id, kind="answered", at=now,
                                agent_id=agent_id)
    appointment.status, appointment.started_at, appointment.agent_id = AppointmentStatus.in_progress, now, agent_id
    case = session.get(Case, appointment.case_id)
    if case is not None and case.status is CaseStatus.new:
        do_change_status(session, case_id=case.id, status=CaseStatus.open, actor_id=agent_id, now=now)
    _event(session, AppointmentStarted, appointment, now)
    return appointment


def do_finish_visit(session: Session, *, appointment_id: str, outcome: VisitOutcome | str, agent_id: str,
                    note: str | None = None, config: ConversationConfig, now: datetime | None = None) -> Appointment:
    """The visit ends with an outcome: the interaction gets its end (duration) and outcome; a resolved
    visit resolves the case, a follow-up keeps it open. A visitor who left before being served is a no-show."""
    now = now or clock.now()
    try:
        outcome = VisitOutcome(outcome)
    except ValueError:
        raise ValidationFailed("validation_error", summary=f"unknown outcome {outcome!r}") from None
    appointment = access_appointment(session, appointment_id)
    if appointment.status in (AppointmentStatus.done, AppointmentStatus.no_show) and appointment.outcome is outcome:
        return appointment
    if outcome is VisitOutcome.no_show:
        _expect(appointment, "no-show", AppointmentStatus.booked, AppointmentStatus.arrived)
    else:
        _expect(appointment, "finish", AppointmentStatus.in_progress)
    if appointment.interaction_id is not None:
        do_record_interaction_event(session, interaction_id=appointment.interaction_id, kind="ended", at=now,
                                    agent_id=agent_id, outcome=INTERACTION_OUTCOME[outcome],
                                    data={"visit_outcome": outcome.value})
    appointment.status = AppointmentStatus.no_show if outcome is VisitOutcome.no_show else AppointmentStatus.done
    appointment.outcome, appointment.ended_at = outcome, now
    if note and note.strip():
        do_add_note(session, case_id=appointment.case_id, author_user_id=agent_id, body_text=note.strip(),
                    config=config, now=now)
    case = session.get(Case, appointment.case_id)
    if outcome is VisitOutcome.resolved and case is not None and case.status in OPEN_STATUSES:
        do_resolve_case(session, case_id=case.id, resolution_code="visit_resolved", actor_id=agent_id, now=now)
    _event(session, AppointmentFinished, appointment, now)
    return appointment


def _event(session: Session, step: type[AppointmentProgressed], appointment: Appointment, now: datetime) -> None:
    queue_event(session, step(appointment_id=appointment.id, site_id=appointment.site_id,
                              case_id=appointment.case_id, status=appointment.status.value), now)
