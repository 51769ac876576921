"""Twilio-format SMS webhooks over real HTTP: signed deliveries become messages of the customer's case
(once, whatever Twilio retries), forged ones record nothing, MMS media come only from the provider's host,
and the status callbacks of our replies move their delivery forward only."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from accueil.channels.messaging.models import Delivery, DeliveryStatus
from accueil.conversations.models import Attachment, Case, ChannelKind, Interaction, Message
from accueil.conversations.receive import do_receive_inbound
from accueil.core import clock
from accueil.db.jobs import run_due_jobs
from accueil.routing.models import Queue, RoutingItem
from tests.channels.sms.fakes import OURS, signed_post, sms
from tests.factories import DAVID_PHONE, contact


def count(runtime, model) -> int:
    with runtime.factory() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_signed_sms_is_one_message_routed_once_and_a_forged_one_records_nothing(http, server_url, runtime, cast,
                                                                                  sms_queue):
    forged = http.post("/webhooks/twilio/sms", data=sms("SM1"), headers={"X-Twilio-Signature": "bm90IGl0"})
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "forbidden"
    assert http.post("/webhooks/twilio/sms", data=sms("SM1")).status_code == 403
    wrong_key = signed_post(http, server_url, "/webhooks/twilio/sms", sms("SM1"), token="another")
    assert wrong_key.status_code == 403
    assert count(runtime, Interaction) == 0 and count(runtime, Message) == 0

    answer = signed_post(http, server_url, "/webhooks/twilio/sms", sms("SM1"))
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/xml")
    assert answer.text == '<?xml version="1.0" encoding="UTF-8"?><Response/>'
    again = signed_post(http, server_url, "/webhooks/twilio/sms", sms("SM1"))  # Twilio retries: nothing new
    assert again.status_code == 200
    with runtime.factory() as session:
        interaction = session.scalar(select(Interaction))
        assert interaction.channel is ChannelKind.sms and interaction.customer_id == cast.david_id
        assert session.scalar(select(Queue.code).where(Queue.id == interaction.queue_id)) == "sms"
        assert session.scalar(select(func.count()).select_from(RoutingItem)) == 1
        assert [m.body_text for m in session.scalars(select(Message))] == ["Bonjour, où en est ma commande ?"]

    # the next text while the exchange is open is its next line: same interaction, no new work queued
    assert signed_post(http, server_url, "/webhooks/twilio/sms", sms("SM2", "C'est la 12345")).status_code == 200
    assert count(runtime, Interaction) == 1 and count(runtime, Message) == 2 and count(runtime, RoutingItem) == 1


def test_a_text_continues_the_customers_open_case_from_another_channel(http, server_url, runtime, cast, sms_queue):
    with runtime.factory() as session, session.begin():
        case_id = do_receive_inbound(session, contact=contact(ChannelKind.email), config=runtime.conversation_config,
                                     now=clock.now()).case_id
    assert signed_post(http, server_url, "/webhooks/twilio/sms", sms("SM7", "Je vous écris aussi par SMS")
                       ).status_code == 200
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1
        channels = sorted(i.channel.value for i in session.scalars(select(Interaction).where(
            Interaction.case_id == case_id)))
        assert channels == ["email", "sms"]  # the journey shows both on the same case


def test_an_unknown_number_opens_a_case_and_a_bad_number_is_refused(http, server_url, runtime, cast, sms_queue):
    assert signed_post(http, server_url, "/webhooks/twilio/sms", sms("SM8", sender="+33698765432")).status_code == 200
    refused = signed_post(http, server_url, "/webhooks/twilio/sms", sms("SM9", sender="not a number"))
    assert refused.status_code == 422
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1
        assert session.scalar(select(Interaction.customer_id)) != cast.david_id


def test_mms_media_come_from_the_providers_host_only(http, server_url, runtime, cast, sms_queue, fake_twilio):
    mms = sms("MM1", "Voici la photo du colis", NumMedia="3",
              MediaUrl0=f"{fake_twilio.url}/media/redirect/ME1", MediaContentType0="image/png",
              MediaUrl1="http://169.254.169.254/latest/meta-data", MediaContentType1="image/png",
              MediaUrl2=f"{fake_twilio.url.replace('127.0.0.1', 'localhost')}/media/ME3",
              MediaContentType2="image/png")
    assert signed_post(http, server_url, "/webhooks/twilio/sms", mms).status_code == 200
    assert fake_twilio.media_fetches == 1 and fake_twilio.auths[0].startswith("Basic ")
    with runtime.factory() as session:
        attachment = session.scalar(select(Attachment))
        assert (attachment.content_type, attachment.filename) == ("image/png", "mms-1.png")
        note = session.scalar(select(Message).where(Message.internal.is_(True)))
        assert note.body_text.count("not on the provider's host") == 2 and "169.254" not in note.body_text
    assert signed_post(http, server_url, "/webhooks/twilio/sms", mms).status_code == 200  # a replay fetches nothing
    assert fake_twilio.media_fetches == 1 and count(runtime, Attachment) == 1


def test_a_reply_leaves_through_twilio_from_its_brands_number_and_statuses_only_move_forward(
        http, server_url, runtime, cast, sms_queue, fake_twilio, monkeypatch):
    monkeypatch.setattr(runtime.settings, "public_url", server_url)
    assert signed_post(http, server_url, "/webhooks/twilio/sms", sms("SM1")).status_code == 200
    with runtime.factory() as session:
        case_id = session.scalar(select(Case.id))
    reply = http.post(f"/api/v1/cases/{case_id}/replies", json={"body_text": "Elle arrive demain. Bonne journée !"},
                      headers=cast.auth("alice"))
    assert reply.status_code == 201
    run_due_jobs(runtime.factory, worker="test")
    assert len(fake_twilio.sent) == 1
    sent = fake_twilio.sent[0]
    assert sent["path"] == "/2010-04-01/Accounts/AC1/Messages.json"
    assert (sent["To"], sent["From"], sent["Body"]) == (DAVID_PHONE, OURS, "Elle arrive demain. Bonne journée !")
    with runtime.factory() as session:
        delivery = session.scalar(select(Delivery))
        assert delivery.provider == "twilio" and delivery.status == DeliveryStatus.sent and delivery.segments == 1
        sid = delivery.provider_message_id
    status = {"MessageSid": sid, "AccountSid": "AC1", "From": OURS, "To": DAVID_PHONE}
    forged = http.post("/webhooks/twilio/sms/status", data={**status, "MessageStatus": "failed"},
                       headers={"X-Twilio-Signature": "bm90IGl0"})
    assert forged.status_code == 403
    for name in ("delivered", "sent", "queued", "delivered"):  # out of order, and a retry
        answer = signed_post(http, server_url, "/webhooks/twilio/sms/status", {**status, "MessageStatus": name})
        assert answer.status_code == 204
    late_failure = {**status, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    assert signed_post(http, server_url, "/webhooks/twilio/sms/status", late_failure).status_code == 204
    unknown = {**status, "MessageSid": "SMnot-ours", "MessageStatus": "delivered"}
    assert signed_post(http, server_url, "/webhooks/twilio/sms/status", unknown).status_code == 204
    with runtime.factory() as session:
        delivery = session.scalar(select(Delivery))
        assert delivery.status == DeliveryStatus.delivered and delivery.delivered_at is not None
        assert delivery.error == "Twilio error 30003"  # kept, but a delivered message stays delivered


def test_a_failed_status_marks_the_delivery_failed_with_twilios_error(http, server_url, runtime, cast, sms_queue,
                                                                     fake_twilio):
    assert signed_post(http, server_url, "/webhooks/twilio/sms", sms("SM1")).status_code == 200
    with runtime.factory() as session:
        case_id = session.scalar(select(Case.id))
    assert http.post(f"/api/v1/cases/{case_id}/replies", json={"body_text": "€" * 81},
                     headers=cast.auth("alice")).status_code == 201
    run_due_jobs(runtime.factory, worker="test")
    with runtime.factory() as session:
        delivery = session.scalar(select(Delivery))
        assert delivery.segments == 2  # 162 septets
    status = {"MessageSid": delivery.provider_message_id, "MessageStatus": "failed", "ErrorCode": "30006"}
    assert signed_post(http, server_url, "/webhooks/twilio/sms/status", status).status_code == 204
    assert signed_post(http, server_url, "/webhooks/twilio/sms/status", {**status, "MessageStatus": "sent"}
                       ).status_code == 204
    with runtime.factory() as session:
        delivery = session.scalar(select(Delivery))
        assert delivery.status == DeliveryStatus.failed and delivery.error == "Twilio error 30006"


def test_the_twilio_adapter_raises_on_a_refusal_so_the_job_retries(runtime, cast, sms_queue, fake_twilio,
                                                                   http, server_url):
    assert signed_post(http, server_url, "/webhooks/twilio/sms", sms("SM1")).status_code == 200
    with runtime.factory() as session:
        case_id = session.scalar(select(Case.id))
    fake_twilio.refuse_with = 21211
    assert http.post(f"/api/v1/cases/{case_id}/replies", json={"body_text": "Bonjour"},
                     headers=cast.auth("alice")).status_code == 201
    run_due_jobs(runtime.factory, worker="test")
    assert fake_twilio.sent == []
    with runtime.factory() as session:
        assert session.scalar(select(Delivery.status)) == DeliveryStatus.queued
    run_due_jobs(runtime.factory, worker="test", now=clock.now() + timedelta(minutes=10))
    assert len(fake_twilio.sent) == 1
