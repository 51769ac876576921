"""Routing through the database (SQLite and PostgreSQL): offers, accept, ring-no-answer, decline, presence,
transfer, escalation, overflow, pull, and bad input refused with a clear error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from accueil.conversations.models import ChannelKind, Interaction, InteractionEvent, Outcome
from accueil.conversations.service import do_receive_inbound
from accueil.core.errors import Conflict, NotFound, ValidationFailed
from accueil.flows import escalation
from accueil.identity.models import Skill
from accueil.identity.service import do_set_skill
from accueil.routing import service
from accueil.routing.admin import do_save_queue
from accueil.routing.decisions import Offered, Presence
from accueil.routing.models import AgentState, PresencePeriod, RoutingItem
from tests.factories import contact

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def centre(runtime, cast):
    """tel_n1 (voice, L1, skill voice ≥ 2), tel_n2 (voice, L2); chloe N1 partner, alice N2 in-house."""
    with runtime.factory() as session, session.begin():
        for code in ("voice", "email", "lang_en"):
            session.add(Skill(code=code, kind="channel" if code != "lang_en" else "language",
                              label_fr=code, label_en=code))
        session.flush()
        skills = {s.code: s for s in session.scalars(select(Skill))}
        from accueil.identity.models import User

        users = {u.username: u for u in session.scalars(select(User))}
        do_set_skill(session, user=users["chloe"], skill=skills["voice"], level=3)
        do_set_skill(session, user=users["alice"], skill=skills["voice"], level=5)
        do_set_skill(session, user=users["alice"], skill=skills["email"], level=4)
        do_save_queue(session, code="tel_n1", skills={"voice": 2}, ring_timeout_seconds=20)
        do_save_queue(session, code="tel_n2", channel="voice", name_fr="Téléphone N2", name_en="Phone L2",
                      level=2, skills={"voice": 1})
    return cast


def call(runtime, now: datetime, *, queue: str = "tel_n1", email: str = "david.martin@example.fr", **extra) -> str:
    with runtime.factory() as session, session.begin():
        result = do_receive_inbound(session, contact=contact(ChannelKind.voice, email=email, queue_code=queue,
                                                             body_text="(appel)", **extra),
                                    config=runtime.conversation_config, now=now)
    return result.interaction_id


def run(runtime, fn, **kwargs):
    with runtime.factory() as session, session.begin():
        return fn(session, rules=runtime.routing_rules, **kwargs)


def events_of(runtime, interaction_id: str) -> list[str]:
    with runtime.factory() as session:
        return list(session.scalars(select(InteractionEvent.kind).where(
            InteractionEvent.interaction_id == interaction_id).order_by(InteractionEvent.at, InteractionEvent.id)))


def item_row(runtime, interaction_id: str) -> RoutingItem | None:
    with runtime.factory() as session:
        return session.get(RoutingItem, interaction_id)


def test_call_offered_accepted_and_ended_with_every_timestamp(runtime, centre):
    chloe = centre.users["chloe"]
    item = call(runtime, at(0))
    assert item_row(runtime, item).status == "waiting"
    result = run(runtime, service.do_set_presence, user_id=chloe, presence=Presence.available, now=at(5))
    assert [(o.item, o.agent) for o in result.offers] == [(item, chloe)]
    assert result.offers[0].expires_at == at(25).timestamp()
    assert item_row(runtime, item).status == "offered"
    run(runtime, service.do_accept, item_id=item, user_id=chloe, now=at(9))
    run(runtime, service.do_end, item_id=item, wrapup=True, user_id=chloe, now=at(200))
    assert item_row(runtime, item).status == "wrapup"
    run(runtime, service.do_end_wrapup, item_id=item, user_id=chloe, now=at(230))
    assert item_row(runtime, item) is None
    assert events_of(runtime, item) == ["arrived", "queued", "offered", "answered", "ended", "wrapup_ended"]
    with runtime.factory() as session:
        interaction = session.get(Interaction, item)
        assert (interaction.agent_id, interaction.outcome) == (chloe, Outcome.handled)
        assert interaction.offered_at == at(5) and interaction.answered_at == at(9)
        assert interaction.ended_at == at(200) and interaction.wrapup_ended_at == at(230)
        periods = session.scalars(select(PresencePeriod).where(PresencePeriod.user_id == chloe)).all()
        assert [(p.presence, p.ended_at) for p in periods] == [("available", None)]
    assert "routing.offered" in runtime.bus.names()


def test_ring_no_answer_requeues_pauses_and_offers_to_the_next_agent(runtime, centre):
    chloe, alice = centre.users["chloe"], centre.users["alice"]
    run(runtime, service.do_set_presence, user_id=chloe, presence=Presence.available, now=at(0))
    item = call(runtime, at(1))
    first = run(runtime, service.do_dispatch, now=at(1))
    assert [o.agent for o in first.offers] == [chloe]
    run(runtime, service.do_set_presence, user_id=alice, presence=Presence.available, now=at(2))
    assert item_row(runtime, item).agent_id == chloe  # alice is free but the offer stands
    second = run(runtime, service.do_dispatch, now=at(22))
    assert [o.agent for o in second.offers] == [alice]
    with runtime.factory() as session:
        state = session.get(AgentState, chloe)
        assert (state.presence, state.reason) == ("paused", "no_answer")
    assert events_of(runtime, item)[-2:] == ["requeued", "offered"]


def test_decline_goes_to_someone_else_never_back(runtime, centre):
    chloe, alice = centre.users["chloe"], centre.users["alice"]
    item = call(runtime, at(0))
    run(runtime, service.do_set_presence, user_id=chloe, presence=Presence.available, now=at(1))
    result = run(runtime, service.do_decline, item_id=item, user_id=chloe, now=at(3))
    assert result.offers == []
    assert item_row(runtime, item).declined_by == [chloe]
    assert run(runtime, service.do_dispatch, now=at(4)).offers == []
    offers = run(runtime, service.do_set_presence, user_id=alice, presence=Presence.available, now=at(5)).offers
    assert [o.agent for o in offers] == [alice]


def test_stale_accept_is_refused_and_changes_nothing(runtime, centre):
    chloe, alice = centre.users["chloe"], centre.users["alice"]
    item = call(runtime, at(0))
    run(runtime, service.do_set_presence, user_id=chloe, presence=Presence.available, now=at(1))
    with pytest.raises(Conflict) as refused:
        run(runtime, service.do_accept, item_id=item, user_id=alice, now=at(2))
    assert refused.value.code == "stale_decision"
    run(runtime, service.do_accept, item_id=item, user_id=chloe, now=at(3))
    with pytest.raises(Conflict):
        run(runtime, service.do_accept, item_id=item, user_id=chloe, now=at(4))  # already accepted
    assert item_row(runtime, item).status == "active"
    with pytest.raises(NotFound):
        run(runtime, service.do_accept, item_id="nope", user_id=chloe, now=at(5))


def test_offline_agent_has_everything_requeued(runtime, centre):
    chloe, alice = centre.users["chloe"], centre.users["alice"]
    item = call(runtime, at(0))
    run(runtime, service.do_set_presence, user_id=chloe, presence=Presence.available, now=at(1))
    run(runtime, service.do_accept, item_id=item, user_id=chloe, now=at(2))
    run(runtime, service.do_set_presence, user_id=alice, presence=Presence.available, now=at(3))
    result = run(runtime, service.do_set_presence, user_id=chloe, presence=Presence.offline, now=at(4))
    assert [(o.item, o.agent) for o in result.offers] == [(item, alice)]
    assert "requeued" in events_of(runtime, item)


def test_pause_withdraws_offers_but_keeps_accepted_work(runtime, centre):
    chloe = centre.users["chloe"]
    first, second = call(runtime, at(0)), call(runtime, at(1), email="eve@example.fr")
    run(runtime, service.do_set_presence, user_id=chloe, presence=Presence.available, now=at(2))
    run(runtime, service.do_accept, item_id=first, user_id=chloe, now=at(3))
    run(runtime, service.do_end, item_id=first, user_id=chloe, now=at(60))
    assert item_row(runtime, second).agent_id == chloe  # offered once the first call ended
    run(runtime, service.do_set_presence, user_id=chloe, presence=Presence.paused, reason="lunch", now=at(61))
    assert item_row(runtime, second).status == "waiting"


def test_transfer_to_agent_waits_for_that_agent_only(runtime, centre):
    chloe, alice = centre.users["chloe"], centre.users["alice"]
    item = call(runtime, at(0))
    run(runtime, service.do_set_presence, user_id=chloe, presence=Presence.available, now=at(1))
    run(runtime, service.do_accept, item_id=item, user_id=chloe, now=at(2))
    result = run(runtime, service.do_transfer, item_id=item, to_agent_id=alice, actor_id=chloe, now=at(30))
    assert result.offers == []  # alice is offline: the call waits for her, not for chloe
    assert item_row(runtime, item).pinned_agent_id == alice
    assert run(runtime, service.do_dispatch, now=at(31)).offers == []
    offers = run(runtime, service.do_set_presence, user_id=alice, presence=Presence.available, now=at(40)).offers
    assert [(o.item, o.agent) for o in offers] == [(item, alice)]
    assert "transferred" in events_of(runtime, item)


def test_escalate_moves_the_call_up_a_level_and_the_case_with_it(runtime, centre):
    chloe, alice = centre.users["chloe"], centre.users["alice"]
    item = call(runtime, at(0))
    run(runtime, service.do_set_presence, user_id=chloe, presence=Presence.available, now=at(1))
    run(runtime, service.do_accept, item_id=item, user_id=chloe, now=at(2))
    tel_n1 = item_row(runtime, item).queue_id
    from accueil.routing.admin import access_queue

    with runtime.factory() as session:
        tel_n2 = access_queue(session, "tel_n2").id
    with pytest.raises(ValidationFailed):
        run(runtime, escalation.escalate, item_id=item, to_queue_id=tel_n1, now=at(3))  # not above level 1
    run(runtime, service.do_set_presence, user_id=alice, presence=Presence.available, now=at(4))
    result = run(runtime, escalation.escalate, item_id=item, to_queue_id=tel_n2, actor_id=chloe, now=at(5))
    assert [o.agent for o in result.offers] == [alice]
    with runtime.factory() as session:
        interaction = session.get(Interaction, item)
        assert interaction.case.level == 2 and interaction.queue_id == tel_n2


def test_overflow_opens_the_in_house_site_after_the_configured_wait(runtime, centre):
    alice = centre.users["alice"]
    with runtime.factory() as session, session.begin():
        do_save_queue(session, code="tel_n1", sites=["partenaire"],
                      overflow=[{"after_seconds": 30, "add_sites": ["siege"]}])
    run(runtime, service.do_set_presence, user_id=alice, presence=Presence.available, now=at(0))
    item = call(runtime, at(1))
    waiting = run(runtime, service.do_dispatch, now=at(2))
    assert waiting.offers == [] and waiting.next_due == at(31)
    assert run(runtime, service.do_dispatch, now=at(30)).offers == []
    result = run(runtime, service.do_dispatch, now=at(31))
    assert [(o.item, o.agent, o.at) for o in result.offers] == [(item, alice, at(31).timestamp())]
    assert item_row(runtime, item).stage == 1
    assert events_of(runtime, item)[-2:] == ["overflowed", "offered"]


def test_language_contacts_need_the_language_skill(runtime, centre):
    chloe, alice = centre.users["chloe"], centre.users["alice"]
    item = call(runtime, at(0), language="en")
    assert item_row(runtime, item).skills == [["lang_en", 1]]
    assert run(runtime, service.do_set_presence, user_id=chloe, presence=Presence.available, now=at(1)).offers == []
    with runtime.factory() as session, session.begin():
        from accueil.identity.models import User

        do_set_skill(session, user=session.get(User, alice), skill=session.scalar(
            select(Skill).where(Skill.code == "lang_en")), level=3)
    offers = run(runtime, service.do_set_presence, user_id=alice, presence=Presence.available, now=at(2)).offers
    assert [o.agent for o in offers] == [alice]


def test_pull_queue_waits_for_next_item(runtime, centre):
    alice = centre.users["alice"]
    with runtime.factory() as session, session.begin():
        do_save_queue(session, code="email_n2", delivery="pull", skills={"email": 1})
    with runtime.factory() as session, session.begin():
        mail = do_receive_inbound(session, contact=contact(queue_code="email_n2"), config=runtime.conversation_config,
                                  now=at(0)).interaction_id
    assert run(runtime, service.do_set_presence, user_id=alice, presence=Presence.available, now=at(1)).offers == []
    offer = run(runtime, service.do_next_item, user_id=alice, now=at(2))
    assert isinstance(offer, Offered) and offer.item == mail and offer.expires_at is None
    assert item_row(runtime, mail).status == "active"
    assert run(runtime, service.do_next_item, user_id=alice, now=at(3)) is None


def test_predicted_wait_from_live_state(runtime, centre):
    chloe = centre.users["chloe"]
    with runtime.factory() as session:
        queue_id = _queue_id(session, "tel_n1")
        assert service.predicted_wait(session, rules=runtime.routing_rules, queue_id=queue_id, now=at(0)) == float("inf")
    run(runtime, service.do_set_presence, user_id=chloe, presence=Presence.available, now=at(0))
    with runtime.factory() as session:
        assert service.predicted_wait(session, rules=runtime.routing_rules, queue_id=queue_id, now=at(1)) == 0.0
    call(runtime, at(2))
    call(runtime, at(3), email="eve@example.fr")
    run(runtime, service.do_dispatch, now=at(4))
    with runtime.factory() as session:
        # one call ringing at chloe, one waiting: the next caller waits for two handle times of 300 s
        assert service.predicted_wait(session, rules=runtime.routing_rules, queue_id=queue_id, now=at(5)) == 600.0


def _queue_id(session, code: str) -> str:
    from accueil.routing.admin import access_queue

    return access_queue(session, code).id


@pytest.mark.parametrize(("changes", "code"), [
    ({"skills": {"nope": 2}}, "unknown_skill"),
    ({"sites": ["atlantis"]}, "unknown_site"),
    ({"overflow": [{"after_seconds": 60, "any_skill": True}, {"after_seconds": 30, "min_skill_level": 1}]},
     "validation_error"),
    ({"overflow": [{"after_seconds": 10, "to_queue": "email_n2"}]}, "validation_error"),
    ({"overflow": [{"after_seconds": 10}]}, "validation_error"),
    ({"selection": "random"}, "validation_error"),
    ({"opening_hours": {"mon": [["18:00", "08:00"]]}}, "validation_error"),
    ({"delivery": "pull"}, "validation_error"),
    ({"overflow": [{"after_seconds": 0, "to_queue": "tel_n2"}]}, "validation_error"),  # tel_n2 comes straight back
])
def test_bad_queue_rules_are_refused_and_change_nothing(runtime, centre, changes, code):
    with runtime.factory() as session, session.begin():
        do_save_queue(session, code="tel_n2", overflow=[{"after_seconds": 0, "to_queue": "tel_n1"}])
    with pytest.raises(ValidationFailed) as refused, runtime.factory() as session, session.begin():
        do_save_queue(session, code="tel_n1", **changes)
    assert refused.value.code == code
    with runtime.factory() as session:
        from accueil.routing.admin import access_queue, queue_skills

        queue = access_queue(session, "tel_n1")
        assert (queue.overflow, queue.sites, queue.selection, queue.delivery) == ([], None, "best_skill", "push")
        assert queue_skills(session, queue.id) == {"voice": 2}


def test_work_ended_outside_routing_leaves_the_queue_and_frees_the_agent(runtime, centre):
    from accueil.conversations.service import do_record_interaction_event, do_resolve_case

    chloe = centre.users["chloe"]
    first = call(runtime, at(0))
    abandoned = call(runtime, at(1), email="eve@example.fr")
    run(runtime, service.do_set_presence, user_id=chloe, presence=Presence.available, now=at(2))
    run(runtime, service.do_accept, item_id=first, user_id=chloe, now=at(3))
    with runtime.factory() as session, session.begin():  # a CTI hang-up before anyone answered
        do_record_interaction_event(session, interaction_id=abandoned, kind="ended", at=at(20))
    assert item_row(runtime, abandoned) is None
    with runtime.factory() as session, session.begin():
        do_resolve_case(session, case_id=session.get(Interaction, first).case_id, resolution_code="info",
                        actor_id=chloe, now=at(60))
    assert item_row(runtime, first) is None
    third = call(runtime, at(61), email="zoe@example.fr")
    assert [o.item for o in run(runtime, service.do_dispatch, now=at(62)).offers] == [third]


def test_closed_queue_overflows_rejects_or_waits_at_arrival(runtime, centre):
    from accueil.routing.admin import access_queue

    sunday_night = datetime(2026, 11, 22, 22, 0, tzinfo=UTC)  # 23:00 in Paris, a Sunday
    week = {day: [["08:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
    with runtime.factory() as session, session.begin():
        do_save_queue(session, code="tel_n1", opening_hours=week, closed_behaviour="overflow", closed_queue="tel_n2")
    moved = call(runtime, sunday_night)
    with runtime.factory() as session:
        assert item_row(runtime, moved).queue_id == access_queue(session, "tel_n2").id
    with runtime.factory() as session, session.begin():
        do_save_queue(session, code="tel_n1", closed_behaviour="callback")
    with runtime.factory() as session, session.begin():
        result = do_receive_inbound(session, contact=contact(ChannelKind.voice, email="eve@example.fr",
                                                             queue_code="tel_n1", body_text="(appel)"),
                                    config=runtime.conversation_config, now=sunday_night)
    assert result.queue_closed == "callback" and item_row(runtime, result.interaction_id) is None
    assert "closed" in events_of(runtime, result.interaction_id)
    monday_morning = call(runtime, datetime(2026, 11, 23, 9, 0, tzinfo=UTC), email="zoe@example.fr")
    assert item_row(runtime, monday_morning).status == "waiting"


def test_dispatcher_thread_offers_work_when_woken_and_when_a_timer_falls_due(runtime, centre):
    import time as wall

    from accueil.routing.service import Dispatcher

    chloe, alice = centre.users["chloe"], centre.users["alice"]
    with runtime.factory() as session, session.begin():
        do_save_queue(session, code="tel_n1", sites=["partenaire"],
                      overflow=[{"after_seconds": 1, "add_sites": ["siege"]}])
    run(runtime, service.do_set_presence, user_id=alice, presence=Presence.available, now=datetime.now(UTC))
    dispatcher = Dispatcher(runtime.factory, runtime.routing_rules, poll_seconds=30).start()
    unsubscribe = runtime.bus.subscribe(dispatcher.wake, prefix="interaction.arrived")
    try:
        item = call(runtime, datetime.now(UTC))  # only the partner may take it for a second: nobody yet
        deadline = wall.monotonic() + 10
        while item_row(runtime, item).agent_id is None and wall.monotonic() < deadline:
            wall.sleep(0.05)
        assert item_row(runtime, item).agent_id == alice  # the overflow timer woke the dispatcher, not a poll
        assert item_row(runtime, item).stage == 1
    finally:
        unsubscribe()
        dispatcher.stop()
    assert dispatcher.passes >= 2 and chloe


def test_an_agent_over_capacity_in_one_media_still_gets_offers_in_another(runtime, centre):
    """Lowering an agent's e-mail capacity below what they hold must not stop their calls (nor block others)."""
    alice = centre.users["alice"]
    run(runtime, service.do_set_presence, user_id=alice, presence=Presence.available, now=at(0))
    mails = []
    for n in range(3):
        with runtime.factory() as session, session.begin():
            mails.append(do_receive_inbound(session, contact=contact(ChannelKind.email, email=f"m{n}@example.fr",
                                                                     queue_code="email_n2"),
                                            config=runtime.conversation_config, now=at(1 + n)).interaction_id)
        run(runtime, service.do_dispatch, now=at(1 + n))
    assert {item_row(runtime, m).agent_id for m in mails} == {alice}
    with runtime.factory() as session, session.begin():
        service.do_set_capacity(session, rules=runtime.routing_rules, user_id=alice, capacity={"email": 1})
    item = call(runtime, at(10))
    result = run(runtime, service.do_dispatch, now=at(11))
    assert [(o.item, o.agent) for o in result.offers] == [(item, alice)]
