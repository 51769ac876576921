"""The public portal's appointment pages (no sign-in): choose a motif, an agency, a day and a slot, give
contact details, see the confirmation; and the page a cancel link opens.

No session means no CSRF token: forms are checked for same origin and limited per client address; every
field is validated by the service (422 with the form shown again, nothing written). The booking form
carries a one-time request key, so a double click or a reload books once and shows the same confirmation.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_day_names
from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from accueil.api.public import scoped_key
from accueil.channels.visit import agencies, messages, service
from accueil.channels.visit import slots as pure
from accueil.channels.visit.api import public_base
from accueil.channels.visit.models import Appointment
from accueil.channels.visit.public_api import check_public_rate, check_same_origin
from accueil.conversations.models import Case, Motif
from accueil.core import clock
from accueil.core.errors import AccueilError, NotFound, ValidationFailed
from accueil.core.i18n import LANGUAGES, error_message
from accueil.identity.models import Site
from accueil.web.render import language_of, redirect, render
from accueil.web.session import LANGUAGE_COOKIE, cookie_options

router = APIRouter(include_in_schema=False)
PAGE = "portal/appointments.html"
CANCEL_PAGE = "portal/cancel.html"


def _language_first(request: Request) -> Response | None:
    """``?lang=en`` picks the language once (the cookie remembers it) and the address drops it, so the
    page's own language picker keeps working afterwards."""
    wanted = request.query_params.get("lang")
    if wanted not in LANGUAGES:
        return None
    rest = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    response = redirect(request, request.url.path + (f"?{urlencode(rest)}" if rest else ""))
    response.set_cookie(LANGUAGE_COOKIE, wanted, max_age=365 * 86400, **cookie_options(request.app.state.runtime))
    return response


def _read(request: Request, work: Any) -> Any:
    def run() -> Any:
        with request.app.state.runtime.read_factory() as session:
            return work(session)

    return run_in_threadpool(run)


def hours_rows(agency: agencies.Agency, language: str) -> list[tuple[str, str]]:
    names = get_day_names("wide", locale=language)
    rows = []
    for index, day in enumerate(pure.DAYS):
        ranges = agency.rules.hours.get(day, ())
        rows.append((names[index].capitalize(), ", ".join(f"{a.strftime('%H:%M')}–{b.strftime('%H:%M')}"
                                                          for a, b in ranges)))
    return rows


def _choice(session: Session, *, language: str, motif: str, agency_code: str, day: str, now: datetime) -> dict:
    """What the page offers at each step, from what was chosen so far."""
    online = agencies.list_agencies(session, online=True)
    context: dict[str, Any] = {"motifs": agencies.bookable_motifs(session, online), "motif": None, "agencies": [],
                               "agency": None, "days": [], "day": None, "slots": [], "hours": []}
    context["motif"] = next((m for m in context["motifs"] if m.code == motif), None)
    if context["motif"] is None:
        return context
    context["agencies"] = [(a, hours_rows(a, language)) for a in online if motif in (a.settings.motif_codes or [])]
    agency = next((a for a, _ in context["agencies"] if a.code == agency_code), None)
    if agency is None:
        return context
    context["agency"], context["hours"] = agency, hours_rows(agency, language)
    context["days"] = [(d.isoformat(), format_date(d, "EEEE d MMMM", locale=language), n)
                       for d, n in agencies.open_days(session, agency, now=now)]
    try:
        chosen = date.fromisoformat(day) if day else None
    except ValueError:
        chosen = None
    if chosen is None:
        return context
    zone = ZoneInfo(agency.site.timezone)
    context["day"] = (chosen.isoformat(), format_date(chosen, "EEEE d MMMM y", locale=language))
    context["slots"] = [(clock.iso_z(s.starts_at), format_time(s.starts_at, "HH:mm", tzinfo=zone, locale=language))
                        for s in agencies.free_slots(session, agency, chosen, now=now)]
    return context


def _page(request: Request, context: dict, *, status_code: int = 200) -> Response:
    context.setdefault("values", {})
    context.setdefault("error", None)
    context["request_key"] = context["values"].get("request_key") or secrets.token_urlsafe(18)
    return render(request, PAGE, context, status_code=status_code)


@router.get("/portal/appointments")
async def appointment_page(request: Request, motif: str = "", agency: str = "", day: str = "") -> Response:
    switched = _language_first(request)
    if switched is not None:
        return switched
    language = language_of(request, None)
    context = await _read(request, lambda s: _choice(s, language=language, motif=motif[:60], agency_code=agency[:40],
                                                     day=day[:10], now=clock.now()))
    return _page(request, context)


def _confirmation(session: Session, appointment: Appointment, language: str) -> dict:
    site = session.get(Site, appointment.site_id)
    motif = session.get(Motif, appointment.motif_id)
    case = session.get(Case, appointment.case_id)
    return {"appointment": appointment, "site": site, "reference": case.reference if case else "",
            "motif_label": (motif.label_fr if language == "fr" else motif.label_en) if motif else "",
            "when": messages.when(appointment.starts_at, site.timezone if site else "Europe/Paris", language)}


@router.post("/portal/appointments")
async def book(request: Request, agency: str = Form(""), motif: str = Form(""), starts_at: str = Form(""),
               day: str = Form(""), name: str = Form(""), email: str = Form(""), phone: str = Form(""),
               request_key: str = Form("")) -> Response:
    check_same_origin(request)
    check_public_rate(request)
    rt = request.app.state.runtime
    language = language_of(request, None)
    values = {"name": name[:200], "email": email[:320], "phone": phone[:40], "starts_at": starts_at,
              "request_key": request_key[:80]}

    def work() -> dict:
        try:
            moment = datetime.fromisoformat(starts_at) if starts_at else None
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise ValidationFailed("slot_required")
        booking = service.book_appointment(rt.factory, config=rt.conversation_config, base_url=public_base(request),
                                           reminder_hours=rt.settings.appointment_reminder_hours,
                                           request=service.BookingRequest(
                                               agency_code=agency[:40], motif_code=motif[:60], starts_at=moment,
                                               name=name[:200], email=email[:320] or None, phone=phone[:40] or None,
                                               language=language, request_key=scoped_key(request, request_key[:80])))
        with rt.read_factory() as session:
            return _confirmation(session, booking.appointment, language)

    try:
        done = await run_in_threadpool(work)
    except AccueilError as exc:
        if exc.status_code >= 500 or exc.status_code in (403, 429):
            raise
        context = await _read(request, lambda s: _choice(s, language=language, motif=motif[:60],
                                                         agency_code=agency[:40], day=day[:10], now=clock.now()))
        context.update(values=values, error=error_message(exc.code, language, exc.details))
        return _page(request, context, status_code=exc.status_code)
    return render(request, "portal/confirmed.html", done)


def _cancel_context(session: Session, token: str, language: str) -> dict:
    appointment = service.access_appointment_by_token(session, token)
    return {**_confirmation(session, appointment, language), "token": token}


@router.get("/portal/appointments/cancel/{token}")
async def cancel_page(request: Request, token: str) -> Response:
    """Opening the link changes nothing (mail scanners open links): the visitor confirms with the button."""
    switched = _language_first(request)
    if switched is not None:
        return switched
    language = language_of(request, None)
    try:
        context = await _read(request, lambda s: _cancel_context(s, token[:100], language))
    except NotFound:
        return render(request, CANCEL_PAGE, {"invalid": True}, status_code=404)
    return render(request, CANCEL_PAGE, context)


@router.post("/portal/appointments/cancel/{token}")
async def cancel(request: Request, token: str) -> Response:
    check_same_origin(request)
    check_public_rate(request)
    rt = request.app.state.runtime
    language = language_of(request, None)

    def work() -> dict:
        with rt.factory() as session, session.begin():
            service.do_cancel_by_token(session, token=token[:100])
            return _cancel_context(session, token[:100], language)

    try:
        context = await run_in_threadpool(work)
    except NotFound:
        return render(request, CANCEL_PAGE, {"invalid": True}, status_code=404)
    except AccueilError as exc:
        if exc.status_code >= 500 or exc.status_code in (403, 429):
            raise
        context = await _read(request, lambda s: _cancel_context(s, token[:100], language))
        context["error"] = error_message(exc.code, language, exc.details)
        return render(request, CANCEL_PAGE, context, status_code=exc.status_code)
    return render(request, CANCEL_PAGE, context)
