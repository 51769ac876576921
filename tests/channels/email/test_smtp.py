"""Real SMTP conversations (smtplib) with the listener: stored before 250, read into cases, never lost."""

from __future__ import annotations

import smtplib

import pytest
from sqlalchemy import func, select

from accueil.channels.email.intake import do_process_mail
from accueil.channels.email.models import InboundMail, InboxStatus
from accueil.conversations.models import Case, Interaction, Message
from accueil.db.jobs import Job
from accueil.routing.models import Queue
from tests.channels.email.mails import COMPLAINTS, CUSTOMER, SERVICE, mail


def test_a_mail_to_a_mailbox_becomes_an_email_interaction_of_the_senders_case(listener, runtime, http, cast):
    listener.send(mail(subject="Colis abîmé", text="Bonjour,\n\nLe colis est arrivé abîmé."), to=[COMPLAINTS])
    [row] = listener.inbox()
    assert row.status == InboxStatus.received and row.source == "smtp"
    with runtime.factory() as session:
        case = session.get(Case, row.case_id)
        assert case.motif.code == "reclamation" and case.first_channel == "email"
        interaction = session.get(Interaction, row.interaction_id)
        assert interaction.channel == "email"
        assert session.get(Queue, interaction.queue_id).code == "email_n2"
        message = session.scalar(select(Message).where(Message.interaction_id == interaction.id))
        assert message.subject == "Colis abîmé" and message.body_text == "Bonjour,\n\nLe colis est arrivé abîmé."
    # the integrators' contract: the mail shows on the sender's timeline
    found = http.get("/api/v1/customers", params={"identity": f"email:{CUSTOMER}"},
                     headers=cast.auth("admin")).json()
    customer_id = found["items"][0]["id"] if "items" in found else found[0]["id"]
    timeline = http.get(f"/api/v1/customers/{customer_id}/timeline", headers=cast.auth("admin")).json()
    assert "email" in str(timeline)


def test_the_raw_mail_is_on_disk_and_committed_when_the_sender_hears_250(listener, runtime):
    raw = mail(subject="Preuve")
    listener.listener.handler.read_at_once = False  # nobody reads: only what the 250 promises
    listener.send(raw)
    with runtime.factory() as session:
        [row] = session.scalars(select(InboundMail)).all()
        assert row.status == InboxStatus.pending
        stored = (runtime.settings.mail_dir / row.storage_path).read_bytes()
        assert stored.replace(b"\r\n", b"\n").rstrip() == raw.replace(b"\r\n", b"\n").rstrip()  # SMTP sends CRLF
        job = session.scalar(select(Job).where(Job.kind == "mail.process"))
        assert job.payload == {"mail_id": row.id} and job.status == "pending"


def test_the_safety_net_job_reads_a_mail_the_listener_did_not(listener, runtime):
    listener.listener.handler.read_at_once = False
    listener.send(mail())
    with runtime.factory() as session:
        row_id = session.scalar(select(InboundMail.id))
    from datetime import timedelta

    from accueil.core import clock
    from accueil.db.jobs import run_due_jobs

    assert run_due_jobs(runtime.factory, worker="test", now=clock.now() + timedelta(minutes=1)) == 1
    with runtime.factory() as session:
        assert session.get(InboundMail, row_id).status == InboxStatus.received


def test_unknown_recipients_are_refused_and_known_ones_kept(listener):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        listener.send(mail(to="personne@maison-lumiere.example"), to=["personne@maison-lumiere.example"])
    assert refused.value.recipients["personne@maison-lumiere.example"][0] == 550
    assert listener.send(mail(), to=[SERVICE, "personne@maison-lumiere.example"]) == {
        "personne@maison-lumiere.example": (550, b"5.1.1 No such mailbox here")}
    assert [row.status for row in listener.inbox()] == [InboxStatus.received]


def test_a_mail_over_the_size_limit_is_refused_with_552(runtime, mailboxes):
    from accueil.channels.email.smtp import MailListener
    from tests.channels.email.conftest import free_port

    small = runtime.settings.model_copy(update={"mail_max_bytes": 50_000})
    listener = MailListener(runtime.factory, runtime.conversation_config, small, port=free_port()).start()
    try:
        big = mail(attachments=[("big.pdf", "application/pdf", b"x" * 80_000)])
        with smtplib.SMTP("127.0.0.1", listener.port, timeout=10) as smtp:
            with pytest.raises(smtplib.SMTPSenderRefused) as refused:  # it said SIZE=…: refused at once
                smtp.sendmail(CUSTOMER, [SERVICE], big)
        assert refused.value.smtp_code == 552
        with smtplib.SMTP("127.0.0.1", listener.port, timeout=10) as smtp:  # a client that does not say
            smtp.ehlo()
            assert smtp.mail(CUSTOMER)[0] == 250 and smtp.rcpt(SERVICE)[0] == 250
            answer = smtp.data(big)
            assert answer[0] == 552, answer
    finally:
        listener.stop()
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(InboundMail)) == 0


def test_the_same_mail_delivered_twice_creates_one_interaction(listener, runtime):
    raw = mail(message_id="<twice@example.fr>")
    listener.send(raw)
    listener.send(raw)  # a sending server that did not hear our 250 sends again
    rows = listener.inbox(2)
    assert sorted(row.status for row in rows) == [InboxStatus.duplicate, InboxStatus.received]
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(Interaction)) == 1


def test_an_unreadable_mail_is_quarantined_with_its_reason_never_dropped(listener, runtime):
    with smtplib.SMTP("127.0.0.1", listener.port, timeout=10) as smtp:
        smtp.sendmail(CUSTOMER, [SERVICE], b"\r\n\r\n")
    [row] = listener.inbox()
    assert row.status == InboxStatus.quarantined and row.reason.startswith("unreadable")
    assert (runtime.settings.mail_dir / row.storage_path).exists()


def test_attachments_are_stored_within_the_limits_and_the_rest_noted(listener, runtime):
    listener.send(mail(attachments=[("facture.pdf", "application/pdf", b"%PDF-1.4 facture"),
                                    ("virus.exe", "application/x-msdownload", b"MZ"),
                                    ("archive.zip", "application/zip", b"PK\x03\x04 zip in zip")]))
    [row] = listener.inbox()
    assert row.status == InboxStatus.received
    assert "attachment_type_refused: virus.exe" in row.reason and "archive.zip" in row.reason
    with runtime.factory() as session:
        message = session.scalar(select(Message).where(Message.interaction_id == row.interaction_id))
        assert [a.filename for a in message.attachments] == ["facture.pdf"]


def test_scripts_in_html_never_reach_the_database(listener, runtime):
    listener.send(mail(html="<p>Bonjour</p><script>steal()</script><img src=x onerror=alert(1)>"))
    [row] = listener.inbox()
    with runtime.factory() as session:
        message = session.scalar(select(Message).where(Message.interaction_id == row.interaction_id))
        assert "<script" not in message.body_html and "onerror" not in message.body_html


def test_a_mailbox_naming_a_motif_that_is_gone_quarantines_instead_of_losing(listener, runtime):
    listener.listener.handler.read_at_once = False
    listener.send(mail(), to=[COMPLAINTS])
    with runtime.factory() as session, session.begin():
        row = session.scalar(select(InboundMail))
        from accueil.channels.email.models import Mailbox

        session.scalar(select(Mailbox).where(Mailbox.address == COMPLAINTS)).motif_code = "disparu"
    with runtime.factory() as session, session.begin():
        from accueil.core import clock

        status = do_process_mail(session, mail_id=row.id, config=runtime.conversation_config,
                                 root=runtime.settings.mail_dir, now=clock.now())
    assert status == InboxStatus.quarantined
    with runtime.factory() as session:
        assert "unknown_motif" in session.get(InboundMail, row.id).reason
        assert session.scalar(select(func.count()).select_from(Interaction)) == 0


def test_no_address_or_text_of_a_mail_goes_into_the_logs(listener, caplog):
    caplog.set_level("DEBUG")
    listener.send(mail(subject="Mon adresse secrète", text="J'habite 3 rue des Lilas."))
    listener.inbox()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert CUSTOMER not in logged and "Lilas" not in logged and "secrète" not in logged


def test_a_connection_lost_after_storing_and_before_250_is_retried_into_one_interaction(listener, runtime):
    """The worst moment to die: the mail is committed, the sender never heard 250, so it sends again."""
    handler = listener.listener.handler
    store = handler.handle_DATA
    calls = []

    async def store_then_drop(server, session, envelope):  # noqa: ANN001
        answer = await store(server, session, envelope)
        calls.append(answer)
        if len(calls) == 1:
            server.transport.abort()  # as if the process died between the commit and the reply
        return answer

    handler.handle_DATA = store_then_drop
    raw = mail(message_id="<retried@example.fr>")
    with pytest.raises(smtplib.SMTPServerDisconnected):
        listener.send(raw)
    listener.send(raw)  # what a sending server does with a mail it could not hand over
    rows = listener.inbox(2)
    assert sorted(row.status for row in rows) == [InboxStatus.duplicate, InboxStatus.received]
    assert interactions_count(runtime) == 1


def interactions_count(runtime) -> int:
    with runtime.factory() as session:
        return session.scalar(select(func.count()).select_from(Interaction))


def test_starttls_is_offered_when_a_certificate_is_configured(runtime, mailboxes, tmp_path):
    import datetime
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    from accueil.channels.email.smtp import MailListener
    from tests.channels.email.conftest import free_port

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mx.maison-lumiere.example")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.TraditionalOpenSSL,
                                                         serialization.NoEncryption()))
    settings = runtime.settings.model_copy(update={"mail_tls_cert": str(tmp_path / "cert.pem"),
                                                   "mail_tls_key": str(tmp_path / "key.pem")})
    listener = MailListener(runtime.factory, runtime.conversation_config, settings, port=free_port()).start()
    try:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # self-signed, for the test
        with smtplib.SMTP("127.0.0.1", listener.port, timeout=10) as smtp:
            smtp.ehlo()
            assert smtp.has_extn("starttls")
            smtp.starttls(context=context)
            smtp.ehlo()
            assert smtp.sendmail(CUSTOMER, [SERVICE], mail(subject="Chiffré")) == {}
    finally:
        listener.stop()
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(InboundMail)) == 1


def test_a_second_server_process_leaves_the_smtp_port_to_the_first(runtime, mailboxes, caplog):
    import socket

    from accueil.app import start_mail

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    original = runtime.settings
    try:
        runtime.settings = original.model_copy(update={"mail_listen_port": taken.getsockname()[1]})
        assert start_mail(runtime) == (None, [])
    finally:
        runtime.settings = original
        taken.close()
    assert "SMTP listener not started" in caplog.text


def test_nul_characters_are_dropped_not_fatal_on_either_database(listener, runtime):
    listener.send(mail(subject="Nul\x00 octet", text="Bonjour\x00 le monde", html="<p>Bon\x00jour</p>"))
    [row] = listener.inbox()
    assert row.status == InboxStatus.received
    with runtime.factory() as session:
        message = session.scalar(select(Message).where(Message.interaction_id == row.interaction_id))
        assert message.subject == "Nul octet" and message.body_text == "Bonjour le monde"
