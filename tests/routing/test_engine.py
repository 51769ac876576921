"""The routing engine on hand-written cases: who gets what, when, and what each input decides.

Pure: no database, no clock. Times are seconds; opening hours use real timestamps in Europe/Paris.
"""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from accueil.routing.decisions import (
    AgentPaused,
    CallbackOffered,
    Escalated,
    ItemState,
    Offered,
    Overflowed,
    Presence,
    Refused,
    Requeued,
    RoutingError,
    StaleDecision,
    UnknownAgent,
    UnknownItem,
    UnknownQueue,
    WorkItem,
)
from accueil.routing.engine import RoutingEngine
from accueil.routing.rules import (
    AgentProfile,
    AgentSelection,
    ClosedBehaviour,
    Delivery,
    OpeningHours,
    OverflowStep,
    QueueRules,
    RoutingConfig,
    RoutingRuleError,
    SkillRequirement,
)

PARIS = ZoneInfo("Europe/Paris")
VOICE = {"voice": 1}
CHAT = {"chat": 3}


def engine_for(
    queues: list[QueueRules], agents: list[AgentProfile], available: tuple[str, ...] = ()
) -> RoutingEngine:
    """An engine with these agents logged in, in this order (the first has waited longest)."""
    engine = RoutingEngine(RoutingConfig(queues, agents))
    for agent_id in available:
        assert engine.set_presence(agent_id, Presence.available, 0.0) == []
    return engine


def arrive(engine: RoutingEngine, item_id: str, queue: str, now: float, **fields) -> list:
    return engine.item_arrived(WorkItem(item_id, queue, now, **fields), now)


def offered_to(decisions: list) -> dict[str, str]:
    return {d.item: d.agent for d in decisions if isinstance(d, Offered)}


def state(engine: RoutingEngine) -> tuple:
    """Everything observable: item states and queues, waiting lists, loads and presences."""
    return (
        {i: (engine.item_state(i), engine.queue_of(i), engine.stage_of(i)) for i in engine.items},
        {q: engine.waiting_items(q) for q in engine.config.queues},
        {a: (engine.load_of(a), engine.agents[a].presence) for a in engine.agents},
    )


# Choosing the agent ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("crowd", "generalist"),
    [(0, True), (10, False), (10, True)],  # few or many free agents: the engine searches differently
)
def test_best_skill_then_longest_idle(crowd, generalist):
    billing = QueueRules("billing", "voice", skills=(SkillRequirement("billing"),))
    agents = [
        AgentProfile("low", {"billing": 2}, capacity=VOICE),
        AgentProfile("high1", {"billing": 4}, capacity=VOICE),
        AgentProfile("high2", {"billing": 4}, capacity=VOICE),
        *(AgentProfile(f"crowd{i}", {"billing": 1}, capacity=VOICE) for i in range(crowd)),
        *([AgentProfile("generalist", {}, capacity=VOICE)] if generalist else []),
    ]
    crowd_ids = tuple(f"crowd{i}" for i in range(crowd))
    # the crowd (level 1) has waited longest, then low, then high2 before high1
    ready = (*crowd_ids, "low", "high2", "high1", *(("generalist",) if generalist else ()))
    engine = engine_for([billing], agents, ready)

    assert arrive(engine, "c1", "billing", 1) == [Offered("c1", "high2", "billing", 1, 21.0)]
    assert offered_to(arrive(engine, "c2", "billing", 2)) == {"c2": "high1"}
    assert offered_to(arrive(engine, "c3", "billing", 3)) == {"c3": "low"}
    if crowd:
        assert offered_to(arrive(engine, "c4", "billing", 4)) == {"c4": "crowd0"}
    # high2 finishes first, then high1: high2 has now waited longest among the best
    engine.accept("c1", "high2", 5)
    engine.accept("c2", "high1", 5)
    assert engine.end("c1", 10) == []
    assert engine.end("c2", 11) == []
    assert offered_to(arrive(engine, "c5", "billing", 12)) == {"c5": "high2"}


def test_best_skill_respects_the_items_own_skills():
    queue = QueueRules("billing", "voice", skills=(SkillRequirement("billing"),))
    agents = [
        AgentProfile("expert", {"billing": 5}, capacity=VOICE),
        AgentProfile("english", {"billing": 2, "english": 3}, capacity=VOICE),
    ]
    engine = engine_for([queue], agents, ("expert", "english"))
    out = arrive(engine, "c1", "billing", 1, skills=(SkillRequirement("english", 2),))
    assert offered_to(out) == {"c1": "english"}
    assert offered_to(arrive(engine, "c2", "billing", 2, skills=(SkillRequirement("german"),))) == {}
    assert engine.waiting_items("billing") == ["c2"]


def test_longest_idle_ignores_skill_levels():
    queue = QueueRules(
        "billing", "voice", skills=(SkillRequirement("billing"),), selection=AgentSelection.longest_idle
    )
    agents = [
        AgentProfile("novice", {"billing": 1}, capacity=VOICE),
        AgentProfile("expert", {"billing": 5}, capacity=VOICE),
    ]
    engine = engine_for([queue], agents, ("novice", "expert"))
    assert offered_to(arrive(engine, "c1", "billing", 1)) == {"c1": "novice"}
    assert offered_to(arrive(engine, "c2", "billing", 2)) == {"c2": "expert"}
    engine.accept("c1", "novice", 3)
    engine.accept("c2", "expert", 3)
    engine.end("c2", 10)  # the expert is idle since 10, the novice since 20
    engine.end("c1", 20)
    assert offered_to(arrive(engine, "c3", "billing", 30)) == {"c3": "expert"}


# Offers, ring timeouts, declines -----------------------------------------------------------------------


def test_ring_no_answer_requeues_the_item_at_its_place_and_pauses_the_agent():
    queue = QueueRules("q", "voice", ring_timeout_seconds=10)
    engine = engine_for(
        [queue], [AgentProfile("a", capacity=VOICE), AgentProfile("b", capacity=VOICE)], ("a",)
    )
    assert arrive(engine, "c1", "q", 0) == [Offered("c1", "a", "q", 0, 10)]
    arrive(engine, "c2", "q", 1)
    arrive(engine, "c3", "q", 2)
    assert engine.advance(9.5) == []
    assert engine.advance(10) == [
        Requeued("c1", "a", "q", "no_answer", 10),
        AgentPaused("a", "no_answer", 10),
    ]
    assert engine.waiting_items("q") == ["c1", "c2", "c3"]  # first in line again, not last
    assert engine.item_state("c1") == (ItemState.waiting, None)
    assert engine.agents["a"].presence is Presence.paused
    assert not engine.may_take("a", "c1")
    assert engine.set_presence("b", Presence.available, 11) == [Offered("c1", "b", "q", 11, 21)]


def test_an_accepted_offer_does_not_time_out():
    engine = engine_for([QueueRules("q", "voice", ring_timeout_seconds=10)], [AgentProfile("a")], ("a",))
    arrive(engine, "c1", "q", 0)
    engine.accept("c1", "a", 3)
    assert engine.advance(100) == []
    assert engine.item_state("c1") == (ItemState.active, "a")
    with pytest.raises(StaleDecision):
        engine.accept("c1", "a", 101)


def test_decline_never_reoffers_to_the_decliner():
    queue = QueueRules("q", "voice")
    engine = engine_for(
        [queue], [AgentProfile("a", capacity=VOICE), AgentProfile("b", capacity=VOICE)], ("a",)
    )
    arrive(engine, "c1", "q", 0)
    assert engine.decline("c1", "a", 1) == [Requeued("c1", "a", "q", "declined", 1)]
    assert engine.waiting_items("q") == ["c1"]
    assert not engine.may_take("a", "c1")
    # the decliner takes other work, and is not offered c1 when free again
    assert offered_to(arrive(engine, "c2", "q", 2)) == {"c2": "a"}
    engine.accept("c2", "a", 3)
    assert engine.end("c2", 4) == []
    assert engine.set_presence("a", Presence.paused, 5) == []
    assert engine.set_presence("a", Presence.available, 6) == []
    assert engine.set_presence("b", Presence.available, 7) == [Offered("c1", "b", "q", 7, 27.0)]
    assert engine.decline("c1", "b", 8) == [Requeued("c1", "b", "q", "declined", 8)]
    assert engine.waiting_items("q") == ["c1"]
    with pytest.raises(StaleDecision):
        engine.decline("c1", "b", 9)


# Presence ------------------------------------------------------------------------------------------------


def test_agent_offline_requeues_all_their_items():
    chat = QueueRules("chat", "chat", ring_timeout_seconds=30)
    agents = [AgentProfile("a", capacity=CHAT), AgentProfile("b", capacity=CHAT)]
    engine = engine_for([chat], agents, ("a",))
    for n in (1, 2, 3):
        assert offered_to(arrive(engine, f"m{n}", "chat", n)) == {f"m{n}": "a"}
    engine.accept("m2", "a", 4)
    engine.accept("m3", "a", 4)
    engine.end("m3", 5, wrapup=True)  # m1 ringing, m2 active, m3 in wrap-up
    assert engine.set_presence("a", Presence.offline, 6) == [
        Requeued("m1", "a", "chat", "agent_offline", 6),
        Requeued("m2", "a", "chat", "agent_offline", 6),
    ]
    assert engine.waiting_items("chat") == ["m1", "m2"]
    assert engine.item_state("m3") is None  # the wrap-up ends with the session
    assert engine.load_of("a") == {}
    assert offered_to(engine.set_presence("b", Presence.available, 7)) == {"m1": "b", "m2": "b"}


def test_pause_withdraws_offers_but_keeps_accepted_work():
    chat = QueueRules("chat", "chat", ring_timeout_seconds=30)
    engine = engine_for([chat], [AgentProfile("a", capacity=CHAT)], ("a",))
    arrive(engine, "m1", "chat", 1)
    arrive(engine, "m2", "chat", 2)
    engine.accept("m1", "a", 3)
    assert engine.set_presence("a", Presence.paused, 4, reason="lunch") == [
        Requeued("m2", "a", "chat", "agent_paused", 4)
    ]
    assert engine.item_state("m1") == (ItemState.active, "a")
    assert arrive(engine, "m3", "chat", 5) == []
    assert engine.advance(100) == []  # the withdrawn offer's timer is void
    assert offered_to(engine.set_presence("a", Presence.available, 101)) == {"m2": "a", "m3": "a"}


# Capacity and blocking ---------------------------------------------------------------------------------------


def test_voice_blocks_chat_and_chat_capacity_is_three():
    queues = [QueueRules("tel", "voice"), QueueRules("chat", "chat")]
    engine = engine_for(queues, [AgentProfile("a")], ("a",))  # default capacities: voice 1, chat 3
    assert offered_to(arrive(engine, "call1", "tel", 1)) == {"call1": "a"}
    engine.accept("call1", "a", 2)
    assert arrive(engine, "m1", "chat", 3) == []
    assert not engine.may_take("a", "m1")
    assert offered_to(engine.end("call1", 4)) == {"m1": "a"}
    assert offered_to(arrive(engine, "m2", "chat", 5)) == {"m2": "a"}
    assert offered_to(arrive(engine, "m3", "chat", 6)) == {"m3": "a"}
    assert arrive(engine, "m4", "chat", 7) == []  # three chats: full
    assert arrive(engine, "call2", "tel", 8) == []  # chats block calls
    assert engine.load_of("a") == {"chat": 3}
    assert offered_to(engine.end("m1", 9)) == {"m4": "a"}
    for chat in ("m2", "m3"):
        assert engine.end(chat, 10) == []
    assert offered_to(engine.end("m4", 11)) == {"call2": "a"}


def test_async_push_fills_a_capacity_of_ten_without_ringing():
    engine = engine_for([QueueRules("mail", "email")], [AgentProfile("a", capacity={"email": 10})], ("a",))
    for n in range(12):
        out = arrive(engine, f"e{n:02d}", "mail", n)
        assert out == ([Offered(f"e{n:02d}", "a", "mail", n, None)] if n < 10 else [])
    assert engine.item_state("e00") == (ItemState.active, "a")  # pushed work needs no accept
    assert engine.waiting_items("mail") == ["e10", "e11"]
    assert engine.end("e03", 20) == [Offered("e10", "a", "mail", 20, None)]


def test_pull_queue_waits_for_next_item():
    queues = [
        QueueRules("mail", "email", delivery=Delivery.pull),
        QueueRules("vip", "email", priority=2, delivery=Delivery.pull),
    ]
    engine = engine_for(queues, [AgentProfile("a", capacity={"email": 10}), AgentProfile("b")], ("a",))
    assert arrive(engine, "e1", "mail", 1) == []  # nobody is pushed pull work, even when free
    assert arrive(engine, "e2", "vip", 2) == []
    assert engine.next_item("a", 3) == Offered("e2", "a", "vip", 3, None)  # priority first
    assert engine.next_item("a", 4) == Offered("e1", "a", "mail", 4, None)
    assert engine.item_state("e1") == (ItemState.active, "a")
    assert engine.waiting_items("mail") == []  # taken out of its queue: nobody else can pull it
    assert engine.next_item("a", 5) is None
    with pytest.raises(RoutingError):
        engine.next_item("b", 6)  # not available
    assert engine.end("e1", 7) == [] and engine.next_item("a", 8) is None


def test_pull_work_does_not_ring_even_on_synchronous_queues():
    engine = engine_for([QueueRules("q", "voice", delivery=Delivery.pull)], [AgentProfile("a")], ("a",))
    arrive(engine, "c1", "q", 0)
    assert engine.next_item("a", 1) == Offered("c1", "a", "q", 1, None)


# Transfer and escalation -----------------------------------------------------------------------------


def test_transfer_to_an_agent_waits_for_that_agent_only():
    queue = QueueRules("q", "voice", overflow=(OverflowStep(10, any_skill=True),))
    agents = [AgentProfile(n, capacity=VOICE) for n in ("a", "b", "c")]
    engine = engine_for([queue], agents, ("a", "c"))
    arrive(engine, "c1", "q", 0)  # -> a
    arrive(engine, "c2", "q", 1)  # -> c
    engine.accept("c1", "a", 2)
    engine.accept("c2", "c", 2)
    engine.set_presence("b", Presence.available, 3)
    assert engine.transfer("c1", 4, to_agent="c") == [Requeued("c1", "a", "q", "transferred", 4)]
    assert engine.waiting_items("q") == ["c1"]
    assert not engine.may_take("b", "c1") and not engine.may_take("a", "c1")
    assert engine.advance(1000) == []  # a pinned item does not overflow
    assert engine.end("c2", 1001) == [Offered("c1", "c", "q", 1001, 1021.0)]


def test_an_agent_who_declines_a_transfer_sends_it_back_to_its_queue():
    queue = QueueRules("q", "voice")
    engine = engine_for([queue], [AgentProfile(n, capacity=VOICE) for n in ("a", "b", "c")], ("a", "b"))
    arrive(engine, "c1", "q", 0)  # -> a
    engine.accept("c1", "a", 1)
    assert engine.transfer("c1", 2, to_agent="b") == [
        Requeued("c1", "a", "q", "transferred", 2),
        Offered("c1", "b", "q", 2, 22.0),
    ]
    # b refuses: the item is for anyone in its queue again, except b (and a, who passed it on)
    assert engine.decline("c1", "b", 3) == [Requeued("c1", "b", "q", "declined", 3)]
    assert engine.set_presence("c", Presence.available, 4) == [Offered("c1", "c", "q", 4, 24.0)]


def test_transfer_to_a_queue_restarts_the_clock_there():
    sales = QueueRules("sales", "voice", skills=(SkillRequirement("sales"),))
    billing = QueueRules(
        "billing",
        "voice",
        skills=(SkillRequirement("billing"),),
        overflow=(OverflowStep(30, any_skill=True),),
    )
    agents = [
        AgentProfile("s", {"sales": 3}, capacity=VOICE),
        AgentProfile("b", {"billing": 3}, capacity=VOICE),
    ]
    engine = engine_for([sales, billing], agents, ("s",))
    arrive(engine, "c1", "sales", 0)
    engine.accept("c1", "s", 1)
    assert engine.transfer("c1", 100, to_queue="billing") == [
        Requeued("c1", "s", "sales", "transferred", 100)
    ]
    assert engine.queue_of("c1") == "billing" and engine.waiting_items("billing") == ["c1"]
    assert engine.advance(129) == []
    # due 30 s after the transfer, not after the arrival; a new stage forgets who passed it on
    assert engine.advance(130) == [
        Overflowed("c1", "billing", "billing", 1, 130),
        Offered("c1", "s", "billing", 130, 150.0),
    ]


def test_work_passed_on_is_not_offered_straight_back():
    queues = [QueueRules("q1", "voice"), QueueRules("q2", "voice")]
    engine = engine_for(
        queues, [AgentProfile("a", capacity=VOICE), AgentProfile("b", capacity=VOICE)], ("a",)
    )
    arrive(engine, "c1", "q1", 0)
    engine.accept("c1", "a", 1)
    arrive(engine, "c2", "q1", 2, priority=3)  # waits: a is busy
    # a passes c1 on and is free: a gets the waiting priority call, c1 waits for someone else
    assert engine.transfer("c1", 3, to_queue="q2") == [
        Requeued("c1", "a", "q1", "transferred", 3),
        Offered("c2", "a", "q1", 3, 23.0),
    ]
    assert engine.set_presence("b", Presence.available, 4) == [Offered("c1", "b", "q2", 4, 24.0)]


def test_transfer_refuses_bad_targets():
    queues = [QueueRules("q", "voice"), QueueRules("mail", "email")]
    engine = engine_for(
        queues, [AgentProfile("a", capacity=VOICE), AgentProfile("m", capacity={"email": 5})], ("a",)
    )
    arrive(engine, "c1", "q", 0)
    before = state(engine)
    with pytest.raises(RoutingError):
        engine.transfer("c1", 1, to_queue="mail")  # another media
    with pytest.raises(RoutingError):
        engine.transfer("c1", 1, to_agent="m")  # takes no calls
    with pytest.raises(RoutingError):
        engine.transfer("c1", 1)
    with pytest.raises(RoutingError):
        engine.transfer("c1", 1, to_queue="q", to_agent="a")
    with pytest.raises(UnknownQueue):
        engine.transfer("c1", 1, to_queue="nowhere")
    with pytest.raises(UnknownAgent):
        engine.transfer("c1", 1, to_agent="nobody")
    assert state(engine) == before


def test_escalate_to_a_higher_level_queue():
    l1 = QueueRules("l1", "voice", level=1)
    l2 = QueueRules("l2", "voice", level=2)
    agents = [AgentProfile("n1", level=1, capacity=VOICE), AgentProfile("n2", level=2, capacity=VOICE)]
    engine = engine_for([l1, l2], agents, ("n1",))
    arrive(engine, "c1", "l1", 0)
    engine.accept("c1", "n1", 1)
    with pytest.raises(RoutingError):
        engine.escalate("c1", "l1", 2)  # not above level 1
    engine.set_presence("n2", Presence.available, 3)
    assert engine.escalate("c1", "l2", 4) == [
        Escalated("c1", "l1", "l2", 2, 4),
        Requeued("c1", "n1", "l1", "transferred", 4),
        Offered("c1", "n2", "l2", 4, 24.0),
    ]
    engine.accept("c1", "n2", 5)
    with pytest.raises(RoutingError):
        engine.escalate("c1", "l2", 6)  # already at level 2
    # a transfer takes the level of its new queue: back at level 1, n1 may take it again
    assert engine.transfer("c1", 7, to_queue="l1") == [
        Requeued("c1", "n2", "l2", "transferred", 7),
        Offered("c1", "n1", "l1", 7, 27.0),
    ]


# Overflow -------------------------------------------------------------------------------------------------


def test_overflow_steps_relax_the_rules_at_their_time():
    queue = QueueRules(
        "q",
        "voice",
        skills=(SkillRequirement("billing", 4),),
        sites=frozenset({"paris"}),
        overflow=(
            OverflowStep(10, min_skill_level=2),
            OverflowStep(20, add_sites=frozenset({"lyon"})),
            OverflowStep(30, any_skill=True),
            OverflowStep(40, to_queue="backup"),
        ),
    )
    backup = QueueRules("backup", "voice", skills=(SkillRequirement("backup"),))
    agents = [
        AgentProfile("junior", {"billing": 2}, site="paris", capacity=VOICE),
        AgentProfile("lyon", {"billing": 4}, site="lyon", capacity=VOICE),
        AgentProfile("generalist", {}, site="paris", capacity=VOICE),
        AgentProfile("other", {"backup": 1}, site="nantes", capacity=VOICE),
    ]

    def waiting_for(present: str, at: float) -> list:
        engine = engine_for([queue, backup], agents, (present,))
        assert arrive(engine, "c1", "q", 5) == []
        out = engine.advance(at - 0.5)
        assert engine.item_state("c1") == (ItemState.waiting, None)
        return out + engine.advance(at)

    assert waiting_for("junior", 15) == [
        Overflowed("c1", "q", "q", 1, 15),
        Offered("c1", "junior", "q", 15, 35.0),
    ]
    assert waiting_for("lyon", 25) == [
        Overflowed("c1", "q", "q", 1, 15),
        Overflowed("c1", "q", "q", 2, 25),
        Offered("c1", "lyon", "q", 25, 45.0),
    ]
    assert waiting_for("generalist", 35)[-2:] == [
        Overflowed("c1", "q", "q", 3, 35),
        Offered("c1", "generalist", "q", 35, 55.0),
    ]
    assert waiting_for("other", 45) == [
        Overflowed("c1", "q", "q", 1, 15),
        Overflowed("c1", "q", "q", 2, 25),
        Overflowed("c1", "q", "q", 3, 35),
        Overflowed("c1", "q", "backup", 0, 45),
        Offered("c1", "other", "backup", 45, 65.0),
    ]


def test_an_overdue_stage_fires_at_the_current_time_never_in_the_past():
    queue = QueueRules("q", "voice", sites=frozenset({"paris"}), ring_timeout_seconds=5,
                       overflow=(OverflowStep(10, add_sites=frozenset({"lyon"})),))  # fmt: skip
    agents = [AgentProfile("p", site="paris", capacity=VOICE), AgentProfile("l", site="lyon", capacity=VOICE)]
    engine = engine_for([queue], agents, ("p", "l"))
    arrive(engine, "c1", "q", 0)
    engine.accept("c1", "p", 1)
    assert engine.advance(100) == []
    # back in the queue long after its stage was due: it overflows now, and l gets a fresh offer
    assert engine.set_presence("p", Presence.offline, 100) == [Requeued("c1", "p", "q", "agent_offline", 100)]
    assert engine.advance(100) == [Overflowed("c1", "q", "q", 1, 100), Offered("c1", "l", "q", 100, 105)]
    assert engine.agents["l"].presence is Presence.available


def test_withdrawn_items_go_back_by_priority():
    chat = QueueRules("chat", "chat", ring_timeout_seconds=0)
    agents = [AgentProfile("a", capacity={"chat": 2}), AgentProfile("b", capacity={"chat": 1})]
    engine = engine_for([chat], agents, ("a",))
    arrive(engine, "x1", "chat", 0, priority=0)
    arrive(engine, "x2", "chat", 1, priority=5)
    engine.set_presence("b", Presence.available, 2)
    out = engine.set_presence("a", Presence.offline, 3)
    assert offered_to(out) == {"x2": "b"}
    assert engine.waiting_items("chat") == ["x1"]


# Closed queues ------------------------------------------------------------------------------------------

MONDAY_9_TO_18 = OpeningHours(
    {0: ((9 * 60, 18 * 60),)}, timezone="Europe/Paris", closed_dates=frozenset({"2026-05-04"})
)


def paris(*args: int) -> float:
    return datetime(*args, tzinfo=PARIS).timestamp()


SUNDAY = paris(2026, 3, 1, 10, 0)
MONDAY = paris(2026, 3, 2, 10, 0)


def test_opening_hours_are_local_time_in_their_zone():
    assert datetime.fromtimestamp(MONDAY, PARIS).weekday() == 0
    assert MONDAY_9_TO_18.is_open(MONDAY)
    assert not MONDAY_9_TO_18.is_open(SUNDAY)
    assert not MONDAY_9_TO_18.is_open(paris(2026, 3, 2, 8, 59))
    assert MONDAY_9_TO_18.is_open(paris(2026, 3, 2, 9, 0))
    assert not MONDAY_9_TO_18.is_open(paris(2026, 3, 2, 18, 0))
    # summer time: 09:30 in Paris is 07:30 UTC
    assert MONDAY_9_TO_18.is_open(paris(2026, 7, 6, 9, 30))
    assert not MONDAY_9_TO_18.is_open(paris(2026, 7, 6, 8, 30))
    assert not MONDAY_9_TO_18.is_open(paris(2026, 5, 4, 10, 0))  # a closed date (a Monday)
    assert OpeningHours().is_open(SUNDAY)


@pytest.mark.parametrize("behaviour", [ClosedBehaviour.reject, ClosedBehaviour.callback])
def test_a_closed_queue_refuses(behaviour):
    queue = QueueRules("q", "voice", hours=MONDAY_9_TO_18, closed_behaviour=behaviour)
    engine = engine_for([queue], [AgentProfile("a")], ("a",))
    assert arrive(engine, "c1", "q", SUNDAY) == [Refused("c1", "q", behaviour, SUNDAY)]
    assert engine.item_state("c1") is None and engine.waiting_items("q") == []
    assert offered_to(arrive(engine, "c2", "q", MONDAY)) == {"c2": "a"}  # open: routed as usual


def test_a_closed_queue_overflows_to_its_closed_queue():
    queue = QueueRules(
        "q", "voice", hours=MONDAY_9_TO_18, closed_behaviour=ClosedBehaviour.overflow, closed_queue="night"
    )
    night = QueueRules("night", "voice", skills=(SkillRequirement("night"),))
    agents = [AgentProfile("day", capacity=VOICE), AgentProfile("owl", {"night": 1}, capacity=VOICE)]
    engine = engine_for([queue, night], agents, ("day", "owl"))
    assert arrive(engine, "c1", "q", SUNDAY) == [
        Overflowed("c1", "q", "night", 0, SUNDAY),
        Offered("c1", "owl", "night", SUNDAY, SUNDAY + 20),
    ]
    assert offered_to(arrive(engine, "c2", "q", MONDAY)) == {"c2": "day"}


def test_a_closed_queue_that_waits_keeps_the_item():
    queue = QueueRules("q", "voice", hours=MONDAY_9_TO_18, closed_behaviour=ClosedBehaviour.wait)
    engine = engine_for([queue], [AgentProfile("a")])
    assert arrive(engine, "c1", "q", SUNDAY) == []
    assert engine.waiting_items("q") == ["c1"]
    assert engine.set_presence("a", Presence.available, SUNDAY + 60) == [
        Offered("c1", "a", "q", SUNDAY + 60, SUNDAY + 80)
    ]


# Predicted wait and callbacks ---------------------------------------------------------------------------


def busy_centre(threshold: float | None, agents: int = 1) -> RoutingEngine:
    queue = QueueRules("q", "voice", default_handle_seconds=300, callback_offer_after_seconds=threshold)
    engine = engine_for([queue], [AgentProfile(f"a{n}", capacity=VOICE) for n in range(agents)])
    for n in range(agents):
        engine.set_presence(f"a{n}", Presence.available, 0)
        arrive(engine, f"busy{n}", "q", 0)
        engine.accept(f"busy{n}", f"a{n}", 0)
    return engine


def test_predicted_wait_is_position_times_handle_time_over_agents():
    engine = busy_centre(None, agents=2)
    for n in range(3):
        arrive(engine, f"w{n}", "q", 1)
    assert engine.predicted_wait("q", 2) == pytest.approx((3 + 1) * 300 / 2)
    assert engine.predicted_wait("q", 2, ahead=0) == pytest.approx(300 / 2)


def test_predicted_wait_is_infinite_when_nobody_is_present():
    engine = engine_for([QueueRules("q", "voice")], [AgentProfile("a")])
    arrive(engine, "c1", "q", 0)
    assert engine.predicted_wait("q", 1) == math.inf
    engine.set_presence("a", Presence.paused, 2)
    assert engine.predicted_wait("q", 3) == math.inf
    # and nothing to wait for when someone is free
    engine.end("c1", 4)
    engine.set_presence("a", Presence.available, 5)
    assert engine.predicted_wait("q", 6) == 0.0


def test_callback_offered_when_the_predicted_wait_exceeds_the_threshold():
    engine = busy_centre(threshold=100)
    assert arrive(engine, "c1", "q", 1) == [CallbackOffered("c1", "q", 300.0, 1)]
    assert arrive(engine, "c2", "q", 2) == [CallbackOffered("c2", "q", 600.0, 2)]  # one ahead
    assert engine.waiting_items("q") == ["c1", "c2"]  # an offer only: the item still waits
    assert arrive(busy_centre(threshold=400), "c1", "q", 1) == []  # 300 s is acceptable
    free = engine_for([QueueRules("q", "voice", callback_offer_after_seconds=1)], [AgentProfile("a")], ("a",))
    assert arrive(free, "c1", "q", 1) == [Offered("c1", "a", "q", 1, 21.0)]


# Bad input ------------------------------------------------------------------------------------------------


def test_unknown_queue_agent_and_item_are_refused():
    engine = engine_for([QueueRules("q", "voice")], [AgentProfile("a")], ("a",))
    arrive(engine, "c1", "q", 0)
    before = state(engine)
    with pytest.raises(UnknownQueue):
        arrive(engine, "c2", "nowhere", 1)
    with pytest.raises(UnknownQueue):
        engine.predicted_wait("nowhere", 1)
    with pytest.raises(UnknownQueue):
        engine.waiting_items("nowhere")
    with pytest.raises(UnknownQueue):
        engine.escalate("c1", "nowhere", 1)
    with pytest.raises(UnknownAgent):
        engine.set_presence("nobody", Presence.available, 1)
    with pytest.raises(UnknownAgent):
        engine.next_item("nobody", 1)
    with pytest.raises(UnknownAgent):
        engine.may_take("nobody", "c1")
    for call in (
        lambda: engine.accept("nothing", "a", 1),
        lambda: engine.decline("nothing", "a", 1),
        lambda: engine.end("nothing", 1),
        lambda: engine.end_wrapup("nothing", 1),
        lambda: engine.transfer("nothing", 1, to_queue="q"),
        lambda: engine.escalate("nothing", "q", 1),
        lambda: engine.queue_of("nothing"),
        lambda: engine.may_take("a", "nothing"),
    ):
        with pytest.raises(UnknownItem):
            call()
    assert engine.item_state("nothing") is None
    assert state(engine) == before
    assert issubclass(UnknownItem, RoutingError) and issubclass(StaleDecision, RoutingError)


def test_stale_decisions_are_refused():
    engine = engine_for([QueueRules("q", "voice")], [AgentProfile("a"), AgentProfile("b")], ("a", "b"))
    arrive(engine, "c1", "q", 0)  # -> a
    with pytest.raises(StaleDecision):
        engine.accept("c1", "b", 1)
    engine.accept("c1", "a", 1)
    with pytest.raises(StaleDecision):
        engine.decline("c1", "a", 2)
    with pytest.raises(StaleDecision):
        engine.end_wrapup("c1", 2)
    engine.end("c1", 3, wrapup=True)
    for call in (lambda: engine.end("c1", 4), lambda: engine.transfer("c1", 4, to_queue="q")):
        with pytest.raises(StaleDecision):
            call()
    assert engine.load_of("a") == {"voice": 1}  # wrap-up keeps the capacity
    engine.end_wrapup("c1", 5)
    assert engine.load_of("a") == {} and engine.item_state("c1") is None


@pytest.mark.parametrize(
    ("queues", "message"),
    [
        ([QueueRules("q", "voice", overflow=(OverflowStep(10, to_queue="nowhere"),))], "unknown queue"),
        ([QueueRules("q", "voice", overflow=(OverflowStep(20), OverflowStep(10)))], "increasing"),
        ([QueueRules("q", "voice", overflow=(OverflowStep(-1),))], "increasing"),
        ([QueueRules("q", "voice", overflow=(OverflowStep(math.inf),))], "finite"),
        ([QueueRules("q", "voice", closed_behaviour=ClosedBehaviour.overflow)], "closed_queue"),
        ([QueueRules("q", "voice", level=0)], "level"),
        ([QueueRules("q", "voice", default_handle_seconds=0)], "positive"),
    ],
)
def test_routing_config_rejects_rules_it_cannot_route(queues, message):
    with pytest.raises(RoutingRuleError, match=message):
        RoutingConfig(queues, [AgentProfile("a")])


def test_duplicate_arrival_returns_nothing_and_changes_nothing():
    engine = engine_for([QueueRules("q", "voice"), QueueRules("r", "voice")], [AgentProfile("a")], ("a",))
    arrive(engine, "c1", "q", 0)  # -> a
    arrive(engine, "c2", "q", 1)  # waits
    before = state(engine)
    assert arrive(engine, "c1", "q", 2) == []
    assert arrive(engine, "c2", "r", 3, priority=9) == []
    assert state(engine) == before


# Restoring from storage ------------------------------------------------------------------------------------


def live_and_restored() -> tuple[RoutingEngine, RoutingEngine]:
    """A live engine at t=10 and one restored from what its decisions said."""
    queues = [
        QueueRules(
            "q",
            "voice",
            sites=frozenset({"paris"}),
            overflow=(OverflowStep(30, add_sites=frozenset({"lyon"})),),
        ),
        QueueRules("mail", "email", delivery=Delivery.pull),
    ]
    agents = [
        AgentProfile("a", {"x": 5}, site="paris"),
        AgentProfile("b", {"x": 3}, site="paris"),
        AgentProfile("c", {"x": 4}, site="paris"),
        AgentProfile("l", site="lyon"),
    ]
    config = RoutingConfig(queues, agents)
    live = RoutingEngine(config)
    live.set_presence("a", Presence.available, 0)
    live.set_presence("b", Presence.available, 0)
    live.set_presence("l", Presence.available, 0)
    assert live.item_arrived(WorkItem("c1", "q", 1), 1) == [Offered("c1", "a", "q", 1, 21.0)]
    live.accept("c1", "a", 5)
    assert live.item_arrived(WorkItem("c2", "q", 6), 6) == [Offered("c2", "b", "q", 6, 26.0)]
    live.item_arrived(WorkItem("c3", "q", 7), 7)
    live.item_arrived(WorkItem("c4", "q", 8, priority=1), 8)
    live.item_arrived(WorkItem("m1", "mail", 9), 9)

    restored = RoutingEngine(config)
    for agent_id, presence in (("l", "available"), ("a", "available"), ("b", "available"), ("c", "offline")):
        restored.restore_agent(agent_id, Presence(presence))  # oldest ready first: l never got work
    restored.restore_item(
        WorkItem("c1", "q", 1), queued_at=1, state=ItemState.active, agent="a", accepted_at=5
    )
    restored.restore_item(
        WorkItem("c2", "q", 6), queued_at=6, state=ItemState.offered, agent="b", offer_expires_at=26
    )
    restored.restore_item(WorkItem("c3", "q", 7), queued_at=7)
    restored.restore_item(WorkItem("c4", "q", 8, priority=1), queued_at=8)
    restored.restore_item(WorkItem("m1", "mail", 9), queued_at=9)
    return live, restored


def test_restore_then_rebalance_reproduces_the_live_assignments():
    live, restored = live_and_restored()
    assert live.advance(10) == []
    assert restored.rebalance(10) == []  # nothing to do: the live engine left nobody idle
    assert state(restored) == state(live)
    assert restored.waiting_items("q") == ["c4", "c3"]
    script = [
        ("set_presence", ("c", Presence.available, 11)),  # c4 (priority 1) to c
        ("advance", (26,)),  # b does not answer c2: b paused, c2 first in line again
        ("advance", (37,)),  # c does not answer c4; c2 then c3 overflow to lyon, l takes c2
        ("end", ("c1", 40)),  # a is free: c4 again, first by priority
        ("next_item", ("a", 41)),  # a pulls the mail: a call blocks chats, not emails
    ]
    for method, args in script:
        assert getattr(restored, method)(*args) == getattr(live, method)(*args), method
        assert state(restored) == state(live), method


def test_rebalance_offers_a_restored_backlog_by_priority_to_the_best_agents():
    queue = QueueRules("q", "voice", skills=(SkillRequirement("x"),))
    agents = [AgentProfile("a", {"x": 5}), AgentProfile("b", {"x": 3}), AgentProfile("c", {"x": 4})]
    engine = RoutingEngine(RoutingConfig([queue], agents))
    for agent_id in ("b", "a"):
        engine.restore_agent(agent_id, Presence.available)
    engine.restore_agent("c", Presence.paused, "lunch")
    engine.restore_item(WorkItem("low", "q", 1), queued_at=1)
    engine.restore_item(WorkItem("high", "q", 2, priority=1), queued_at=2)
    engine.restore_item(WorkItem("late", "q", 3), queued_at=3)
    assert engine.rebalance(10) == [Offered("high", "a", "q", 10, 30.0), Offered("low", "b", "q", 10, 30.0)]
    assert engine.waiting_items("q") == ["late"]
    assert engine.rebalance(11) == []


def test_rebalance_fires_overdue_timers_now_never_in_the_past():
    queue = QueueRules(
        "q", "voice", sites=frozenset({"paris"}), overflow=(OverflowStep(30, add_sites=frozenset({"lyon"})),)
    )
    agents = [AgentProfile("p", site="paris"), AgentProfile("l", site="lyon")]
    engine = RoutingEngine(RoutingConfig([queue], agents))
    engine.restore_agent("p", Presence.available)
    engine.restore_agent("l", Presence.available)
    engine.restore_item(
        WorkItem("c1", "q", 0), queued_at=0, state=ItemState.offered, agent="p", offer_expires_at=20
    )
    assert engine.rebalance(60) == [
        Requeued("c1", "p", "q", "no_answer", 60),
        AgentPaused("p", "no_answer", 60),
        Overflowed("c1", "q", "q", 1, 60),
        Offered("c1", "l", "q", 60, 80.0),
    ]


# Bugs found by these tests, fixed: they stay as regression tests ------------------------------------------


def test_rebalance_offers_work_transferred_to_an_agent_in_a_pull_queue():
    config = RoutingConfig(
        [QueueRules("mail", "email", delivery=Delivery.pull)], [AgentProfile("a"), AgentProfile("b")]
    )
    live = RoutingEngine(config)
    live.set_presence("a", Presence.available, 0)
    arrive(live, "m1", "mail", 0)
    live.next_item("a", 1)
    assert live.transfer("m1", 2, to_agent="b") == [Requeued("m1", "a", "mail", "transferred", 2)]
    assert live.set_presence("b", Presence.available, 3) == [Offered("m1", "b", "mail", 3, None)]

    restored = RoutingEngine(config)  # the same, b came back while nobody dispatched
    restored.restore_agent("a", Presence.available)
    restored.restore_agent("b", Presence.available)
    restored.restore_item(WorkItem("m1", "mail", 0), queued_at=2, pinned="b")
    assert restored.rebalance(3) == [Offered("m1", "b", "mail", 3, None)]


def test_rebalance_serves_by_priority_when_timers_are_overdue():
    queue = QueueRules("q", "voice", overflow=(OverflowStep(30, any_skill=True),))
    engine = RoutingEngine(RoutingConfig([queue], [AgentProfile("a")]))
    engine.restore_agent("a", Presence.available)
    engine.restore_item(WorkItem("low", "q", 0), queued_at=0)  # its stage 1 was due at 30
    engine.restore_item(WorkItem("high", "q", 50, priority=5), queued_at=50)
    out = engine.rebalance(60)
    assert offered_to(out) == {"high": "a"}, out


@pytest.mark.parametrize(
    "queues",
    [
        [  # the item would keep its media in the target queue: nobody there would ever see it
            QueueRules("tel", "voice", overflow=(OverflowStep(10, to_queue="chat"),)),
            QueueRules("chat", "chat"),
        ],
        [
            QueueRules("tel", "voice", closed_behaviour=ClosedBehaviour.overflow, closed_queue="chat"),
            QueueRules("chat", "chat"),
        ],
        [QueueRules("tel", "voice", overflow=(OverflowStep(10, to_queue="tel"),))],
    ],
)
def test_overflow_to_a_queue_of_another_media_or_to_itself_is_refused(queues):
    with pytest.raises(RoutingRuleError, match="must be another queue of voice"):
        RoutingConfig(queues, [AgentProfile("a")])


@pytest.mark.parametrize(
    ("delays", "refused"),
    [((0, 0), True), ((0, 0, 0), True), ((0, 5), False), ((5, 0, 0), False)],
)
def test_overflow_moves_may_loop_only_if_time_passes(delays, refused):
    """q0 -> q1 -> ... -> q0, each move after its delay: a loop of instant moves would never end."""
    n = len(delays)
    queues = [
        QueueRules(f"q{i}", "voice", overflow=(OverflowStep(delay, to_queue=f"q{(i + 1) % n}"),))
        for i, delay in enumerate(delays)
    ]
    if refused:
        with pytest.raises(RoutingRuleError, match="loop"):
            RoutingConfig(queues, [AgentProfile("a")])
        return
    engine = RoutingEngine(RoutingConfig(queues, [AgentProfile("a")]))
    arrive(engine, "c1", "q0", 0)
    out = engine.advance(60)  # it goes round while nobody is there, and advance() returns
    assert len(out) >= n and all(isinstance(d, Overflowed) for d in out)
    assert [d.at for d in out] == sorted(d.at for d in out) and out[-1].at <= 60
    assert offered_to(engine.set_presence("a", Presence.available, 61)) == {"c1": "a"}


def test_an_agent_restricted_to_some_motifs_is_never_given_another():
    """An outsourced site handles only some motifs: its agents never get the others, wherever they wait."""
    from accueil.routing.decisions import Offered, Presence, WorkItem
    from accueil.routing.engine import RoutingEngine
    from accueil.routing.rules import AgentProfile, QueueRules, RoutingConfig

    queue = QueueRules(id="tel", media="voice", ring_timeout_seconds=0)
    config = RoutingConfig([queue], [AgentProfile(id="partner", motifs=frozenset({"tracking"})),
                                     AgentProfile(id="inhouse")])
    engine = RoutingEngine(config)
    engine.set_presence("partner", Presence.available, 0.0)
    refund = engine.item_arrived(WorkItem("c1", "tel", 1.0, motif="refund"), 1.0)
    assert refund == []  # waits: the only free agent may not take it
    tracking = engine.item_arrived(WorkItem("c2", "tel", 2.0, motif="tracking"), 2.0)
    assert [(d.item, d.agent) for d in tracking if isinstance(d, Offered)] == [("c2", "partner")]
    offers = engine.set_presence("inhouse", Presence.available, 3.0)
    assert [(d.item, d.agent) for d in offers if isinstance(d, Offered)] == [("c1", "inhouse")]
    engine.end("c2", 4.0)
    engine.item_arrived(WorkItem("c3", "tel", 5.0, motif="refund"), 5.0)
    engine.item_arrived(WorkItem("c4", "tel", 6.0), 6.0)  # no motif yet: anyone may qualify it
    assert engine.item_state("c3")[0].value == "waiting" and engine.item_state("c4") == (
        engine.item_state("c4")[0], "partner")
