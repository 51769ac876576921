"""Appointment slots of an agency: pure (no clock, no database), so the portal, the API and tests agree.

An agency opens in ranges of local time per weekday (several a day: morning and afternoon), in its own
time zone, except on French public holidays (when it says so) and on its exceptional closure days. Each
range is cut into slots of ``slot_minutes``; a slot has ``counters`` places (appointments in parallel).
A slot is offered when it starts after ``now + lead`` and on a day within ``horizon_days`` of today,
and while places are left. Local times that do not exist (the spring DST jump) are never offered; an
ambiguous local time (the autumn repeat) means its first occurrence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from accueil.core.calendar import is_public_holiday

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class AgencyRules:
    timezone: str = "Europe/Paris"
    hours: Mapping[str, tuple[tuple[time, time], ...]] = field(default_factory=dict)  # "mon" -> ranges
    slot_minutes: int = 30
    counters: int = 1
    closed_days: frozenset[date] = frozenset()
    public_holidays_closed: bool = True
    horizon_days: int = 30
    lead_minutes: int = 60


@dataclass(frozen=True)
class Slot:
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC
    free: int


def parse_hours(raw: Mapping[str, object]) -> dict[str, tuple[tuple[time, time], ...]]:
    """``{"mon": [["09:00", "12:30"], ["14:00", "18:00"]], ...}`` checked: HH:MM, start < end, no overlap."""
    parsed: dict[str, tuple[tuple[time, time], ...]] = {}
    for day, ranges in (raw or {}).items():
        if day not in DAYS:
            raise ValueError(f"unknown day {day!r}")
        if not isinstance(ranges, list | tuple):
            raise ValueError(f"{day}: a list of [start, end] ranges")
        found: list[tuple[time, time]] = []
        for item in ranges:
            if not isinstance(item, list | tuple) or len(item) != 2:
                raise ValueError(f"{day}: each range is [start, end]")
            start, end = (_time(str(value), day) for value in item)
            if start >= end:
                raise ValueError(f"{day}: {item[0]} is not before {item[1]}")
            found.append((start, end))
        found.sort()
        for (_, first_end), (second_start, _) in zip(found, found[1:], strict=False):
            if second_start < first_end:
                raise ValueError(f"{day}: ranges overlap")
        if found:
            parsed[day] = tuple(found)
    return parsed


def format_hours(hours: Mapping[str, tuple[tuple[time, time], ...]]) -> dict[str, list[list[str]]]:
    return {day: [[start.strftime("%H:%M"), end.strftime("%H:%M")] for start, end in ranges]
            for day, ranges in hours.items()}


def _time(text: str, day: str) -> time:
    match = _HHMM.match(text.strip())
    if not match:
        raise ValueError(f"{day}: {text!r} is not a time (HH:MM)")
    return time(int(match.group(1)), int(match.group(2)))


def closed_on(rules: AgencyRules, day: date) -> bool:
    """Closed all day: no hours that weekday, an exceptional closure, or a public holiday."""
    if day in rules.closed_days or not rules.hours.get(DAYS[day.weekday()]):
        return True
    return rules.public_holidays_closed and is_public_holiday(day)


def _local(day: date, moment: time, zone: ZoneInfo) -> datetime | None:
    """The UTC instant of a local wall time, or None when that wall time does not exist that day."""
    local = datetime.combine(day, moment, tzinfo=zone)  # fold=0: the first of two ambiguous instants
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None  # skipped by the spring jump
    return instant


def day_slots(rules: AgencyRules, day: date, *, taken: Mapping[datetime, int] | None = None) -> list[Slot]:
    """Every slot of a local day with its free places (``taken``: booked places per start, UTC)."""
    if closed_on(rules, day):
        return []
    zone, step, taken = ZoneInfo(rules.timezone), timedelta(minutes=rules.slot_minutes), taken or {}
    slots: list[Slot] = []
    for start, end in rules.hours.get(DAYS[day.weekday()], ()):
        cursor = datetime.combine(day, start)
        limit = datetime.combine(day, end)
        while cursor + step <= limit:
            begins = _local(day, cursor.time(), zone)
            if begins is not None:  # an end in the missing hour is the instant the slot's length later
                ends = _local(day, (cursor + step).time(), zone) or begins + step
                if ends > begins:
                    slots.append(Slot(begins, ends, max(0, rules.counters - taken.get(begins, 0))))
            cursor += step
    return slots


def local_today(rules: AgencyRules, now: datetime) -> date:
    return now.astimezone(ZoneInfo(rules.timezone)).date()


def bookable_days(rules: AgencyRules, *, now: datetime) -> list[date]:
    """The local days a customer may book on now (today up to the horizon), open or not."""
    today = local_today(rules, now)
    return [today + timedelta(days=offset) for offset in range(rules.horizon_days + 1)]


def offered_slots(rules: AgencyRules, day: date, *, now: datetime,
                  taken: Mapping[datetime, int] | None = None) -> list[Slot]:
    """The slots of ``day`` a customer may take now: inside the horizon, after the lead time, not full."""
    if day not in bookable_days(rules, now=now):
        return []
    earliest = now + timedelta(minutes=rules.lead_minutes)
    return [slot for slot in day_slots(rules, day, taken=taken) if slot.starts_at >= earliest and slot.free > 0]


def find_slot(rules: AgencyRules, starts_at: datetime, *, now: datetime) -> Slot | None:
    """The slot starting exactly at ``starts_at`` if a customer may book it now (places not counted)."""
    day = starts_at.astimezone(ZoneInfo(rules.timezone)).date()
    for slot in offered_slots(rules, day, now=now):
        if slot.starts_at == starts_at:
            return slot
    return None


def day_range_utc(rules: AgencyRules, day: date) -> tuple[datetime, datetime]:
    """Midnight to midnight of a local day, in UTC (23 or 25 hours on DST days)."""
    zone = ZoneInfo(rules.timezone)
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end
