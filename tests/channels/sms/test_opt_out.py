"""STOP and START over the Twilio webhook: the opt-out is recorded on the number (and the customer's SMS
consent), traced on the case and confirmed once; after it no reply and no notice leaves for that number,
and the agent is told why; START lifts it. The number never reaches the logs."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select

from accueil.channels import notify
from accueil.channels.base import Capabilities, OutboundMessage
from accueil.channels.messaging.models import Delivery
from accueil.channels.sms.opt_out import CONFIRM_KIND, OPT_OUT_REASON, is_opted_out
from accueil.conversations.models import Case, ChannelKind, Interaction, Message
from accueil.core import clock
from accueil.customers.models import Customer, Identity, IdentityKind
from accueil.db.jobs import Job, run_due_jobs
from tests.channels.sms.fakes import OURS, signed_post, sms
from tests.factories import DAVID_PHONE, use_adapters


@dataclass
class RecordingSms:
    kind: ChannelKind = ChannelKind.sms
    name: str = "recording"
    capabilities: Capabilities = Capabilities(max_length=1600)
    sent: list[OutboundMessage] = field(default_factory=list)

    @property
    def enabled(self) -> bool:
        return True

    def send(self, message: OutboundMessage) -> str:
        self.sent.append(message)
        return f"SMR{len(self.sent)}"


@pytest.fixture
def gateway(runtime):
    recording = RecordingSms()
    restore = use_adapters(runtime, recording)
    yield recording
    restore()


def _phone(session) -> Identity:
    return session.scalar(select(Identity).where(Identity.kind == IdentityKind.phone, Identity.value == DAVID_PHONE))


def test_stop_is_recorded_confirmed_once_and_blocks_replies_and_notices_until_start(
        http, server_url, runtime, cast, sms_queue, gateway, caplog):
    caplog.set_level(logging.INFO)
    with runtime.factory() as session, session.begin():
        session.get(Customer, cast.david_id).consent_sms = True
    assert signed_post(http, server_url, "/webhooks/twilio/sms", sms("SM1", "Bonjour")).status_code == 200
    with runtime.factory() as session, session.begin():  # a notice queued before the STOP
        assert notify.do_queue_sms(session, to=DAVID_PHONE, text="Votre rappel", dedupe_key="before", now=clock.now())
        case_id = session.scalar(select(Case.id))

    assert signed_post(http, server_url, "/webhooks/twilio/sms", sms("SM2", " Stop ! ")).status_code == 200
    assert signed_post(http, server_url, "/webhooks/twilio/sms", sms("SM2", " Stop ! ")).status_code == 200  # replay
    assert signed_post(http, server_url, "/webhooks/twilio/sms", sms("SM3", "ARRÊT")).status_code == 200  # again
    with runtime.factory() as session:
        identity = _phone(session)
        assert identity.undeliverable_reason == OPT_OUT_REASON and identity.undeliverable_at is not None
        assert session.get(Customer, cast.david_id).consent_sms is False
        notes = session.scalars(select(Message).where(Message.internal.is_(True))).all()
        assert len(notes) == 1 and notes[0].case_id == case_id and "STOP" in notes[0].body_text
        assert session.scalar(select(func.count()).select_from(Message).where(Message.internal.is_(False))) == 1
        assert session.scalar(select(func.count()).select_from(Interaction)) == 1  # a keyword is not new work
        assert session.scalar(select(func.count()).select_from(Job).where(Job.kind == CONFIRM_KIND)) == 1
    run_due_jobs(runtime.factory, worker="test")
    assert [(m.to, m.extra.get("sender")) for m in gateway.sent] == [(DAVID_PHONE, OURS)]  # the notice was dropped
    assert gateway.sent[0].text.startswith("Vous ne recevrez plus de SMS")

    refused = http.post(f"/api/v1/cases/{case_id}/replies", json={"body_text": "Encore là ?"},
                        headers=cast.auth("alice", **{"Accept-Language": "fr"}))
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "sms_opted_out"
    assert "STOP" in refused.json()["error"]["message"] and "SMS" in refused.json()["error"]["message"]
    english = http.post(f"/api/v1/cases/{case_id}/replies", json={"body_text": "Still there?"},
                        headers=cast.auth("alice", **{"Accept-Language": "en"}))
    assert english.json()["error"]["message"].startswith("The customer opted out of text messages")
    with runtime.factory() as session, session.begin():
        assert session.scalar(select(func.count()).select_from(Delivery)) == 0
        assert session.scalar(select(func.count()).select_from(Message).where(
            Message.body_text.in_(["Encore là ?", "Still there?"]))) == 0  # refused before it was stored
        assert not notify.do_queue_sms(session, to=DAVID_PHONE, text="Rappel", dedupe_key="after", now=clock.now())
    assert "opted out" in caplog.text  # logged, by identifiers only
    assert DAVID_PHONE not in caplog.text and DAVID_PHONE[1:] not in caplog.text

    assert signed_post(http, server_url, "/webhooks/twilio/sms", sms("SM4", "START")).status_code == 200
    with runtime.factory() as session:
        assert not is_opted_out(session, DAVID_PHONE)
        assert session.scalar(select(func.count()).select_from(Message).where(Message.internal.is_(True))) == 2
    assert http.post(f"/api/v1/cases/{case_id}/replies", json={"body_text": "Re-bonjour"},
                     headers=cast.auth("alice")).status_code == 201
    run_due_jobs(runtime.factory, worker="test")
    assert [m.text for m in gateway.sent][1:] == [
        "Vous recevez à nouveau nos SMS. Envoyez STOP pour ne plus en recevoir.", "Re-bonjour"]


def test_a_stop_from_an_unknown_number_is_remembered_and_start_from_a_subscribed_one_is_a_message(
        http, server_url, runtime, cast, sms_queue, gateway, monkeypatch):
    monkeypatch.setattr(runtime.settings, "sms_confirm_keywords", False)
    assert signed_post(http, server_url, "/webhooks/twilio/sms", sms("SM1", "STOP", sender="+33698765432")
                       ).status_code == 200
    with runtime.factory() as session, session.begin():
        assert is_opted_out(session, "+33698765432")
        assert session.scalar(select(func.count()).select_from(Case)) == 0  # nothing for an agent to do
        assert session.scalar(select(func.count()).select_from(Job).where(Job.kind == CONFIRM_KIND)) == 0
        assert not notify.do_queue_sms(session, to="+33698765432", text="Rappel", dedupe_key="x", now=clock.now())
    assert signed_post(http, server_url, "/webhooks/twilio/sms", sms("SM2", "Yes")).status_code == 200
    with runtime.factory() as session:
        assert [m.body_text for m in session.scalars(select(Message))] == ["Yes"]  # an answer, routed as such
