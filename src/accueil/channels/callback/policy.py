"""When to try a callback again after no answer: pure (no I/O, no clock), so tests and the simulator agree.

A customer who did not pick up in the morning is more likely to answer at noon or in the evening, so
each new attempt goes to the next *different* retry window (default 09:00–11:00, 12:00–14:00, 17:00–19:00
in the centre's time zone), skipping Sundays and public holidays, until the attempts run out (default 3).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from accueil.core.calendar import is_public_holiday

DEFAULT_WINDOWS = "09:00-11:00,12:00-14:00,17:00-19:00"
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_SEARCH_DAYS = 60  # a fortnight of holidays and Sundays is already far more than exists


@dataclass(frozen=True, order=True)
class Window:
    start: time
    end: time

    def label(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    windows: tuple[Window, ...] = ()
    timezone: str = "Europe/Paris"
    holiday_country: str = "FR"

    def __post_init__(self) -> None:
        if not 1 <= self.max_attempts <= 20:
            raise ValueError("max_attempts must be between 1 and 20")
        if not self.windows:
            object.__setattr__(self, "windows", parse_windows(DEFAULT_WINDOWS))

    @classmethod
    def from_settings(cls, settings: object) -> RetryPolicy:
        return cls(max_attempts=settings.callback_max_attempts,  # type: ignore[attr-defined]
                   windows=parse_windows(settings.callback_retry_windows),  # type: ignore[attr-defined]
                   timezone=settings.timezone)  # type: ignore[attr-defined]


def parse_windows(text: str) -> tuple[Window, ...]:
    """``"09:00-11:00,17:00-19:00"`` → sorted windows; overlapping or empty ones are refused."""
    windows: list[Window] = []
    for part in (text or "").split(","):
        if not part.strip():
            continue
        found = _WINDOW.match(part)
        if found is None:
            raise ValueError(f"retry window {part.strip()!r} is not HH:MM-HH:MM")
        h1, m1, h2, m2 = (int(x) for x in found.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise ValueError(f"retry window {part.strip()!r} is not a time of day")
        window = Window(time(h1, m1), time(h2, m2))
        if window.end <= window.start:
            raise ValueError(f"retry window {part.strip()!r} ends before it starts")
        windows.append(window)
    if not windows:
        raise ValueError("at least one retry window is needed")
    windows.sort()
    for before, after in zip(windows, windows[1:], strict=False):
        if after.start < before.end:
            raise ValueError(f"retry windows {before.label()} and {after.label()} overlap")
    return tuple(windows)


def is_open_day(policy: RetryPolicy, day: date) -> bool:
    """Callbacks are made Monday to Saturday, public holidays excepted."""
    return day.weekday() != 6 and not is_public_holiday(day, policy.holiday_country)


def _occurrences(policy: RetryPolicy, since: datetime) -> Iterator[tuple[datetime, datetime, int]]:
    """(start, end, window index) of every window on open days, from the day of ``since`` on (UTC)."""
    zone = ZoneInfo(policy.timezone)
    first = since.astimezone(zone).date()
    for offset in range(_SEARCH_DAYS):
        day = first + timedelta(days=offset)
        if not is_open_day(policy, day):
            continue
        for index, window in enumerate(policy.windows):
            start = datetime.combine(day, window.start, tzinfo=zone)
            end = datetime.combine(day, window.end, tzinfo=zone)
            yield start.astimezone(since.tzinfo), end.astimezone(since.tzinfo), index


def window_of(policy: RetryPolicy, at: datetime) -> tuple[date, int] | None:
    """The (local day, window index) ``at`` falls in, or None outside every window."""
    zone = ZoneInfo(policy.timezone)
    local = at.astimezone(zone)
    if not is_open_day(policy, local.date()):
        return None
    for index, window in enumerate(policy.windows):
        if window.start <= local.time() < window.end:
            return local.date(), index
    return None


def next_attempt_at(policy: RetryPolicy, *, attempts_made: int, last_attempt_at: datetime,
                    now: datetime) -> datetime | None:
    """When to call again after ``attempts_made`` unanswered attempts, the last one at ``last_attempt_at``.

    None when the attempts are exhausted. Otherwise the start of the next window after the failed one that
    is at another time of day (with a single window: the next day's), or ``now`` when we are already inside
    such a window.
    """
    if attempts_made >= policy.max_attempts:
        return None
    failed = window_of(policy, last_attempt_at)
    zone = ZoneInfo(policy.timezone)
    earliest = max(now, last_attempt_at)
    for start, end, index in _occurrences(policy, earliest):
        if end <= earliest:
            continue
        if failed is not None and index == failed[1] and (
                len(policy.windows) > 1 or start.astimezone(zone).date() == failed[0]):
            continue  # another time of day: someone out every morning may be in at noon
        return max(start, earliest)
    raise ValueError("no retry window in the next 60 days")  # pragma: no cover - needs 60 closed days


def upcoming_windows(policy: RetryPolicy, *, now: datetime, count: int) -> list[tuple[datetime, datetime]]:
    """The next ``count`` windows still to come (for a customer choosing a slot); one in progress counts
    from ``now``."""
    found: list[tuple[datetime, datetime]] = []
    for start, end, _ in _occurrences(policy, now):
        if end - timedelta(minutes=15) <= now:  # too late to be called in this one
            continue
        found.append((max(start, now), end))
        if len(found) == count:
            break
    return found
