"""The business calendar: hand-computed cases (weekends, French holidays, DST nights, starts outside hours,
letters over Christmas) and properties (adding then measuring gives the delay back)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accueil.core.calendar import (
    BusinessCalendar,
    BusinessDelay,
    CalendarError,
    add_business_days,
    add_business_time,
    business_time_between,
    format_week,
    holiday_dates,
    is_public_holiday,
    next_business_instant,
    parse_dates,
    parse_delay,
    parse_week,
)

PARIS = ZoneInfo("Europe/Paris")
OFFICE = BusinessCalendar.from_text("mon-fri 09:00-18:00")  # the written-work default
HOUR = timedelta(hours=1)


def paris(*args: int) -> datetime:
    """A Paris wall-clock time, as the UTC instant every function takes and returns."""
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)


def test_friday_evening_plus_one_hour_is_monday_morning():
    # Friday 9 January 2026, 17:30 CET: 30 min left on Friday, 30 min on Monday.
    assert add_business_time(paris(2026, 1, 9, 17, 30), HOUR, OFFICE) == paris(2026, 1, 12, 9, 30)
    assert add_business_time(paris(2026, 1, 9, 17, 30), HOUR, OFFICE) == datetime(2026, 1, 12, 8, 30, tzinfo=UTC)


def test_a_delay_ending_at_closing_time_ends_there():
    assert add_business_time(paris(2026, 1, 9, 17, 30), timedelta(minutes=30), OFFICE) == paris(2026, 1, 9, 18, 0)


def test_fourteenth_of_july_is_skipped():
    # Tuesday 14 July 2026 (Fête nationale): Monday 17:30 + 1 h → Wednesday 09:30 (CEST).
    assert add_business_time(paris(2026, 7, 13, 17, 30), HOUR, OFFICE) == paris(2026, 7, 15, 9, 30)
    assert OFFICE.closed_reason(date(2026, 7, 14)) == "holiday"
    open_on_holidays = BusinessCalendar.from_text("mon-fri 09:00-18:00", holidays_country="")
    assert add_business_time(paris(2026, 7, 13, 17, 30), HOUR, open_on_holidays) == paris(2026, 7, 14, 9, 30)


def test_starts_outside_hours_count_from_the_next_opening():
    assert add_business_time(paris(2026, 1, 10, 10, 0), HOUR, OFFICE) == paris(2026, 1, 12, 10, 0)  # Saturday
    assert add_business_time(paris(2026, 1, 12, 20, 0), HOUR, OFFICE) == paris(2026, 1, 13, 10, 0)  # evening
    assert add_business_time(paris(2026, 1, 13, 6, 0), HOUR, OFFICE) == paris(2026, 1, 13, 10, 0)  # early
    assert next_business_instant(paris(2026, 1, 13, 11, 0), OFFICE) == paris(2026, 1, 13, 11, 0)  # open


def test_several_ranges_a_day():
    split = BusinessCalendar.from_text("mon-fri 09:00-12:30,14:00-18:00")
    assert add_business_time(paris(2026, 1, 12, 12, 0), HOUR, split) == paris(2026, 1, 12, 14, 30)
    assert business_time_between(paris(2026, 1, 12, 8, 0), paris(2026, 1, 12, 20, 0), split) == timedelta(hours=7.5)
    assert not split.is_open_at(paris(2026, 1, 12, 13, 0))
    assert split.is_open_at(paris(2026, 1, 12, 14, 0))


def test_spring_dst_weekend():
    # Clocks go forward on Sunday 29 March 2026: Friday 17:30 CET + 1 h → Monday 09:30 CEST (07:30 UTC).
    assert add_business_time(paris(2026, 3, 27, 17, 30), HOUR, OFFICE) == datetime(2026, 3, 30, 7, 30, tzinfo=UTC)
    assert business_time_between(paris(2026, 3, 27, 9, 0), paris(2026, 3, 30, 18, 0), OFFICE) == timedelta(hours=18)


def test_dst_nights_on_a_calendar_open_round_the_clock():
    always = BusinessCalendar.from_text("mon-sun 00:00-24:00", holidays_country=None)
    # The short night: Saturday 28 March 00:00 to Monday 30 March 00:00 is 47 hours.
    assert business_time_between(paris(2026, 3, 28, 0, 0), paris(2026, 3, 30, 0, 0), always) == timedelta(hours=47)
    # The long night: Saturday 24 October to Monday 26 October is 49 hours.
    assert business_time_between(paris(2026, 10, 24, 0, 0), paris(2026, 10, 26, 0, 0), always) == timedelta(hours=49)
    # Open all the time, business time is real time: 24 h from Saturday noon CET is Sunday 13:00 CEST.
    assert add_business_time(paris(2026, 3, 28, 12, 0), timedelta(hours=24), always) == paris(2026, 3, 29, 13, 0)


def test_ranges_over_the_changing_night():
    night = BusinessCalendar.from_text("sun 00:00-06:00", holidays_country=None)
    assert [e - b for b, e in night.intervals(date(2026, 10, 25))] == [timedelta(hours=7)]  # 02:00–03:00 twice
    assert [e - b for b, e in night.intervals(date(2026, 3, 29))] == [timedelta(hours=5)]  # 02:00–03:00 missing
    gap = BusinessCalendar.from_text("sun 02:00-03:00; mon 09:00-10:00", holidays_country=None)
    assert gap.intervals(date(2026, 3, 29)) == []  # wholly inside the jump: no length
    assert len(gap.intervals(date(2026, 3, 22))) == 1


def test_letter_on_christmas_eve_plus_five_business_days():
    # Wednesday 24 Dec 2025 10:00: 25 Dec and 1 Jan are holidays, so 26, 29, 30, 31 Dec, 2 Jan → Friday 2 Jan.
    assert add_business_days(paris(2025, 12, 24, 10, 0), 5, OFFICE) == paris(2026, 1, 2, 10, 0)
    assert parse_delay("5d").due(paris(2025, 12, 24, 10, 0), OFFICE) == paris(2026, 1, 2, 10, 0)


def test_business_days_from_outside_hours_and_onto_a_shorter_day():
    # Received on Saturday: counted from Monday 09:00, one business day later is Tuesday 09:00.
    assert add_business_days(paris(2026, 1, 10, 15, 0), 1, OFFICE) == paris(2026, 1, 13, 9, 0)
    # Seven open hours into Friday; Saturday has only three: due at Saturday's closing.
    saturday_mornings = BusinessCalendar.from_text("mon-fri 09:00-18:00; sat 09:00-12:00")
    assert add_business_days(paris(2026, 1, 9, 16, 0), 1, saturday_mornings) == paris(2026, 1, 10, 12, 0)
    assert add_business_days(paris(2026, 1, 9, 10, 0), 1, saturday_mornings) == paris(2026, 1, 10, 10, 0)
    # Over the lunch break: 4 h of open time into Monday is 14:30; Tuesday's same point is 14:30 too.
    split = BusinessCalendar.from_text("mon-fri 09:00-12:30,14:00-18:00")
    assert add_business_days(paris(2026, 1, 12, 14, 30), 1, split) == paris(2026, 1, 13, 14, 30)
    assert add_business_days(paris(2026, 1, 12, 11, 0), 0, split) == paris(2026, 1, 12, 11, 0)


def test_extra_closed_dates():
    # Ascension is Thursday 14 May 2026; the company also closes the bridge day, Friday 15 May.
    bridge = BusinessCalendar.from_text("mon-fri 09:00-18:00", closed_dates="2026-05-15")
    assert add_business_time(paris(2026, 5, 13, 17, 0), 2 * HOUR, bridge) == paris(2026, 5, 18, 10, 0)
    assert add_business_time(paris(2026, 5, 13, 17, 0), 2 * HOUR, OFFICE) == paris(2026, 5, 15, 10, 0)
    assert bridge.closed_reason(date(2026, 5, 15)) == "closed_date"


def test_business_time_between_weekends_and_backwards():
    friday, monday = paris(2026, 1, 9, 17, 0), paris(2026, 1, 12, 10, 0)
    assert business_time_between(friday, monday, OFFICE) == 2 * HOUR
    assert business_time_between(monday, friday, OFFICE) == -2 * HOUR
    assert business_time_between(paris(2026, 1, 10, 9), paris(2026, 1, 11, 18), OFFICE) == timedelta(0)


def test_french_public_holidays():
    assert is_public_holiday(date(2026, 7, 14)) and is_public_holiday(date(2026, 5, 14))  # Ascension
    assert is_public_holiday(date(2026, 5, 25))  # Whit Monday
    assert not is_public_holiday(date(2026, 7, 15))
    assert len(holiday_dates("FR", 2026)) == 11


def test_parsing_hours_delays_and_dates():
    week = parse_week("mon-fri 09:00-12:30, 14:00-18:00; sat 09:00-12:00")
    assert week["wed"] == ((540, 750), (840, 1080)) and week["sat"] == ((540, 720),) and "sun" not in week
    assert format_week(week) == ("mon 09:00-12:30,14:00-18:00; tue 09:00-12:30,14:00-18:00; wed 09:00-12:30,"
                                 "14:00-18:00; thu 09:00-12:30,14:00-18:00; fri 09:00-12:30,14:00-18:00; "
                                 "sat 09:00-12:00")
    assert parse_week("sun 22:00-24:00")["sun"] == ((1320, 1440),)
    assert parse_delay("90min") == BusinessDelay(90, "min") and str(parse_delay(" 4h ")) == "4h"
    assert parse_dates("2026-05-15, 2026-12-24") == {date(2026, 5, 15), date(2026, 12, 24)}


@pytest.mark.parametrize(("text", "message"), [
    ("mon-fri 9h-18h", "not a time"),
    ("mon-fri 09:00-12:00,11:00-18:00", "overlap"),
    ("fri-mon 09:00-18:00", "span of days"),
    ("lundi 09:00-18:00", "not a day"),
    ("mon-fri 18:00-09:00", "does not start before"),
    ("mon-fri", "days then ranges"),
    ("mon 09:00-12:00; mon 14:00-18:00", "named twice"),
    ("", "no open day"),
    ("mon 24:30-25:00", "not a time"),
])
def test_unreadable_hours_are_refused_clearly(text, message):
    with pytest.raises(CalendarError, match=message):
        parse_week(text)


@pytest.mark.parametrize("text", ["1 week", "0h", "1.5h", "", "h", "400d", "-1h"])
def test_unreadable_delays_are_refused(text):
    with pytest.raises(CalendarError):
        parse_delay(text)


def test_bad_calendars_are_refused():
    with pytest.raises(CalendarError, match="time zone"):
        BusinessCalendar.from_text("mon 09:00-18:00", timezone="Europe/Lutece")
    with pytest.raises(CalendarError, match="country"):
        BusinessCalendar.from_text("mon 09:00-18:00", holidays_country="XX")
    with pytest.raises(CalendarError, match="YYYY-MM-DD"):
        parse_dates("15/05/2026")
    with pytest.raises(CalendarError, match="timezone-aware"):
        add_business_time(datetime(2026, 1, 9, 17, 30), HOUR, OFFICE)
    with pytest.raises(CalendarError, match="negative"):
        add_business_time(paris(2026, 1, 9, 17, 30), -HOUR, OFFICE)


CALENDARS = [OFFICE, BusinessCalendar.from_text("mon-fri 09:00-12:30,14:00-18:00; sat 09:00-12:00"),
             BusinessCalendar.from_text("mon-sun 00:00-24:00", holidays_country=None),
             BusinessCalendar.from_text("sun 01:00-04:00", holidays_country=None)]
instants = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31),
                        timezones=st.just(UTC))


@settings(max_examples=200, deadline=None)
@given(start=instants, minutes=st.integers(min_value=0, max_value=60 * 24 * 20), which=st.integers(0, 3))
def test_adding_then_measuring_gives_the_delay_back(start, minutes, which):
    calendar = CALENDARS[which]
    due = add_business_time(start, timedelta(minutes=minutes), calendar)
    assert due >= start
    assert business_time_between(start, due, calendar) == timedelta(minutes=minutes)
    if minutes:  # the due time is open, or the very end of an open stretch
        assert calendar.is_open_at(due) or calendar.is_open_at(due - timedelta(microseconds=1))


@settings(max_examples=100, deadline=None)
@given(start=instants, days=st.integers(min_value=1, max_value=30))
def test_business_days_land_on_open_days_in_order(start, days):
    due = add_business_days(start, days, OFFICE)
    assert OFFICE.is_open_day(OFFICE.local_day(due))
    assert due > start
    assert add_business_days(start, days + 1, OFFICE) > due
