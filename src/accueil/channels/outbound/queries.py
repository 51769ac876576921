"""Reads for campaigns: what the law must know about one consumer at dial time, and a campaign's progress.

The frequency rules are per professional, not per campaign: a consumer's history is every placed
prospecting attempt of *every* campaign, found by their number or by their customer record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from accueil.channels.outbound.law import ATTEMPT_WINDOW, Consumer, Purpose, attempts_left
from accueil.channels.outbound.models import (
    AttemptOutcome,
    Campaign,
    CampaignAttempt,
    CampaignChannel,
    CampaignStatus,
    CampaignTarget,
    OppositionNumber,
    ProspectingConsent,
    TargetStatus,
)
from accueil.channels.outbound.report import (
    AttemptRecord,
    Report,
    compliance_report,
    message_compliance_report,
)
from accueil.channels.outbound.zones import zone_of_phone
from accueil.core import clock
from accueil.core.errors import NotFound
from accueil.customers.models import Identity, IdentityKind

HISTORY = ATTEMPT_WINDOW * 4  # more than the law ever looks back for the four-in-thirty rule
# The call rules count calls: an SMS or email campaign's messages are not attempts to call (art. D. 223-9).
VOICE_CAMPAIGNS = select(Campaign.id).where(Campaign.channel == CampaignChannel.voice)


def _same_consumer(column_phone, column_customer, phone: str | None, customer_id: str | None):  # type: ignore[no-untyped-def]
    clauses = []
    if phone:
        clauses.append(column_phone == phone)
    if customer_id:
        clauses.append(column_customer == customer_id)
    return or_(*clauses) if clauses else None


def is_opposed(session: Session, phone: str | None) -> bool:
    return bool(phone) and session.scalar(select(OppositionNumber.id).where(OppositionNumber.phone == phone)) is not None


def is_customer(session: Session, customer_id: str | None) -> bool:
    """A contract in force: the person has a customer number with us (a prospect we created has none)."""
    if customer_id is None:
        return False
    return session.scalar(select(Identity.id).where(Identity.customer_id == customer_id,
                                                    Identity.kind == IdentityKind.customer_number).limit(1)) is not None


def has_consent(session: Session, *, phone: str | None, customer_id: str | None, now: datetime) -> bool:
    same = _same_consumer(ProspectingConsent.phone, ProspectingConsent.customer_id, phone, customer_id)
    if same is None:
        return False
    return session.scalar(select(ProspectingConsent.id).where(
        same, ProspectingConsent.given_at <= now, ProspectingConsent.withdrawn_at.is_(None)).limit(1)) is not None


def consumer_of(session: Session, *, phone: str | None, customer_id: str | None, now: datetime) -> Consumer:
    """Everything ``law.check_call`` looks at, for the person behind this number (or customer)."""
    same = _same_consumer(CampaignAttempt.phone, CampaignAttempt.customer_id, phone, customer_id)
    attempts: tuple[datetime, ...] = ()
    refused_at = None
    if same is not None:
        prospecting = (CampaignAttempt.placed.is_(True), CampaignAttempt.purpose == Purpose.prospecting, same,
                       CampaignAttempt.campaign_id.in_(VOICE_CAMPAIGNS))
        attempts = tuple(clock.ensure_utc(at) for at in session.scalars(
            select(CampaignAttempt.started_at).where(*prospecting, CampaignAttempt.started_at > now - HISTORY)))
        last = session.scalar(select(func.max(CampaignAttempt.started_at)).where(
            *prospecting, CampaignAttempt.outcome == AttemptOutcome.refused))
        refused_at = clock.ensure_utc(last) if last is not None else None
    return Consumer(timezone=zone_of_phone(phone), attempts=attempts, refused_at=refused_at,
                    consent=has_consent(session, phone=phone, customer_id=customer_id, now=now),
                    on_opposition_list=is_opposed(session, phone),
                    contract_in_force=is_customer(session, customer_id))


def access_campaign(session: Session, campaign_id: str) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("not_found", kind="campaign", id=campaign_id)
    return campaign


def campaigns(session: Session, *, running_only: bool = False) -> list[Campaign]:
    statement = select(Campaign).order_by(Campaign.created_at.desc())
    if running_only:
        statement = statement.where(Campaign.status == CampaignStatus.running)
    return list(session.scalars(statement))


@dataclass(frozen=True)
class Progress:
    by_status: dict[str, int]
    placed: int
    refused_by_law: int
    sales_cents: int

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def progress(session: Session, campaign_id: str) -> Progress:
    rows = session.execute(select(CampaignTarget.status, func.count()).where(
        CampaignTarget.campaign_id == campaign_id).group_by(CampaignTarget.status)).all()
    placed = session.scalar(select(func.count()).select_from(CampaignAttempt).where(
        CampaignAttempt.campaign_id == campaign_id, CampaignAttempt.placed.is_(True))) or 0
    refused = session.scalar(select(func.count()).select_from(CampaignAttempt).where(
        CampaignAttempt.campaign_id == campaign_id, CampaignAttempt.placed.is_(False))) or 0
    sales = session.scalar(select(func.sum(CampaignAttempt.sale_amount_cents)).where(
        CampaignAttempt.campaign_id == campaign_id, CampaignAttempt.outcome == AttemptOutcome.sale)) or 0
    counts = {status.value: 0 for status in TargetStatus}
    counts.update({status.value: count for status, count in rows})
    return Progress(counts, placed, refused, int(sales))


def attempts_of(session: Session, campaign_id: str) -> list[CampaignAttempt]:
    return list(session.scalars(select(CampaignAttempt).where(CampaignAttempt.campaign_id == campaign_id)
                                .order_by(CampaignAttempt.started_at, CampaignAttempt.id)))


def history_for_report(session: Session, campaign_id: str) -> list[CampaignAttempt]:
    """The placed prospecting attempts of every campaign to the consumers this campaign called (the 4-in-30
    and 60-day checks need the whole history, not the campaign's share of it)."""
    phones = select(CampaignAttempt.phone).where(CampaignAttempt.campaign_id == campaign_id,
                                                 CampaignAttempt.phone.is_not(None))
    customers = select(CampaignAttempt.customer_id).where(CampaignAttempt.campaign_id == campaign_id,
                                                          CampaignAttempt.customer_id.is_not(None))
    return list(session.scalars(select(CampaignAttempt).where(
        CampaignAttempt.placed.is_(True), CampaignAttempt.purpose == Purpose.prospecting,
        CampaignAttempt.campaign_id.in_(VOICE_CAMPAIGNS), or_(CampaignAttempt.phone.in_(phones), CampaignAttempt.customer_id.in_(customers)))
        .order_by(CampaignAttempt.started_at)))


def _record(attempt: CampaignAttempt) -> AttemptRecord:
    return AttemptRecord(
        id=attempt.id, campaign_id=attempt.campaign_id, consumer=attempt.phone or attempt.customer_id or attempt.id,
        started_at=clock.ensure_utc(attempt.started_at), timezone=attempt.timezone, placed=attempt.placed,
        prospecting=attempt.purpose is Purpose.prospecting, consent=attempt.consent,
        on_opposition_list=attempt.on_opposition_list, is_customer=attempt.is_customer,
        outcome=attempt.outcome.value if attempt.outcome else None, reason=attempt.verdict_reason,
        article=attempt.verdict_article)


def campaign_report(session: Session, campaign_id: str) -> Report:
    """The compliance report (``report.compliance_report``) from the recorded attempts."""
    campaign = access_campaign(session, campaign_id)
    if campaign.channel is not CampaignChannel.voice:
        return message_compliance_report(campaign_id, [_record(a) for a in attempts_of(session, campaign_id)],
                                         campaign.channel.value)
    rows = {a.id: a for a in attempts_of(session, campaign_id)}
    rows.update({a.id: a for a in history_for_report(session, campaign_id)})
    return compliance_report(campaign_id, [_record(a) for a in rows.values()])


def attempts_left_for(session: Session, target: CampaignTarget, now: datetime) -> int:
    """Calls the law still allows this person in the next thirty days (shown to the agent)."""
    return attempts_left(now, consumer_of(session, phone=target.phone, customer_id=target.customer_id, now=now))
