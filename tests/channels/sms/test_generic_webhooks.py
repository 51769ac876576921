"""The generic signed JSON SMS webhooks: HMAC-SHA256 over timestamp and body, a timestamp within 5 minutes,
the message id as idempotency key, media inside the signed body, statuses of what the gateway sent."""

from __future__ import annotations

import base64
import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from accueil.channels.messaging.models import Delivery, DeliveryStatus
from accueil.channels.sms import generic
from accueil.channels.sms.adapter import HttpSmsGateway
from accueil.conversations.models import Attachment, Case, Interaction, Message
from accueil.db.jobs import run_due_jobs
from tests.channels.sms.fakes import PNG
from tests.factories import DAVID_PHONE, use_adapters

SECRET = "gateway-shared-secret"


def post(http, path, payload, *, secret=SECRET, at=None, body=None):
    raw = body if body is not None else json.dumps(payload).encode()
    stamp = int(at if at is not None else time.time())
    return http.post(path, content=raw, headers={"Content-Type": "application/json",
                                                 "X-Accueil-Timestamp": str(stamp),
                                                 "X-Accueil-Signature": generic.sign(secret, stamp, raw)})


@pytest.fixture
def secret(runtime, sms_queue, monkeypatch):
    monkeypatch.setattr(runtime.settings, "sms_webhook_secret", SECRET)
    return SECRET


def counts(runtime) -> tuple[int, int]:
    with runtime.factory() as session:
        return (session.scalar(select(func.count()).select_from(Interaction)),
                session.scalar(select(func.count()).select_from(Message)))


def test_signature_and_timestamp():
    now = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    body = b'{"id":"1"}'
    stamp = int(now.timestamp())
    headers = {"x-accueil-timestamp": str(stamp), "x-accueil-signature": generic.sign(SECRET, stamp, body)}
    assert headers["x-accueil-signature"].startswith("sha256=") and len(headers["x-accueil-signature"]) == 71
    assert generic.signature_is_valid(SECRET, headers, body, now)
    assert not generic.signature_is_valid(SECRET, headers, body + b" ", now)
    assert not generic.signature_is_valid("other", headers, body, now)
    assert not generic.signature_is_valid("", headers, body, now)
    assert not generic.signature_is_valid(SECRET, {**headers, "x-accueil-timestamp": str(stamp + 1)}, body, now)
    assert generic.signature_is_valid(SECRET, headers, body, now.replace(minute=4, second=59))
    assert not generic.signature_is_valid(SECRET, headers, body, now.replace(minute=5, second=1))  # too old


def test_a_signed_message_is_received_once_and_a_bad_or_stale_one_records_nothing(http, runtime, cast, secret):
    message = {"id": "gw-1", "from": DAVID_PHONE, "to": "+33700000001", "text": "Bonjour par la passerelle",
               "received_at": "2026-12-07T09:00:00Z",
               "media": [{"filename": "colis.png", "content_type": "image/png",
                          "data": base64.b64encode(PNG).decode()}]}
    assert post(http, "/webhooks/sms", message, secret="wrong").status_code == 403
    assert post(http, "/webhooks/sms", message, at=time.time() - 600).status_code == 403  # an old capture
    assert http.post("/webhooks/sms", json=message).status_code == 403
    assert counts(runtime) == (0, 0)
    first = post(http, "/webhooks/sms", message)
    assert first.status_code == 200 and first.json() == {"status": "received"}
    replay = post(http, "/webhooks/sms", message)
    assert replay.status_code == 200 and replay.json() == {"status": "duplicate"}
    assert counts(runtime) == (1, 1)
    with runtime.factory() as session:
        interaction = session.scalar(select(Interaction))
        assert interaction.customer_id == cast.david_id
        assert interaction.arrived_at.replace(tzinfo=UTC) == datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
        assert session.scalar(select(Attachment.filename)) == "colis.png"
    bad = post(http, "/webhooks/sms", {"id": "gw-2", "text": "no sender"})
    assert bad.status_code == 422 and "from" in bad.json()["error"]["details"]["summary"]
    assert post(http, "/webhooks/sms", None, body=b"not json").status_code == 422
    assert counts(runtime) == (1, 1)


def test_a_refused_media_is_named_in_a_note_and_the_text_still_arrives(http, runtime, cast, secret):
    message = {"id": "gw-3", "from": DAVID_PHONE, "to": "", "text": "Le fichier",
               "media": [{"filename": "x.exe", "content_type": "application/x-msdownload", "data": "TVqQ"}]}
    assert post(http, "/webhooks/sms", message).json() == {"status": "received"}
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(Attachment)) == 0
        note = session.scalar(select(Message.body_text).where(Message.internal.is_(True)))
        assert "attachment_type_refused" in note and "x.exe" in note


def test_statuses_of_what_the_gateway_sent(http, runtime, cast, secret):
    answers = []

    class Gateway(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            answers.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            data = json.dumps({"id": f"gw-out-{len(answers)}"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:  # noqa: ANN002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    restore = use_adapters(runtime, HttpSmsGateway(url=f"http://127.0.0.1:{server.server_port}/send",
                                                   sender="MAISON", senders={"sms": "MARQUEA"}))
    try:
        assert post(http, "/webhooks/sms", {"id": "gw-1", "from": DAVID_PHONE, "text": "Bonjour"}).status_code == 200
        with runtime.factory() as session:
            case_id = session.scalar(select(Case.id))
        assert http.post(f"/api/v1/cases/{case_id}/replies", json={"body_text": "Bien reçu"},
                         headers=cast.auth("alice")).status_code == 201
        run_due_jobs(runtime.factory, worker="test")
        assert answers == [{"to": DAVID_PHONE, "text": "Bien reçu", "from": "MARQUEA"}]  # the queue's sender
        for status in ("delivered", "sent", "failed"):
            answer = post(http, "/webhooks/sms/status", {"id": "gw-out-1", "status": status, "error": "late"})
            assert answer.json() == {"status": "recorded"}
        assert post(http, "/webhooks/sms/status", {"id": "nope", "status": "delivered"}).json() == {"status": "unknown"}
        assert post(http, "/webhooks/sms/status", {"id": "gw-out-1", "status": "lost"}).status_code == 422
        assert post(http, "/webhooks/sms/status", {"id": "gw-out-1", "status": "sent"}, secret="x").status_code == 403
        with runtime.factory() as session:
            delivery = session.scalar(select(Delivery))
            assert delivery.provider == "gateway" and delivery.provider_message_id == "gw-out-1"
            assert delivery.status == DeliveryStatus.delivered
    finally:
        restore()
        server.shutdown()
