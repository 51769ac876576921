"""Agency slots, pure: hours in local time (DST days included), holidays, closures, lead time, horizon."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accueil.channels.visit import slots as pure

WEEK = {day: (("09:00", "12:00"), ("14:00", "17:30")) for day in ("mon", "tue", "wed", "thu", "fri")}


def rules(**overrides) -> pure.AgencyRules:
    values = dict(hours=pure.parse_hours({d: [list(r) for r in ranges] for d, ranges in WEEK.items()}),
                  slot_minutes=30, counters=2, lead_minutes=60, horizon_days=30)
    values.update(overrides)
    return pure.AgencyRules(**values)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_day_is_cut_into_slots_in_local_time():
    found = pure.day_slots(rules(), date(2026, 11, 23))  # a Monday, winter time (UTC+1)
    assert len(found) == 6 + 7
    assert found[0].starts_at == utc(2026, 11, 23, 8, 0) and found[0].ends_at == utc(2026, 11, 23, 8, 30)
    assert found[5].starts_at == utc(2026, 11, 23, 10, 30)  # the last morning slot ends at noon
    assert found[6].starts_at == utc(2026, 11, 23, 13, 0)  # 14:00 Paris
    assert found[-1].starts_at == utc(2026, 11, 23, 16, 0)  # 17:00-17:30 Paris
    assert all(slot.free == 2 for slot in found)
    summer = pure.day_slots(rules(), date(2026, 6, 15))
    assert summer[0].starts_at == utc(2026, 6, 15, 7, 0)  # 09:00 Paris in summer is 07:00 UTC


def test_the_spring_dst_night_skips_the_missing_hour_and_autumn_counts_the_first():
    night = pure.parse_hours({"sun": [["01:00", "04:00"]]})
    spring = pure.day_slots(rules(hours=night, public_holidays_closed=False), date(2026, 3, 29))
    # 02:00-03:00 does not exist that night: 01:00, 01:30, 03:00, 03:30 local
    assert [s.starts_at for s in spring] == [utc(2026, 3, 29, 0, 0), utc(2026, 3, 29, 0, 30),
                                             utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 1, 30)]
    assert all(s.ends_at - s.starts_at == timedelta(minutes=30) for s in spring)
    autumn = pure.day_slots(rules(hours=night, public_holidays_closed=False), date(2026, 10, 25))
    assert len(autumn) == 6 and autumn[0].starts_at == utc(2026, 10, 24, 23, 0)
    assert autumn[2].starts_at == utc(2026, 10, 25, 0, 0)  # 02:00 local, first time (UTC+2)
    starts = [s.starts_at for s in autumn]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    start, end = pure.day_range_utc(rules(), date(2026, 3, 29))
    assert end - start == timedelta(hours=23)


def test_public_holidays_and_closures_close_the_day():
    assert pure.day_slots(rules(), date(2026, 7, 14)) == []  # Bastille Day, a Tuesday
    assert pure.day_slots(rules(), date(2026, 5, 14)) == []  # Ascension (moves every year)
    assert pure.day_slots(rules(public_holidays_closed=False), date(2026, 7, 14))
    assert pure.day_slots(rules(closed_days=frozenset({date(2026, 11, 24)})), date(2026, 11, 24)) == []
    assert pure.day_slots(rules(), date(2026, 11, 28)) == []  # Saturday: no hours


def test_offered_slots_respect_lead_time_horizon_and_places():
    now = utc(2026, 11, 23, 8, 10)  # Monday 09:10 Paris
    offered = pure.offered_slots(rules(), date(2026, 11, 23), now=now)
    assert offered[0].starts_at == utc(2026, 11, 23, 9, 30)  # not before 10:10 Paris: 10:30
    taken = {utc(2026, 11, 23, 9, 30): 2, utc(2026, 11, 23, 10, 0): 1}
    offered = pure.offered_slots(rules(), date(2026, 11, 23), now=now, taken=taken)
    assert offered[0].starts_at == utc(2026, 11, 23, 10, 0) and offered[0].free == 1
    assert pure.offered_slots(rules(), date(2026, 12, 23), now=now)  # day 30
    assert pure.offered_slots(rules(), date(2026, 12, 24), now=now) == []  # day 31
    assert pure.offered_slots(rules(), date(2026, 11, 20), now=now) == []  # the past
    assert pure.find_slot(rules(), utc(2026, 11, 24, 8, 0), now=now) is not None
    assert pure.find_slot(rules(), utc(2026, 11, 24, 8, 10), now=now) is None  # not a slot boundary
    assert pure.find_slot(rules(), utc(2026, 11, 23, 8, 30), now=now) is None  # within the lead time


def test_hours_are_checked():
    with pytest.raises(ValueError):
        pure.parse_hours({"mon": [["09:00", "08:00"]]})
    with pytest.raises(ValueError):
        pure.parse_hours({"mon": [["09:00", "12:00"], ["11:00", "13:00"]]})
    with pytest.raises(ValueError):
        pure.parse_hours({"lundi": [["09:00", "12:00"]]})
    with pytest.raises(ValueError):
        pure.parse_hours({"mon": [["9h", "12:00"]]})
    assert pure.format_hours(pure.parse_hours({"mon": [["14:00", "18:00"], ["09:00", "12:00"]]})) == {
        "mon": [["09:00", "12:00"], ["14:00", "18:00"]]}


@given(st.dates(min_value=date(2025, 1, 1), max_value=date(2030, 12, 31)),
       st.sampled_from([10, 15, 20, 30, 45, 60]), st.integers(6, 12), st.integers(1, 10))
def test_slots_fit_the_hours_and_never_overlap(day, minutes, opening, length):
    hours = pure.parse_hours({d: [[f"{opening:02d}:00", f"{min(opening + length, 23):02d}:00"]] for d in pure.DAYS})
    found = pure.day_slots(rules(hours=hours, slot_minutes=minutes, public_holidays_closed=False), day)
    assert len(found) == (min(opening + length, 23) - opening) * 60 // minutes
    for first, second in zip(found, found[1:], strict=False):
        assert first.ends_at <= second.starts_at
    assert all(time(opening) <= s.starts_at.astimezone(pure.ZoneInfo("Europe/Paris")).time() for s in found)
