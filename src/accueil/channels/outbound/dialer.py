"""The dialer: which target next, may we call them now, the call itself, and what became of it.

Every dial is checked against the law at the instant it is made (``law.check_call`` with ``now`` and the
consumer's whole history with us). A refusal is logged as an attempt that was not placed — reason,
article, first lawful instant — and the target is rescheduled then (or excluded for good: the opposition
list), so the agent is never handed a call the law forbids. A placed call is an outbound voice interaction
on the person's case (a prospect becomes a customer record through ``customers.do_resolve_identity``), sent
to the telephony as a ``dial`` command when a provider can dial, otherwise dialled by hand by the agent.

Preview: the agent asks for the next target, sees it, dials, records the outcome. Progressive
(``do_pace``): when agents of the campaign's queue are free, as many calls are placed and queued there; the
real router offers each to a free agent, who records the outcome the same way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accueil.channels.outbound.law import Purpose, Verdict, check_call
from accueil.channels.outbound.models import (
    REACHED,
    RETRIED,
    AttemptOutcome,
    Campaign,
    CampaignAttempt,
    CampaignChannel,
    CampaignMode,
    CampaignStatus,
    CampaignTarget,
    TargetStatus,
)
from accueil.channels.outbound.queries import access_campaign, consumer_of
from accueil.channels.outbound.service import PACE_KIND
from accueil.channels.voice.adapter import DIAL, CallCommand, dialler
from accueil.channels.voice.models import VoiceCall
from accueil.conversations.models import ChannelKind, Interaction, Outcome
from accueil.conversations.outbound import do_start_outbound
from accueil.conversations.service import do_record_interaction_event, do_resolve_case
from accueil.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from accueil.customers.models import IdentityKind
from accueil.customers.service import IdentityRef, do_resolve_identity
from accueil.db.jobs import do_schedule_job, job_handler
from accueil.identity.models import User
from accueil.routing.config_loader import RoutingConfigCache
from accueil.routing.decisions import ItemState
from accueil.routing.enqueue import do_enqueue
from accueil.routing.events import InteractionArrived
from accueil.routing.models import AgentState, RoutingItem
from accueil.routing.service import do_end, do_end_wrapup

log = logging.getLogger(__name__)

SCAN = 50  # targets looked at per request for the next one (refused ones are rescheduled as they go)
PACE_EVERY = timedelta(seconds=30)
HELD = (ItemState.offered.value, ItemState.active.value, ItemState.wrapup.value)


@dataclass(frozen=True)
class Dial:
    attempt: CampaignAttempt
    verdict: Verdict
    provider: str | None  # None: refused, or dialled by hand


def _check(session: Session, campaign: Campaign, target: CampaignTarget, now: datetime) -> tuple[Verdict, object]:
    consumer = consumer_of(session, phone=target.phone, customer_id=target.customer_id, now=now)
    return check_call(now, consumer, campaign.purpose), consumer


def _attempt(campaign: Campaign, target: CampaignTarget, consumer, verdict: Verdict, *,  # type: ignore[no-untyped-def]
             agent_id: str | None, now: datetime, placed: bool) -> CampaignAttempt:
    return CampaignAttempt(
        campaign_id=campaign.id, target_id=target.id, customer_id=target.customer_id, agent_id=agent_id,
        phone=target.phone, purpose=campaign.purpose, timezone=consumer.timezone, consent=consumer.consent,
        on_opposition_list=consumer.on_opposition_list, is_customer=consumer.contract_in_force, placed=placed,
        verdict_reason=verdict.reason.value if verdict.reason else None, verdict_article=verdict.article,
        next_allowed_at=verdict.next_allowed_at, started_at=now, ended_at=None if placed else now)


def _refuse(session: Session, campaign: Campaign, target: CampaignTarget, consumer, verdict: Verdict, *,  # type: ignore[no-untyped-def]
            agent_id: str | None, now: datetime) -> CampaignAttempt:
    """Log the refusal and move the target out of the way: rescheduled when lawful, or excluded for good."""
    attempt = _attempt(campaign, target, consumer, verdict, agent_id=agent_id, now=now, placed=False)
    session.add(attempt)
    target.agent_id = None
    if verdict.next_allowed_at is None:
        target.status, target.excluded_reason = TargetStatus.excluded, verdict.reason.value
    else:
        target.status, target.next_attempt_at = TargetStatus.pending, verdict.next_allowed_at
    target.skipped_reason = verdict.reason.value
    session.flush()
    log.info("campaign %s: call refused by law (%s), next lawful at %s", campaign.code, verdict.reason.value,
             verdict.next_allowed_at)  # no number, no name: only the rule
    return attempt


def _running_voice(session: Session, campaign_id: str) -> Campaign:
    campaign = access_campaign(session, campaign_id)
    if campaign.status is not CampaignStatus.running:
        raise Conflict("invalid_transition", current=campaign.status.value, target="call")
    if campaign.channel is not CampaignChannel.voice:
        raise ValidationFailed("validation_error", summary="only call campaigns have a dialer")
    return campaign


def held_target(session: Session, *, campaign_id: str, agent_id: str) -> CampaignTarget | None:
    return session.scalar(select(CampaignTarget).where(
        CampaignTarget.campaign_id == campaign_id, CampaignTarget.status == TargetStatus.in_call,
        CampaignTarget.agent_id == agent_id).limit(1))


def _pick(session: Session, campaign: Campaign, *, agent_id: str | None, now: datetime) -> CampaignTarget | None:
    """The next due target the law allows now; the ones it refuses are logged and rescheduled on the way."""
    for _ in range(SCAN):
        statement = (select(CampaignTarget).where(
            CampaignTarget.campaign_id == campaign.id, CampaignTarget.status == TargetStatus.pending,
            (CampaignTarget.next_attempt_at.is_(None)) | (CampaignTarget.next_attempt_at <= now))
            .order_by(CampaignTarget.next_attempt_at.is_not(None), CampaignTarget.next_attempt_at,
                      CampaignTarget.created_at, CampaignTarget.id).limit(1)
            .with_for_update(skip_locked=True))
        target = session.scalar(statement)
        if target is None:
            return None
        verdict, consumer = _check(session, campaign, target, now)
        if not verdict.allowed:
            _refuse(session, campaign, target, consumer, verdict, agent_id=agent_id, now=now)
            continue
        target.status, target.agent_id, target.skipped_reason = TargetStatus.in_call, agent_id, None
        session.flush()
        return target
    return None


def do_next_target(session: Session, *, campaign_id: str, agent_id: str, now: datetime) -> CampaignTarget | None:
    """Preview: the target this agent should call next (the one they already hold, if any)."""
    campaign = _running_voice(session, campaign_id)
    if campaign.mode is not CampaignMode.preview:
        raise ValidationFailed("validation_error", summary="a progressive campaign's calls come through the queue")
    return held_target(session, campaign_id=campaign.id, agent_id=agent_id) or _pick(
        session, campaign, agent_id=agent_id, now=now)


def do_skip_target(session: Session, *, target_id: str, agent_id: str, now: datetime) -> CampaignTarget:
    """The agent gives a previewed target back without calling (it waits for the retry delay)."""
    target = _held_by(session, target_id, agent_id)
    campaign = access_campaign(session, target.campaign_id)
    target.status, target.agent_id = TargetStatus.pending, None
    target.next_attempt_at = now + timedelta(minutes=campaign.retry_delay_minutes)
    session.flush()
    return target


def _held_by(session: Session, target_id: str, agent_id: str) -> CampaignTarget:
    target = session.get(CampaignTarget, target_id, with_for_update=True)
    if target is None:
        raise NotFound("not_found", kind="campaign target", id=target_id)
    if target.status is not TargetStatus.in_call or target.agent_id != agent_id:
        raise Conflict("stale_decision", reason="this target is not on your screen any more")
    return target


def _customer_for(session: Session, target: CampaignTarget, now: datetime) -> str:
    """The person's customer record; a pure prospect gets one from their number (and address)."""
    if target.customer_id is None:
        identities = [IdentityRef(IdentityKind.phone, target.phone)]
        if target.email:
            identities.append(IdentityRef(IdentityKind.email, target.email))
        customer, _ = do_resolve_identity(session, identities=identities, display_name=target.name, now=now)
        target.customer_id = customer.id
    return target.customer_id


def _place(session: Session, campaign: Campaign, target: CampaignTarget, consumer, verdict: Verdict, *,  # type: ignore[no-untyped-def]
           agent_id: str | None, now: datetime) -> tuple[CampaignAttempt, Interaction]:
    customer_id = _customer_for(session, target, now)
    interaction = do_start_outbound(session, customer_id=customer_id, channel=ChannelKind.voice, now=now,
                                    agent_id=agent_id, case_id=target.case_id, subject=campaign.name_fr,
                                    data={"campaign": campaign.code, "purpose": campaign.purpose.value})
    target.case_id = interaction.case_id
    target.attempts += 1
    attempt = _attempt(campaign, target, consumer, verdict, agent_id=agent_id, now=now, placed=True)
    attempt.customer_id, attempt.interaction_id = customer_id, interaction.id
    session.add(attempt)
    session.flush()
    return attempt, interaction


def _send_dial(session: Session, attempt: CampaignAttempt, interaction: Interaction, agent_id: str | None,
               now: datetime) -> str | None:
    """Tell the telephony to call (raises ``ProviderFailed``: the whole dial rolls back, nothing recorded)."""
    provider = dialler(session)
    if provider is None:
        attempt.dialled_by = "hand"
        return None
    username = session.scalar(select(User.username).where(User.id == agent_id)) if agent_id else None
    session.add(VoiceCall(provider=provider.name, provider_call_id=interaction.id, interaction_id=interaction.id,
                          called=attempt.phone, last_event_at=now))
    provider.send(CallCommand(interaction.id, DIAL, agent=username, to_number=attempt.phone))
    attempt.dialled_by = provider.name
    session.flush()
    return provider.name


def do_dial(session: Session, *, target_id: str, agent_id: str, now: datetime) -> Dial:
    """Preview: the agent dials the target on their screen — if the law allows it at this very instant."""
    target = _held_by(session, target_id, agent_id)
    campaign = _running_voice(session, target.campaign_id)
    verdict, consumer = _check(session, campaign, target, now)
    if not verdict.allowed:
        return Dial(_refuse(session, campaign, target, consumer, verdict, agent_id=agent_id, now=now), verdict, None)
    attempt, interaction = _place(session, campaign, target, consumer, verdict, agent_id=agent_id, now=now)
    provider = _send_dial(session, attempt, interaction, agent_id, now)
    return Dial(attempt, verdict, provider)


def current_attempt(session: Session, *, campaign_id: str, agent_id: str) -> CampaignAttempt | None:
    """The placed call of this campaign the agent is on and has not told the outcome of yet (preview: they
    dialled it; progressive: routing gave it to them)."""
    mine = session.scalar(select(CampaignAttempt).where(
        CampaignAttempt.campaign_id == campaign_id, CampaignAttempt.placed.is_(True),
        CampaignAttempt.outcome.is_(None), CampaignAttempt.agent_id == agent_id).limit(1))
    if mine is not None:
        return mine
    return session.scalar(select(CampaignAttempt).join(
        RoutingItem, RoutingItem.interaction_id == CampaignAttempt.interaction_id).where(
        CampaignAttempt.campaign_id == campaign_id, CampaignAttempt.outcome.is_(None),
        RoutingItem.agent_id == agent_id, RoutingItem.status.in_((ItemState.active.value, ItemState.wrapup.value)))
        .limit(1))


def _end_call(session: Session, *, rules: RoutingConfigCache, attempt: CampaignAttempt, outcome: AttemptOutcome,
              user_id: str, may_act_for_others: bool, now: datetime) -> str:
    """End the attempt's interaction: through routing when it was routed (its agent is freed), else in the log."""
    item = session.get(RoutingItem, attempt.interaction_id)
    interaction = session.get(Interaction, attempt.interaction_id)
    agent_id = item.agent_id if item is not None else attempt.agent_id
    if agent_id is None or (item is not None and item.status not in (ItemState.active.value, ItemState.wrapup.value)):
        raise Conflict("stale_decision", reason="nobody has taken this call yet")
    if agent_id != user_id and not may_act_for_others:
        raise PermissionDenied("forbidden")
    data = {"campaign_outcome": outcome.value}
    if item is not None and item.status == ItemState.active.value:
        do_end(session, rules=rules, item_id=item.interaction_id, wrapup=False, user_id=agent_id, now=now)
    elif item is not None:
        do_end_wrapup(session, rules=rules, item_id=item.interaction_id, user_id=agent_id, now=now)
    else:
        if outcome in REACHED:
            do_record_interaction_event(session, interaction_id=interaction.id, kind="answered",
                                        at=attempt.started_at, agent_id=agent_id)
        do_record_interaction_event(session, interaction_id=interaction.id, kind="ended", at=now, agent_id=agent_id,
                                    outcome=Outcome.handled if outcome in REACHED else Outcome.failed, data=data)
    session.refresh(interaction)
    if outcome not in REACHED:
        interaction.outcome = Outcome.failed  # the call was made, the person not reached
    do_record_interaction_event(session, interaction_id=interaction.id, kind="note", at=now, agent_id=agent_id,
                                data={**data, "sale_amount_cents": attempt.sale_amount_cents,
                                      "currency": attempt.currency})
    return agent_id


def check_sale(outcome: AttemptOutcome, amount_cents: int | None, currency: str | None) -> tuple[int | None, str | None]:
    if outcome is not AttemptOutcome.sale:
        return None, None
    if amount_cents is None or amount_cents <= 0 or amount_cents > 10**11:
        raise ValidationFailed("validation_error", summary="a sale is recorded with its amount")
    currency = (currency or "EUR").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise ValidationFailed("validation_error", summary="the currency is a three-letter code (EUR)")
    return amount_cents, currency


def do_record_outcome(session: Session, *, attempt_id: str, outcome: str, user_id: str, rules: RoutingConfigCache,
                      now: datetime, amount_cents: int | None = None, currency: str | None = None,
                      may_act_for_others: bool = False) -> CampaignAttempt:
    """How the call went. No answer, busy or voicemail: tried again after the campaign's delay, at the
    first lawful instant from then, until its attempts run out; a refusal starts the sixty quiet days
    (the history says so: nothing else to store). The same outcome again changes nothing."""
    try:
        result = AttemptOutcome(outcome)
    except ValueError:
        allowed = ", ".join(o.value for o in AttemptOutcome)
        raise ValidationFailed("validation_error", summary=f"outcome is one of {allowed}") from None
    attempt = session.get(CampaignAttempt, attempt_id, with_for_update=True)
    if attempt is None or not attempt.placed:
        raise NotFound("not_found", kind="campaign attempt", id=attempt_id)
    if attempt.outcome is not None:
        if attempt.outcome is result:
            return attempt
        raise Conflict("stale_decision", reason=f"this call was already recorded as {attempt.outcome.value}")
    attempt.sale_amount_cents, attempt.currency = check_sale(result, amount_cents, currency)
    attempt.agent_id = _end_call(session, rules=rules, attempt=attempt, outcome=result, user_id=user_id,
                                 may_act_for_others=may_act_for_others, now=now)
    attempt.outcome, attempt.ended_at = result, now
    session.flush()
    target = session.get(CampaignTarget, attempt.target_id, with_for_update=True)
    campaign = access_campaign(session, attempt.campaign_id)
    target.last_outcome, target.agent_id = result, None
    if result in RETRIED and target.attempts < campaign.max_attempts:
        target.status = TargetStatus.pending
        retry_at = now + timedelta(minutes=campaign.retry_delay_minutes)
        verdict = check_call(retry_at, consumer_of(session, phone=target.phone, customer_id=target.customer_id,
                                                   now=retry_at), campaign.purpose)
        target.next_attempt_at = verdict.next_allowed_at or retry_at
    else:
        target.status = TargetStatus.exhausted if result in RETRIED else TargetStatus.done
        target.next_attempt_at = None
        if target.case_id:
            case_open = session.scalar(select(func.count()).select_from(Interaction).where(
                Interaction.case_id == target.case_id, Interaction.ended_at.is_(None))) == 0
            from_case = session.get(Interaction, attempt.interaction_id).case
            if case_open and from_case.status.value in ("new", "open", "pending"):
                do_resolve_case(session, case_id=target.case_id, resolution_code=f"campaign_{result.value}",
                                actor_id=attempt.agent_id, now=now)
    session.flush()
    if campaign.mode is CampaignMode.progressive and campaign.status is CampaignStatus.running:
        do_pace(session, rules=rules, campaign_id=campaign.id, now=now)  # the agent is free: the next call
    return attempt


# Progressive -----------------------------------------------------------------------------------------------


def free_agents(session: Session, *, rules: RoutingConfigCache, queue_id: str) -> list[str]:
    """Agents available now who serve this queue's calls and hold no work."""
    config = rules.get(session)
    serving = [agent for agent, media in config.agent_queues.items()
               if any(queue_id in stages for stages in media.values())]
    if not serving:
        return []
    available = set(session.scalars(select(AgentState.user_id).where(
        AgentState.user_id.in_(serving), AgentState.presence == "available")))
    busy = set(session.scalars(select(RoutingItem.agent_id).where(
        RoutingItem.agent_id.in_(serving), RoutingItem.status.in_(HELD))))
    return sorted(available - busy)


def do_pace(session: Session, *, rules: RoutingConfigCache, campaign_id: str, now: datetime) -> list[str]:
    """Progressive: one call per free agent of the campaign's queue (less the calls already waiting there),
    each checked by the law now, placed and queued for the router. Returns the attempt ids placed."""
    campaign = access_campaign(session, campaign_id)
    if (campaign.status is not CampaignStatus.running or campaign.mode is not CampaignMode.progressive
            or campaign.queue_id is None):
        return []
    waiting = session.scalar(select(func.count()).select_from(RoutingItem).join(
        CampaignAttempt, CampaignAttempt.interaction_id == RoutingItem.interaction_id).where(
        RoutingItem.queue_id == campaign.queue_id, RoutingItem.status == ItemState.waiting.value)) or 0
    slots = len(free_agents(session, rules=rules, queue_id=campaign.queue_id)) - waiting
    placed: list[str] = []
    for _ in range(max(slots, 0)):
        target = _pick(session, campaign, agent_id=None, now=now)
        if target is None:
            break
        _verdict, consumer = _check(session, campaign, target, now)  # allowed: _pick just checked
        attempt, interaction = _place(session, campaign, target, consumer, _verdict, agent_id=None, now=now)
        do_enqueue(session, interaction_id=interaction.id, queue_id=campaign.queue_id, now=now,
                   announce=InteractionArrived(interaction_id=interaction.id, case_id=interaction.case_id,
                                               customer_id=interaction.customer_id, channel="voice",
                                               queue_id=campaign.queue_id))
        _send_dial(session, attempt, interaction, None, now)
        placed.append(attempt.id)
    return placed


_PACE_RULES = RoutingConfigCache()  # the pacing job's own compiled rules (refreshed by their version)


@job_handler(PACE_KIND)
def _pace(session: Session, payload: dict, now: datetime) -> None:
    """Every ``PACE_EVERY`` while a progressive campaign runs: place calls for the agents freed meanwhile."""
    campaign = session.get(Campaign, payload["campaign_id"])
    if campaign is None or campaign.status is not CampaignStatus.running:
        return  # paused or finished: the timer stops (starting again schedules a new one)
    do_pace(session, rules=_PACE_RULES, campaign_id=campaign.id, now=now)
    following = now + PACE_EVERY
    do_schedule_job(session, kind=PACE_KIND, run_at=following, payload={"campaign_id": campaign.id},
                    dedupe_key=f"{PACE_KIND}:{campaign.id}:{following.isoformat()}")


__all__ = ["Dial", "Purpose", "do_dial", "do_next_target", "do_pace", "do_record_outcome", "do_skip_target"]
