"""Campaigns on both databases: lists from CSV and from customer searches, the opposition list, the preview
dialer with the law checked at dial time (``now`` fixed), retries, the 60 quiet days after a refusal, the
progressive dialer through the real router, and the compliance report catching a seeded violation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from accueil.channels.outbound import dialer, service
from accueil.channels.outbound.csv_import import do_import_csv
from accueil.channels.outbound.law import ARTICLE
from accueil.channels.outbound.models import (
    Campaign,
    CampaignAttempt,
    CampaignTarget,
    OppositionNumber,
    TargetStatus,
)
from accueil.channels.outbound.queries import campaign_report, consumer_of, progress
from accueil.conversations.models import Case, CaseStatus, Interaction
from accueil.core.errors import ValidationFailed
from accueil.customers.models import Identity, IdentityKind
from accueil.customers.service import IdentityRef, do_add_identity
from accueil.routing import service as routing
from accueil.routing.admin import do_save_queue
from accueil.routing.decisions import Presence
from accueil.routing.models import RoutingItem
from tests.factories import DAVID_PHONE

PARIS = ZoneInfo("Europe/Paris")
TUESDAY = datetime(2026, 12, 8, 11, 0, tzinfo=PARIS).astimezone(UTC)  # in the legal hours
CHRISTMAS = datetime(2026, 12, 25, 11, 0, tzinfo=PARIS).astimezone(UTC)  # a Friday, a public holiday

CSV = """phone;email;name;customer_number
06 11 22 33 44;zoe@example.fr;Zoé Durand;
+33612345678;;David (again);
not a phone;;Bad;
;nobody-at-all;Bad mail;
;;;NOPE-1
06 11 22 33 44;;Zoé twice;
07 55 66 77 88;;Opposed prospect;
;;;
"""


def campaign(session, *, code="noel", mode="preview", queue_code=None, **extra) -> Campaign:
    made = service.do_create_campaign(session, code=code, name_fr="Offre de Noël", name_en="Christmas offer",
                                      mode=mode, queue_code=queue_code, now=TUESDAY, max_attempts=3,
                                      retry_delay_minutes=120, **extra)
    service.do_set_campaign_status(session, campaign_id=made.id, status="running", now=TUESDAY)
    return made


def test_csv_import_checks_every_line_merges_duplicates_matches_customers_and_excludes_the_opposed(runtime, cast):
    with runtime.factory() as session, session.begin():
        added, known = service.do_import_opposition_batch(session, numbers=["+33755667788"], source_file="bloctel.txt",
                                                          now=TUESDAY)
        assert (added, known) == (1, 0)
        made = campaign(session)
        report = do_import_csv(session, campaign_id=made.id, content=CSV, now=TUESDAY)
    assert (report.added, report.merged, report.excluded) == (3, 1, 1)
    assert [(e.line, e.code) for e in report.errors] == [
        (4, "csv_invalid_phone"), (5, "csv_invalid_email"), (6, "csv_unknown_customer")]
    assert report.errors[0].message("fr") == "ligne 4 : 'not a phone' n'est pas un numéro de téléphone valide"
    assert report.summary("en") == "3 added, 1 merged with a line already there, 1 excluded, 3 refused"
    with runtime.factory() as session:
        targets = {t.phone: t for t in session.scalars(select(CampaignTarget))}
        assert targets[DAVID_PHONE].customer_id == cast.david_id  # matched by identity, named from the record
        assert targets[DAVID_PHONE].name == "David (again)"
        assert targets["+33611223344"].email == "zoe@example.fr" and targets["+33611223344"].customer_id is None
        assert targets["+33755667788"].status is TargetStatus.excluded
        assert targets["+33755667788"].excluded_reason == "opposition_list"


def test_the_opposition_list_is_imported_in_batches_idempotently_and_spares_customers(runtime, cast):
    lines = ["# Bloctel extract", "33611111111", "+33 6 22 22 22 22;2026-11-30", "", "garbage", DAVID_PHONE]
    numbers = list(service.opposition_numbers(lines))
    assert numbers == ["+33611111111", "+33622222222", None, DAVID_PHONE]
    valid = [n for n in numbers if n]
    with runtime.factory() as session, session.begin():
        assert service.do_import_opposition_batch(session, numbers=valid, source_file="a.txt", now=TUESDAY) == (3, 0)
    with runtime.factory() as session, session.begin():
        assert service.do_import_opposition_batch(session, numbers=valid, source_file="a.txt", now=TUESDAY) == (0, 3)
        assert len(session.scalars(select(OppositionNumber)).all()) == 3
        # david is listed, but a customer (contract in force: a customer number) may still be called
        do_add_identity(session, customer_id=cast.david_id, ref=IdentityRef(IdentityKind.customer_number, "C-1001"))
        made = campaign(session)
        added = service.do_add_target(session, campaign=made, customer_id=cast.david_id, now=TUESDAY)
        assert added.target.status is TargetStatus.pending
        consumer = consumer_of(session, phone=DAVID_PHONE, customer_id=cast.david_id, now=TUESDAY)
        assert consumer.on_opposition_list and consumer.contract_in_force


def test_preview_end_to_end_a_prospect_becomes_a_customer_and_every_call_is_on_the_journey(runtime, cast):
    alice = cast.users["alice"]
    with runtime.factory() as session, session.begin():
        made = campaign(session)
        service.do_add_target(session, campaign=made, phone=IdentityRef(IdentityKind.phone, "+33611223344"),
                              name="Zoé Durand", now=TUESDAY)
    with runtime.factory() as session, session.begin():
        target = dialer.do_next_target(session, campaign_id=made.id, agent_id=alice, now=TUESDAY)
        assert target.name == "Zoé Durand" and target.status is TargetStatus.in_call
        # asking again shows the same target, not another one
        assert dialer.do_next_target(session, campaign_id=made.id, agent_id=alice, now=TUESDAY).id == target.id
        dial = dialer.do_dial(session, target_id=target.id, agent_id=alice, now=TUESDAY)
        assert dial.verdict.allowed and dial.provider is None and dial.attempt.dialled_by == "hand"
        first = dial.attempt.id
    with runtime.factory() as session, session.begin():
        dialer.do_record_outcome(session, attempt_id=first, outcome="no_answer", user_id=alice,
                                 rules=runtime.routing_rules, now=TUESDAY + timedelta(minutes=1))
        target = session.get(CampaignTarget, target.id)
        assert target.status is TargetStatus.pending and target.attempts == 1
        # 11:01 + 120 min falls in the lunch break: the retry waits for 14:00 (Paris)
        assert target.next_attempt_at == datetime(2026, 12, 8, 14, 0, tzinfo=PARIS).astimezone(UTC)
        interaction = session.get(Interaction, session.get(CampaignAttempt, first).interaction_id)
        assert interaction.direction.value == "outbound" and interaction.channel.value == "voice"
        assert interaction.outcome.value == "failed" and interaction.customer_id == target.customer_id
        assert session.scalar(select(Identity.customer_id).where(Identity.value == "+33611223344")) == target.customer_id
    later = TUESDAY + timedelta(hours=3)
    with runtime.factory() as session, session.begin():
        assert dialer.do_next_target(session, campaign_id=made.id, agent_id=alice,
                                     now=TUESDAY + timedelta(minutes=30)) is None  # not due yet
        again = dialer.do_next_target(session, campaign_id=made.id, agent_id=alice, now=later)
        second = dialer.do_dial(session, target_id=again.id, agent_id=alice, now=later).attempt
        with pytest.raises(ValidationFailed):  # a sale needs its amount
            dialer.do_record_outcome(session, attempt_id=second.id, outcome="sale", user_id=alice,
                                     rules=runtime.routing_rules, now=later)
    with runtime.factory() as session, session.begin():
        dialer.do_record_outcome(session, attempt_id=second.id, outcome="sale", amount_cents=12990, user_id=alice,
                                 rules=runtime.routing_rules, now=later + timedelta(minutes=4))
    with runtime.factory() as session:
        target = session.get(CampaignTarget, target.id)
        assert target.status is TargetStatus.done and target.last_outcome.value == "sale"
        calls = session.scalars(select(Interaction).where(Interaction.case_id == target.case_id)
                                .order_by(Interaction.arrived_at)).all()
        assert [c.outcome.value for c in calls] == ["failed", "handled"]  # both on the same case of the journey
        assert session.get(Case, target.case_id).status is CaseStatus.resolved
        shown = progress(session, made.id)
        assert shown.placed == 2 and shown.sales_cents == 12990 and shown.by_status["done"] == 1


def test_the_law_at_dial_time_a_holiday_is_refused_logged_and_rescheduled(runtime, cast):
    alice = cast.users["alice"]
    with runtime.factory() as session, session.begin():
        made = campaign(session)
        service.do_add_target(session, campaign=made, customer_id=cast.david_id, now=TUESDAY)
    with runtime.factory() as session, session.begin():
        assert dialer.do_next_target(session, campaign_id=made.id, agent_id=alice, now=CHRISTMAS) is None
    with runtime.factory() as session:
        refused = session.scalars(select(CampaignAttempt)).one()
        assert not refused.placed and refused.verdict_reason == "holiday" and refused.verdict_article == ARTICLE
        target = session.scalars(select(CampaignTarget)).one()
        assert target.skipped_reason == "holiday" and target.status is TargetStatus.pending
        assert target.next_attempt_at == datetime(2026, 12, 28, 10, 0, tzinfo=PARIS).astimezone(UTC)
        assert session.scalars(select(Interaction)).all() == []  # nothing was dialled
    # The agent had it on screen at 12:59; at 13:00 (lunch) the dial itself is refused, and logged.
    monday = datetime(2026, 12, 28, 12, 59, tzinfo=PARIS).astimezone(UTC)
    with runtime.factory() as session, session.begin():
        target = dialer.do_next_target(session, campaign_id=made.id, agent_id=alice, now=monday)
        dial = dialer.do_dial(session, target_id=target.id, agent_id=alice, now=monday + timedelta(minutes=1))
        assert not dial.verdict.allowed and dial.verdict.reason.value == "outside_hours"
    with runtime.factory() as session:
        assert session.get(CampaignTarget, target.id).next_attempt_at == monday + timedelta(minutes=61)
        report = campaign_report(session, made.id)
        assert report.refused_by_reason == {"holiday": 1, "outside_hours": 1} and report.compliant


def test_four_attempts_in_thirty_days_count_across_campaigns_and_a_refusal_silences_for_sixty_days(runtime, cast):
    alice = cast.users["alice"]
    with runtime.factory() as session, session.begin():
        first = campaign(session, code="first")
        service.do_add_target(session, campaign=first, customer_id=cast.david_id, now=TUESDAY)
        other = campaign(session, code="other")
        service.do_add_target(session, campaign=other, customer_id=cast.david_id, now=TUESDAY)
    moments = [TUESDAY + timedelta(days=d) for d in (0, 1, 2)]  # Tuesday, Wednesday, Thursday
    for moment in moments:
        with runtime.factory() as session, session.begin():
            target = dialer.do_next_target(session, campaign_id=first.id, agent_id=alice, now=moment)
            attempt = dialer.do_dial(session, target_id=target.id, agent_id=alice, now=moment).attempt
            dialer.do_record_outcome(session, attempt_id=attempt.id, outcome="busy", user_id=alice,
                                     rules=runtime.routing_rules, now=moment + timedelta(minutes=1))
    friday = TUESDAY + timedelta(days=3)
    with runtime.factory() as session, session.begin():  # the fourth, in another campaign: allowed, then refused
        target = dialer.do_next_target(session, campaign_id=other.id, agent_id=alice, now=friday)
        attempt = dialer.do_dial(session, target_id=target.id, agent_id=alice, now=friday).attempt
        dialer.do_record_outcome(session, attempt_id=attempt.id, outcome="refused", user_id=alice,
                                 rules=runtime.routing_rules, now=friday + timedelta(minutes=2))
    with runtime.factory() as session, session.begin():
        first_target = session.scalar(select(CampaignTarget).where(CampaignTarget.campaign_id == first.id))
        first_target.status = TargetStatus.pending  # the first campaign would try a fourth time
        first_target.next_attempt_at = None
    ten_days = TUESDAY + timedelta(days=14)
    with runtime.factory() as session, session.begin():
        assert dialer.do_next_target(session, campaign_id=first.id, agent_id=alice, now=ten_days) is None
        refusal = session.scalar(select(CampaignAttempt).where(CampaignAttempt.placed.is_(False)))
        assert refusal.verdict_reason == "refused_recently"
        # friday 11 Dec + 60 full days → 10 Feb 2027 at midnight, a Wednesday: 10:00
        assert refusal.next_allowed_at == datetime(2027, 2, 10, 10, 0, tzinfo=PARIS).astimezone(UTC)
    with runtime.factory() as session:
        assert campaign_report(session, first.id).compliant and campaign_report(session, other.id).compliant


def test_the_report_catches_seeded_violations(runtime, cast):
    with runtime.factory() as session, session.begin():
        made = campaign(session)
        target = service.do_add_target(session, campaign=made, customer_id=cast.david_id, now=TUESDAY).target
        sunday_night = datetime(2026, 12, 13, 21, 0, tzinfo=PARIS).astimezone(UTC)
        # a call typed in by hand, outside the hours and to a listed prospect: not the dialer's verdict
        for at, opposed in ((sunday_night, False), (TUESDAY, True)):
            session.add(CampaignAttempt(campaign_id=made.id, target_id=target.id, customer_id=cast.david_id,
                                        phone=DAVID_PHONE, purpose="prospecting", timezone="Europe/Paris",
                                        consent=False, on_opposition_list=opposed, is_customer=False, placed=True,
                                        started_at=at, outcome="no_answer"))
    with runtime.factory() as session:
        report = campaign_report(session, made.id)
        by_check = {check: len(ids) for check, ids in report.violations.items()}
        assert by_check == {"legal_hours": 1, "frequency": 0, "refusal_quiet": 0, "opposition_list": 1}
        assert not report.compliant
        assert report.attempts[-1].local_time().hour == 21  # shown in the consumer's time


def test_a_progressive_campaign_against_simulated_agents_through_the_real_router(runtime, cast):
    alice, bob = cast.users["alice"], cast.users["bob"]
    with runtime.factory() as session, session.begin():
        do_save_queue(session, code="sortant", channel="voice", name_fr="Appels sortants", name_en="Outbound")
        made = campaign(session, mode="progressive", queue_code="sortant")
        for number in ("+33611000001", "+33611000002", "+33611000003"):
            service.do_add_target(session, campaign=made, phone=IdentityRef(IdentityKind.phone, number), now=TUESDAY)
    rules = runtime.routing_rules
    with runtime.factory() as session, session.begin():
        assert dialer.do_pace(session, rules=rules, campaign_id=made.id, now=TUESDAY) == []  # nobody is free
    offered = {}
    with runtime.factory() as session, session.begin():
        for agent in (alice, bob):
            routing.do_set_presence(session, rules=rules, user_id=agent, presence=Presence.available, now=TUESDAY)
        placed = dialer.do_pace(session, rules=rules, campaign_id=made.id, now=TUESDAY)
        assert len(placed) == 2  # one call per free agent, not more
        assert dialer.do_pace(session, rules=rules, campaign_id=made.id, now=TUESDAY) == []  # already waiting
    with runtime.factory() as session, session.begin():
        for offer in routing.do_dispatch(session, rules=rules, now=TUESDAY + timedelta(seconds=1)).offers:
            offered[offer.agent] = offer.item
    assert set(offered) == {alice, bob}
    for agent, item in offered.items():
        with runtime.factory() as session, session.begin():
            routing.do_accept(session, rules=rules, item_id=item, user_id=agent, now=TUESDAY + timedelta(seconds=5))
    with runtime.factory() as session, session.begin():
        attempt = dialer.current_attempt(session, campaign_id=made.id, agent_id=alice)
        assert attempt.interaction_id == offered[alice]
        dialer.do_record_outcome(session, attempt_id=attempt.id, outcome="reached", user_id=alice, rules=rules,
                                 now=TUESDAY + timedelta(minutes=3))
        assert session.get(RoutingItem, offered[alice]) is None  # the call ended: alice is free
        # and the third call was placed for her at once, waiting in the queue
        waiting = session.scalars(select(RoutingItem).where(RoutingItem.status == "waiting")).all()
        assert len(waiting) == 1
    with runtime.factory() as session, session.begin():
        offers = routing.do_dispatch(session, rules=rules, now=TUESDAY + timedelta(minutes=3, seconds=1)).offers
        assert [o.agent for o in offers] == [alice]
    with runtime.factory() as session:
        assert session.scalars(select(CampaignTarget).where(CampaignTarget.status == TargetStatus.pending)).all() == []
