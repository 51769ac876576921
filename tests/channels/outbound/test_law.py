"""The prospecting-call rules (art. D. 223-9) on hand-picked instants, then as properties over random ones,
around French public holidays and daylight-saving changes, in Paris and overseas time zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from accueil.channels.outbound.law import (
    ARTICLE,
    Consumer,
    Purpose,
    Refusal,
    attempts_left,
    check_call,
    quiet_until,
)
from accueil.core.calendar import holiday_dates

PARIS = ZoneInfo("Europe/Paris")


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)


def test_the_legal_days_and_hours_in_the_consumers_time_zone():
    consumer = Consumer()
    assert check_call(paris(2026, 12, 8, 10, 0), consumer).allowed  # Tuesday 10:00
    assert not check_call(paris(2026, 12, 8, 9, 59), consumer).allowed
    lunch = check_call(paris(2026, 12, 8, 13, 30), consumer)
    assert lunch.reason is Refusal.outside_hours and lunch.next_allowed_at == paris(2026, 12, 8, 14, 0)
    assert lunch.article == ARTICLE
    evening = check_call(paris(2026, 12, 8, 20, 0), consumer)  # 20:00 is the end, not inside
    assert evening.reason is Refusal.outside_hours and evening.next_allowed_at == paris(2026, 12, 9, 10, 0)
    saturday = check_call(paris(2026, 12, 12, 11, 0), consumer)
    assert saturday.reason is Refusal.weekend and saturday.next_allowed_at == paris(2026, 12, 14, 10, 0)
    christmas = check_call(paris(2026, 12, 25, 11, 0), consumer)  # a Friday, and a public holiday
    assert christmas.reason is Refusal.holiday and christmas.next_allowed_at == paris(2026, 12, 28, 10, 0)
    # a consumer in Réunion (UTC+4): 10:00 there is 07:00 in Paris
    reunion = Consumer(timezone="Indian/Reunion")
    assert check_call(datetime(2026, 12, 8, 6, 0, tzinfo=UTC), reunion).allowed
    assert not check_call(datetime(2026, 12, 8, 6, 0, tzinfo=UTC), consumer).allowed


def test_consent_lifts_the_hours_but_not_the_frequency():
    consenting = Consumer(consent=True)
    assert check_call(paris(2026, 12, 13, 21, 0), consenting).allowed  # Sunday evening
    four = tuple(paris(2026, 12, day, 11, 0) for day in (1, 2, 3, 4))
    limited = check_call(paris(2026, 12, 13, 21, 0), Consumer(consent=True, attempts=four))
    assert limited.reason is Refusal.too_many_attempts and limited.next_allowed_at == paris(2026, 12, 31, 11, 0)


def test_four_attempts_in_thirty_days_then_wait_for_the_oldest_to_age_out():
    attempts = tuple(paris(2026, 11, day, 10, 30) for day in (10, 17, 24))
    consumer = Consumer(attempts=attempts)
    now = paris(2026, 12, 1, 10, 30)
    assert check_call(now, consumer).allowed and attempts_left(now, consumer) == 1
    fourth = Consumer(attempts=(*attempts, now))
    verdict = check_call(now + timedelta(hours=1), fourth)
    assert verdict.reason is Refusal.too_many_attempts
    assert verdict.next_allowed_at == paris(2026, 12, 10, 10, 30)  # 10 Nov + 30 days, a Thursday in hours
    assert check_call(verdict.next_allowed_at, fourth).allowed
    assert not check_call(verdict.next_allowed_at - timedelta(seconds=1), fourth).allowed


def test_sixty_full_days_after_a_refusal():
    refused = paris(2026, 3, 2, 15, 0)  # refused on Monday 2 March
    assert quiet_until(refused, "Europe/Paris") == paris(2026, 5, 2, 0, 0)  # 2 March + 60 days = 1 May, then 2 May
    verdict = check_call(paris(2026, 4, 20, 11, 0), Consumer(refused_at=refused))
    assert verdict.reason is Refusal.refused_recently
    assert verdict.next_allowed_at == paris(2026, 5, 4, 10, 0)  # 2 May is a Saturday: Monday 4 May, 10:00


def test_the_opposition_list_except_a_contract_in_force_and_service_calls_are_free():
    listed = Consumer(on_opposition_list=True)
    verdict = check_call(paris(2026, 12, 8, 11, 0), listed)
    assert verdict.reason is Refusal.opposition_list and verdict.next_allowed_at is None
    assert check_call(paris(2026, 12, 8, 11, 0), Consumer(on_opposition_list=True, contract_in_force=True)).allowed
    assert check_call(paris(2026, 12, 13, 22, 0), listed, Purpose.service).allowed


def test_daylight_saving_changes_keep_the_local_hours():
    consumer = Consumer()
    assert check_call(paris(2026, 3, 30, 10, 0), consumer).allowed  # the Monday after the spring change
    assert datetime(2026, 3, 30, 8, 0, tzinfo=UTC) == paris(2026, 3, 30, 10, 0)
    assert check_call(paris(2026, 10, 26, 10, 0), consumer).allowed  # the Monday after the autumn change
    assert datetime(2026, 10, 26, 9, 0, tzinfo=UTC) == paris(2026, 10, 26, 10, 0)
    assert not check_call(datetime(2026, 10, 26, 8, 30, tzinfo=UTC), consumer).allowed  # 09:30 in Paris


instants = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31),
                        timezones=st.just(UTC))
zones = st.sampled_from(["Europe/Paris", "America/Martinique", "Indian/Reunion", "Pacific/Noumea"])


@settings(max_examples=300, deadline=None)
@given(now=instants, zone=zones, offsets=st.lists(st.integers(1, 60 * 24 * 40), max_size=8),
       refused=st.one_of(st.none(), st.integers(1, 60 * 24 * 90)), consent=st.booleans())
def test_an_allowed_call_breaks_no_rule_and_a_refusal_names_a_lawful_instant(now, zone, offsets, refused, consent):
    consumer = Consumer(timezone=zone, attempts=tuple(now - timedelta(minutes=m) for m in offsets),
                        refused_at=None if refused is None else now - timedelta(minutes=refused), consent=consent)
    verdict = check_call(now, consumer)
    local = now.astimezone(ZoneInfo(zone))
    if verdict.allowed:
        if not consent:
            assert local.weekday() < 5 and local.date() not in holiday_dates("FR", local.year)
            minutes = local.hour * 60 + local.minute
            assert 600 <= minutes < 780 or 840 <= minutes < 1200
        assert sum(1 for at in consumer.attempts if at > now - timedelta(days=30)) < 4
        assert consumer.refused_at is None or now >= quiet_until(consumer.refused_at, zone)
    else:
        later = verdict.next_allowed_at
        assert later is not None and later >= now
        assert check_call(later, consumer).allowed  # the instant given is itself lawful
