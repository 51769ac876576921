"""SMS and email campaigns on both databases: who may be written to (objection, consent, the SMS quiet hours
in the consumer's time zone), the deferral to the first allowed instant, every message on the person's
journey, the objection mention, the SMS receipts, the email's one-click unsubscribe (a real HTTP POST), and
the compliance report. Also: a campaign's messages are not calls for the four-in-thirty-days rule."""

from __future__ import annotations

import email
import email.policy
import mailbox
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from accueil.channels.email.adapter import MaildirEmail
from accueil.channels.messaging.models import Delivery
from accueil.channels.outbound import sending, service
from accueil.channels.outbound.models import CampaignAttempt, CampaignTarget, TargetStatus
from accueil.channels.outbound.queries import campaign_report, consumer_of, progress
from accueil.channels.sms.adapter import RecordingSms
from accueil.channels.sms.opt_out import OPT_OUT_REASON
from accueil.conversations.models import Interaction, Message
from accueil.core.errors import ValidationFailed
from accueil.customers.models import Customer, Identity, IdentityKind
from accueil.customers.service import IdentityRef, do_add_identity
from accueil.db.jobs import Job, run_due_jobs
from tests.factories import DAVID_PHONE, use_adapters

DAVID_EMAIL = "david.martin@example.fr"

PARIS = ZoneInfo("Europe/Paris")
SUNDAY = datetime(2026, 12, 13, 11, 0, tzinfo=PARIS).astimezone(UTC)
MONDAY_8 = datetime(2026, 12, 14, 8, 0, tzinfo=PARIS).astimezone(UTC)
OPTED_OUT = "+33622334455"
PROSPECT = "+33633445566"


@pytest.fixture
def outboxes(runtime, tmp_path):
    sms, mail = RecordingSms(folder=str(tmp_path / "sms")), MaildirEmail(path=str(tmp_path / "mail"))
    restore = use_adapters(runtime, sms, mail)
    yield tmp_path
    restore()


def _sms_campaign(session, *, purpose="prospecting", now=SUNDAY):
    made = service.do_create_campaign(session, code=f"sms-{purpose}", name_fr="Soldes", name_en="Sale",
                                      purpose=purpose, channel="sms", now=now,
                                      template="Bonjour {first_name}, -20 % sur tout ce week-end !")
    service.do_set_campaign_status(session, campaign_id=made.id, status="running", now=now)
    return made


def test_a_campaign_text_names_only_known_variables(runtime):
    with runtime.factory() as session, session.begin():
        with pytest.raises(ValidationFailed, match="prenom"):
            service.do_create_campaign(session, code="bad", name_fr="a", name_en="a", channel="sms", now=SUNDAY,
                                       template="Bonjour {prenom}")
        with pytest.raises(ValidationFailed, match="subject"):
            service.do_create_campaign(session, code="bad", name_fr="a", name_en="a", channel="email", now=SUNDAY,
                                       template="Bonjour")
        with pytest.raises(ValidationFailed, match="progressive"):
            service.do_create_campaign(session, code="bad", name_fr="a", name_en="a", channel="sms", now=SUNDAY,
                                       template="Bonjour", mode="progressive")


def test_sms_campaign_objection_consent_quiet_hours_then_sent_on_the_journey(runtime, cast, outboxes):
    with runtime.factory() as session, session.begin():
        david = session.get(Customer, cast.david_id)
        david.consent_sms, david.display_name = True, "David Martin"
        made = _sms_campaign(session)
        service.do_add_target(session, campaign=made, customer_id=cast.david_id, now=SUNDAY)
        opted = service.do_add_target(session, campaign=made, phone=IdentityRef(IdentityKind.phone, OPTED_OUT),
                                      name="Stop Person", now=SUNDAY)
        # david's second number sent STOP: his listed one still gets the campaign, that one never does
        session.add(Identity(customer_id=cast.david_id, kind=IdentityKind.phone, value=OPTED_OUT,
                             undeliverable_reason=OPT_OUT_REASON, created_at=SUNDAY))
        service.do_add_target(session, campaign=made, phone=IdentityRef(IdentityKind.phone, PROSPECT), now=SUNDAY)
        assert opted.target.status is TargetStatus.pending  # the rules are applied at send time

    with runtime.factory() as session, session.begin():  # a Sunday: the prospecting SMS waits
        counts = sending.do_send_batch(session, campaign_id=made.id, now=SUNDAY)
    assert counts == {"sent": 0, "deferred": 1, "refused": 2}
    with runtime.factory() as session:
        targets = {t.phone: t for t in session.scalars(select(CampaignTarget))}
        assert targets[OPTED_OUT].excluded_reason == "opted_out"
        assert targets[PROSPECT].excluded_reason == "no_consent"
        waiting = targets[DAVID_PHONE]
        assert waiting.status is TargetStatus.pending and waiting.skipped_reason == "quiet_hours"
        assert waiting.next_attempt_at.replace(tzinfo=UTC) == MONDAY_8
        # the next batch is scheduled for Monday 8:00, Paris time
        runs = session.scalars(select(Job.run_at).where(Job.kind == service.SEND_KIND,
                                                        Job.run_at > SUNDAY + timedelta(minutes=1))).all()
        assert [r.replace(tzinfo=UTC) for r in runs] == [MONDAY_8]
        assert session.scalar(select(func.count()).select_from(Message)) == 0  # nothing written to anyone

    run_due_jobs(runtime.factory, worker="test", now=MONDAY_8)  # the batch, then the SMS itself
    run_due_jobs(runtime.factory, worker="test", now=MONDAY_8)
    with runtime.factory() as session:
        sent = session.scalar(select(Message).where(Message.direction == "outbound"))
        assert sent.body_text == "Bonjour David, -20 % sur tout ce week-end !\nSTOP : répondez STOP"
        interaction = session.get(Interaction, sent.interaction_id)
        assert interaction.customer_id == cast.david_id and interaction.channel.value == "sms"
        assert interaction.direction.value == "outbound" and interaction.ended_at is not None
        delivery = session.scalar(select(Delivery).where(Delivery.message_id == sent.id))
        assert delivery.recipient == DAVID_PHONE and delivery.status == "sent"
        assert sending.delivery_counts(session, made.id) == {"sent": 1}
        assert progress(session, made.id).placed == 1
        report = campaign_report(session, made.id)
        assert report.checks == ("consent", "quiet_hours") and report.compliant
        assert report.refused_by_reason == {"no_consent": 1, "opted_out": 1, "quiet_hours": 1}
        # an SMS is not a call: the four-in-thirty-days rule does not count it
        assert consumer_of(session, phone=DAVID_PHONE, customer_id=cast.david_id, now=MONDAY_8).attempts == ()
    files = list((outboxes / "sms").glob("*.json"))
    assert len(files) == 1 and DAVID_PHONE in files[0].read_text()


def test_a_service_sms_ignores_quiet_hours_and_consent_but_never_an_objection(runtime, cast, outboxes):
    with runtime.factory() as session, session.begin():
        made = _sms_campaign(session, purpose="service")
        service.do_add_target(session, campaign=made, customer_id=cast.david_id, now=SUNDAY)
        counts = sending.do_send_batch(session, campaign_id=made.id, now=SUNDAY)
        assert counts == {"sent": 1, "deferred": 0, "refused": 0}
        assert "STOP" not in session.scalar(select(Message.body_text))  # not prospecting: no mention needed


def test_the_compliance_report_catches_a_prospecting_sms_sent_without_consent(runtime, cast, outboxes):
    with runtime.factory() as session, session.begin():
        made = _sms_campaign(session, now=MONDAY_8)
        added = service.do_add_target(session, campaign=made, customer_id=cast.david_id, now=MONDAY_8)
        session.add(CampaignAttempt(campaign_id=made.id, target_id=added.target.id, phone=DAVID_PHONE,
                                    purpose="prospecting", timezone="Europe/Paris", placed=True, consent=False,
                                    is_customer=False, started_at=SUNDAY))  # typed in by hand, on a Sunday
    with runtime.factory() as session:
        report = campaign_report(session, made.id)
        assert not report.compliant
        assert len(report.violations["consent"]) == 1 and len(report.violations["quiet_hours"]) == 1


def test_email_campaign_carries_one_click_unsubscribe_which_a_real_post_honours(http, runtime, cast, outboxes):
    with runtime.factory() as session, session.begin():
        do_add_identity(session, customer_id=cast.david_id, ref=IdentityRef(IdentityKind.customer_number, "C-77"))
        made = service.do_create_campaign(session, code="news", name_fr="Lettre", name_en="Letter", channel="email",
                                          subject="Nos nouveautés", template="Bonjour {name} ({customer_number})",
                                          now=SUNDAY)
        service.do_set_campaign_status(session, campaign_id=made.id, status="running", now=SUNDAY)
        target = service.do_add_target(session, campaign=made, customer_id=cast.david_id, now=SUNDAY).target
        # a customer: the soft opt-in; an email has no quiet hours
        assert sending.do_send_batch(session, campaign_id=made.id, now=SUNDAY)["sent"] == 1
    run_due_jobs(runtime.factory, worker="test", now=SUNDAY)
    mails = list(mailbox.Maildir(str(outboxes / "mail")))
    assert len(mails) == 1
    mail = email.message_from_bytes(mails[0].as_bytes(), policy=email.policy.default)
    assert mail["To"] == DAVID_EMAIL and mail["Subject"] == "Nos nouveautés"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = "".join(str(mail["List-Unsubscribe"]).split()).strip("<>")
    assert link.startswith("http://127.0.0.1:8000/unsubscribe/") and target.id in link
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "C-77" in body and link in body and "david" not in link

    path = link.removeprefix("http://127.0.0.1:8000")
    page = http.get(path)  # opening the link changes nothing
    assert page.status_code == 200 and 'id="confirm-unsubscribe"' in page.text
    with runtime.factory() as session:
        assert not sending.email_opted_out(session, DAVID_EMAIL)
    assert http.get(path[:-3] + "abc").status_code == 404  # a forged token
    done = http.post(path, content=b"List-Unsubscribe=One-Click",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert done.status_code == 200 and 'id="unsubscribed"' in done.text
    with runtime.factory() as session, session.begin():
        assert sending.email_opted_out(session, DAVID_EMAIL)
        assert session.get(Customer, cast.david_id).consent_email is False
        again = service.do_create_campaign(session, code="news2", name_fr="Lettre 2", name_en="Letter 2",
                                           channel="email", subject="Encore", template="Bonjour", now=SUNDAY,
                                           purpose="service")
        service.do_set_campaign_status(session, campaign_id=again.id, status="running", now=SUNDAY)
        service.do_add_target(session, campaign=again, customer_id=cast.david_id, now=SUNDAY)
        assert sending.do_send_batch(session, campaign_id=again.id, now=SUNDAY) == {"sent": 0, "deferred": 0,
                                                                                   "refused": 1}


def test_without_a_provider_nothing_is_recorded_and_the_batch_waits(runtime, cast):
    with runtime.factory() as session, session.begin():
        session.get(Customer, cast.david_id).consent_sms = True
        made = _sms_campaign(session, now=MONDAY_8)
        service.do_add_target(session, campaign=made, customer_id=cast.david_id, now=MONDAY_8)
    restore = use_adapters(runtime, RecordingSms(folder=""))  # a disabled adapter: no SMS provider at all
    try:
        with runtime.factory() as session, session.begin():
            assert sending.do_send_batch(session, campaign_id=made.id, now=MONDAY_8) == {
                "sent": 0, "deferred": 0, "refused": 0}
    finally:
        restore()
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 0
        assert session.scalar(select(CampaignTarget.status)) is TargetStatus.pending
        later = MONDAY_8 + sending.NO_PROVIDER_RETRY
        assert later in [r.replace(tzinfo=UTC) for r in session.scalars(select(Job.run_at).where(
            Job.kind == service.SEND_KIND))]
