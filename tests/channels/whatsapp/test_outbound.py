"""Replies out through a local Graph API (real HTTP): the 24-hour window, templates, statuses, media in."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from accueil.channels.base import OutboundMessage
from accueil.channels.messaging.models import Delivery, DeliveryStatus
from accueil.channels.whatsapp import templates
from accueil.channels.whatsapp.adapter import CloudApiWhatsapp, RecordingWhatsapp
from accueil.channels.whatsapp.models import MediaStatus, WhatsappMedia
from accueil.conversations import service as conversations
from accueil.conversations.models import Attachment, Case, Message
from accueil.core import clock
from accueil.core.errors import Conflict, ValidationFailed
from accueil.db.jobs import run_due_jobs
from tests.channels.whatsapp.conftest import PHONE_NUMBER_ID, post, recorded, stamped
from tests.channels.whatsapp.graph import GraphServer


def _conversation(runtime, http, at):  # noqa: ANN001, ANN202
    """A customer wrote on WhatsApp at ``at``; returns their case id."""
    assert post(http, stamped(recorded("text"), at, wamid=f"wamid.IN{at.timestamp():.0f}")).status_code == 200
    with runtime.factory() as session:
        return session.scalar(select(Case.id).order_by(Case.created_at.desc()).limit(1))


def _reply(runtime, cast, case_id, text, now):  # noqa: ANN001, ANN202
    with runtime.factory() as session, session.begin():
        return conversations.do_reply(session, case_id=case_id, author_user_id=cast.users["alice"], body_text=text,
                                      config=runtime.conversation_config, now=now).id


def _messages(runtime, text: str) -> int:  # noqa: ANN001
    with runtime.factory() as session:
        return session.scalar(select(func.count()).select_from(Message).where(Message.body_text == text))


def test_free_text_is_sent_at_23_59_59_and_refused_at_24_00_01(whatsapp, cast, http, graph):
    last = (clock.now() - timedelta(hours=30)).replace(microsecond=0)
    case_id = _conversation(whatsapp, http, last)
    _reply(whatsapp, cast, case_id, "Votre colis arrive demain.", last + timedelta(hours=23, minutes=59, seconds=59))
    with pytest.raises(Conflict) as refused:
        _reply(whatsapp, cast, case_id, "Trop tard", last + timedelta(hours=24, seconds=1))
    assert refused.value.code == "whatsapp_window_closed"
    assert _messages(whatsapp, "Trop tard") == 0  # refused before it was stored
    run_due_jobs(whatsapp.factory, worker="test")
    [request] = [r for r in graph.requests if r["method"] == "POST"]
    assert request["path"] == f"/{PHONE_NUMBER_ID}/messages" and request["authorization"] == "Bearer graph-token"
    assert request["json"] == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "33698765432",
                               "type": "text", "text": {"preview_url": False, "body": "Votre colis arrive demain."}}
    with whatsapp.factory() as session:
        delivery = session.scalar(select(Delivery))
        assert delivery.status == DeliveryStatus.sent and delivery.provider_message_id == "wamid.TEST0001"


def test_statuses_move_the_delivery_forward_whatever_their_order_and_replays_change_nothing(
        whatsapp, cast, http, graph):
    case_id = _conversation(whatsapp, http, clock.now() - timedelta(minutes=10))
    _reply(whatsapp, cast, case_id, "C'est noté.", clock.now())
    run_due_jobs(whatsapp.factory, worker="test")
    statuses = recorded("statuses")
    for item in statuses["entry"][0]["changes"][0]["value"]["statuses"]:
        item["id"] = "wamid.TEST0001"  # read, then delivered, then sent: out of order
    response = post(http, statuses)
    assert response.status_code == 200 and response.json()["statuses"] == 3
    assert post(http, statuses).json()["statuses"] == 3  # replayed: recognised, nothing moves back
    with whatsapp.factory() as session:
        delivery = session.scalar(select(Delivery))
        assert delivery.status == DeliveryStatus.read
        assert delivery.read_at.timestamp() == 1765100300 and delivery.delivered_at.timestamp() == 1765100200
    for item in statuses["entry"][0]["changes"][0]["value"]["statuses"]:
        item["id"] = "wamid.NOT-OURS"
    assert post(http, statuses).json()["statuses"] == 0


def test_a_failed_status_keeps_meta_s_error_code(whatsapp, cast, http, graph):
    case_id = _conversation(whatsapp, http, clock.now() - timedelta(minutes=10))
    _reply(whatsapp, cast, case_id, "Bonjour", clock.now())
    run_due_jobs(whatsapp.factory, worker="test")
    failed = recorded("statuses")
    failed["entry"][0]["changes"][0]["value"]["statuses"] = [{
        "id": "wamid.TEST0001", "status": "failed", "timestamp": "1765100400", "recipient_id": "33698765432",
        "errors": [{"code": 131047, "title": "Re-engagement message", "message": "Re-engagement message"}]}]
    assert post(http, failed).json()["statuses"] == 1
    with whatsapp.factory() as session:
        delivery = session.scalar(select(Delivery))
        assert delivery.status == DeliveryStatus.failed and delivery.error == "131047 Re-engagement message"


def test_an_unapproved_template_is_refused_with_its_reason_and_logged(whatsapp, cast, http, graph, caplog):
    case_id = _conversation(whatsapp, http, clock.now() - timedelta(days=3))
    with whatsapp.factory() as session, session.begin():
        draft = templates.do_add_template(session, name="suivi_dossier", language="fr",
                                          body="Bonjour {{1}}, votre dossier {{2}} avance.").id
    with caplog.at_level(logging.WARNING), pytest.raises(Conflict) as refused, \
            whatsapp.factory() as session, session.begin():
        templates.do_send_template(session, case_id=case_id, template_id=draft, variables=["Sheena", "D-1"],
                                   author_user_id=cast.users["alice"], config=whatsapp.conversation_config)
    assert refused.value.code == "whatsapp_template_not_approved"
    assert "suivi_dossier/fr refused" in caplog.text and "+33" not in caplog.text
    assert _messages(whatsapp, "Bonjour Sheena, votre dossier D-1 avance.") == 0


def test_an_approved_template_with_its_variables_is_sent_outside_the_window(whatsapp, cast, http, graph):
    case_id = _conversation(whatsapp, http, clock.now() - timedelta(days=3))
    with whatsapp.factory() as session, session.begin():
        template = templates.do_add_template(session, name="suivi_dossier", language="fr", approved=True,
                                             body="Bonjour {{1}}, votre dossier {{2}} avance.").id
    with whatsapp.factory() as session, session.begin(), pytest.raises(ValidationFailed):
        templates.do_send_template(session, case_id=case_id, template_id=template, variables=["Sheena"],
                                   author_user_id=cast.users["alice"], config=whatsapp.conversation_config)
    with whatsapp.factory() as session, session.begin():
        templates.do_send_template(session, case_id=case_id, template_id=template, variables=["Sheena", "D-1"],
                                   author_user_id=cast.users["alice"], config=whatsapp.conversation_config)
    assert _messages(whatsapp, "Bonjour Sheena, votre dossier D-1 avance.") == 1  # the case reads as sent
    run_due_jobs(whatsapp.factory, worker="test")
    assert graph.sent() == [{
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": "33698765432", "type": "template",
        "template": {"name": "suivi_dossier", "language": {"code": "fr"}, "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "Sheena"}, {"type": "text", "text": "D-1"}]}]}}]


def test_template_bodies_are_checked():
    assert templates.variable_count("Bonjour {{1}}, {{2}} et {{ 1 }}") == 2
    assert templates.render("Bonjour {{1}}, dossier {{2}}", ["Ana", "D-7"]) == "Bonjour Ana, dossier D-7"
    with pytest.raises(ValidationFailed):
        templates.variable_count("Bonjour {{2}}")  # a gap


def test_customers_files_are_fetched_through_the_graph_api_within_the_limits(whatsapp, http, graph):
    jpeg = b"\xff\xd8\xff\xe0" + b"x" * 500
    graph.media.update({"1003383421387256": (jpeg, "image/jpeg"), "1158201444948090": (b"%PDF-1.4 x", "application/pdf"),
                        "1234567890": (b"OggS" + b"v" * 100, "audio/ogg")})
    post(http, stamped(recorded("mixed"), clock.now() - timedelta(minutes=2)))
    run_due_jobs(whatsapp.factory, worker="test")
    with whatsapp.factory() as session:
        media = {m.media_id: m for m in session.scalars(select(WhatsappMedia))}
        assert media["1003383421387256"].status == MediaStatus.stored
        image = session.get(Attachment, media["1003383421387256"].attachment_id)
        assert image.content_type == "image/jpeg" and image.size_bytes == len(jpeg)
        assert (whatsapp.settings.attachments_dir / image.storage_path).read_bytes() == jpeg
        assert session.get(Attachment, media["1158201444948090"].attachment_id).filename == "facture.pdf"
        assert media["1234567890"].status == MediaStatus.refused and "audio/ogg" in media["1234567890"].reason
    assert all(r["authorization"] == "Bearer graph-token" for r in graph.requests)


def test_a_media_url_elsewhere_than_the_graph_api_is_never_fetched(whatsapp, http, graph):
    elsewhere = GraphServer().start()
    try:
        elsewhere.media["evil"] = (b"\xff\xd8\xff", "image/jpeg")
        graph.media["1003383421387256"] = (b"\xff\xd8\xff", "image/jpeg")
        graph.media_urls["1003383421387256"] = f"{elsewhere.url}/media/evil"
        delivery = stamped(recorded("mixed"), clock.now() - timedelta(minutes=2))
        value = delivery["entry"][0]["changes"][0]["value"]
        value["messages"] = value["messages"][:1]
        post(http, delivery)
        run_due_jobs(whatsapp.factory, worker="test")
        assert elsewhere.requests == []
        with whatsapp.factory() as session:
            media = session.scalar(select(WhatsappMedia))
            assert media.status == MediaStatus.failed and "host" in media.reason
    finally:
        elsewhere.stop()


def test_the_cloud_api_adapter_returns_the_wamid_and_raises_when_meta_fails():
    graph = GraphServer(fail_sends=1).start()
    try:
        adapter = CloudApiWhatsapp(api_url=graph.url, token="t", phone_number_id="42")
        with pytest.raises(Exception):  # noqa: B017 - a 503: the durable job retries
            adapter.send(OutboundMessage(to="+33698765432", text="Bonjour"))
        assert adapter.send(OutboundMessage(to="+33698765432", text="Bonjour")) == "wamid.TEST0002"
        assert not CloudApiWhatsapp(api_url=graph.url, token="", phone_number_id="42").enabled
    finally:
        graph.stop()


def test_the_recording_adapter_writes_what_it_would_have_posted(tmp_path):
    import json

    adapter = RecordingWhatsapp(folder=str(tmp_path / "outbox"))
    wamid = adapter.send(OutboundMessage(to="+33698765432", text="Bonjour", extra={"delivery_id": "d1"}))
    record = json.loads((tmp_path / "outbox" / f"{wamid}.json").read_text(encoding="utf-8"))
    assert record["request"]["to"] == "33698765432" and record["request"]["text"]["body"] == "Bonjour"
    assert not RecordingWhatsapp().enabled
