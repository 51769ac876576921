"""Booking an agency appointment, cancelling it from the link, and the reminder before it.

A booking is one transaction: the customer (found by email/phone, or created), the case for the motif
(the customer's open one, or a new one) with the booking on its journey, one place in the slot, the
confirmation and the reminder timer. The place is a unique (agency, start, counter) row, so two people
can never take the last place, on SQLite or PostgreSQL. The same form sent twice (double click, retry)
carries the same request key and finds the first booking. The cancel links carry random secrets of which
only hashes are kept.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from accueil.channels import notify
from accueil.channels.visit import messages
from accueil.channels.visit import slots as pure
from accueil.channels.visit.agencies import Agency, access_agency, taken_places
from accueil.channels.visit.events import AppointmentBooked, AppointmentCancelled
from accueil.channels.visit.models import Appointment, AppointmentStatus
from accueil.conversations.models import Case, CaseStatus, ChannelKind, Motif, Outcome
from accueil.conversations.service import (
    ConversationConfig,
    InboundContact,
    do_receive_inbound,
    do_record_interaction_event,
    do_resolve_case,
)
from accueil.core import clock
from accueil.core.errors import Conflict, NotFound, ValidationFailed
from accueil.customers.models import IdentityKind
from accueil.customers.service import IdentityRef, find_customer_by_identity, normalise_identity
from accueil.db.jobs import do_schedule_job, job_handler
from accueil.db.session import queue_event

log = logging.getLogger(__name__)

REMINDER_KIND = "visit.reminder"
CANCEL_PATH = "/portal/appointments/cancel/"


@dataclass(frozen=True)
class BookingRequest:
    agency_code: str
    motif_code: str
    starts_at: datetime
    name: str
    email: str | None = None
    phone: str | None = None
    language: str = "fr"
    request_key: str | None = None  # the form's one-time key: a resubmission finds the first booking


@dataclass
class Booking:
    appointment: Appointment
    created: bool  # False: this request had already booked it


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def cancel_link(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + CANCEL_PATH + token


def check_contacts(*, name: str, email: str | None, phone: str | None,
                   phone_region: str = "FR") -> tuple[str, list[IdentityRef]]:
    """A name and at least one way to reach the customer, normalised (invalid ones are 422)."""
    name = " ".join((name or "").split())[:200]
    if not name:
        raise ValidationFailed("name_required")
    identities = []
    if email and email.strip():
        identities.append(normalise_identity(IdentityKind.email, email))
    if phone and phone.strip():
        identities.append(normalise_identity(IdentityKind.phone, phone, phone_region=phone_region))
    if not identities:
        raise ValidationFailed("contact_required")
    return name, identities


def check_request_key(key: str | None) -> str | None:
    key = (key or "").strip()
    if not key:
        return None
    if len(key) > 80 or not all(c.isalnum() or c in "-_" for c in key):
        raise ValidationFailed("validation_error", summary="request_key: up to 80 letters, digits, - or _")
    return key


def _motif(session: Session, agency: Agency, code: str) -> Motif:
    motif = session.scalar(select(Motif).where(Motif.code == code, Motif.active.is_(True)))
    if motif is None or code not in (agency.settings.motif_codes or []):
        raise ValidationFailed("motif_not_bookable", value=code)
    return motif


def do_book_appointment(session: Session, *, request: BookingRequest, config: ConversationConfig, base_url: str,
                        reminder_hours: float = 24.0, now: datetime | None = None) -> Booking:
    now = now or clock.now()
    key = check_request_key(request.request_key)
    if key is not None:
        seen = session.scalar(select(Appointment).where(Appointment.request_key == key))
        if seen is not None:
            return Booking(seen, created=False)
    agency = access_agency(session, code=request.agency_code, online=True)
    motif = _motif(session, agency, request.motif_code)
    name, identities = check_contacts(name=request.name, email=request.email, phone=request.phone,
                                      phone_region=config.phone_region)
    if request.starts_at.tzinfo is None:
        raise ValidationFailed("validation_error", summary="the appointment time needs a time zone")
    slot = pure.find_slot(agency.rules, clock.ensure_utc(request.starts_at), now=now)
    if slot is None:
        raise Conflict("slot_unavailable")
    language = request.language if request.language in ("fr", "en") else "fr"
    for ref in identities:  # the same person booking the same time again: one appointment
        known = find_customer_by_identity(session, ref)
        repeat = known and session.scalar(select(Appointment).where(
            Appointment.customer_id == known.id, Appointment.site_id == agency.site.id,
            Appointment.starts_at == slot.starts_at, Appointment.status == AppointmentStatus.booked))
        if repeat:
            return Booking(repeat, created=False)
    when = messages.when(slot.starts_at, agency.site.timezone, language)
    received = do_receive_inbound(session, config=config, now=now, contact=InboundContact(
        channel=ChannelKind.webform, identities=identities, display_name=name, language=language,
        motif_code=motif.code, subject=messages.text("booked_note", language, when=when, agency=agency.site.name),
        body_text=messages.text("booked_note", language, when=when, agency=agency.site.name),
        provider_message_id=f"appointment:{key}" if key else None, occurred_at=now))
    # The booking is self-service: its web exchange ends at once (the visit is the interaction that counts).
    do_record_interaction_event(session, interaction_id=received.interaction_id, kind="ended", at=now,
                                outcome=Outcome.deflected, data={"reason": "appointment_booked"})
    token = secrets.token_urlsafe(24)
    appointment = _claim_place(session, agency, slot, dict(
        motif_id=motif.id, customer_id=received.customer_id, case_id=received.case_id, walk_in=False,
        starts_at=slot.starts_at, ends_at=slot.ends_at, status=AppointmentStatus.booked, contact_name=name,
        contact_email=next((i.value for i in identities if i.kind is IdentityKind.email), None),
        contact_phone=next((i.value for i in identities if i.kind is IdentityKind.phone), None),
        language=language, cancel_token_hash=hash_token(token), request_key=key, created_at=now))
    _notify(session, appointment, agency, "confirm", cancel_link(base_url, token), now=now)
    remind_at = slot.starts_at - timedelta(hours=reminder_hours)
    if reminder_hours > 0 and remind_at > now:
        do_schedule_job(session, kind=REMINDER_KIND, run_at=remind_at, dedupe_key=f"{REMINDER_KIND}:{appointment.id}",
                        payload={"appointment_id": appointment.id, "base_url": base_url})
    queue_event(session, AppointmentBooked(
        appointment_id=appointment.id, site_id=agency.site.id, case_id=appointment.case_id,
        starts_at=clock.iso_z(appointment.starts_at)), now)
    return Booking(appointment, created=True)


def _claim_place(session: Session, agency: Agency, slot: pure.Slot, values: dict) -> Appointment:
    """Insert with the first free counter; a concurrent booking of the same place makes the insert fail
    (unique key) and the next counter is tried. None left: the slot is full."""
    taken = taken_places(session, site_id=agency.site.id, since=slot.starts_at,
                         until=slot.starts_at + timedelta(seconds=1))
    if taken.get(slot.starts_at, 0) >= agency.rules.counters:
        raise Conflict("slot_unavailable")
    held = set(session.scalars(select(Appointment.counter).where(
        Appointment.site_id == agency.site.id, Appointment.starts_at == slot.starts_at,
        Appointment.counter.is_not(None))))
    for counter in range(1, agency.rules.counters + 1):
        if counter in held:
            continue
        appointment = Appointment(site_id=agency.site.id, counter=counter, **values)
        try:
            with session.begin_nested():
                session.add(appointment)
                session.flush()
        except IntegrityError:
            if values.get("request_key") and session.scalar(
                    select(Appointment.id).where(Appointment.request_key == values["request_key"])):
                raise
            continue
        return appointment
    raise Conflict("slot_unavailable")


def book_appointment(factory: sessionmaker[Session], *, request: BookingRequest, config: ConversationConfig,
                     base_url: str, reminder_hours: float = 24.0, now: datetime | None = None) -> Booking:
    """``do_book_appointment`` in its own transaction. A race lost to the same request (a double submit
    landing at once) returns the booking that won; a race on a new identity is tried again."""
    for attempt in range(3):
        try:
            with factory() as session, session.begin():
                return do_book_appointment(session, request=request, config=config, base_url=base_url,
                                           reminder_hours=reminder_hours, now=now)
        except IntegrityError:
            if attempt == 2:
                raise
            log.info("appointment booking raced a concurrent one; trying again")
    raise AssertionError("unreachable")


def _notify(session: Session, appointment: Appointment, agency: Agency, kind: str, link: str | None, *,
            now: datetime) -> None:
    """Email and/or SMS to the contacts given, in the customer's language (nothing when not configured)."""
    language = appointment.language
    motif = session.get(Motif, appointment.motif_id)
    case = session.get(Case, appointment.case_id)
    values = dict(name=appointment.contact_name or "", agency=agency.site.name, address=agency.site.address or "",
                  when=messages.when(appointment.starts_at, agency.site.timezone, language), link=link or "",
                  motif=(motif.label_fr if language == "fr" else motif.label_en) if motif else "",
                  reference=case.reference if case else "")
    dedupe = f"visit.{kind}:{appointment.id}"
    if appointment.contact_email:
        notify.do_queue_email(session, to=appointment.contact_email,
                              subject=messages.text(f"{kind}_subject", language, **values),
                              body=messages.text(f"{kind}_body", language, **values), dedupe_key=dedupe, now=now)
    if appointment.contact_phone and f"{kind}_sms" in messages.TEXTS:
        notify.do_queue_sms(session, to=appointment.contact_phone, text=messages.text(f"{kind}_sms", language, **values),
                            dedupe_key=dedupe, now=now)


def access_appointment_by_token(session: Session, token: str) -> Appointment:
    digest = hash_token(token or "")
    found = session.scalar(select(Appointment).where(or_(Appointment.cancel_token_hash == digest,
                                                         Appointment.reminder_token_hash == digest)))
    if found is None or not token:
        raise NotFound("appointment_link_invalid")
    return found


def do_cancel_appointment(session: Session, *, appointment: Appointment, by: str = "customer",
                          actor_id: str | None = None, now: datetime | None = None) -> Appointment:
    """Cancel a booked appointment: its place is free again at once. Cancelling twice changes nothing."""
    now = now or clock.now()
    if appointment.status is AppointmentStatus.cancelled:
        return appointment
    if appointment.status is not AppointmentStatus.booked:
        raise Conflict("appointment_state", status=appointment.status.value, action="cancel")
    appointment.status, appointment.counter, appointment.cancelled_at = AppointmentStatus.cancelled, None, now
    session.flush()
    case = session.get(Case, appointment.case_id)
    if case is not None and case.status is CaseStatus.new:  # nobody worked on it: nothing left to do
        do_resolve_case(session, case_id=case.id, resolution_code="appointment_cancelled", actor_id=actor_id, now=now)
    agency = access_agency(session, site_id=appointment.site_id)
    _notify(session, appointment, agency, "cancelled", None, now=now)
    queue_event(session, AppointmentCancelled(appointment_id=appointment.id, by=by, site_id=appointment.site_id), now)
    return appointment


def do_cancel_by_token(session: Session, *, token: str, now: datetime | None = None) -> Appointment:
    return do_cancel_appointment(session, appointment=access_appointment_by_token(session, token), now=now)


@job_handler(REMINDER_KIND)
def _remind(session: Session, payload: dict, now: datetime) -> None:
    """Before the appointment: a reminder with a fresh cancel link (the first one's secret is not kept)."""
    appointment = session.get(Appointment, payload["appointment_id"])
    if appointment is None or appointment.status is not AppointmentStatus.booked:
        return
    if clock.ensure_utc(appointment.starts_at) <= now:
        return
    token = secrets.token_urlsafe(24)
    appointment.reminder_token_hash = hash_token(token)
    agency = access_agency(session, site_id=appointment.site_id)
    _notify(session, appointment, agency, "reminder", cancel_link(payload.get("base_url", ""), token), now=now)

