"""The contact options a help-centre page shows, as they really are *now*: the phone (open? the predicted
wait; else when it reopens), the chat (only when someone can answer), a callback (now or at a chosen time),
the contact form with the reply delay we promise, and the agencies with their hours.

Self-care never hides the people: every page of the help centre carries this block. ``next_opening`` is
pure (``now`` passed in); ``contact_options`` reads the queues, the routing engine's predicted waits and the
agencies once per page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from accueil.channels.visit.agencies import list_agencies
from accueil.channels.visit.slots import AgencyRules
from accueil.config import Settings
from accueil.routing.config_loader import DAYS, RoutingConfigCache, parse_opening_hours
from accueil.routing.models import Queue
from accueil.routing.rules import OpeningHours
from accueil.routing.service import predicted_wait

HORIZON = timedelta(days=15)


def next_opening(hours: OpeningHours | None, now: datetime) -> datetime | None:
    """The first instant at or after ``now`` the hours are open (UTC); None if never within 15 days."""
    if hours is None or hours.is_open(now.timestamp()):
        return now
    zone = ZoneInfo(hours.timezone)
    local = now.astimezone(zone)
    day = local.date()
    while day <= (local + HORIZON).date():
        if day.isoformat() not in hours.closed_dates:
            for start, _end in sorted(hours.weekly.get(day.weekday(), ())):
                candidate = datetime(day.year, day.month, day.day, start // 60, start % 60, tzinfo=zone)
                if candidate >= local and hours.is_open(candidate.timestamp()):
                    return candidate.astimezone(UTC)
        day += timedelta(days=1)
    return None


@dataclass(frozen=True)
class Live:
    """A live channel (phone, chat): open now with someone to answer, or when it reopens."""

    available: bool
    open_now: bool
    wait_seconds: float | None  # the predicted wait for a contact arriving now
    reopens_at: datetime | None  # when closed (UTC)


@dataclass(frozen=True)
class ContactOptions:
    phone_number: str  # E.164, shown as a tel: link; empty: no number published
    phone_display: str  # as people write it: "03 20 00 00 00" in France
    phone: Live | None
    chat: Live | None
    callback_url: str
    form_url: str
    reply_hours: float | None  # the reply delay promised to written contacts (hours)
    agencies: list[tuple[str, str, bool]]  # (name, address, open now)


def _live(session: Session, rules: RoutingConfigCache, code: str, channel: str, now: datetime) -> Live | None:
    """The queue named by the setting, else the first active one of the channel (as the chat widget does)."""
    queue = session.scalar(select(Queue).where(Queue.code == code, Queue.active.is_(True))) or session.scalar(
        select(Queue).where(Queue.channel == channel, Queue.active.is_(True)).order_by(Queue.level, Queue.code)
        .limit(1))
    if queue is None:
        return None
    hours = parse_opening_hours(queue.opening_hours or {}, queue.timezone)
    open_now = hours is None or hours.is_open(now.timestamp())
    wait = None
    if open_now:
        found = predicted_wait(session, rules=rules, queue_id=queue.id, now=now)
        wait = None if found == float("inf") else found
    return Live(available=open_now and wait is not None, open_now=open_now, wait_seconds=wait,
                reopens_at=None if open_now else next_opening(hours, now))


def display_phone(number: str, region: str) -> str:
    if not number:
        return ""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return number
    national = phonenumbers.region_code_for_number(parsed) == region
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL if national
                                      else phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def agency_open(rules: AgencyRules, now: datetime) -> bool:
    local = now.astimezone(ZoneInfo(rules.timezone))
    if local.date() in rules.closed_days:
        return False
    moment = local.time()
    return any(start <= moment < end for start, end in rules.hours.get(DAYS[local.weekday()], ()))


def contact_options(session: Session, settings: Settings, rules: RoutingConfigCache, now: datetime) -> ContactOptions:
    written = session.scalar(select(Queue).where(Queue.channel == "email", Queue.active.is_(True),
                                                 Queue.target_kind == "reply_delay").order_by(Queue.level).limit(1))
    agencies = [(a.site.name, a.site.address or "", agency_open(a.rules, now))
                for a in list_agencies(session, online=True)]
    return ContactOptions(
        phone_number=settings.help_phone_number, phone_display=display_phone(settings.help_phone_number,
                                                                             settings.default_phone_region),
        phone=_live(session, rules, settings.twilio_queue, "voice", now),
        chat=_live(session, rules, settings.chat_queue, "chat", now), callback_url="/portal/callback",
        form_url="/forms/contact", reply_hours=round(written.target_seconds / 3600, 1) if written else None,
        agencies=agencies)
