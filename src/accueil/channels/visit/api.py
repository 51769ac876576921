"""REST endpoints: public ones for booking (agencies, free slots, book, cancel — no token, rate-limited)
and staff ones for the agency desk (the day's list, check-in, walk-in, start, finish)."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from accueil.api.deps import needs, run_idempotent, runtime, session_dep
from accueil.api.public import scoped_key
from accueil.channels.visit import agencies, desk, service
from accueil.channels.visit import slots as pure
from accueil.channels.visit.models import Appointment
from accueil.channels.visit.public_api import check_public_rate
from accueil.conversations.models import Case
from accueil.core import clock
from accueil.core.permissions import Principal
from accueil.identity.models import Site
from accueil.runtime import Runtime

public = APIRouter(prefix="/api/v1/public", tags=["appointments (public)"])
staff = APIRouter(prefix="/api/v1", tags=["agency desk"])


def public_base(request: Request) -> str:
    """Where customers reach this server (cancel links): the configured public URL, else this request's."""
    return request.app.state.runtime.settings.public_url or str(request.base_url)


def agency_body(session: Session, agency: agencies.Agency) -> dict:
    return {
        "code": agency.code, "name": agency.site.name, "address": agency.site.address,
        "timezone": agency.site.timezone, "opening_hours": pure.format_hours(agency.rules.hours),
        "slot_minutes": agency.rules.slot_minutes, "closed_on_public_holidays": agency.rules.public_holidays_closed,
        "motifs": [{"code": m.code, "label_fr": m.label_fr, "label_en": m.label_en}
                   for m in agencies.bookable_motifs(session, [agency])],
    }


def appointment_body(appointment: Appointment, *, agency_code: str | None = None,
                     case_reference: str | None = None) -> dict:
    return {
        "id": appointment.id, "agency": agency_code, "status": appointment.status.value,
        "starts_at": clock.iso_z(appointment.starts_at), "ends_at": clock.iso_z(appointment.ends_at),
        "walk_in": appointment.walk_in, "case_id": appointment.case_id, "case_reference": case_reference,
        "interaction_id": appointment.interaction_id,
        "outcome": appointment.outcome.value if appointment.outcome else None,
        "arrived_at": clock.iso_z(appointment.arrived_at), "started_at": clock.iso_z(appointment.started_at),
        "ended_at": clock.iso_z(appointment.ended_at),
        "duration_seconds": (appointment.ended_at - appointment.started_at).total_seconds()
        if appointment.started_at and appointment.ended_at else None,
    }


def _described(session: Session, appointment: Appointment) -> dict:
    site, case = session.get(Site, appointment.site_id), session.get(Case, appointment.case_id)
    return appointment_body(appointment, agency_code=site.code if site else None,
                            case_reference=case.reference if case else None)


def _public(session: Session, appointment: Appointment) -> dict:
    """What an unauthenticated caller may learn of a booking: when and where, never the customer's case."""

    site = session.get(Site, appointment.site_id)
    return {"id": appointment.id, "agency": site.code if site else None, "status": appointment.status.value,
            "starts_at": clock.iso_z(appointment.starts_at), "ends_at": clock.iso_z(appointment.ends_at)}


@public.get("/agencies", summary="Agencies where appointments can be booked (optionally for one motif)")
def list_public_agencies(session: Session = Depends(session_dep), motif: str | None = None) -> dict:
    return {"items": [agency_body(session, a) for a in agencies.list_agencies(session, online=True, motif_code=motif)]}


@public.get("/agencies/{code}/slots", summary="Free slots of one day, or the days that have some")
def public_slots(code: str, session: Session = Depends(session_dep), day: date | None = Query(None)) -> dict:
    now = clock.now()
    agency = agencies.access_agency(session, code=code, online=True)
    if day is None:
        return {"days": [{"day": d.isoformat(), "free_slots": n} for d, n in agencies.open_days(session, agency, now=now)]}
    return {"day": day.isoformat(), "slots": [
        {"starts_at": clock.iso_z(s.starts_at), "ends_at": clock.iso_z(s.ends_at), "free": s.free}
        for s in agencies.free_slots(session, agency, day, now=now)]}


class BookingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agency: str = Field(max_length=40)
    motif: str = Field(max_length=60)
    starts_at: datetime = Field(description="A slot's start, as given by the slots endpoint")
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    language: str = Field(default="fr", pattern="^(fr|en)$")
    request_key: str | None = Field(default=None, max_length=80,
                                    description="Same key, same booking (else the Idempotency-Key header)")


@public.post("/appointments", status_code=201, summary="Book an appointment (201; a repeat of the same request: 200)")
async def book(payload: BookingIn, request: Request, rt: Runtime = Depends(runtime)) -> JSONResponse:
    check_public_rate(request)
    booking_request = service.BookingRequest(
        agency_code=payload.agency, motif_code=payload.motif, starts_at=payload.starts_at, name=payload.name,
        email=payload.email, phone=payload.phone, language=payload.language,
        request_key=scoped_key(request, payload.request_key or request.headers.get("idempotency-key")))

    def work() -> tuple[int, dict]:
        booking = service.book_appointment(rt.factory, request=booking_request, config=rt.conversation_config,
                                           base_url=public_base(request),
                                           reminder_hours=rt.settings.appointment_reminder_hours)
        with rt.read_factory() as session:
            return (201 if booking.created else 200), _public(session, booking.appointment)

    code, body = await run_in_threadpool(work)
    return JSONResponse(body, status_code=code)


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(max_length=100)


@public.post("/appointments/cancel", summary="Cancel with the secret of a confirmation or reminder link")
async def cancel(payload: CancelIn, request: Request, rt: Runtime = Depends(runtime)) -> dict:
    check_public_rate(request)

    def work() -> dict:
        with rt.factory() as session, session.begin():
            return _public(session, service.do_cancel_by_token(session, token=payload.token))

    return await run_in_threadpool(work)


# Staff ------------------------------------------------------------------------------------------------------


def _staff_check(session: Session, caller: Principal, site_id: str) -> None:
    agencies.check_agency_staff(session, role=caller.role, user_site_id=caller.site_id, site_id=site_id)


@staff.get("/agencies/{code}/appointments", summary="An agency's appointments and walk-ins of a day")
def day_appointments(code: str, session: Session = Depends(session_dep), day: date | None = None,
                     caller: Principal = Depends(needs("cases:read"))) -> dict:
    agency = agencies.access_agency(session, code=code)
    _staff_check(session, caller, agency.site.id)
    day = day or pure.local_today(agency.rules, clock.now())
    return {"day": day.isoformat(), "items": [
        {**appointment_body(row.appointment, agency_code=agency.code, case_reference=row.case_reference),
         "customer_name": row.customer_name, "motif": row.motif.code if row.motif else None}
        for row in desk.day_list(session, agency=agency, day=day)]}


async def _desk_action(request: Request, rt: Runtime, caller: Principal, status: int, appointment_id: str,
                       action) -> JSONResponse:  # type: ignore[no-untyped-def]
    def work(session: Session) -> dict:
        found = desk.access_appointment(session, appointment_id)
        _staff_check(session, caller, found.site_id)
        return _described(session, action(session))

    code, body = await run_idempotent(request, rt, caller, status, work)
    return JSONResponse(body, status_code=code)


@staff.post("/appointments/{appointment_id}/check-in", summary="The booked visitor is here")
async def check_in(appointment_id: str, request: Request, rt: Runtime = Depends(runtime),
                   caller: Principal = Depends(needs("cases:write"))) -> JSONResponse:
    return await _desk_action(request, rt, caller, 200, appointment_id, lambda s: desk.do_check_in(
        s, appointment_id=appointment_id, actor_id=caller.user_id))


@staff.post("/appointments/{appointment_id}/start", summary="An agent starts the visit")
async def start(appointment_id: str, request: Request, rt: Runtime = Depends(runtime),
                caller: Principal = Depends(needs("cases:write"))) -> JSONResponse:
    return await _desk_action(request, rt, caller, 200, appointment_id, lambda s: desk.do_start_visit(
        s, appointment_id=appointment_id, agent_id=caller.user_id))


class FinishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: str = Field(description="resolved, follow_up, redirected or no_show")
    note: str | None = Field(default=None, max_length=5000)


@staff.post("/appointments/{appointment_id}/finish", summary="End the visit with its outcome")
async def finish(appointment_id: str, payload: FinishIn, request: Request, rt: Runtime = Depends(runtime),
                 caller: Principal = Depends(needs("cases:write"))) -> JSONResponse:
    return await _desk_action(request, rt, caller, 200, appointment_id, lambda s: desk.do_finish_visit(
        s, appointment_id=appointment_id, outcome=payload.outcome, agent_id=caller.user_id, note=payload.note,
        config=rt.conversation_config))


class WalkInIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    motif: str = Field(max_length=60)
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    language: str = Field(default="fr", pattern="^(fr|en)$")
    request_key: str | None = Field(default=None, max_length=80)


@staff.post("/agencies/{code}/walk-ins", status_code=201, summary="Check in someone without an appointment")
async def walk_in(code: str, payload: WalkInIn, request: Request, rt: Runtime = Depends(runtime),
                  caller: Principal = Depends(needs("cases:write"))) -> JSONResponse:
    def work(session: Session) -> dict:
        agency = agencies.access_agency(session, code=code)
        _staff_check(session, caller, agency.site.id)
        return _described(session, desk.do_walk_in(
            session, site_id=agency.site.id, motif_code=payload.motif, name=payload.name, email=payload.email,
            phone=payload.phone, language=payload.language, request_key=payload.request_key,
            config=rt.conversation_config, actor_id=caller.user_id))

    code_, body = await run_idempotent(request, rt, caller, 201, work)
    return JSONResponse(body, status_code=code_)
