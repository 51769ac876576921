"""The agency desk page: the day's appointments and walk-ins, check-in, start and finish a visit.

For the agency's own agents, supervisors and administrators. Thin: each form is one call to the desk
service in one transaction, then back to the page (Post/Redirect/Get, so a reload repeats nothing).
"""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any
from urllib.parse import quote

from babel.dates import format_date
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from accueil.channels.visit import agencies, desk
from accueil.channels.visit import slots as pure
from accueil.channels.visit.models import AppointmentStatus, VisitOutcome
from accueil.conversations.models import Motif
from accueil.core import clock
from accueil.core.errors import AccueilError
from accueil.core.i18n import error_message
from accueil.identity.models import Role
from accueil.web.render import redirect, render
from accueil.web.session import WebUser, check_csrf, current_user, require_role

router = APIRouter(prefix="/agency", include_in_schema=False)



async def desk_user(user: WebUser = Depends(current_user)) -> WebUser:
    require_role(user, (Role.admin, Role.supervisor, Role.agent))
    return user


def _load(session: Session, user: WebUser, code: str, day_text: str) -> dict[str, Any]:
    mine = agencies.staff_agencies(session, role=user.role, user_site_id=user.site_id)
    agency = next((a for a in mine if a.code == code), mine[0] if mine else None)
    context: dict[str, Any] = {"agencies": mine, "agency": agency, "rows": [], "motifs": [], "day": None}
    if agency is None:
        return context
    try:
        day = date.fromisoformat(day_text) if day_text else pure.local_today(agency.rules, clock.now())
    except ValueError:
        day = pure.local_today(agency.rules, clock.now())
    codes = agency.settings.motif_codes or []
    context.update(
        day=day, day_label=format_date(day, "EEEE d MMMM y", locale=user.language),
        today=pure.local_today(agency.rules, clock.now()), rows=desk.day_list(session, agency=agency, day=day),
        motifs=list(session.scalars(select(Motif).where(Motif.active.is_(True), Motif.parent_id.is_not(None))
                                    .order_by(Motif.code))),
        bookable=codes, outcomes=[o.value for o in VisitOutcome if o is not VisitOutcome.no_show],
        statuses=AppointmentStatus, walk_in_key=secrets.token_urlsafe(18))
    return context


async def _page(request: Request, user: WebUser, code: str, day: str, *, error: str | None = None,
                status_code: int = 200) -> Response:
    rt = request.app.state.runtime

    def read() -> dict:
        with rt.read_factory() as session:
            return _load(session, user, code, day)

    context = await run_in_threadpool(read)
    context["error"] = error
    return render(request, "agency/desk.html", context, user=user, status_code=status_code)


@router.get("")
async def desk_page(request: Request, site: str = "", day: str = "", user: WebUser = Depends(desk_user)) -> Response:
    return await _page(request, user, site[:40], day[:10])


async def _act(request: Request, user: WebUser, site: str, day: str, work: Any) -> Response:
    """Check the form, run one desk action for an appointment of an agency the user staffs, come back."""
    await check_csrf(request, user)
    rt = request.app.state.runtime

    def run() -> None:
        with rt.factory() as session, session.begin():
            work(session)

    try:
        await run_in_threadpool(run)
    except AccueilError as exc:
        if exc.status_code >= 500:
            raise
        return await _page(request, user, site, day, error=error_message(exc.code, user.language, exc.details),
                           status_code=exc.status_code)
    return redirect(request, f"/agency?site={quote(site)}" + (f"&day={quote(day)}" if day else ""))


def _guarded(user: WebUser, appointment_id: str, action: Any) -> Any:
    def work(session: Session) -> Any:
        found = desk.access_appointment(session, appointment_id)
        agencies.check_agency_staff(session, role=user.role, user_site_id=user.site_id, site_id=found.site_id)
        return action(session)

    return work


@router.post("/appointments/{appointment_id}/check-in")
async def check_in(request: Request, appointment_id: str, site: str = Form(""), day: str = Form(""),
                   user: WebUser = Depends(desk_user)) -> Response:
    return await _act(request, user, site, day, _guarded(user, appointment_id, lambda s: desk.do_check_in(
        s, appointment_id=appointment_id, actor_id=user.user_id)))


@router.post("/appointments/{appointment_id}/start")
async def start(request: Request, appointment_id: str, site: str = Form(""), day: str = Form(""),
                user: WebUser = Depends(desk_user)) -> Response:
    return await _act(request, user, site, day, _guarded(user, appointment_id, lambda s: desk.do_start_visit(
        s, appointment_id=appointment_id, agent_id=user.user_id)))


@router.post("/appointments/{appointment_id}/finish")
async def finish(request: Request, appointment_id: str, site: str = Form(""), day: str = Form(""),
                 outcome: str = Form(""), note: str = Form(""), user: WebUser = Depends(desk_user)) -> Response:
    config = request.app.state.runtime.conversation_config
    return await _act(request, user, site, day, _guarded(user, appointment_id, lambda s: desk.do_finish_visit(
        s, appointment_id=appointment_id, outcome=outcome, agent_id=user.user_id, note=note[:5000], config=config)))


@router.post("/walk-ins")
async def walk_in(request: Request, site: str = Form(""), day: str = Form(""), motif: str = Form(""),
                  name: str = Form(""), email: str = Form(""), phone: str = Form(""), request_key: str = Form(""),
                  user: WebUser = Depends(desk_user)) -> Response:
    config = request.app.state.runtime.conversation_config

    def work(session: Session) -> None:
        agency = agencies.access_agency(session, code=site)
        agencies.check_agency_staff(session, role=user.role, user_site_id=user.site_id, site_id=agency.site.id)
        desk.do_walk_in(session, site_id=agency.site.id, motif_code=motif[:60], name=name[:200],
                        email=email[:320] or None, phone=phone[:40] or None, request_key=request_key[:80] or None,
                        config=config, actor_id=user.user_id, now=clock.now())

    return await _act(request, user, site, day, work)
