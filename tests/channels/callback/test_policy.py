"""The callback retry policy (pure): reference dates around Sundays and French public holidays, and
properties over random times."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accueil.channels.callback.policy import (
    RetryPolicy,
    is_open_day,
    next_attempt_at,
    parse_windows,
    upcoming_windows,
    window_of,
)
from accueil.config import Settings

PARIS = ZoneInfo("Europe/Paris")
POLICY = RetryPolicy()


def paris(day: str, hour_minute: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour_minute}").replace(tzinfo=PARIS).astimezone(UTC)


@pytest.mark.parametrize(("failed", "recorded", "expected"), [
    (("2026-11-23", "09:30"), ("2026-11-23", "09:35"), ("2026-11-23", "12:00")),  # Monday morning → noon
    (("2026-11-23", "12:30"), ("2026-11-23", "12:40"), ("2026-11-23", "17:00")),  # noon → evening
    (("2026-11-23", "17:30"), ("2026-11-23", "17:40"), ("2026-11-24", "09:00")),  # evening → next morning
    (("2026-11-28", "17:30"), ("2026-11-28", "17:40"), ("2026-11-30", "09:00")),  # Saturday: Sunday skipped
    (("2026-11-10", "17:30"), ("2026-11-10", "17:31"), ("2026-11-12", "09:00")),  # 11 November is a holiday
    (("2026-12-24", "18:00"), ("2026-12-24", "18:05"), ("2026-12-26", "09:00")),  # Christmas
    (("2026-11-23", "15:00"), ("2026-11-23", "15:05"), ("2026-11-23", "17:00")),  # outside any window
    (("2026-11-23", "10:50"), ("2026-11-23", "12:30"), ("2026-11-23", "12:30")),  # told late, inside noon
    (("2026-11-23", "10:50"), ("2026-11-24", "09:30"), ("2026-11-24", "12:00")),  # never morning again
    (("2026-03-28", "17:30"), ("2026-03-28", "17:35"), ("2026-03-30", "09:00")),  # across the clock change
])
def test_reference_retry_times(failed, recorded, expected):
    found = next_attempt_at(POLICY, attempts_made=1, last_attempt_at=paris(*failed), now=paris(*recorded))
    assert found == paris(*expected)


def test_attempts_run_out_and_settings_shape_the_policy():
    at = paris("2026-11-23", "09:30")
    assert next_attempt_at(POLICY, attempts_made=3, last_attempt_at=at, now=at) is None
    assert next_attempt_at(POLICY, attempts_made=2, last_attempt_at=at, now=at) is not None
    custom = RetryPolicy.from_settings(Settings(callback_max_attempts=5, callback_retry_windows="08:00-10:00"))
    assert custom.max_attempts == 5 and len(custom.windows) == 1
    # A single window: the next day's (a Sunday and nothing else skipped).
    assert next_attempt_at(custom, attempts_made=4, last_attempt_at=paris("2026-11-28", "08:30"),
                           now=paris("2026-11-28", "08:31")) == paris("2026-11-30", "08:00")
    assert next_attempt_at(custom, attempts_made=5, last_attempt_at=at, now=at) is None


@pytest.mark.parametrize("text", ["", "9-11", "11:00-09:00", "09:00-11:00,10:30-12:00", "25:00-26:00"])
def test_bad_windows_are_refused(text):
    with pytest.raises(ValueError):
        parse_windows(text)


def test_upcoming_slots_skip_closed_days_and_a_window_about_to_end():
    slots = upcoming_windows(POLICY, now=paris("2026-11-28", "18:50"), count=4)  # Saturday, 10 min left
    assert [s for s, _ in slots] == [paris("2026-11-30", "09:00"), paris("2026-11-30", "12:00"),
                                     paris("2026-11-30", "17:00"), paris("2026-12-01", "09:00")]
    inside = upcoming_windows(POLICY, now=paris("2026-11-30", "09:30"), count=1)
    assert inside == [(paris("2026-11-30", "09:30"), paris("2026-11-30", "11:00"))]


moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31),
                       timezones=st.just(UTC))


@settings(max_examples=300, deadline=None)
@given(last=moments, delay=st.integers(min_value=0, max_value=3 * 24 * 3600), made=st.integers(1, 2))
def test_a_retry_is_inside_another_window_on_an_open_day(last, delay, made):
    now = last + timedelta(seconds=delay)
    found = next_attempt_at(POLICY, attempts_made=made, last_attempt_at=last, now=now)
    assert found is not None and found >= now
    slot = window_of(POLICY, found)
    assert slot is not None, found  # inside a window…
    local = found.astimezone(PARIS)
    assert local.weekday() != 6 and is_open_day(POLICY, local.date())  # …on an open day…
    failed = window_of(POLICY, last)
    assert failed is None or slot[1] != failed[1]  # …at another time of day than the failed attempt
    if found > now:  # not "right now": the start of the first such window (nothing earlier was skipped)
        assert local.time() == POLICY.windows[slot[1]].start


def test_open_days():
    assert not is_open_day(POLICY, date(2026, 11, 29))  # Sunday
    assert not is_open_day(POLICY, date(2026, 5, 1)) and not is_open_day(POLICY, date(2026, 7, 14))
    assert is_open_day(POLICY, date(2026, 11, 28))  # Saturday
