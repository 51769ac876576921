"""Agencies as places to book: their rules (hours, slots, counters, motifs), closures, and free slots."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accueil.channels.visit import slots as pure
from accueil.channels.visit.models import AgencyClosure, AgencySettings, Appointment
from accueil.conversations.models import Motif
from accueil.core import clock
from accueil.core.errors import NotFound, PermissionDenied, ValidationFailed
from accueil.identity.models import Role, Site, SiteKind

LIMITS = {"slot_minutes": (5, 240), "counters": (1, 50), "booking_horizon_days": (1, 365),
          "booking_lead_minutes": (0, 7 * 24 * 60)}


@dataclass
class Agency:
    site: Site
    settings: AgencySettings
    rules: pure.AgencyRules

    @property
    def code(self) -> str:
        return self.site.code


def _rules(site: Site, row: AgencySettings, closures: Iterable[AgencyClosure]) -> pure.AgencyRules:
    days: set[date] = set()
    for closure in closures:
        day = closure.first_day
        while day <= closure.last_day:
            days.add(day)
            day += timedelta(days=1)
    return pure.AgencyRules(
        timezone=site.timezone, hours=pure.parse_hours(row.opening_hours or {}), slot_minutes=row.slot_minutes,
        counters=row.counters, closed_days=frozenset(days), public_holidays_closed=row.closed_on_public_holidays,
        horizon_days=row.booking_horizon_days, lead_minutes=row.booking_lead_minutes)


def _agency(session: Session, site: Site, row: AgencySettings) -> Agency:
    closures = session.scalars(select(AgencyClosure).where(AgencyClosure.site_id == site.id)).all()
    return Agency(site, row, _rules(site, row, closures))


def access_agency(session: Session, *, code: str | None = None, site_id: str | None = None,
                  online: bool = False) -> Agency:
    """An agency with its rules; ``online``: only one customers may book at (else 404, saying nothing)."""
    statement = select(Site, AgencySettings).join(AgencySettings, AgencySettings.site_id == Site.id).where(
        Site.kind == SiteKind.agency)
    statement = statement.where(Site.code == code) if code is not None else statement.where(Site.id == site_id)
    found = session.execute(statement).first()
    if found is None or (online and not found[1].online_booking):
        raise NotFound("not_found", kind="agency", id=code or site_id)
    return _agency(session, found[0], found[1])


def list_agencies(session: Session, *, online: bool = False, motif_code: str | None = None) -> list[Agency]:
    statement = select(Site, AgencySettings).join(AgencySettings, AgencySettings.site_id == Site.id).where(
        Site.kind == SiteKind.agency).order_by(Site.name)
    agencies = [_agency(session, site, row) for site, row in session.execute(statement)
                if not online or row.online_booking]
    if motif_code is not None:
        agencies = [a for a in agencies if motif_code in (a.settings.motif_codes or [])]
    return agencies


def bookable_motifs(session: Session, agencies: Iterable[Agency]) -> list[Motif]:
    codes = {code for agency in agencies for code in (agency.settings.motif_codes or [])}
    if not codes:
        return []
    return list(session.scalars(select(Motif).where(Motif.code.in_(codes), Motif.active.is_(True))
                                .order_by(Motif.code)))


def taken_places(session: Session, *, site_id: str, since: datetime, until: datetime) -> dict[datetime, int]:
    """Places held per slot start (cancelled appointments hold none)."""
    rows = session.execute(
        select(Appointment.starts_at, func.count()).where(
            Appointment.site_id == site_id, Appointment.counter.is_not(None), Appointment.starts_at >= since,
            Appointment.starts_at < until).group_by(Appointment.starts_at))
    return {clock.ensure_utc(start): count for start, count in rows}


def free_slots(session: Session, agency: Agency, day: date, *, now: datetime) -> list[pure.Slot]:
    since, until = pure.day_range_utc(agency.rules, day)
    taken = taken_places(session, site_id=agency.site.id, since=since, until=until)
    return pure.offered_slots(agency.rules, day, now=now, taken=taken)


def open_days(session: Session, agency: Agency, *, now: datetime) -> list[tuple[date, int]]:
    """Each bookable day with its number of free slots (days without any are left out)."""
    days = [day for day in pure.bookable_days(agency.rules, now=now) if not pure.closed_on(agency.rules, day)]
    if not days:
        return []
    since, until = pure.day_range_utc(agency.rules, days[0])[0], pure.day_range_utc(agency.rules, days[-1])[1]
    taken = taken_places(session, site_id=agency.site.id, since=since, until=until)
    found = [(day, len(pure.offered_slots(agency.rules, day, now=now, taken=taken))) for day in days]
    return [(day, count) for day, count in found if count]


def check_agency_staff(session: Session, *, role: Role, user_site_id: str | None, site_id: str) -> None:
    """Agency pages and actions: the agency's own agents, supervisors and administrators."""
    if role in (Role.admin, Role.supervisor):
        return
    if role is Role.agent and user_site_id == site_id:
        return
    raise PermissionDenied("not_agency_staff")


def staff_agencies(session: Session, *, role: Role, user_site_id: str | None) -> list[Agency]:
    agencies = list_agencies(session)
    if role in (Role.admin, Role.supervisor):
        return agencies
    return [a for a in agencies if role is Role.agent and a.site.id == user_site_id]


def _bounded(name: str, value: int) -> int:
    low, high = LIMITS[name]
    if not low <= value <= high:
        raise ValidationFailed("validation_error", summary=f"{name} must be between {low} and {high}")
    return value


def do_save_agency_settings(session: Session, *, site_id: str, opening_hours: dict[str, Any], slot_minutes: int,
                            counters: int, motif_codes: list[str], closed_on_public_holidays: bool = True,
                            booking_horizon_days: int = 30, booking_lead_minutes: int = 60,
                            online_booking: bool = True, now: datetime | None = None) -> AgencySettings:
    """Create or replace an agency's booking rules (the site must be of kind agency)."""
    now = now or clock.now()
    site = session.get(Site, site_id)
    if site is None or site.kind is not SiteKind.agency:
        raise ValidationFailed("unknown_site", value=site_id)
    try:
        ZoneInfo(site.timezone)
        hours = pure.format_hours(pure.parse_hours(opening_hours))
    except (ValueError, ZoneInfoNotFoundError) as exc:
        raise ValidationFailed("validation_error", summary=str(exc)) from None
    codes = sorted(set(motif_codes))
    known = set(session.scalars(select(Motif.code).where(Motif.code.in_(codes), Motif.active.is_(True))))
    for code in codes:
        if code not in known:
            raise ValidationFailed("unknown_motif", value=code)
    row = session.get(AgencySettings, site.id) or AgencySettings(site_id=site.id)
    row.opening_hours, row.motif_codes = hours, codes
    row.slot_minutes = _bounded("slot_minutes", slot_minutes)
    row.counters = _bounded("counters", counters)
    row.booking_horizon_days = _bounded("booking_horizon_days", booking_horizon_days)
    row.booking_lead_minutes = _bounded("booking_lead_minutes", booking_lead_minutes)
    row.closed_on_public_holidays, row.online_booking, row.updated_at = closed_on_public_holidays, online_booking, now
    session.add(row)
    session.flush()
    return row


def do_add_closure(session: Session, *, site_id: str, first_day: date, last_day: date,
                   reason: str | None = None, now: datetime | None = None) -> AgencyClosure:
    if session.get(AgencySettings, site_id) is None:
        raise ValidationFailed("unknown_site", value=site_id)
    if last_day < first_day or (last_day - first_day).days > 366:
        raise ValidationFailed("validation_error", summary="a closure runs from its first to its last day (a year at most)")
    closure = AgencyClosure(site_id=site_id, first_day=first_day, last_day=last_day,
                            reason=(reason or "").strip()[:200] or None, created_at=now or clock.now())
    session.add(closure)
    session.flush()
    return closure


def do_remove_closure(session: Session, *, closure_id: str) -> None:
    closure = session.get(AgencyClosure, closure_id)
    if closure is None:
        raise NotFound("not_found", kind="closure", id=closure_id)
    session.delete(closure)
    session.flush()


def closures_of(session: Session, site_id: str) -> list[AgencyClosure]:
    return list(session.scalars(select(AgencyClosure).where(AgencyClosure.site_id == site_id)
                                .order_by(AgencyClosure.first_day)))
