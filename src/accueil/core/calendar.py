"""Business calendar: when a centre works, and business time added or measured over it. Pure: no clock,
no I/O (public holidays come from the ``holidays`` package's rules, computed, not downloaded).

A calendar is opening hours per weekday (several ranges a day: morning and afternoon), in a time zone,
closed on a country's public holidays and on extra closed dates (bridge days, works). Instants in and
out are timezone-aware UTC; the ranges are local wall-clock time, so a range keeps its local hours
across daylight-saving changes (09:00–18:00 is 9 h on every day, the short night is outside it; a
range over the changing night itself is an hour shorter or longer, as a clock on the wall would say).
A local time that does not exist (the spring jump) is read with the offset before the jump (02:30
becomes 03:30); an ambiguous one (the autumn repeat) is its first occurrence.

Two ways to count a delay:

- business time (``add_business_time``): "1 h" from Friday 17:30, open 09:00–18:00, is Monday 09:30;
- business days (``add_business_days``): "5 days" is the same point of the business day, that many open
  days later (a letter opened on Tuesday at 10:00 is due on the next Tuesday at 10:00; one that arrives
  while closed counts from the next opening).

Delays are written ``"90min"``, ``"4h"``, ``"5d"`` (``parse_delay``); weekly hours
``"mon-fri 09:00-12:30,14:00-18:00; sat 09:00-12:00"`` (``parse_week``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holiday_rules

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_MINUTES = 24 * 60
_SEARCH_DAYS = 3 * 366  # closed this many days in a row (holidays, closed dates): the calendar never opens
_CLOCK = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")
_DELAY = re.compile(r"^\s*(\d{1,5})\s*(min|h|d)\s*$")
_MAX_DELAY_MINUTES = {"min": 60 * 24 * 90, "h": 24 * 90, "d": 365}  # a quarter of business time, a year of days


class CalendarError(ValueError):
    """Hours, a delay, a country or a date that cannot be read; the message says what and why."""


# Public holidays ----------------------------------------------------------------------------------------------

@lru_cache(maxsize=256)
def holiday_dates(country: str, year: int) -> frozenset[date]:
    """A country's public holidays of one year (``FR``: the eleven French ones; Alsace-Moselle's two
    extra days need a subdivision and are not included)."""
    return frozenset(holiday_rules.country_holidays(country.upper(), years=year))


def is_public_holiday(day: date, country: str = "FR") -> bool:
    return day in holiday_dates(country, day.year)


def check_country(country: str) -> str:
    """The country code, upper-cased, when the ``holidays`` package has its calendar; else a clear error."""
    code = country.strip().upper()
    try:
        holiday_rules.country_holidays(code)
    except NotImplementedError as exc:
        raise CalendarError(f"no public-holiday calendar for country {country!r} (ISO 3166 code, e.g. FR)") from exc
    return code


# Opening hours ------------------------------------------------------------------------------------------------

Range = tuple[int, int]  # minutes since local midnight, start < end, end up to 24:00


def _minutes(text: str, where: str) -> int:
    found = _CLOCK.match(text.strip())
    if not found or (found.group(1) in ("24",) and found.group(2) != "00"):
        raise CalendarError(f"{where}: {text.strip()!r} is not a time (HH:MM, 00:00 to 24:00)")
    return int(found.group(1)) * 60 + int(found.group(2))


def check_ranges(ranges: Iterable[Range], where: str) -> tuple[Range, ...]:
    """Sorted ranges, each start before its end, none overlapping."""
    found = sorted(ranges)
    for start, end in found:
        if not 0 <= start < end <= DAY_MINUTES:
            raise CalendarError(f"{where}: {_clock(start)}-{_clock(end)} does not start before it ends")
    for (_, first_end), (second_start, _) in zip(found, found[1:], strict=False):
        if second_start < first_end:
            raise CalendarError(f"{where}: opening ranges overlap")
    return tuple(found)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _day_span(text: str, where: str) -> list[str]:
    if "-" in text:
        first, last = (part.strip().lower() for part in text.split("-", 1))
        if first not in DAYS or last not in DAYS or DAYS.index(first) > DAYS.index(last):
            raise CalendarError(f"{where}: {text!r} is not a span of days like mon-fri")
        return list(DAYS[DAYS.index(first):DAYS.index(last) + 1])
    day = text.strip().lower()
    if day not in DAYS:
        raise CalendarError(f"{where}: {text!r} is not a day ({', '.join(DAYS)})")
    return [day]


def parse_week(text: str) -> dict[str, tuple[Range, ...]]:
    """``"mon-fri 09:00-12:30,14:00-18:00; sat 09:00-12:00"`` → ranges per day; days not named are closed.

    A day named twice is refused (say every range of a day in one place)."""
    week: dict[str, tuple[Range, ...]] = {}
    for part in (text or "").split(";"):
        if not part.strip():
            continue
        days_text, _, ranges_text = part.strip().partition(" ")
        if not ranges_text.strip():
            raise CalendarError(f"{part.strip()!r}: days then ranges, like 'mon-fri 09:00-18:00'")
        days = _day_span(days_text, part.strip())
        ranges = []
        for item in ranges_text.split(","):
            start, dash, end = item.strip().partition("-")
            if not dash:
                raise CalendarError(f"{days_text}: {item.strip()!r} is not a range like 09:00-12:30")
            ranges.append((_minutes(start, days_text), _minutes(end, days_text)))
        checked = check_ranges(ranges, days_text)
        for day in days:
            if day in week:
                raise CalendarError(f"{day} is named twice in the opening hours")
            week[day] = checked
    if not any(week.values()):
        raise CalendarError("the opening hours name no open day (e.g. 'mon-fri 09:00-18:00')")
    return week


def format_week(week: Mapping[str, tuple[Range, ...]]) -> str:
    return "; ".join(f"{day} " + ",".join(f"{_clock(s)}-{_clock(e)}" for s, e in ranges)
                     for day, ranges in sorted(week.items(), key=lambda item: DAYS.index(item[0])) if ranges)


def parse_dates(text: str) -> frozenset[date]:
    """``"2026-05-15, 2026-12-24"`` → dates (ISO 8601)."""
    found = set()
    for part in (text or "").split(","):
        if part.strip():
            try:
                found.add(date.fromisoformat(part.strip()))
            except ValueError as exc:
                raise CalendarError(f"{part.strip()!r} is not a date (YYYY-MM-DD)") from exc
    return frozenset(found)


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours per weekday (``"mon"`` → ranges in minutes since local midnight), a time zone, the
    public holidays of a country (None: open on holidays) and extra closed dates."""

    hours: Mapping[str, tuple[Range, ...]]
    timezone: str = "Europe/Paris"
    holidays_country: str | None = "FR"
    closed_dates: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        for day, ranges in self.hours.items():
            if day not in DAYS:
                raise CalendarError(f"unknown day {day!r} (one of {', '.join(DAYS)})")
            check_ranges(ranges, day)
        if not any(self.hours.values()):
            raise CalendarError("a business calendar needs at least one open day")
        try:
            object.__setattr__(self, "_zone", ZoneInfo(self.timezone))
        except Exception as exc:  # noqa: BLE001 - any lookup failure means an unknown zone
            raise CalendarError(f"unknown time zone {self.timezone!r}") from exc
        if self.holidays_country:
            object.__setattr__(self, "holidays_country", check_country(self.holidays_country))

    @classmethod
    def from_text(cls, hours: str, *, timezone: str = "Europe/Paris", holidays_country: str | None = "FR",
                  closed_dates: str = "") -> BusinessCalendar:
        return cls(hours=parse_week(hours), timezone=timezone, holidays_country=holidays_country or None,
                   closed_dates=parse_dates(closed_dates))

    @property
    def zone(self) -> ZoneInfo:
        return self._zone  # type: ignore[attr-defined, no-any-return]

    def closed_reason(self, day: date) -> str | None:
        """Why a local day is closed all day ("closed_date", "holiday", "closed_day"), None when it opens."""
        if day in self.closed_dates:
            return "closed_date"
        if self.holidays_country and day in holiday_dates(self.holidays_country, day.year):
            return "holiday"
        if not self.hours.get(DAYS[day.weekday()]):
            return "closed_day"
        return None

    def is_open_day(self, day: date) -> bool:
        return self.closed_reason(day) is None

    def intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open stretches of a local day, as UTC instants (empty on a closed day)."""
        if not self.is_open_day(day):
            return []
        found = []
        for start, end in self.hours[DAYS[day.weekday()]]:
            begins, ends = self._instant(day, start), self._instant(day, end)
            if ends > begins:  # a range wholly inside the spring jump has no length
                found.append((begins, ends))
        return found

    def _instant(self, day: date, minutes: int) -> datetime:
        if minutes == DAY_MINUTES:
            day, minutes = day + timedelta(days=1), 0
        local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.zone)  # fold=0
        return local.astimezone(UTC)

    def local_day(self, instant: datetime) -> date:
        return _utc(instant).astimezone(self.zone).date()

    def stretches(self, since: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open stretches (UTC) ending after ``since``, in order, the first one clipped to start at ``since``."""
        since = _utc(since)
        day = self.local_day(since) - timedelta(days=1)  # a range of the day before may end after midnight UTC
        closed_in_a_row = 0
        while closed_in_a_row <= _SEARCH_DAYS:
            found = self.intervals(day)
            closed_in_a_row = 0 if found else closed_in_a_row + 1
            for begins, ends in found:
                if ends > since:
                    yield max(begins, since), ends
            day += timedelta(days=1)
        raise CalendarError(f"no open day within {_SEARCH_DAYS} days of {day.isoformat()}")

    def is_open_at(self, instant: datetime) -> bool:
        instant = _utc(instant)
        return any(begins <= instant < ends for begins, ends in self.intervals(self.local_day(instant)))


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise CalendarError("instants must be timezone-aware (UTC)")
    return instant.astimezone(UTC)


# Counting business time ---------------------------------------------------------------------------------------

def next_business_instant(start: datetime, calendar: BusinessCalendar) -> datetime:
    """``start`` itself when open, else the next opening."""
    return next(calendar.stretches(start))[0]


def add_business_time(start: datetime, duration: timedelta, calendar: BusinessCalendar) -> datetime:
    """The instant ``duration`` of open time after ``start`` (UTC). A delay that ends exactly at a closing
    time ends there (Friday 17:30 + 30 min = Friday 18:00, not Monday)."""
    if duration < timedelta(0):
        raise CalendarError("a business duration cannot be negative")
    remaining = duration
    for begins, ends in calendar.stretches(start):
        if remaining <= ends - begins:
            return begins + remaining
        remaining -= ends - begins
    raise AssertionError("unreachable: stretches() raises when it runs out")  # pragma: no cover


def business_time_between(a: datetime, b: datetime, calendar: BusinessCalendar) -> timedelta:
    """Open time from ``a`` to ``b`` (negative when ``b`` is before ``a``)."""
    a, b = _utc(a), _utc(b)
    if b < a:
        return -business_time_between(b, a, calendar)
    total = timedelta(0)
    for begins, ends in calendar.stretches(a):
        if begins >= b:
            break
        total += min(ends, b) - begins
    return total


def add_business_days(start: datetime, days: int, calendar: BusinessCalendar) -> datetime:
    """The same point of the business day, ``days`` open days later (see the module docstring).

    The point is the open time already elapsed that day, so a day with other hours keeps the
    proportion simple: past that day's total open time, the due time is its closing."""
    if days < 0:
        raise CalendarError("a number of business days cannot be negative")
    at = next_business_instant(start, calendar)
    day = calendar.local_day(at)
    elapsed = sum((min(ends, at) - begins for begins, ends in calendar.intervals(day) if begins < at), timedelta(0))
    for _ in range(days):
        day += timedelta(days=1)
        for _ in range(_SEARCH_DAYS):
            if calendar.is_open_day(day) and calendar.intervals(day):
                break
            day += timedelta(days=1)
        else:
            raise CalendarError(f"no open day within {_SEARCH_DAYS} days of {day.isoformat()}")
    stretches = calendar.intervals(day)
    remaining = elapsed
    for begins, ends in stretches:
        if remaining <= ends - begins:
            return begins + remaining
        remaining -= ends - begins
    return stretches[-1][1]


@dataclass(frozen=True)
class BusinessDelay:
    """A delay counted over a business calendar: ``minutes`` of open time, or ``days`` open days."""

    amount: int
    unit: str  # "min", "h" or "d"

    def __post_init__(self) -> None:
        if self.unit not in _MAX_DELAY_MINUTES:
            raise CalendarError(f"unknown unit {self.unit!r} (min, h or d)")
        if not 1 <= self.amount <= _MAX_DELAY_MINUTES[self.unit]:
            raise CalendarError(f"a delay of {self.amount}{self.unit} is out of range "
                                f"(1 to {_MAX_DELAY_MINUTES[self.unit]}{self.unit})")

    def due(self, start: datetime, calendar: BusinessCalendar) -> datetime:
        if self.unit == "d":
            return add_business_days(start, self.amount, calendar)
        minutes = self.amount * (60 if self.unit == "h" else 1)
        return add_business_time(start, timedelta(minutes=minutes), calendar)

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


def parse_delay(text: str) -> BusinessDelay:
    """``"90min"``, ``"1h"``, ``"5d"`` (business minutes, hours, days) → a delay; anything else is refused."""
    found = _DELAY.match(text or "")
    if found is None:
        raise CalendarError(f"{text!r} is not a delay like 90min, 1h or 5d (business minutes, hours or days)")
    return BusinessDelay(int(found.group(1)), found.group(2))
