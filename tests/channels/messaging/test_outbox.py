"""Replies on messaging exchanges: refused before storing when a policy says no, else sent once by a
durable job through the channel's adapter, and tracked forward-only by the provider's status callbacks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from accueil.channels.base import Capabilities, OutboundMessage
from accueil.channels.messaging import outbox
from accueil.channels.messaging.models import Delivery, DeliveryStatus
from accueil.conversations import service as conversations
from accueil.conversations.models import ChannelKind, Message
from accueil.conversations.receive import do_receive_inbound
from accueil.core import clock
from accueil.core.errors import Conflict
from accueil.customers.models import IdentityKind
from accueil.customers.service import IdentityRef
from accueil.db.jobs import run_due_jobs
from tests.factories import contact, use_adapters


@dataclass
class RecordingSms:
    kind: ChannelKind = ChannelKind.sms
    name: str = "recording"
    capabilities: Capabilities = Capabilities(max_length=1600)
    sent: list[OutboundMessage] = field(default_factory=list)
    fail: int = 0

    @property
    def enabled(self) -> bool:
        return True

    def send(self, message: OutboundMessage) -> str:
        if self.fail:
            self.fail -= 1
            raise ConnectionError("gateway down")
        self.sent.append(message)
        return f"SM{len(self.sent):04d}"


def _sms_case(runtime) -> str:
    with runtime.factory() as session, session.begin():
        result = do_receive_inbound(session, contact=contact(
            ChannelKind.sms, identities=[IdentityRef(IdentityKind.phone, "+33612345678")], body_text="Mon colis ?"),
            config=runtime.conversation_config, now=clock.now())
        return result.case_id


def _reply(runtime, cast, case_id: str, text: str) -> str:
    with runtime.factory() as session, session.begin():
        return conversations.do_reply(session, case_id=case_id, author_user_id=cast.users["alice"], body_text=text,
                                      config=runtime.conversation_config).id


def test_a_reply_is_sent_once_retried_on_failure_and_tracked_forward_only(runtime, cast):
    gateway = RecordingSms(fail=1)
    restore = use_adapters(runtime, gateway)
    try:
        message_id = _reply(runtime, cast, _sms_case(runtime), "Il arrive demain.")
        run_due_jobs(runtime.factory, worker="test")  # the gateway is down: retried later
        with runtime.factory() as session:
            delivery = session.scalar(select(Delivery).where(Delivery.message_id == message_id))
            assert delivery.status == DeliveryStatus.queued and delivery.recipient == "+33612345678"
        run_due_jobs(runtime.factory, worker="test", now=clock.now() + timedelta(minutes=2))
        run_due_jobs(runtime.factory, worker="test", now=clock.now() + timedelta(minutes=10))
        assert [m.text for m in gateway.sent] == ["Il arrive demain."]
        at = clock.now()
        with runtime.factory() as session, session.begin():
            for status in (DeliveryStatus.read, DeliveryStatus.delivered, DeliveryStatus.sent):  # out of order
                assert outbox.do_record_status(session, provider="recording", provider_message_id="SM0001",
                                               status=status, at=at) is not None
            assert outbox.do_record_status(session, provider="recording", provider_message_id="nope",
                                           status=DeliveryStatus.read, at=at) is None
        with runtime.factory() as session:
            delivery = session.scalar(select(Delivery).where(Delivery.message_id == message_id))
            assert delivery.status == DeliveryStatus.read and delivery.provider_message_id == "SM0001"
            assert delivery.delivered_at is not None and delivery.read_at is not None
    finally:
        restore()


def test_a_policy_refuses_the_reply_before_it_is_stored(runtime, cast):
    def closed(session, interaction, message):  # noqa: ANN001
        raise Conflict("messaging_refused", reason="test")

    case_id = _sms_case(runtime)
    outbox._POLICIES.setdefault(ChannelKind.sms, []).append(closed)
    try:
        with pytest.raises(Conflict):
            _reply(runtime, cast, case_id, "Ne partira pas")
    finally:
        outbox._POLICIES[ChannelKind.sms].remove(closed)
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(Message).where(Message.body_text == "Ne partira pas")) == 0
        assert session.scalar(select(func.count()).select_from(Delivery)) == 0
