"""The demo's campaigns: a prospecting call campaign with two weeks of calls behind it, and an SMS campaign
ready to start.

The calls are made through the real dialer at past instants, so the law decides as it would have: an agent
who opened the campaign on a Saturday morning or at 9:30 was refused (the reason and the first lawful
instant recorded), the others called, and each call's outcome is on the customer's journey. The compliance
report (``accueil campaign report relance-clients``, or the supervisor's campaign page) therefore has
something to prove. Pure of randomness outside the ``random.Random`` it is given.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from accueil.channels.outbound import dialer, service
from accueil.channels.outbound.models import AttemptOutcome, CampaignTarget, TargetStatus
from accueil.customers.models import Customer
from accueil.routing.config_loader import RoutingConfigCache

PARIS = ZoneInfo("Europe/Paris")
CALL_CODE = "relance-clients"
SMS_CODE = "soldes-sms"
OUTCOMES = ((AttemptOutcome.no_answer, 0.34), (AttemptOutcome.voicemail, 0.14), (AttemptOutcome.reached, 0.22),
            (AttemptOutcome.refused, 0.14), (AttemptOutcome.sale, 0.12), (AttemptOutcome.busy, 0.04))
# when the agents sat down to call (local time); the law refuses a few of these
SESSIONS = (time(10, 15), time(11, 0), time(14, 30), time(16, 0), time(18, 45))
EARLY = time(9, 30)  # now and then someone starts before 10:00


def do_build_demo_campaigns(session: Session, *, callers: list[str], rng: random.Random, now: datetime) -> None:
    """Both campaigns; ``callers`` are the user ids of the agents who made the calls."""
    if not callers:
        return
    start = now - timedelta(days=15)
    calls = service.do_create_campaign(
        session, code=CALL_CODE, name_fr="Relance des clients satisfaits", name_en="Satisfied customers follow-up",
        purpose="prospecting", channel="voice", mode="preview", max_attempts=3, retry_delay_minutes=24 * 60,
        now=start)
    service.do_set_campaign_status(session, campaign_id=calls.id, status="running", now=start)
    service.do_add_from_search(session, campaign_id=calls.id, search="resolved_recently", days=30, now=start)
    rules = RoutingConfigCache()
    day = start.astimezone(PARIS).date()
    while day < now.astimezone(PARIS).date():
        _calling_day(session, calls.id, day, callers, rng, rules, now)
        day += timedelta(days=1)
    sms = service.do_create_campaign(
        session, code=SMS_CODE, name_fr="Soldes d'hiver (SMS)", name_en="Winter sale (SMS)", purpose="prospecting",
        channel="sms", now=now, template="Maison Lumière : {first_name}, -30 % sur les luminaires jusqu'à dimanche.")
    customers = session.scalars(select(Customer).order_by(Customer.created_at, Customer.id)).all()
    for customer in customers:  # what each ticked when signing up
        customer.consent_sms = rng.random() < 0.4
    for customer in customers[:40]:  # those without consent will be held back, and the report says why
        service.do_add_target(session, campaign=sms, customer_id=customer.id, now=now)
    session.flush()


def _calling_day(session: Session, campaign_id: str, day: date, callers: list[str], rng: random.Random,
                 rules: RoutingConfigCache, now: datetime) -> None:
    if day.weekday() == 6 or (day.weekday() == 5 and rng.random() < 0.6):
        return  # nobody calls on Sundays; a Saturday shift sometimes tries, and is refused
    moments = rng.sample(SESSIONS, 3) + ([EARLY] if rng.random() < 0.2 else [])
    for moment in sorted(moments):
        at = datetime.combine(day, moment, PARIS).astimezone(now.tzinfo)
        if at >= now:
            continue
        agent = rng.choice(callers)
        for _ in range(rng.randint(1, 4)):
            target = dialer.do_next_target(session, campaign_id=campaign_id, agent_id=agent, now=at)
            if target is None:
                break
            dial = dialer.do_dial(session, target_id=target.id, agent_id=agent, now=at)
            if not dial.verdict.allowed:
                break  # refused by the law: the agent reads why and comes back later
            outcome = rng.choices([o for o, _w in OUTCOMES], weights=[w for _o, w in OUTCOMES])[0]
            amount = rng.choice((4990, 8900, 12990, 24900)) if outcome is AttemptOutcome.sale else None
            talk = timedelta(seconds=rng.randint(40, 420) if outcome.value in ("reached", "refused", "sale") else 30)
            dialer.do_record_outcome(session, attempt_id=dial.attempt.id, outcome=outcome.value, user_id=agent,
                                     rules=rules, now=at + talk, amount_cents=amount, currency="EUR")
            at += talk + timedelta(minutes=rng.randint(1, 4))
    # a target still on someone's screen at the end of the day goes back to the list
    for held in session.scalars(select(CampaignTarget).where(CampaignTarget.campaign_id == campaign_id,
                                                             CampaignTarget.status == TargetStatus.in_call)):
        held.status, held.agent_id = TargetStatus.pending, None
    session.flush()
