"""SMS and email campaigns: each person's message, checked against the rules, on their journey, sent.

A running messaging campaign has a ``campaign.send`` job. Each run takes up to ``BATCH`` due targets in
one transaction; for each, ``message_law.check_message`` looks at the person *now* (STOP or unsubscribed,
consent or customer, the SMS quiet hours in their time zone):

- refused for good (objection, no consent): the target is excluded with the reason, and an attempt that
  was not placed is recorded — the compliance report counts it;
- deferred (quiet hours): an unplaced attempt says why, and the target waits until the first instant the
  rule allows;
- allowed: the text is filled in, a prospecting message gets its objection mention (« STOP » / an
  unsubscribe link), and it becomes an outbound interaction of the person's case with the message — then
  the SMS leaves through the messaging outbox (delivery statuses), the email as a mail of its own with
  ``List-Unsubscribe`` (RFC 8058 one-click), threaded back to the case when the person answers.

The job schedules its next run while due targets remain (at once) or when the first deferred one comes due.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import datetime, timedelta
from email.utils import make_msgid

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from accueil.channels import notify
from accueil.channels.base import channels_of
from accueil.channels.email.acknowledge import domain_of
from accueil.channels.email.threads import do_remember_message_id
from accueil.channels.messaging.models import Delivery
from accueil.channels.outbound.law import Purpose
from accueil.channels.outbound.message_law import MessageVerdict, Recipient, check_message
from accueil.channels.outbound.models import (
    AttemptOutcome,
    Campaign,
    CampaignAttempt,
    CampaignChannel,
    CampaignStatus,
    CampaignTarget,
    TargetStatus,
)
from accueil.channels.outbound.queries import is_customer
from accueil.channels.outbound.service import SEND_KIND
from accueil.channels.outbound.templates import render, split_name
from accueil.channels.outbound.zones import zone_of_phone
from accueil.channels.sms.opt_out import is_opted_out
from accueil.conversations.models import ChannelKind, Interaction, Message, Outcome
from accueil.conversations.outbound import do_add_outbound_message, do_start_outbound
from accueil.conversations.service import do_record_interaction_event
from accueil.core.errors import AccueilError, NotFound
from accueil.customers.models import Customer, Identity, IdentityKind
from accueil.customers.service import IdentityRef, do_resolve_identity
from accueil.db.jobs import do_schedule_job, job_handler
from accueil.db.session import PENDING_EVENTS, settings_of

log = logging.getLogger(__name__)

BATCH = 100
NO_PROVIDER_RETRY = timedelta(minutes=5)
EMAIL_OPT_OUT = "email_opt_out"
STOP_MENTION = {"fr": "STOP : répondez STOP", "en": "Reply STOP to opt out"}
UNSUBSCRIBE_MENTION = {
    "fr": "Vous recevez ce message car vous êtes client ou avez accepté nos offres. "
          "Pour ne plus en recevoir : {url}",
    "en": "You receive this message as a customer, or because you accepted our offers. "
          "To stop receiving them: {url}",
}
KIND_OF = {CampaignChannel.sms: ChannelKind.sms, CampaignChannel.email: ChannelKind.email}


# Unsubscribe links ----------------------------------------------------------------------------------------


def unsubscribe_token(secret_key: str, target_id: str) -> str:
    """``<target id>.<signature>``: names no address, and only we can make one."""
    signature = hmac.new(secret_key.encode(), f"unsubscribe:{target_id}".encode(), hashlib.sha256).hexdigest()
    return f"{target_id}.{signature[:32]}"


def target_of_token(secret_key: str, token: str) -> str | None:
    target_id, _, _signature = (token or "").partition(".")
    if not target_id or not hmac.compare_digest(unsubscribe_token(secret_key, target_id).encode(), token.encode()):
        return None
    return target_id


def unsubscribe_url(session: Session, target_id: str) -> str:
    settings = settings_of(session)
    base = settings.public_url.rstrip("/") or "http://127.0.0.1:8000"
    return f"{base}/unsubscribe/{unsubscribe_token(settings.secret_key, target_id)}"


def email_opted_out(session: Session, address: str | None) -> bool:
    if not address:
        return False
    return session.scalar(select(Identity.id).where(Identity.kind == IdentityKind.email, Identity.value == address,
                                                    Identity.undeliverable_reason == EMAIL_OPT_OUT)) is not None


def do_unsubscribe(session: Session, *, target_id: str, now: datetime) -> str | None:
    """The person behind this campaign email wants no more: their address is marked and their email consent
    withdrawn (the same address in any later campaign is refused). Returns the address's customer id."""
    target = session.get(CampaignTarget, target_id)
    if target is None or not target.email:
        raise NotFound("not_found", kind="campaign target", id=target_id)
    identity = session.scalar(select(Identity).where(Identity.kind == IdentityKind.email,
                                                     Identity.value == target.email))
    if identity is None:  # a prospect we never wrote to as a customer: keep the objection on a record anyway
        customer = do_resolve_identity(session, identities=[IdentityRef(IdentityKind.email, target.email)],
                                       display_name=target.name, now=now)
        identity = session.scalar(select(Identity).where(Identity.kind == IdentityKind.email,
                                                         Identity.value == target.email))
        assert identity is not None
    else:
        customer = session.get(Customer, identity.customer_id)
    identity.undeliverable_reason = EMAIL_OPT_OUT
    if customer is not None:
        customer.consent_email = False
    for pending in session.scalars(select(CampaignTarget).where(CampaignTarget.email == target.email,
                                                                CampaignTarget.status == TargetStatus.pending)):
        pending.status, pending.excluded_reason = TargetStatus.excluded, "opted_out"
    session.flush()
    log.info("campaign email unsubscribed: target %s", target_id)
    return customer.id if customer is not None else None


# Sending --------------------------------------------------------------------------------------------------


def recipient_for(session: Session, campaign: Campaign, target: CampaignTarget) -> Recipient:
    customer = session.get(Customer, target.customer_id) if target.customer_id else None
    if campaign.channel is CampaignChannel.sms:
        opted_out = is_opted_out(session, target.phone)
        consent = bool(customer and customer.consent_sms)
    else:
        opted_out = email_opted_out(session, target.email)
        consent = bool(customer and customer.consent_email)
    return Recipient(timezone=zone_of_phone(target.phone), opted_out=opted_out, consent=consent,
                     is_customer=is_customer(session, target.customer_id))


def _attempt(campaign: Campaign, target: CampaignTarget, recipient: Recipient, verdict: MessageVerdict,
             now: datetime) -> CampaignAttempt:
    return CampaignAttempt(
        campaign_id=campaign.id, target_id=target.id, customer_id=target.customer_id, phone=target.phone,
        purpose=campaign.purpose, timezone=recipient.timezone, consent=recipient.consent,
        on_opposition_list=False, is_customer=recipient.is_customer, placed=verdict.allowed,
        verdict_reason=verdict.reason.value if verdict.reason else None, verdict_article=verdict.article,
        next_allowed_at=verdict.next_allowed_at, dialled_by=None, started_at=now)


def _customer_for(session: Session, campaign: Campaign, target: CampaignTarget, now: datetime) -> Customer:
    if target.customer_id is None:
        ref = (IdentityRef(IdentityKind.phone, target.phone) if campaign.channel is CampaignChannel.sms
               else IdentityRef(IdentityKind.email, target.email or ""))
        target.customer_id = do_resolve_identity(session, identities=[ref], display_name=target.name, now=now).id
    customer = session.get(Customer, target.customer_id)
    assert customer is not None
    return customer


def text_for(session: Session, campaign: Campaign, target: CampaignTarget, customer: Customer) -> str:
    """The campaign's text for this person, with the objection mention a prospecting message must carry."""
    first, last = split_name(customer.display_name or target.name)
    number = session.scalar(select(Identity.value).where(Identity.customer_id == customer.id,
                                                         Identity.kind == IdentityKind.customer_number).limit(1))
    body = render(campaign.template or "", {"name": customer.display_name or target.name, "first_name": first,
                                            "last_name": last, "customer_number": number})
    if campaign.purpose is Purpose.prospecting:
        language = customer.preferred_language if customer.preferred_language in ("fr", "en") else "fr"
        if campaign.channel is CampaignChannel.sms:
            body = f"{body}\n{STOP_MENTION[language]}"
        else:
            url = unsubscribe_url(session, target.id)
            body = f"{body}\n\n-- \n{UNSUBSCRIBE_MENTION[language].format(url=url)}"
    return body


def _send_email(session: Session, campaign: Campaign, target: CampaignTarget, interaction: Interaction,
                message_id: str, body: str, now: datetime) -> bool:
    settings = settings_of(session)
    sender = settings.mail_from
    header_id = make_msgid(domain=domain_of(sender.rpartition("<")[2].strip("> ") or sender))
    do_remember_message_id(session, header_id, case_id=interaction.case_id, message_id=message_id,
                           outbound=True, now=now)
    headers = {"Message-ID": header_id, "Auto-Submitted": "auto-generated", "Precedence": "bulk"}
    if campaign.purpose is Purpose.prospecting:
        headers["List-Unsubscribe"] = f"<{unsubscribe_url(session, target.id)}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return notify.do_queue_email(session, to=target.email or "", subject=campaign.subject or campaign.name_fr,
                                 body=body, dedupe_key=f"campaign:{target.id}:{message_id}", now=now,
                                 headers=headers)


def _send_one(session: Session, campaign: Campaign, target: CampaignTarget, now: datetime) -> MessageVerdict:
    recipient = recipient_for(session, campaign, target)
    verdict = check_message(now, recipient, campaign.purpose, campaign.channel.value)
    attempt = _attempt(campaign, target, recipient, verdict, now)
    session.add(attempt)
    if not verdict.allowed:
        if verdict.final:
            target.status, target.excluded_reason = TargetStatus.excluded, verdict.reason.value  # type: ignore[union-attr]
            target.next_attempt_at = None
        else:
            target.next_attempt_at, target.skipped_reason = verdict.next_allowed_at, verdict.reason.value  # type: ignore[union-attr]
        session.flush()
        return verdict
    customer = _customer_for(session, campaign, target, now)
    attempt.customer_id = customer.id
    interaction = do_start_outbound(session, customer_id=customer.id, channel=KIND_OF[campaign.channel], now=now,
                                    case_id=target.case_id, subject=campaign.subject or campaign.name_fr,
                                    data={"campaign": campaign.code,
                                          "to": target.phone if campaign.channel is CampaignChannel.sms
                                          else target.email})
    target.case_id = interaction.case_id
    body = text_for(session, campaign, target, customer)
    is_sms = campaign.channel is CampaignChannel.sms
    message = do_add_outbound_message(session, interaction=interaction, body_text=body, now=now, announce=is_sms)
    if not is_sms:
        _send_email(session, campaign, target, interaction, message.id, body, now)
    do_record_interaction_event(session, interaction_id=interaction.id, kind="ended", at=now,
                                outcome=Outcome.handled, data={"campaign_outcome": AttemptOutcome.sent.value})
    attempt.interaction_id, attempt.outcome, attempt.ended_at = interaction.id, AttemptOutcome.sent, now
    target.attempts += 1
    target.status, target.last_outcome, target.next_attempt_at = TargetStatus.done, AttemptOutcome.sent, None
    session.flush()
    return verdict


def _due(campaign_id: str, now: datetime):  # type: ignore[no-untyped-def]
    return select(CampaignTarget).where(
        CampaignTarget.campaign_id == campaign_id, CampaignTarget.status == TargetStatus.pending,
        or_(CampaignTarget.next_attempt_at.is_(None), CampaignTarget.next_attempt_at <= now))


def do_send_batch(session: Session, *, campaign_id: str, now: datetime, limit: int = BATCH) -> dict[str, int]:
    """Send (or refuse, or defer) up to ``limit`` due targets of a running SMS or email campaign."""
    campaign = session.get(Campaign, campaign_id, with_for_update=True)
    counts = {"sent": 0, "deferred": 0, "refused": 0}
    if campaign is None or campaign.status is not CampaignStatus.running or campaign.channel not in KIND_OF:
        return counts
    if channels_of(session).get(KIND_OF[campaign.channel]) is None:
        # nothing could leave: keep everyone waiting rather than record messages that never go
        log.warning("campaign %s: no %s provider configured; trying again in %s", campaign.id,
                    campaign.channel.value, NO_PROVIDER_RETRY)
        do_schedule_job(session, kind=SEND_KIND, run_at=now + NO_PROVIDER_RETRY, payload={"campaign_id": campaign.id},
                        dedupe_key=f"{SEND_KIND}:{campaign.id}:{(now + NO_PROVIDER_RETRY).isoformat()}")
        return counts
    targets = list(session.scalars(_due(campaign.id, now).order_by(CampaignTarget.created_at, CampaignTarget.id)
                                   .limit(limit).with_for_update(skip_locked=True)))
    for target in targets:
        pending = len(session.info.get(PENDING_EVENTS, []))
        try:
            with session.begin_nested():  # one person's refusal by a send policy leaves the others' messages
                verdict = _send_one(session, campaign, target, now)
        except AccueilError as exc:
            del session.info.setdefault(PENDING_EVENTS, [])[pending:]  # nothing of it is announced
            target.status, target.excluded_reason, target.next_attempt_at = TargetStatus.excluded, exc.code[:60], None
            session.flush()
            counts["refused"] += 1
            continue
        counts["sent" if verdict.allowed else ("refused" if verdict.final else "deferred")] += 1
    _schedule_next(session, campaign, now)
    return counts


def _schedule_next(session: Session, campaign: Campaign, now: datetime) -> None:
    if session.scalar(select(func.count()).select_from(_due(campaign.id, now).subquery())):
        run_at = now
    else:
        run_at = session.scalar(select(func.min(CampaignTarget.next_attempt_at)).where(
            CampaignTarget.campaign_id == campaign.id, CampaignTarget.status == TargetStatus.pending))
        if run_at is None:
            return  # nothing left; targets added later schedule a run themselves
        run_at = max(run_at, now + timedelta(seconds=1))
    do_schedule_job(session, kind=SEND_KIND, run_at=run_at, payload={"campaign_id": campaign.id},
                    dedupe_key=f"{SEND_KIND}:{campaign.id}:{run_at.isoformat()}")


@job_handler(SEND_KIND)
def _send(session: Session, payload: dict, now: datetime) -> None:
    counts = do_send_batch(session, campaign_id=payload["campaign_id"], now=now)
    if any(counts.values()):
        log.info("campaign %s: %s", payload["campaign_id"], counts)


def delivery_counts(session: Session, campaign_id: str) -> dict[str, int]:
    """How the campaign's SMS fared with the provider (queued, sent, delivered, read, failed); an email
    campaign's mails have no receipts, only what left."""
    rows = session.execute(select(Delivery.status, func.count()).join(
        Message, Message.id == Delivery.message_id).join(
        CampaignAttempt, CampaignAttempt.interaction_id == Message.interaction_id).where(
        CampaignAttempt.campaign_id == campaign_id).group_by(Delivery.status)).all()
    return {str(status): count for status, count in rows}
