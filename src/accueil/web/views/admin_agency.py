"""Administration of agencies as places to book: opening hours, slot length, counters, bookable motifs,
booking window, public holidays and exceptional closures. Administrators only; the rules are the
service's (a bad range or an unknown motif is refused with the page shown again)."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

from babel.dates import get_day_names
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from accueil.channels.visit import agencies
from accueil.channels.visit import slots as pure
from accueil.channels.visit.models import AgencySettings
from accueil.conversations.models import Motif
from accueil.core.errors import AccueilError, ValidationFailed
from accueil.core.i18n import error_message
from accueil.identity.models import Role, Site, SiteKind
from accueil.web.render import redirect, render
from accueil.web.session import WebUser, check_csrf, current_user, require_role

router = APIRouter(prefix="/admin/agencies", include_in_schema=False)
DEFAULT_HOURS = {day: [["09:00", "12:30"], ["14:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


async def admin_user(user: WebUser = Depends(current_user)) -> WebUser:
    require_role(user, (Role.admin,))
    return user


def hours_text(ranges: list) -> str:
    return ", ".join(f"{start}-{end}" for start, end in ranges)


def parse_hours_text(day: str, text: str) -> list[list[str]]:
    """``09:00-12:30, 14:00-18:00`` → ``[["09:00", "12:30"], ["14:00", "18:00"]]`` (empty: closed)."""
    found = []
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        start, sep, end = part.replace("–", "-").partition("-")
        if not sep:
            raise ValidationFailed("validation_error", summary=f"{day}: {part!r} is not a range like 09:00-12:30")
        found.append([start.strip(), end.strip()])
    return found


def _context(session: Session, code: str | None) -> dict[str, Any]:
    sites = list(session.scalars(select(Site).where(Site.kind == SiteKind.agency).order_by(Site.name)))
    configured = {row.site_id: row for row in session.scalars(select(AgencySettings))}
    site = next((s for s in sites if s.code == code), None)
    row = configured.get(site.id) if site else None
    return {
        "sites": sites, "configured": configured, "site": site, "settings": row, "days": pure.DAYS,
        "hours": {day: hours_text((row.opening_hours if row else DEFAULT_HOURS).get(day, [])) for day in pure.DAYS},
        "motifs": list(session.scalars(select(Motif).where(Motif.active.is_(True), Motif.parent_id.is_not(None))
                                       .order_by(Motif.code))),
        "closures": agencies.closures_of(session, site.id) if site else [],
    }


async def _page(request: Request, user: WebUser, code: str | None, *, error: str | None = None,
                status_code: int = 200) -> Response:
    rt = request.app.state.runtime

    def read() -> dict:
        with rt.read_factory() as session:
            return _context(session, code)

    context = await run_in_threadpool(read)
    context["error"] = error
    names = get_day_names("wide", locale=user.language)
    context["day_names"] = [names[index].capitalize() for index in range(7)]
    return render(request, "admin/agency.html", context, user=user, status_code=status_code)


@router.get("")
async def agencies_page(request: Request, user: WebUser = Depends(admin_user)) -> Response:
    return await _page(request, user, None)


@router.get("/{code}")
async def agency_page(request: Request, code: str, user: WebUser = Depends(admin_user)) -> Response:
    return await _page(request, user, code)


async def _write(request: Request, user: WebUser, code: str, work: Any) -> Response:
    await check_csrf(request, user)
    form = await request.form()
    rt = request.app.state.runtime

    def run() -> None:
        with rt.factory() as session, session.begin():
            site = session.scalar(select(Site).where(Site.code == code, Site.kind == SiteKind.agency))
            if site is None:
                raise ValidationFailed("unknown_site", value=code)
            work(session, site, form)

    try:
        await run_in_threadpool(run)
    except AccueilError as exc:
        return await _page(request, user, code, error=error_message(exc.code, user.language, exc.details),
                           status_code=422 if exc.status_code < 500 else exc.status_code)
    return redirect(request, f"/admin/agencies/{quote(code)}")


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _number(form: Any, name: str, default: int) -> int:
    text = _text(form, name)
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise ValidationFailed("validation_error", summary=f"{name}: a whole number") from None


def _save_settings(session: Session, site: Site, form: Any) -> None:
    agencies.do_save_agency_settings(
        session, site_id=site.id,
        opening_hours={day: parse_hours_text(day, _text(form, f"hours_{day}")) for day in pure.DAYS},
        slot_minutes=_number(form, "slot_minutes", 30), counters=_number(form, "counters", 1),
        motif_codes=[v for v in form.getlist("motif_codes") if isinstance(v, str) and v],
        closed_on_public_holidays=bool(form.get("closed_on_public_holidays")),
        booking_horizon_days=_number(form, "booking_horizon_days", 30),
        booking_lead_minutes=_number(form, "booking_lead_minutes", 60), online_booking=bool(form.get("online_booking")))


def _day(form: Any, name: str) -> date:
    try:
        return date.fromisoformat(_text(form, name))
    except ValueError:
        raise ValidationFailed("validation_error", summary=f"{name}: a date (YYYY-MM-DD)") from None


@router.post("/{code}")
async def save(request: Request, code: str, user: WebUser = Depends(admin_user)) -> Response:
    return await _write(request, user, code, _save_settings)


@router.post("/{code}/closures")
async def add_closure(request: Request, code: str, user: WebUser = Depends(admin_user)) -> Response:
    return await _write(request, user, code, lambda s, site, form: agencies.do_add_closure(
        s, site_id=site.id, first_day=_day(form, "first_day"),
        last_day=_day(form, "last_day") if _text(form, "last_day") else _day(form, "first_day"),
        reason=_text(form, "reason")))


@router.post("/{code}/closures/{closure_id}/delete")
async def remove_closure(request: Request, code: str, closure_id: str, user: WebUser = Depends(admin_user)) -> Response:
    def work(session: Session, site: Site, form: Any) -> None:
        closure = next((c for c in agencies.closures_of(session, site.id) if c.id == closure_id), None)
        if closure is None:
            raise ValidationFailed("validation_error", summary="no such closure at this agency")
        agencies.do_remove_closure(session, closure_id=closure.id)

    return await _write(request, user, code, work)
