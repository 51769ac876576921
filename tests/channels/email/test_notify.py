"""Customer notifications: queued in the caller's transaction, sent by the job runner to a real SMTP server
or HTTP SMS gateway, retried on failure, never queued twice, and not queued at all when not configured."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

from sqlalchemy import select

from accueil.channels import notify
from accueil.channels.email.adapter import SmtpEmail
from accueil.channels.sms.adapter import HttpSmsGateway
from accueil.db.jobs import Job, run_due_jobs
from tests.factories import use_adapters

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_email_is_sent_once_through_smtp(runtime, smtp_server):
    for _ in range(2):  # a duplicate delivery of the same notification queues nothing new
        with runtime.factory() as session, session.begin():
            assert notify.do_queue_email(session, to="david@example.org", subject="Votre rappel\n",
                                         body="Nous vous rappelons à 10 h.", dedupe_key="cb:1", now=NOW)
    assert run_due_jobs(runtime.factory, worker="t", now=NOW) == 1
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "david@example.org"
    assert message["Subject"] == "Votre rappel"
    assert message["From"] == "Service client <service@accueil.test>"
    assert "Nous vous rappelons à 10 h." in message.get_content()


def test_rolled_back_transaction_sends_nothing(runtime, smtp_server):
    with runtime.factory() as session:
        with session.begin():
            notify.do_queue_email(session, to="x@example.org", subject="s", body="b", dedupe_key="k", now=NOW)
            session.rollback()
    assert run_due_jobs(runtime.factory, worker="t", now=NOW) == 0
    assert smtp_server.messages == []


def test_unreachable_smtp_is_retried_later(runtime):
    restore = use_adapters(runtime, SmtpEmail(host="127.0.0.1", port=1, timeout_seconds=2))
    try:
        with runtime.factory() as session, session.begin():
            notify.do_queue_email(session, to="x@example.org", subject="s", body="b", dedupe_key="k2", now=NOW)
        assert run_due_jobs(runtime.factory, worker="t", now=NOW) == 0
        with runtime.factory() as session:
            job = session.scalars(select(Job).where(Job.kind == notify.EMAIL_KIND)).one()
            assert job.status == "pending" and job.run_at > NOW and "Error" in (job.last_error or "")
    finally:
        restore()


def test_nothing_is_queued_without_transports(runtime):
    restore = use_adapters(runtime, SmtpEmail(), HttpSmsGateway())
    try:
        with runtime.factory() as session, session.begin():
            assert not notify.do_queue_email(session, to="x@example.org", subject="s", body="b",
                                             dedupe_key="k", now=NOW)
            assert not notify.do_queue_sms(session, to="+33612345678", text="t", dedupe_key="k", now=NOW)
        with runtime.factory() as session:
            assert session.scalars(select(Job)).all() == []
    finally:
        restore()


class _Gateway(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Gateway.received.append((self.headers.get("Authorization"), json.loads(body)))
        self.send_response(202)
        self.end_headers()

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


def test_sms_goes_to_the_http_gateway(runtime):
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Gateway.received = []
    restore = use_adapters(runtime, HttpSmsGateway(url=f"http://127.0.0.1:{server.server_port}/sms", token="secret", sender="ACCUEIL"))
    try:
        with runtime.factory() as session, session.begin():
            assert notify.do_queue_sms(session, to="+33612345678", text="Rappel demain à 10 h",
                                       dedupe_key="s1", now=NOW)
        assert run_due_jobs(runtime.factory, worker="t", now=NOW + timedelta(seconds=1)) == 1
        assert _Gateway.received == [("Bearer secret", {"to": "+33612345678", "text": "Rappel demain à 10 h",
                                                        "from": "ACCUEIL"})]
    finally:
        restore()
        server.shutdown()
