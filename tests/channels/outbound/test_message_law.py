"""The rules of campaign messages on hand-picked instants, then as properties over random ones: objection and
consent (art. L. 34-5 CPCE), the prospecting-SMS quiet hours in the consumer's time zone around public
holidays and daylight-saving changes; and the campaign text's variables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accueil.channels.outbound.law import Purpose
from accueil.channels.outbound.message_law import (
    CONSENT_ARTICLE,
    MessageRefusal,
    Recipient,
    check_message,
)
from accueil.channels.outbound.templates import check_template, render, split_name
from accueil.core.calendar import holiday_dates
from accueil.core.errors import ValidationFailed

PARIS = ZoneInfo("Europe/Paris")
CUSTOMER = Recipient(is_customer=True)


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)


def test_quiet_hours_of_prospecting_sms():
    prospecting = Purpose.prospecting
    assert check_message(paris(2026, 12, 12, 8, 0), CUSTOMER, prospecting, "sms").allowed  # a Saturday, 8:00
    early = check_message(paris(2026, 12, 12, 7, 59), CUSTOMER, prospecting, "sms")
    assert early.reason is MessageRefusal.quiet_hours and early.next_allowed_at == paris(2026, 12, 12, 8, 0)
    evening = check_message(paris(2026, 12, 12, 20, 0), CUSTOMER, prospecting, "sms")  # then Sunday: Monday 8:00
    assert evening.next_allowed_at == paris(2026, 12, 14, 8, 0) and not evening.final
    christmas = check_message(paris(2026, 12, 25, 11, 0), CUSTOMER, prospecting, "sms")
    assert christmas.next_allowed_at == paris(2026, 12, 26, 8, 0)
    # the consumer's own clock: 8:00 in Réunion is 5:00 in Paris
    reunion = Recipient(timezone="Indian/Reunion", is_customer=True)
    assert check_message(paris(2026, 12, 8, 5, 0), reunion, prospecting, "sms").allowed
    assert not check_message(paris(2026, 12, 8, 18, 0), reunion, prospecting, "sms").allowed  # 21:00 there
    # an email has no quiet hours; a service message neither
    assert check_message(paris(2026, 12, 25, 3, 0), CUSTOMER, prospecting, "email").allowed
    assert check_message(paris(2026, 12, 25, 3, 0), Recipient(), Purpose.service, "sms").allowed


def test_objection_always_wins_and_prospecting_needs_consent_or_a_contract():
    noon = paris(2026, 12, 8, 12, 0)
    for purpose in Purpose:
        refused = check_message(noon, Recipient(opted_out=True, consent=True, is_customer=True), purpose, "sms")
        assert refused.reason is MessageRefusal.opted_out and refused.final and refused.article == CONSENT_ARTICLE
    stranger = check_message(noon, Recipient(), Purpose.prospecting, "email")
    assert stranger.reason is MessageRefusal.no_consent and stranger.final
    assert check_message(noon, Recipient(consent=True), Purpose.prospecting, "email").allowed
    assert check_message(noon, Recipient(), Purpose.service, "email").allowed


@settings(max_examples=300, deadline=None)
@given(now=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)),
       zone=st.sampled_from(["Europe/Paris", "America/Martinique", "Indian/Reunion", "Pacific/Noumea"]))
def test_an_allowed_sms_is_in_the_quiet_hours_window_and_a_deferral_names_an_allowed_instant(now, zone):
    recipient = Recipient(timezone=zone, is_customer=True)
    verdict = check_message(now, recipient, Purpose.prospecting, "sms")
    local = now.astimezone(ZoneInfo(zone))
    in_window = (local.weekday() < 6 and 8 <= local.hour < 20
                 and local.date() not in holiday_dates("FR", local.year))
    assert verdict.allowed == in_window
    if not verdict.allowed:
        assert verdict.next_allowed_at > now and verdict.next_allowed_at - now < timedelta(days=4)
        assert check_message(verdict.next_allowed_at, recipient, Purpose.prospecting, "sms").allowed
        just_before = verdict.next_allowed_at - timedelta(minutes=1)
        assert just_before <= now or not check_message(just_before, recipient, Purpose.prospecting, "sms").allowed


def test_the_daylight_saving_change_keeps_local_hours():
    # 29 March 2026, clocks go forward on a Sunday; Monday 30 March 8:00 is 06:00 UTC (summer time)
    deferred = check_message(paris(2026, 3, 28, 21, 0), CUSTOMER, Purpose.prospecting, "sms")
    assert deferred.next_allowed_at == datetime(2026, 3, 30, 6, 0, tzinfo=UTC)


def test_campaign_text_variables():
    assert check_template("  Bonjour {first_name} !  ", channel="sms") == "Bonjour {first_name} !"
    for bad, why in (("Bonjour {prenom}", "prenom"), ("Bonjour {", "unmatched"), ("", "needs its text"),
                     ("x" * 1001, "longer")):
        with pytest.raises(ValidationFailed, match=why):
            check_template(bad, channel="sms")
    assert check_template("x" * 1001, channel="email")
    assert split_name("Marie-Claire de La Tour") == ("Marie-Claire", "de La Tour") and split_name(None) == ("", "")
    assert render("Bonjour {first_name}, votre n° {customer_number} !", {"first_name": "Zoé"}) == \
        "Bonjour Zoé, votre n° !"
    assert render("Bonjour {first_name}, merci.", {}) == "Bonjour, merci."  # no name: no stray space
