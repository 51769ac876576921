"""French rules for prospecting calls: may this consumer be called now, and if not, why and from when.

Pure: the consumer's history in, a verdict out; ``now`` is an argument. The rules and their sources:

- **Days and hours** (Code de la consommation, art. D. 223-9, 1st paragraph, décret n° 2022-1313 of
  13 October 2022): Monday to Friday, except public holidays under art. L. 3133-1 of the Code du travail
  (the eleven national ones), from 10:00 to 13:00 and from 14:00 to 20:00 **in the consumer's time zone**.
- **Consent** (D. 223-9, 2nd paragraph): outside those days and hours only with the consumer's express
  and prior consent, which the professional can prove — so a recorded consent lifts the days and hours,
  and nothing else (the decree puts it in that paragraph only).
- **Frequency** (D. 223-9, 3rd paragraph): no more than four calls or *attempts* to the same consumer in
  any thirty calendar days (counted here as a rolling 30 × 24 h, the stricter reading); after the
  consumer refuses during a call, none before sixty full calendar days have passed (from midnight, in the
  consumer's time zone, of the sixty-first day after the refusal).
- **Opposition list** (art. L. 223-1): a consumer registered on it (Bloctel) is not prospected, unless a
  contract with us is in force (the call then must relate to it — the caller's purpose says so).
- **Service calls** are not prospecting: a callback the customer asked for, the follow-up of their own
  case. None of the above applies to them.

A refusal says which rule and gives the first instant the call would be lawful (``next_allowed_at``),
so a dialer can reschedule rather than drop.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from accueil.core.calendar import BusinessCalendar, next_business_instant

LEGAL_HOURS = "mon-fri 10:00-13:00,14:00-20:00"
MAX_ATTEMPTS = 4
ATTEMPT_WINDOW = timedelta(days=30)
QUIET_AFTER_REFUSAL = timedelta(days=60)
ARTICLE = "Code de la consommation, art. D. 223-9 (décret n° 2022-1313)"
OPPOSITION_ARTICLE = "Code de la consommation, art. L. 223-1"


class Purpose(enum.StrEnum):
    prospecting = "prospecting"  # a sale the consumer did not ask for, including a "rebond" call-back
    service = "service"  # asked for by the customer, or about their own case


class Refusal(enum.StrEnum):
    weekend = "weekend"
    holiday = "holiday"
    outside_hours = "outside_hours"
    too_many_attempts = "too_many_attempts"
    refused_recently = "refused_recently"
    opposition_list = "opposition_list"


@dataclass(frozen=True)
class Consumer:
    """What the law looks at, for one consumer and one professional (instants are UTC)."""

    timezone: str = "Europe/Paris"
    attempts: tuple[datetime, ...] = ()  # our prospecting calls and attempts, answered or not
    refused_at: datetime | None = None  # the last refusal of prospecting during a call
    consent: bool = False  # express, prior, provable consent to be called outside the legal hours
    on_opposition_list: bool = False
    contract_in_force: bool = False


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: Refusal | None = None
    article: str | None = None
    next_allowed_at: datetime | None = None  # None when allowed, or never (opposition list)


ALLOWED = Verdict(True)


def legal_calendar(timezone: str) -> BusinessCalendar:
    return _calendars.get(timezone) or _calendars.setdefault(
        timezone, BusinessCalendar.from_text(LEGAL_HOURS, timezone=timezone, holidays_country="FR"))


_calendars: dict[str, BusinessCalendar] = {}


def check_call(now: datetime, consumer: Consumer, purpose: Purpose = Purpose.prospecting) -> Verdict:
    """May we call (or try to call) this consumer at ``now``?"""
    if purpose is Purpose.service:
        return ALLOWED
    if consumer.on_opposition_list and not consumer.contract_in_force:
        return Verdict(False, Refusal.opposition_list, OPPOSITION_ARTICLE)
    earliest = _frequency_earliest(now, consumer)
    if earliest > now:
        reason = Refusal.refused_recently if consumer.refused_at and quiet_until(
            consumer.refused_at, consumer.timezone) > now else Refusal.too_many_attempts
        return Verdict(False, reason, ARTICLE, _lawful_from(earliest, consumer))
    if consumer.consent:
        return ALLOWED
    calendar = legal_calendar(consumer.timezone)
    if calendar.is_open_at(now):
        return ALLOWED
    closed = calendar.closed_reason(calendar.local_day(now))
    reason = {"holiday": Refusal.holiday, "closed_day": Refusal.weekend}.get(closed or "", Refusal.outside_hours)
    return Verdict(False, reason, ARTICLE, _lawful_from(now, consumer))


def _frequency_earliest(now: datetime, consumer: Consumer) -> datetime:
    """The first instant the frequency rules allow (``now`` or later)."""
    earliest = now
    if consumer.refused_at is not None:
        earliest = max(earliest, quiet_until(consumer.refused_at, consumer.timezone))
    recent = sorted(at for at in consumer.attempts if at > earliest - ATTEMPT_WINDOW)
    while len(recent) >= MAX_ATTEMPTS:
        # the call is lawful once the oldest of the last four has left the thirty days
        earliest = recent[-MAX_ATTEMPTS] + ATTEMPT_WINDOW
        recent = [at for at in recent if at > earliest - ATTEMPT_WINDOW]
    return earliest


def quiet_until(refused_at: datetime, timezone: str) -> datetime:
    """Sixty full calendar days from the refusal ("révolus"): the day of the refusal, then sixty whole days,
    in the consumer's time zone — calls may resume at midnight starting the sixty-first day after it."""
    zone = ZoneInfo(timezone)
    day = refused_at.astimezone(zone).date() + QUIET_AFTER_REFUSAL + timedelta(days=1)
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _lawful_from(start: datetime, consumer: Consumer) -> datetime:
    if consumer.consent:
        return start
    return next_business_instant(start, legal_calendar(consumer.timezone))


def attempts_left(now: datetime, consumer: Consumer) -> int:
    """How many more attempts the next thirty days allow from ``now`` (for the campaign view)."""
    return max(0, MAX_ATTEMPTS - sum(1 for at in consumer.attempts if now - ATTEMPT_WINDOW < at <= now))
