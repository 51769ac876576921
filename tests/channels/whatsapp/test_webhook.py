"""The WhatsApp Cloud API webhook on a real server: signed deliveries stored once, everything else refused."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from accueil.conversations.models import ChannelKind, InboundReceipt, Interaction, Message
from accueil.core import clock
from accueil.customers.models import Customer, Identity, IdentityKind
from accueil.routing.models import Queue
from tests.channels.whatsapp.conftest import VERIFY, post, recorded, stamped
from tests.factories import DAVID_PHONE


def _count(runtime, model) -> int:  # noqa: ANN001
    with runtime.factory() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_signed_text_is_a_whatsapp_contact_of_its_sender_routed_to_the_queue(whatsapp, http):
    response = post(http, stamped(recorded("text"), clock.now()))
    assert response.status_code == 200, response.text
    assert response.json()["received"] == 1
    with whatsapp.factory() as session:
        identity = session.scalar(select(Identity).where(Identity.kind == IdentityKind.whatsapp))
        assert identity.value == "+33698765432"
        customer = session.get(Customer, identity.customer_id)
        assert customer.display_name == "Sheena Nelson"
        assert {(i.kind, i.value) for i in customer.identities} >= {(IdentityKind.phone, "+33698765432")}
        interaction = session.scalar(select(Interaction).where(Interaction.customer_id == customer.id))
        assert interaction.channel is ChannelKind.whatsapp
        assert interaction.queue_id == session.scalar(select(Queue.id).where(Queue.code == "whatsapp"))
        assert [m.body_text for m in interaction.messages] == ["Bonjour, ma commande 12345 n'est toujours pas arrivée."]
    assert "interaction.arrived" in whatsapp.bus.names()


def test_a_replay_creates_nothing_and_the_next_message_continues_the_exchange(whatsapp, http):
    now = clock.now()
    first = stamped(recorded("text"), now - timedelta(minutes=5), wamid="wamid.FIRST")
    assert post(http, first).json()["received"] == 1
    again = post(http, first)  # Meta retries a delivery it thinks failed
    assert again.status_code == 200 and again.json() == {**again.json(), "received": 0, "duplicates": 1}
    assert _count(whatsapp, Message) == 1 and _count(whatsapp, InboundReceipt) == 1
    assert post(http, stamped(recorded("text"), now, wamid="wamid.SECOND")).json()["received"] == 1
    with whatsapp.factory() as session:
        interactions = session.scalars(select(Interaction).where(Interaction.channel == ChannelKind.whatsapp)).all()
        assert len(interactions) == 1 and len(interactions[0].messages) == 2


def test_a_known_customer_writing_on_whatsapp_continues_their_case_on_their_journey(whatsapp, cast, http):
    wa_id = DAVID_PHONE.lstrip("+")
    post(http, stamped(recorded("text"), clock.now() - timedelta(minutes=1), wamid="wamid.D1", wa_id=wa_id))
    with whatsapp.factory() as session:
        interaction = session.scalar(select(Interaction).where(Interaction.channel == ChannelKind.whatsapp))
        assert interaction.customer_id == cast.david_id  # found by the phone number the WhatsApp id is
        interaction.ended_at = clock.now()  # the agent ended the exchange; the case stays open
        session.commit()
        case_id = interaction.case_id
    post(http, stamped(recorded("text"), clock.now(), wamid="wamid.D2", wa_id=wa_id))
    with whatsapp.factory() as session:
        rows = session.scalars(select(Interaction).where(Interaction.channel == ChannelKind.whatsapp)
                               .order_by(Interaction.arrived_at)).all()
        assert len(rows) == 2 and {r.case_id for r in rows} == {case_id}


def test_wrong_missing_or_unconfigured_signatures_are_403_and_record_nothing(whatsapp, http, monkeypatch):
    delivery = stamped(recorded("text"), clock.now())
    customers = _count(whatsapp, Customer)
    assert post(http, delivery, secret="not-the-app-secret").status_code == 403
    assert post(http, delivery, signature="").status_code == 403
    body = b'{"object": "whatsapp_business_account", "entry": []}'
    assert post(http, body, signature="sha256=" + "0" * 64).status_code == 403
    monkeypatch.setattr(whatsapp.settings, "whatsapp_app_secret", "")
    assert post(http, delivery, secret="").status_code == 403  # no secret configured: nothing is trusted
    assert _count(whatsapp, Customer) == customers
    assert _count(whatsapp, Message) == 0 and _count(whatsapp, InboundReceipt) == 0


def test_a_signed_body_that_is_no_delivery_is_422_and_records_nothing(whatsapp, http):
    assert post(http, b"not json").status_code == 422
    assert post(http, b'{"object": "page", "entry": []}').status_code == 422
    assert _count(whatsapp, Message) == 0


def test_the_subscription_handshake_echoes_the_challenge_for_our_token_only(whatsapp, http):
    ok = http.get("/webhooks/whatsapp", params={"hub.mode": "subscribe", "hub.verify_token": VERIFY,
                                                "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.text == "1158201444"
    wrong = http.get("/webhooks/whatsapp", params={"hub.mode": "subscribe", "hub.verify_token": "guess",
                                                   "hub.challenge": "1158201444"})
    assert wrong.status_code == 403 and "1158201444" not in wrong.text


def test_media_location_buttons_and_quick_replies_in_one_delivery(whatsapp, http):
    response = post(http, stamped(recorded("mixed"), clock.now() - timedelta(minutes=2)))
    assert response.json()["received"] == 7, response.text
    with whatsapp.factory() as session:
        bodies = [m.body_text for m in session.scalars(select(Message).order_by(Message.created_at))]
        interactions = session.scalar(select(func.count()).select_from(Interaction))
    assert interactions == 1  # one conversation, seven lines
    assert bodies[0] == "Le colis abîmé" and bodies[1] == "📄 facture.pdf"
    assert bodies[2].startswith("📍 50.6365654, 3.0635282\nMaison Lumière Lille\n12 rue Nationale, 59000 Lille\n")
    assert bodies[3:6] == ["Oui, livrez-moi", "Matin\nEntre 9 h et 12 h", "Arrêter les promotions"]
    assert bodies[6] == "🎤"
    assert post(http, stamped(recorded("mixed"), clock.now() - timedelta(minutes=2))).json()["duplicates"] == 7
