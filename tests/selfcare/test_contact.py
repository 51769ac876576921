"""The contact options of the help centre follow the clock (passed in): the phone open with its predicted
wait when an agent is there, closed with the instant it reopens (across a weekend and a daylight-saving
change), the reply delay we promise in writing."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from accueil.routing import service as routing
from accueil.routing.admin import do_save_queue
from accueil.routing.decisions import Presence
from accueil.routing.rules import OpeningHours
from accueil.selfcare.contact import contact_options, display_phone, next_opening

PARIS = ZoneInfo("Europe/Paris")
WEEKDAYS = {d: ((8 * 60, 20 * 60),) for d in range(6)}  # Monday to Saturday, 8:00–20:00


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)


def test_next_opening_across_the_weekend_holidays_and_the_clock_change():
    hours = OpeningHours(weekly=WEEKDAYS, timezone="Europe/Paris")
    assert next_opening(hours, paris(2026, 12, 8, 11, 0)) == paris(2026, 12, 8, 11, 0)  # open: now
    assert next_opening(hours, paris(2026, 12, 8, 21, 0)) == paris(2026, 12, 9, 8, 0)
    assert next_opening(hours, paris(2026, 12, 13, 9, 0)) == paris(2026, 12, 14, 8, 0)  # Sunday → Monday
    assert next_opening(hours, paris(2026, 3, 28, 21, 0)) == datetime(2026, 3, 30, 6, 0, tzinfo=UTC)  # summer time
    holiday = OpeningHours(weekly=WEEKDAYS, timezone="Europe/Paris", closed_dates=frozenset({"2026-12-25"}))
    assert next_opening(holiday, paris(2026, 12, 24, 20, 30)) == paris(2026, 12, 26, 8, 0)
    assert next_opening(None, paris(2026, 12, 25, 3, 0)) == paris(2026, 12, 25, 3, 0)  # always open
    assert next_opening(OpeningHours(weekly={0: ()}, timezone="Europe/Paris"), paris(2026, 12, 8, 3, 0)) is None


def test_the_block_follows_opening_hours_and_agents(runtime, cast, monkeypatch):
    monkeypatch.setattr(runtime.settings, "help_phone_number", "+33320000000")
    monkeypatch.setattr(runtime.settings, "twilio_queue", "tel_n1")
    hours = {day: [["08:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat")}
    tuesday, night = paris(2026, 12, 8, 11, 0), paris(2026, 12, 8, 22, 0)
    with runtime.factory() as session, session.begin():
        do_save_queue(session, code="tel_n1", opening_hours=hours)
    with runtime.factory() as session:
        nobody = contact_options(session, runtime.settings, runtime.routing_rules, tuesday)
        assert nobody.phone.open_now and not nobody.phone.available  # open, but no agent logged in
        closed = contact_options(session, runtime.settings, runtime.routing_rules, night)
        assert not closed.phone.open_now and closed.phone.reopens_at == paris(2026, 12, 9, 8, 0)
        assert closed.phone_display == "03 20 00 00 00" and closed.reply_hours is not None
    with runtime.factory() as session, session.begin():
        routing.do_set_presence(session, rules=runtime.routing_rules, user_id=cast.users["alice"],
                                presence=Presence.available)
    with runtime.factory() as session:
        staffed = contact_options(session, runtime.settings, runtime.routing_rules, tuesday)
        assert staffed.phone.available and staffed.phone.wait_seconds is not None


def test_phone_numbers_are_shown_as_people_write_them():
    assert display_phone("+33320000000", "FR") == "03 20 00 00 00"
    assert display_phone("+3225551234", "FR").startswith("+32")
    assert display_phone("", "FR") == "" and display_phone("n/a", "FR") == "n/a"
