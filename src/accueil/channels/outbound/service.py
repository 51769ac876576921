"""Campaigns: the one write path for creating them, filling their lists and keeping the opposition list and
the consents the law looks at. The dialer (calls, outcomes, retries) is in ``dialer``; CSV files are read in
``csv_import``.

A target is one person: added twice (the same customer, number or address), it is merged, not doubled. At
import, a prospecting call campaign already excludes the opposed numbers of people who are not customers
(art. L. 223-1); the dialer checks again at dial time, because the list may be imported later.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from accueil.channels.outbound.law import Purpose
from accueil.channels.outbound.models import (
    Campaign,
    CampaignChannel,
    CampaignMode,
    CampaignStatus,
    CampaignTarget,
    OppositionNumber,
    ProspectingConsent,
    TargetStatus,
)
from accueil.channels.outbound.queries import access_campaign, is_customer, is_opposed
from accueil.channels.outbound.templates import check_template
from accueil.conversations.models import Case, CaseStatus, ChannelKind, Direction, Interaction, Outcome
from accueil.core.errors import Conflict, NotFound, ValidationFailed
from accueil.core.ids import new_id
from accueil.customers.models import Customer, Identity, IdentityKind
from accueil.customers.service import (
    IdentityRef,
    access_customer,
    find_customer_by_identity,
    normalise_identity,
)
from accueil.db.jobs import do_schedule_job
from accueil.routing.models import Queue

log = logging.getLogger(__name__)

PACE_KIND = "campaign.pace"
SEND_KIND = "campaign.send"  # an SMS or email campaign's next batch (``sending``)
OPPOSITION_BATCH = 1000
SEARCHES = ("resolved_recently", "abandoned_not_called_back")
TRANSITIONS = {
    CampaignStatus.draft: {CampaignStatus.running, CampaignStatus.finished},
    CampaignStatus.running: {CampaignStatus.paused, CampaignStatus.finished},
    CampaignStatus.paused: {CampaignStatus.running, CampaignStatus.finished},
    CampaignStatus.finished: set(),
}


def _choice(enum_cls, value, name: str):  # type: ignore[no-untyped-def]
    try:
        return enum_cls(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum_cls)
        raise ValidationFailed("validation_error", summary=f"{name} is one of {allowed}") from None


def do_create_campaign(session: Session, *, code: str, name_fr: str, name_en: str, now: datetime,
                       purpose: str = "prospecting", channel: str = "voice", mode: str = "preview",
                       queue_code: str | None = None, max_attempts: int = 3, retry_delay_minutes: int = 240,
                       subject: str | None = None, template: str | None = None,
                       created_by_id: str | None = None) -> Campaign:
    code = (code or "").strip().lower()
    if not code or len(code) > 60 or not code.replace("_", "").replace("-", "").isalnum():
        raise ValidationFailed("validation_error", summary="a campaign code is letters, digits, - and _")
    if not (name_fr or "").strip() or not (name_en or "").strip():
        raise ValidationFailed("validation_error", summary="a campaign needs a French and an English name")
    if session.scalar(select(Campaign.id).where(Campaign.code == code)):
        raise Conflict("validation_error", summary=f"a campaign {code!r} already exists")
    if not 1 <= max_attempts <= 4:  # the law allows four calls or attempts in thirty days
        raise ValidationFailed("validation_error", summary="attempts per target are 1 to 4")
    if not 10 <= retry_delay_minutes <= 60 * 24 * 30:
        raise ValidationFailed("validation_error", summary="the retry delay is 10 minutes to 30 days")
    kind, how = _choice(CampaignChannel, channel, "channel"), _choice(CampaignMode, mode, "mode")
    queue = None
    if queue_code:
        queue = session.scalar(select(Queue).where(Queue.code == queue_code, Queue.active.is_(True)))
        if queue is None:
            raise ValidationFailed("unknown_queue", value=queue_code)
    if how is CampaignMode.progressive and queue is None:
        raise ValidationFailed("validation_error", summary="a progressive campaign calls through a queue")
    if kind is not CampaignChannel.voice:
        template = check_template(template or "", channel=kind.value)
        if how is CampaignMode.progressive:
            raise ValidationFailed("campaign_progressive_voice")
    if kind is CampaignChannel.email and not (subject or "").strip():
        raise ValidationFailed("campaign_subject_required")
    campaign = Campaign(code=code, name_fr=name_fr.strip()[:200], name_en=name_en.strip()[:200],
                        purpose=_choice(Purpose, purpose, "purpose"), channel=kind, mode=how,
                        queue_id=queue.id if queue else None, max_attempts=max_attempts,
                        retry_delay_minutes=retry_delay_minutes, subject=(subject or "").strip()[:300] or None,
                        template=(template or "").strip() or None, created_by_id=created_by_id, created_at=now,
                        status=CampaignStatus.draft)
    session.add(campaign)
    session.flush()
    return campaign


def do_set_campaign_status(session: Session, *, campaign_id: str, status: str, now: datetime) -> Campaign:
    """Start, pause, resume or finish. Starting a progressive campaign starts its pacing timer."""
    campaign = session.get(Campaign, campaign_id, with_for_update=True) or access_campaign(session, campaign_id)
    target = _choice(CampaignStatus, status, "status")
    if target is campaign.status:
        return campaign
    if target not in TRANSITIONS[campaign.status]:
        raise Conflict("invalid_transition", current=campaign.status.value, target=target.value)
    campaign.status = target
    if target is CampaignStatus.running and campaign.mode is CampaignMode.progressive:
        do_schedule_job(session, kind=PACE_KIND, run_at=now, payload={"campaign_id": campaign.id},
                        dedupe_key=f"{PACE_KIND}:{campaign.id}:{now.isoformat()}")
    if target is CampaignStatus.running:
        schedule_sending(session, campaign, now)
    if target is CampaignStatus.finished:  # nobody is left holding a target of a finished campaign
        for held in session.scalars(select(CampaignTarget).where(CampaignTarget.campaign_id == campaign.id,
                                                                 CampaignTarget.status == TargetStatus.in_call)):
            held.status, held.agent_id = TargetStatus.pending, None
    session.flush()
    return campaign


def schedule_sending(session: Session, campaign: Campaign, now: datetime) -> None:
    """A running SMS or email campaign with people to write to: its next batch, now (deduplicated)."""
    if campaign.channel is CampaignChannel.voice or campaign.status is not CampaignStatus.running:
        return
    do_schedule_job(session, kind=SEND_KIND, run_at=now, payload={"campaign_id": campaign.id},
                    dedupe_key=f"{SEND_KIND}:{campaign.id}:{now.isoformat()}")


# Targets ------------------------------------------------------------------------------------------------


@dataclass
class Added:
    target: CampaignTarget
    merged: bool


def _phone_of(session: Session, customer_id: str) -> str | None:
    return session.scalar(select(Identity.value).where(Identity.customer_id == customer_id,
                                                       Identity.kind == IdentityKind.phone)
                          .order_by(Identity.created_at).limit(1))


def _email_of(session: Session, customer_id: str) -> str | None:
    return session.scalar(select(Identity.value).where(Identity.customer_id == customer_id,
                                                       Identity.kind == IdentityKind.email)
                          .order_by(Identity.created_at).limit(1))


def _existing(session: Session, campaign_id: str, *, customer_id: str | None, phone: str | None,
              email: str | None) -> CampaignTarget | None:
    for column, value in ((CampaignTarget.customer_id, customer_id), (CampaignTarget.phone, phone),
                          (CampaignTarget.email, email)):
        if value:
            found = session.scalar(select(CampaignTarget).where(CampaignTarget.campaign_id == campaign_id,
                                                                column == value).limit(1))
            if found is not None:
                return found
    return None


def exclusion_of(session: Session, campaign: Campaign, target: CampaignTarget) -> str | None:
    """Why this target must not be contacted at all (None: it may be, subject to the law at dial time)."""
    if campaign.channel is CampaignChannel.voice:
        if not target.phone:
            return "no_phone"
        if (campaign.purpose is Purpose.prospecting and is_opposed(session, target.phone)
                and not is_customer(session, target.customer_id)):
            return "opposition_list"
    if campaign.channel is CampaignChannel.email and not target.email:
        return "no_email"
    if campaign.channel is CampaignChannel.sms and not target.phone:
        return "no_phone"
    return None


def do_add_target(session: Session, *, campaign: Campaign, now: datetime, customer_id: str | None = None,
                  phone: IdentityRef | None = None, email: IdentityRef | None = None,
                  name: str | None = None) -> Added:
    """One person on the list: matched to an existing customer by any identity, merged with a line already
    there, excluded at once if the law or the channel rules them out."""
    if campaign.status is CampaignStatus.finished:
        raise Conflict("invalid_transition", current="finished", target="add")
    if customer_id is None:
        for ref in (phone, email):
            owner = find_customer_by_identity(session, ref) if ref else None
            if owner is not None:
                customer_id = access_customer(session, owner.id).id
                break
    if customer_id is not None:
        customer = access_customer(session, customer_id)
        customer_id = customer.id
        name = name or customer.display_name
    number = phone.value if phone else (_phone_of(session, customer_id) if customer_id else None)
    address = email.value if email else (_email_of(session, customer_id) if customer_id else None)
    existing = _existing(session, campaign.id, customer_id=customer_id, phone=number, email=address)
    if existing is not None:
        existing.customer_id = existing.customer_id or customer_id
        existing.phone, existing.email = existing.phone or number, existing.email or address
        existing.name = existing.name or ((name or "").strip()[:200] or None)
        session.flush()
        return Added(existing, True)
    target = CampaignTarget(campaign_id=campaign.id, customer_id=customer_id, phone=number, email=address,
                            name=(name or "").strip()[:200] or None, status=TargetStatus.pending, attempts=0,
                            created_at=now)
    reason = exclusion_of(session, campaign, target)
    if reason is not None:
        target.status, target.excluded_reason = TargetStatus.excluded, reason
    session.add(target)
    session.flush()
    if reason is None:
        schedule_sending(session, campaign, now)
    return Added(target, False)


def customers_matching(session: Session, *, search: str, now: datetime, days: int = 7) -> list[str]:
    """Customer ids for a saved search: ``resolved_recently`` (a case resolved in the last ``days``) or
    ``abandoned_not_called_back`` (an inbound call abandoned in the last ``days``, and no call to them since)."""
    if search not in SEARCHES:
        raise ValidationFailed("validation_error", summary=f"search is one of {', '.join(SEARCHES)}")
    if not 1 <= days <= 365:
        raise ValidationFailed("validation_error", summary="days is 1 to 365")
    since = now - timedelta(days=days)
    if search == "resolved_recently":
        statement = select(Case.customer_id).where(Case.status.in_((CaseStatus.resolved, CaseStatus.closed)),
                                                   Case.resolved_at >= since, Case.resolved_at <= now)
    else:
        later = aliased(Interaction)
        called_since = exists().where(later.customer_id == Interaction.customer_id,
                                      later.direction == Direction.outbound,
                                      later.channel.in_((ChannelKind.voice, ChannelKind.callback)),
                                      later.arrived_at >= Interaction.arrived_at)
        statement = select(Interaction.customer_id).where(
            Interaction.channel == ChannelKind.voice, Interaction.direction == Direction.inbound,
            Interaction.outcome == Outcome.abandoned, Interaction.arrived_at >= since, ~called_since)
    found = session.scalars(statement.join(Customer, Customer.id == statement.selected_columns[0])
                            .where(Customer.merged_into_id.is_(None)).distinct()).all()
    return sorted(found)


def do_add_from_search(session: Session, *, campaign_id: str, search: str, now: datetime,
                       days: int = 7) -> tuple[int, int, int]:
    """Fill the list from a customer search; returns (added, merged, excluded)."""
    campaign = access_campaign(session, campaign_id)
    added = merged = excluded = 0
    for customer_id in customers_matching(session, search=search, now=now, days=days):
        result = do_add_target(session, campaign=campaign, customer_id=customer_id, now=now)
        merged += result.merged
        added += not result.merged
        excluded += (not result.merged) and result.target.status is TargetStatus.excluded
    return added, merged, excluded


# Opposition list and consents -----------------------------------------------------------------------------


def opposition_numbers(lines: Iterable[str], *, phone_region: str = "FR") -> Iterator[str | None]:
    """Each line of a Bloctel-style file as an E.164 number (None for an invalid line); blank lines and
    ``#`` comments are skipped. A line may carry more columns after a ``;`` or ``,``: the first is the number."""
    for raw in lines:
        line = raw.strip().lstrip("\ufeff")
        if not line or line.startswith("#"):
            continue
        first = line.replace(",", ";").split(";")[0].strip()
        if first and first.isdigit() and len(first) == 11 and first.startswith("33"):
            first = "+" + first  # files often print +33 without the plus
        try:
            yield normalise_identity(IdentityKind.phone, first, phone_region=phone_region).value
        except ValidationFailed:
            yield None


def do_import_opposition_batch(session: Session, *, numbers: list[str], source_file: str,
                               now: datetime) -> tuple[int, int]:
    """Add one batch of normalised numbers; returns (added, already listed). A repeat adds nothing."""
    unique = sorted(set(numbers))
    if len(unique) > OPPOSITION_BATCH * 10:
        raise ValidationFailed("validation_error", summary="import the opposition list in batches")
    known = set(session.scalars(select(OppositionNumber.phone).where(OppositionNumber.phone.in_(unique))))
    fresh = [number for number in unique if number not in known]
    if fresh:
        session.execute(OppositionNumber.__table__.insert(), [
            {"id": new_id(), "phone": number, "source_file": source_file[:255], "imported_at": now}
            for number in fresh])
    return len(fresh), len(numbers) - len(fresh)


def do_record_consent(session: Session, *, source: str, given_at: datetime, now: datetime,
                      customer_id: str | None = None, phone: IdentityRef | None = None,
                      recorded_by_id: str | None = None) -> ProspectingConsent:
    """The consumer's express prior consent to be called outside the legal hours, with its proof."""
    if not (source or "").strip():
        raise ValidationFailed("consent_proof_required")
    if given_at > now:
        raise ValidationFailed("consent_in_future")
    if customer_id is None and phone is None:
        raise ValidationFailed("identity_required")
    customer = access_customer(session, customer_id).id if customer_id else None
    consent = ProspectingConsent(customer_id=customer, phone=phone.value if phone else None, given_at=given_at,
                                 source=source.strip()[:500], recorded_by_id=recorded_by_id)
    session.add(consent)
    session.flush()
    return consent


def do_withdraw_consent(session: Session, *, consent_id: str, now: datetime) -> ProspectingConsent:
    """The consumer takes their consent back: from now on the legal hours apply to them again."""
    consent = session.get(ProspectingConsent, consent_id, with_for_update=True)
    if consent is None:
        raise NotFound("not_found", kind="consent", id=consent_id)
    if consent.withdrawn_at is None:
        consent.withdrawn_at = now
        session.flush()
    return consent


def consents(session: Session, *, limit: int = 200) -> list[ProspectingConsent]:
    return list(session.scalars(select(ProspectingConsent).order_by(ProspectingConsent.given_at.desc(),
                                                                    ProspectingConsent.id).limit(limit)))


def customer_by_number(session: Session, number: str) -> str | None:
    """The customer holding this customer number (as typed: case and spaces do not matter)."""
    ref = normalise_identity(IdentityKind.customer_number, number)
    return session.scalar(select(Identity.customer_id).where(Identity.kind == IdentityKind.customer_number,
                                                             Identity.value == ref.value).limit(1))
