"""An agent's answer leaves as a threaded mail from the mailbox, and the customer's answer to it comes back
into the same case — read back from a real SMTP sink, and from a Maildir with the standard mailbox library."""

from __future__ import annotations

import base64
import email
import email.policy
import mailbox

from sqlalchemy import select

from accueil.channels.email.adapter import MaildirEmail
from accueil.channels.email.models import MailMessageId
from accueil.db.jobs import Job, run_due_jobs
from tests.channels.email.mails import COMPLAINTS, CUSTOMER, mail
from tests.factories import use_adapters


def reply(http, cast, case_id: str, text: str, **extra) -> dict:
    response = http.post(f"/api/v1/cases/{case_id}/replies", json={"body_text": text, **extra},
                         headers=cast.auth("alice"))
    assert response.status_code == 201, response.text
    return response.json()


def test_an_agents_reply_is_a_threaded_mail_from_the_mailbox(listener, runtime, http, cast, smtp_server):
    listener.send(mail(message_id="<q1@example.fr>", subject="Colis abîmé", text="Le colis est abîmé."),
                  to=[COMPLAINTS])
    [row] = listener.inbox()
    with runtime.factory() as session, session.begin():
        session.execute(Job.__table__.delete().where(Job.kind == "notify.email"))  # leave the acknowledgement out
    photo = base64.b64encode(b"%PDF-1.4 bon de retour").decode()
    reply(http, cast, row.case_id, "Bonjour,\n\nvoici le bon de retour.",
          attachments=[{"filename": "retour.pdf", "content_type": "application/pdf", "content_base64": photo}])
    run_due_jobs(runtime.factory, worker="test")
    [sent] = smtp_server.wait_for(1)
    assert sent["From"].addresses[0].addr_spec == COMPLAINTS and sent["To"].addresses[0].addr_spec == CUSTOMER
    assert sent["In-Reply-To"] == "<q1@example.fr>" and "<q1@example.fr>" in sent["References"]
    assert sent["Auto-Submitted"] == "no"  # a person's answer: the customer's out-of-office may answer it
    with runtime.factory() as session:
        case_reference = session.scalar(select(MailMessageId.case_id).where(
            MailMessageId.message_id_header == sent["Message-ID"]))
        assert case_reference == row.case_id  # our Message-ID is kept with its case
    assert "[D-" in sent["Subject"] and sent["Subject"].startswith("Re: Colis abîmé")
    text = sent.get_body(preferencelist=("plain",)).get_content()
    assert "voici le bon de retour" in text and "Alice Agent" in text  # the agent's signature
    assert [part.get_filename() for part in sent.iter_attachments()] == ["retour.pdf"]

    # the customer answers from their mail program: the answer joins the same case
    listener.send(mail(subject="Re: " + sent["Subject"], in_reply_to=sent["Message-ID"],
                       references=f"{sent['References']} {sent['Message-ID']}", text="Merci, c'est envoyé."),
                  to=[COMPLAINTS])
    rows = listener.inbox(2)
    assert rows[1].case_id == row.case_id


def test_without_an_smtp_server_the_reply_lands_in_a_local_maildir(listener, runtime, http, cast, tmp_path):
    restore = use_adapters(runtime, MaildirEmail(path=str(tmp_path / "outbox")))
    try:
        listener.send(mail(message_id="<q2@example.fr>", subject="Remboursement"), to=[COMPLAINTS])
        [row] = listener.inbox()
        reply(http, cast, row.case_id, "Votre remboursement part aujourd'hui.")
        run_due_jobs(runtime.factory, worker="test")
    finally:
        restore()
    box = mailbox.Maildir(tmp_path / "outbox", create=False,
                          factory=lambda handle: email.message_from_binary_file(handle, policy=email.policy.default))
    by_subject = {message["Subject"]: message for message in box}
    answer = next(m for s, m in by_subject.items() if s.startswith("Re: Remboursement"))
    ack = next(m for s, m in by_subject.items() if "Accusé de réception" in s)
    assert answer["In-Reply-To"] == ack["In-Reply-To"] == "<q2@example.fr>"
    assert ack["Auto-Submitted"] == "auto-replied"


def test_a_reply_on_another_channel_sends_no_mail(runtime, http, cast, smtp_server):
    created = http.post("/api/v1/inbound", json={
        "channel": "chat", "identities": [{"kind": "email", "value": CUSTOMER}], "body_text": "Bonjour"},
        headers=cast.auth("admin")).json()
    reply(http, cast, created["case_id"], "Bonjour, je regarde.")
    with runtime.factory() as session:
        assert session.scalar(select(Job).where(Job.kind == "mail.reply")) is None
