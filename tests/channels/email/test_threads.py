"""Threads: replies join their case by headers or reference — only the case's own customer's —, automatic
mails never become work, and the acknowledgement is threaded, marked automatic and sent once a day."""

from __future__ import annotations

import smtplib
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from sqlalchemy import func, select

from accueil.channels.email.models import InboxStatus
from accueil.conversations.models import Case, CaseStatus, Interaction, Message
from accueil.conversations.service import do_resolve_case
from accueil.customers.models import Identity
from accueil.db.jobs import Job, run_due_jobs
from tests.channels.email.mails import COMPLAINTS, CUSTOMER, bounce, mail


def interactions(runtime) -> int:
    with runtime.factory() as session:
        return session.scalar(select(func.count()).select_from(Interaction))


def first_case(listener, runtime, smtp_server=None):
    listener.send(mail(message_id="<first@example.fr>", subject="Colis abîmé"), to=[COMPLAINTS])
    [row] = listener.inbox()
    with runtime.factory() as session:
        reference = session.get(Case, row.case_id).reference
    return row.case_id, reference


def test_the_acknowledgement_is_threaded_automatic_and_from_the_mailbox(listener, runtime, smtp_server):
    case_id, reference = first_case(listener, runtime)
    run_due_jobs(runtime.factory, worker="test")
    [ack] = smtp_server.wait_for(1)
    assert ack["From"].addresses[0].addr_spec == COMPLAINTS
    assert ack["To"].addresses[0].addr_spec == CUSTOMER
    assert ack["In-Reply-To"] == "<first@example.fr>" and "<first@example.fr>" in ack["References"]
    assert ack["Auto-Submitted"] == "auto-replied"
    assert f"[{reference}]" in ack["Subject"] and reference in ack.get_content()
    with runtime.factory() as session:  # it promises the first reply's due time (1 business hour), not the SLA
        due = session.scalar(select(Interaction.reply_due_at).where(Interaction.case_id == case_id))
    promised = format_datetime(due, "EEEE d MMMM y, HH:mm", tzinfo=ZoneInfo("Europe/Paris"), locale="fr")
    assert f"Réponse d'un conseiller au plus tard le : {promised}" in ack.get_content()


def test_a_reply_to_the_acknowledgement_joins_the_case(listener, runtime, smtp_server):
    case_id, _ = first_case(listener, runtime)
    run_due_jobs(runtime.factory, worker="test")
    [ack] = smtp_server.wait_for(1)
    listener.send(mail(subject="Re: " + ack["Subject"], in_reply_to=ack["Message-ID"],
                       references=f"<first@example.fr> {ack['Message-ID']}", text="Voici la photo."), to=[COMPLAINTS])
    rows = listener.inbox(2)
    assert rows[1].status == InboxStatus.received and rows[1].case_id == case_id
    assert interactions(runtime) == 2
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(Job).where(Job.kind == "notify.email")) == 1


def test_the_case_reference_in_a_subject_threads_only_the_cases_own_customer(listener, runtime):
    case_id, reference = first_case(listener, runtime)
    listener.send(mail(subject=f"Re: [{reference}] Colis abîmé", text="Suite."), to=[COMPLAINTS])
    # a colleague forwards the thread (no threading headers) from another address: not a way into the case
    listener.send(mail(sender="Collègue <collegue@autre.example.fr>", subject=f"TR: [{reference}] Colis abîmé",
                       text="Pour info, voir ci-dessous."), to=[COMPLAINTS])
    # and a stranger quoting our headers gets no further
    listener.send(mail(sender="intrus@autre.example.fr", in_reply_to="<first@example.fr>", text="Donnez-moi tout."),
                  to=[COMPLAINTS])
    rows = listener.inbox(4)
    assert rows[1].case_id == case_id
    assert rows[2].case_id != case_id and rows[3].case_id != case_id
    with runtime.factory() as session:
        assert session.get(Case, rows[2].case_id).customer_id != session.get(Case, case_id).customer_id


def test_a_reply_to_a_resolved_case_reopens_it(listener, runtime):
    case_id, _ = first_case(listener, runtime)
    with runtime.factory() as session, session.begin():
        do_resolve_case(session, case_id=case_id, resolution_code="answered")
    listener.send(mail(in_reply_to="<first@example.fr>", subject="Re: Colis abîmé", text="Toujours rien."),
                  to=[COMPLAINTS])
    rows = listener.inbox(2)
    assert rows[1].case_id == case_id
    with runtime.factory() as session:
        case = session.get(Case, case_id)
        assert case.status == CaseStatus.open and case.reopen_count == 1


def test_a_bounce_of_our_acknowledgement_is_noted_on_the_case_and_never_routed(listener, runtime, smtp_server, web):
    case_id, _ = first_case(listener, runtime)
    run_due_jobs(runtime.factory, worker="test")
    [ack] = smtp_server.wait_for(1)
    raw = bounce(ack["Message-ID"], failed=CUSTOMER).replace(b"MIME-Version", f"References: {ack['Message-ID']}\r\nMIME-Version".encode(), 1)
    with smtplib.SMTP("127.0.0.1", listener.port, timeout=10) as smtp:
        smtp.sendmail("", [COMPLAINTS], raw)  # a null reverse path, as bounces have
    rows = listener.inbox(2)
    assert rows[1].status == InboxStatus.noise and rows[1].reason == "bounce" and rows[1].case_id == case_id
    assert interactions(runtime) == 1
    with runtime.factory() as session:
        note = session.scalar(select(Message).where(Message.case_id == case_id, Message.internal.is_(True)))
        assert note.body_text.startswith(f"[bounce] {CUSTOMER} (5.1.1)")
        identity = session.scalar(select(Identity).where(Identity.value == CUSTOMER))
        assert identity.undeliverable_at is not None and identity.undeliverable_reason == "bounce 5.1.1"
    page = web("alice").get(f"/agent/cases/{case_id}", htmx=True)  # the conversation panel
    assert "non distribuable depuis le" in page.text, page.headers  # the agent sees it beside the address
    # the customer writes again: the address works after all
    listener.send(mail(subject="Je suis là"), to=[COMPLAINTS])
    listener.inbox(3)
    with runtime.factory() as session:
        assert session.scalar(select(Identity).where(Identity.value == CUSTOMER)).undeliverable_at is None


def test_an_out_of_office_answering_our_acknowledgement_gets_no_answer(listener, runtime, smtp_server):
    case_id, _ = first_case(listener, runtime)
    run_due_jobs(runtime.factory, worker="test")
    [ack] = smtp_server.wait_for(1)
    listener.send(mail(subject="Réponse automatique : absent", in_reply_to=ack["Message-ID"],
                       headers={"Auto-Submitted": "auto-replied"}, text="Je suis absent jusqu'au 4 janvier."),
                  to=[COMPLAINTS])
    # and our own acknowledgement coming back (a forwarding loop) is recognised as ours
    listener.send(ack.as_bytes(policy=ack.policy.clone(linesep="\r\n")), to=[COMPLAINTS])
    rows = listener.inbox(3)
    assert [(r.status, r.reason) for r in rows[1:]] == [(InboxStatus.noise, "auto_reply"), (InboxStatus.noise, "loop")]
    assert interactions(runtime) == 1
    run_due_jobs(runtime.factory, worker="test")
    assert len(smtp_server.wait_for(2, timeout=0.5)) == 1  # nothing sent back


def test_at_most_one_acknowledgement_per_sender_and_mailbox_a_day(listener, runtime, smtp_server):
    case_id, _ = first_case(listener, runtime)
    with runtime.factory() as session, session.begin():
        session.get(Case, case_id).status = CaseStatus.closed  # the next mail opens a new case
    listener.send(mail(subject="Autre chose"), to=[COMPLAINTS])
    rows = listener.inbox(2)
    assert rows[1].case_id != case_id  # a new case…
    run_due_jobs(runtime.factory, worker="test")
    assert len(smtp_server.wait_for(2, timeout=0.5)) == 1  # …but no second acknowledgement today
