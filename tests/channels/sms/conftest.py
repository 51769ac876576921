"""Fixtures of the SMS tests: an SMS queue with Twilio's auth token set, and a fake Twilio REST API."""

from __future__ import annotations

import pytest

from accueil.channels.sms.adapter import TwilioSms
from accueil.routing.models import Queue, TargetKind
from tests.channels.sms.fakes import OURS, TOKEN, start_fake_twilio
from tests.factories import use_adapters


@pytest.fixture
def sms_queue(runtime, cast, monkeypatch):
    monkeypatch.setattr(runtime.settings, "twilio_auth_token", TOKEN)
    monkeypatch.setattr(runtime.settings, "sms_queue", "sms")
    with runtime.factory() as session, session.begin():
        session.add(Queue(code="sms", name_fr="SMS", name_en="SMS", channel="sms", level=1,
                          target_kind=TargetKind.reply_delay, target_percent=90, target_seconds=3600))
    return "sms"


@pytest.fixture
def fake_twilio(runtime, monkeypatch):
    fake, server = start_fake_twilio()
    monkeypatch.setattr(runtime.settings, "twilio_api_base", fake.url)
    monkeypatch.setattr(runtime.settings, "twilio_account_sid", "AC1")
    restore = use_adapters(runtime, TwilioSms(account_sid="AC1", auth_token=TOKEN, sender="+33700000009",
                                              senders={"sms": OURS}, api_base=fake.url))
    yield fake
    restore()
    server.shutdown()
