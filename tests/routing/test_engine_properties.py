"""Property tests of the routing engine: small random configurations, random inputs, invariants after each.

The test keeps a *shadow* of the engine, rebuilt only from the inputs it gave and the decisions the engine
returned. After every input the engine's state must equal the shadow (so every change is reported by a
decision) and the invariants are checked on it. Eligibility, capacity, priorities, idle order and timer
due times are recomputed from the rules, never read from the engine's compiled tables or counters;
``may_take`` must agree with that independent model.

Invariants: one holder and one place per item, never offered twice without a requeue; capacity and
blocking per agent; work conservation; priority order and agent selection (best skill, then longest
idle) at every offer; overflow at ``queued_at + after_seconds`` stage by stage (or at once when overdue,
never in the past); ring timeouts on time; declines respected; decision times never go back.

One exception is accepted as the engine's intent: an agent who transfers an item to themselves gets it
straight back, even while work of a higher priority that they could take waits.

Inputs the engine refuses (``RoutingError``: stale decisions, bad targets) must leave its state as it was.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field, replace

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from accueil.routing.decisions import (
    AgentPaused,
    CallbackOffered,
    Decision,
    Escalated,
    ItemState,
    Offered,
    Overflowed,
    Presence,
    Refused,
    Requeued,
    RoutingError,
    WorkItem,
)
from accueil.routing.engine import RoutingEngine
from accueil.routing.rules import (
    AgentProfile,
    AgentSelection,
    Delivery,
    OrderBy,
    OverflowStep,
    QueueRules,
    RoutingConfig,
    RoutingRuleError,
    SkillRequirement,
)

MEDIA = ("voice", "chat", "email")
SKILLS = ("s0", "s1", "s2")
SITES = ("paris", "lyon")
SITE_SETS = (frozenset(), frozenset({"paris"}), frozenset({"lyon"}))


# Configurations ----------------------------------------------------------------------------------------


@st.composite
def configs(draw: st.DrawFn, *, callbacks: bool = True) -> tuple[list[QueueRules], list[AgentProfile]]:
    n_queues = draw(st.integers(2, 4))
    ids = [f"q{i}" for i in range(n_queues)]
    media = [draw(st.sampled_from(MEDIA)) for _ in ids]
    queues = []
    for i, queue_id in enumerate(ids):
        same_media = [q for j, q in enumerate(ids) if media[j] == media[i] and j != i]
        skills = draw(st.sampled_from([[], [], ["s0"], ["s1"], ["s2"], ["s0", "s1"]]))
        delays = sorted(draw(st.lists(st.sampled_from([10.0, 5.0, 25.0, 0.0, 60.0]), max_size=2)))
        steps = tuple(
            OverflowStep(
                after_seconds=delay,
                min_skill_level=draw(st.sampled_from([None, None, 1, 2])),
                any_skill=draw(st.sampled_from([False, False, True])),
                add_sites=draw(st.sampled_from(SITE_SETS)),
                to_queue=draw(st.sampled_from([None, None, *same_media])),
            )
            for delay in delays
        )
        queues.append(
            QueueRules(
                id=queue_id,
                media=media[i],
                level=draw(st.sampled_from([1, 1, 1, 2])),
                priority=draw(st.integers(0, 2)),
                skills=tuple(SkillRequirement(s, draw(st.sampled_from([1, 1, 2, 3]))) for s in skills),
                sites=draw(st.sampled_from([None, None, None, frozenset({"paris"}), frozenset({"lyon"})])),
                overflow=steps,
                selection=draw(st.sampled_from(list(AgentSelection))),
                delivery=draw(st.sampled_from([Delivery.pull, Delivery.push]))
                if media[i] == "email"
                else Delivery.push,
                order_by=draw(st.sampled_from(list(OrderBy))),
                ring_timeout_seconds=draw(st.sampled_from([20.0, 5.0, 0.0])),
                callback_offer_after_seconds=draw(st.sampled_from([None, 50.0, 500.0]))
                if callbacks
                else None,
                default_handle_seconds=draw(st.sampled_from([60.0, 300.0])),
            )
        )
    agents = []
    for i in range(draw(st.integers(2, 6))):
        skills = draw(st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 5), min_size=2, max_size=3))
        capacity = {
            "voice": draw(st.sampled_from([1, 1, 1, 0])),
            "chat": draw(st.sampled_from([3, 3, 2, 1, 0])),
            "email": draw(st.sampled_from([10, 10, 2, 1, 0])),
        }
        agents.append(
            AgentProfile(
                id=f"a{i}",
                skills=skills,
                site=draw(st.sampled_from(SITES)),
                level=draw(st.sampled_from([2, 1, 1])),
                capacity=capacity,
            )
        )
    try:
        RoutingConfig(queues, agents)
    except RoutingRuleError:  # a loop of instant moves: refused (test_config_refuses_instant_move_loops)
        assume(False)
    return queues, agents


# Inputs ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arrive:
    queue: int
    priority: int = 0
    level: int | None = None
    skill: str | None = None
    sla: float | None = None


@dataclass(frozen=True)
class SetPresence:
    agent: int
    presence: Presence


@dataclass(frozen=True)
class Accept:
    item: int
    agent: int | None = None  # None: the item's holder


@dataclass(frozen=True)
class Decline:
    item: int
    agent: int | None = None


@dataclass(frozen=True)
class End:
    item: int
    wrapup: bool = False


@dataclass(frozen=True)
class EndWrapup:
    item: int


@dataclass(frozen=True)
class TransferQueue:
    item: int
    queue: int


@dataclass(frozen=True)
class TransferAgent:
    item: int
    agent: int


@dataclass(frozen=True)
class Escalate:
    item: int
    queue: int


@dataclass(frozen=True)
class NextItem:
    agent: int


@dataclass(frozen=True)
class Duplicate:
    item: int
    queue: int


@dataclass(frozen=True)
class Tick:
    seconds: float


@dataclass(frozen=True)
class Advance:
    pass


Event = (
    Arrive | SetPresence | Accept | Decline | End | EndWrapup | TransferQueue | TransferAgent | Escalate
    | NextItem | Duplicate | Tick | Advance
)  # fmt: skip


def events() -> st.SearchStrategy[Event]:
    item = st.integers(0, 15)
    agent = st.integers(0, 5)
    holder = st.one_of(st.none(), st.none(), st.none(), agent)
    arrive = st.builds(
        Arrive,
        queue=st.integers(0, 3),
        priority=st.integers(0, 2),
        level=st.sampled_from([None, None, None, 2]),
        skill=st.sampled_from([None, None, None, "s0", "s1"]),
        sla=st.sampled_from([None, None, 30.0, 300.0]),
    )
    presence = st.builds(
        SetPresence,
        agent=agent,
        presence=st.sampled_from([Presence.available] * 3 + [Presence.paused, Presence.offline]),
    )
    tick = st.builds(Tick, seconds=st.sampled_from([5.0, 1.0, 12.0, 30.0, 0.0, 3.0, 90.0]))
    choices = [
        arrive,
        arrive,
        arrive,
        presence,
        presence,
        st.builds(Accept, item=item, agent=holder),
        st.builds(Accept, item=item, agent=holder),
        st.builds(Accept, item=item, agent=holder),
        st.builds(Decline, item=item, agent=holder),
        st.builds(End, item=item, wrapup=st.booleans()),
        st.builds(End, item=item, wrapup=st.booleans()),
        st.builds(EndWrapup, item=item),
        st.builds(TransferQueue, item=item, queue=st.integers(0, 3)),
        st.builds(TransferAgent, item=item, agent=agent),
        st.builds(Escalate, item=item, queue=st.integers(0, 3)),
        st.builds(Duplicate, item=item, queue=st.integers(0, 3)),
        tick,
        tick,
        tick,
        st.just(Advance()),
        st.just(Advance()),
        st.builds(NextItem, agent=agent),
        st.builds(NextItem, agent=agent),
    ]
    return st.one_of(*choices)


@st.composite
def scripts(draw: st.DrawFn, *, max_size: int = 60) -> list[Event]:
    """Most agents log in first, then a run of random inputs."""
    present = draw(st.lists(st.sampled_from([True, True, False]), min_size=6, max_size=6))
    login = [SetPresence(i, Presence.available) for i, on in enumerate(present) if on]
    return login + draw(st.lists(events(), min_size=min(20, max_size), max_size=max_size))


# The shadow --------------------------------------------------------------------------------------------


@dataclass
class Shadow:
    work: WorkItem  # as it arrived
    queue: str
    media: str
    level: int
    queued_at: float
    stage: int = 0
    state: ItemState = ItemState.waiting
    agent: str | None = None
    declined: set[str] = field(default_factory=set)
    pinned: str | None = None
    expires_at: float | None = None
    accepted_at: float | None = None
    since: int = 0  # when it last became held or waiting: the order of the engine's timers for it

    @property
    def id(self) -> str:
        return self.work.id


@dataclass(frozen=True)
class Call:
    """One engine input, resolved against the current state (which item, which agent)."""

    kind: str
    method: str
    args: tuple
    kwargs: dict = field(default_factory=dict)


@dataclass
class Replay:
    call: Call
    now: float
    fired_at: float  # advance: the time of the timer being fired (decisions it causes carry it)
    transfer: tuple[str, dict] | None = None  # item, changes applied once it is back in a queue


REASONS = {
    "set_presence": {"agent_paused", "agent_offline"},
    "decline": {"declined"},
    "transfer": {"transferred"},
    "escalate": {"transferred"},
    "advance": {"no_answer", "agent_paused"},
    "rebalance": {"no_answer", "agent_paused"},
}
TIMED = ("advance", "rebalance")  # inputs that fire timers


class Runner:
    """Feeds events to a fresh engine and checks the invariants after each one."""

    def __init__(
        self,
        queues: list[QueueRules],
        agents: list[AgentProfile],
        *,
        punctual: bool = False,  # advance(now) whenever time moves, as a live dispatcher would
        distinct_times: bool = False,  # every input a millisecond after the previous one
    ) -> None:
        self.config = RoutingConfig(queues, agents)
        self.engine = RoutingEngine(self.config)
        self.rules = {q.id: q for q in queues}
        self.profiles = {a.id: a for a in agents}
        self.queue_ids = [q.id for q in queues]
        self.agent_ids = [a.id for a in agents]
        self.punctual = punctual
        self.distinct_times = distinct_times
        self.moves = 0  # counts the items' changes of place (Shadow.since)
        self.now = 0.0
        self.clock = float("-inf")  # the latest time any input told the engine
        self.advanced = True  # no timer can be due: advance(now) was called since time last moved
        self.items: dict[str, Shadow] = {}
        self.presence = {a: Presence.offline for a in self.agent_ids}
        self.rank = {a: 0 for a in self.agent_ids}  # order of the last touch: lower = waiting longer
        self.touches = 0
        self.arrivals = 0
        self.item_time: dict[str, float] = {}  # the last time anything happened to an item / an agent
        self.agent_time = {a: float("-inf") for a in self.agent_ids}
        self.stage_cache: dict[tuple[str, str, int], bool] = {}
        self.check()

    def restart(self, *, everyone_back: bool = False) -> Runner:
        """A runner on a new engine restored from this shadow, as the service restores from the database.

        Agents are restored oldest ready first, with their presence, or all available (``everyone_back``:
        they came back while nobody dispatched). Nothing is routed until ``rebalance``.
        """
        other = Runner(
            list(self.rules.values()),
            list(self.profiles.values()),
            punctual=self.punctual,
            distinct_times=self.distinct_times,
        )
        engine = other.engine
        for agent_id in sorted(self.agent_ids, key=lambda a: (self.rank[a], a)):
            presence = Presence.available if everyone_back else self.presence[agent_id]
            engine.restore_agent(agent_id, presence)
            other.presence[agent_id] = presence
            other.touch(agent_id)
        for item in sorted(self.items.values(), key=lambda it: it.since):  # timers in the same order
            work = item.work
            engine.restore_item(
                WorkItem(
                    work.id, item.queue, work.arrived_at, work.priority, item.level, work.skills, work.sla_due
                ),
                queued_at=item.queued_at,
                stage=item.stage,
                state=item.state,
                agent=item.agent,
                offer_expires_at=item.expires_at,
                accepted_at=item.accepted_at,
                declined=item.declined,
                pinned=item.pinned,
            )
            other.items[item.id] = replace(item, declined=set(item.declined))
        other.arrivals, other.moves, other.now, other.advanced = self.arrivals, self.moves, self.now, False
        other.item_time, other.agent_time = dict(self.item_time), dict(self.agent_time)
        return other

    # Independent model ------------------------------------------------------------------------------

    def stage_ok(self, agent_id: str, queue_id: str, stage: int) -> bool:
        key = (agent_id, queue_id, stage)
        if key not in self.stage_cache:
            self.stage_cache[key] = self._stage_ok(agent_id, queue_id, stage)
        return self.stage_cache[key]

    def _stage_ok(self, agent_id: str, queue_id: str, stage: int) -> bool:
        """The queue's rules as relaxed by its first ``stage`` overflow steps (cumulatively)."""
        rules, profile = self.rules[queue_id], self.profiles[agent_id]
        if profile.capacity.get(rules.media, 0) <= 0 or profile.level < rules.level:
            return False
        steps = rules.overflow[:stage]
        if rules.sites is not None:
            sites = rules.sites.union(*(step.add_sites for step in steps))
            if profile.site not in sites:
                return False
        if any(step.any_skill for step in steps):
            return True
        override = next((s.min_skill_level for s in reversed(steps) if s.min_skill_level is not None), None)
        for req in rules.skills:
            have = profile.skills.get(req.skill, 0)
            if have <= 0 or have < (req.min_level if override is None else override):
                return False
        return True

    def eligible(self, agent_id: str, item: Shadow) -> bool:
        """Skills, level, site and stage; declines; pins. Presence and capacity aside."""
        if item.pinned is not None:
            return agent_id == item.pinned
        profile = self.profiles[agent_id]
        if not self.stage_ok(agent_id, item.queue, item.stage) or profile.level < item.level:
            return False
        if any(profile.skills.get(r.skill, 0) < r.min_level for r in item.work.skills):
            return False
        return agent_id not in item.declined

    def held(self, agent_id: str) -> list[Shadow]:
        return [it for it in self.items.values() if it.agent == agent_id]

    def can_take(self, agent_id: str, media: str) -> bool:
        """Present, a free slot for the media, and nothing held that blocks it."""
        if self.presence[agent_id] is not Presence.available:
            return False
        held = self.held(agent_id)
        if sum(1 for it in held if it.media == media) >= self.profiles[agent_id].capacity.get(media, 0):
            return False
        return not any(media in self.config.blocks.get(it.media, ()) for it in held)

    def score(self, agent_id: str, queue_id: str) -> int:
        skills = self.profiles[agent_id].skills
        return min((skills.get(r.skill, 0) for r in self.rules[queue_id].skills), default=0)

    def order_key(self, item: Shadow) -> tuple[int, float]:
        """Priority (queue + item) first, then arrival, or the SLA deadline in SLA-ordered queues."""
        rules = self.rules[item.queue]
        sla = item.work.sla_due if rules.order_by is OrderBy.sla else None
        return (-(rules.priority + item.work.priority), item.work.arrived_at if sla is None else sla)

    def pushed(self, item: Shadow) -> bool:
        return item.pinned is not None or self.rules[item.queue].delivery is Delivery.push

    def stage_due(self, item: Shadow) -> float | None:
        steps = self.rules[item.queue].overflow
        if item.pinned is not None or item.stage >= len(steps):
            return None
        return item.queued_at + steps[item.stage].after_seconds

    def touch(self, agent_id: str) -> None:
        self.touches += 1
        self.rank[agent_id] = self.touches

    # Driving ----------------------------------------------------------------------------------------------

    def pick(self, index: int, state: ItemState | None = None) -> Shadow | None:
        ids = sorted(i for i, it in self.items.items() if it.state is state) if state is not None else []
        ids = ids or sorted(self.items)
        return self.items[ids[index % len(ids)]] if ids else None

    def target(self, item: Shadow, index: int, *, above: int) -> str:
        """Mostly a queue that can take the item (same media, level above ``above``); sometimes any queue."""
        fits = [
            q for q in self.queue_ids if self.rules[q].media == item.media and self.rules[q].level > above
        ]
        return fits[index % len(fits)] if fits and index < 3 else self.queue_ids[index % len(self.queue_ids)]

    def resolve(self, event: Event) -> Call | None:
        """The engine call an event stands for, or None when it does not apply (no item yet...)."""
        if self.distinct_times and not isinstance(event, Tick):
            self.now += 0.001
        agents, queues, now = self.agent_ids, self.queue_ids, self.now
        match event:
            case Arrive():
                queue = queues[event.queue % len(queues)]
                n = self.arrivals
                jitter = n * 1e-6  # distinct arrival times and deadlines: no ties in the queue order
                work = WorkItem(
                    id=f"i{n:03d}",
                    queue=queue,
                    arrived_at=now + jitter,
                    priority=event.priority,
                    level=event.level,
                    skills=() if event.skill is None else (SkillRequirement(event.skill, 2),),
                    sla_due=None if event.sla is None else now + event.sla + jitter,
                )
                return Call("arrive", "item_arrived", (work, now))
            case SetPresence():
                return Call(
                    "set_presence", "set_presence", (agents[event.agent % len(agents)], event.presence, now)
                )
            case Tick():
                return Call("tick", "", (event.seconds,))
            case Advance():
                return Call("advance", "advance", (now,))
            case NextItem():
                return Call("next_item", "next_item", (agents[event.agent % len(agents)], now))
        match event:  # prefer the items the input applies to (an offer to accept, a wrap-up to end)
            case Accept() | Decline():
                item = self.pick(event.item, ItemState.offered)
            case EndWrapup():
                item = self.pick(event.item, ItemState.wrapup)
            case _:
                item = self.pick(event.item)
        if item is None:
            return None
        match event:
            case Accept() | Decline():
                if event.agent is None and item.agent is not None:
                    agent = item.agent
                else:
                    agent = agents[(event.agent or 0) % len(agents)]
                method = "accept" if isinstance(event, Accept) else "decline"
                return Call(method, method, (item.id, agent, now))
            case End():
                return Call("end", "end", (item.id, now), {"wrapup": event.wrapup})
            case EndWrapup():
                return Call("end_wrapup", "end_wrapup", (item.id, now))
            case TransferQueue():
                target = self.target(item, event.queue, above=0)
                return Call("transfer", "transfer", (item.id, now), {"to_queue": target})
            case TransferAgent():
                return Call(
                    "transfer", "transfer", (item.id, now), {"to_agent": agents[event.agent % len(agents)]}
                )
            case Escalate():
                return Call(
                    "escalate", "escalate", (item.id, self.target(item, event.queue, above=item.level), now)
                )
            case Duplicate():
                work = WorkItem(id=item.id, queue=queues[event.queue % len(queues)], arrived_at=now)
                return Call("duplicate", "item_arrived", (work, now))
        raise AssertionError(f"unknown event {event}")

    def run(self, events: list[Event]) -> None:
        for event in events:
            self.step(event)

    def step(self, event: Event) -> list[Decision] | None:
        call = self.resolve(event)
        if call is None:
            return None
        if call.kind == "tick":
            (seconds,) = call.args
            self.now += seconds
            self.advanced = self.advanced and seconds == 0
            if self.punctual and not self.advanced:
                return self.step(Advance())
            return None
        return self.execute(call)

    def snapshot(self) -> tuple:
        engine = self.engine
        return (
            sorted((i, engine.item_state(i), engine.queue_of(i), engine.stage_of(i)) for i in engine.items),
            [engine.waiting_items(q) for q in self.queue_ids],
            [(a, engine.agents[a].presence, sorted(engine.agents[a].items)) for a in self.agent_ids],
        )

    def execute(self, call: Call) -> list[Decision] | None:
        before = self.snapshot()
        try:
            result = getattr(self.engine, call.method)(*call.args, **call.kwargs)
        except RoutingError:
            assert self.snapshot() == before, f"{call} raised but changed the state"
            self.clock = max(self.clock, self.now)
            return None
        if call.kind == "duplicate":
            assert result == [], f"a second delivery of an item decided {result}"
            assert self.snapshot() == before, "a second delivery of an item changed the state"
            self.clock = max(self.clock, self.now)
            return result
        if call.kind == "next_item":
            out = [] if result is None else [result]
        elif call.kind == "accept":
            assert result is None
            out = []
        else:
            out = result
        self.apply(call, out)
        self.clock = max(self.clock, self.now)
        self.advanced = self.advanced or call.kind in TIMED
        self.check(just_advanced=call.kind in TIMED)
        return out

    # Replaying an input and its decisions -----------------------------------------------------------

    def apply(self, call: Call, out: list[Decision]) -> None:
        now = self.now
        # rebalance() sees the restored state at now: what is overdue fires then
        replay = Replay(call, now, fired_at=max(self.clock, now) if call.kind == "rebalance" else self.clock)
        kind = call.kind
        if kind == "arrive":
            work, _ = call.args
            self.arrivals += 1
            rules = self.rules[work.queue]
            level = rules.level if work.level is None else work.level
            self.items[work.id] = Shadow(
                work, work.queue, rules.media, level, queued_at=now, since=self.moved()
            )
            self.item_time[work.id] = now
        elif kind == "set_presence":
            agent_id, presence, _ = call.args
            previous = self.presence[agent_id]
            self.presence[agent_id] = presence
            self.agent_time[agent_id] = now
            if presence is Presence.available and previous is not Presence.available:
                self.touch(agent_id)
            if presence is Presence.offline:
                for item in self.held(agent_id):
                    if item.state is ItemState.wrapup:  # the wrap-up ends with the session
                        self.release(item)
        elif kind in ("accept", "decline"):
            item_id, agent_id, _ = call.args
            item = self.items[item_id]
            assert item.state is ItemState.offered and item.agent == agent_id, (
                f"{kind} should have been stale"
            )
            self.item_time[item_id] = self.agent_time[agent_id] = now
            if kind == "accept":
                item.state, item.accepted_at = ItemState.active, now
            else:
                item.declined.add(agent_id)
                if item.pinned == agent_id:  # transferred to them and refused: back to its queue
                    item.pinned = None
        elif kind == "end":
            item = self.items[call.args[0]]
            self.item_time[item.id] = now
            if item.state is ItemState.active and call.kwargs["wrapup"]:
                item.state = ItemState.wrapup
            else:
                assert item.state is not ItemState.wrapup, "end of an item in wrap-up should be stale"
                self.release(item)
        elif kind == "end_wrapup":
            item = self.items[call.args[0]]
            assert item.state is ItemState.wrapup
            self.item_time[item.id] = now
            self.release(item)
        elif kind in ("transfer", "escalate"):
            item = self.items[call.args[0]]
            self.item_time[item.id] = now
            assert item.state is not ItemState.wrapup
            target = call.args[1] if kind == "escalate" else call.kwargs.get("to_queue")
            if target is not None:
                changes = {"queue": target, "level": self.rules[target].level, "pinned": None}
            else:
                changes = {"pinned": call.kwargs["to_agent"]}
            # the clock restarts; whoever passed it on does not get it straight back
            changes.update(queued_at=now, stage=0, declined=set() if item.agent is None else {item.agent})
            assert self.rules[changes.get("queue", item.queue)].media == item.media
            if item.state is ItemState.waiting and kind == "transfer":
                self.change(item, changes)
            else:  # once the item is back in its queue (Requeued), or after Escalated
                replay.transfer = (item.id, changes)
        for index, decision in enumerate(out):
            self.replay(replay, index, decision)
        assert replay.transfer is None, f"{call}: the item was not requeued (Requeued 'transferred' missing)"

    def release(self, item: Shadow) -> None:
        if item.agent is not None:
            self.touch(item.agent)
            self.agent_time[item.agent] = self.now
        del self.items[item.id]

    def moved(self) -> int:
        self.moves += 1
        return self.moves

    def change(self, item: Shadow, changes: dict) -> None:
        item.since = self.moved()
        for name, value in changes.items():
            setattr(item, name, value)

    def timer_fired(self, replay: Replay, decision: Decision, due: float | None) -> None:
        """A decision that starts a timer's consequences: due by now, in due order, never in the past."""
        assert replay.call.kind in TIMED, f"{decision} outside advance() or rebalance()"
        assert due is not None and due <= replay.now, f"{decision}: not due (due {due}, now {replay.now})"
        expected = max(due, replay.fired_at)
        assert decision.at == expected, f"{decision}: due at {due}, engine clock {replay.fired_at}"
        replay.fired_at = expected

    def replay(self, replay: Replay, index: int, decision: Decision) -> None:
        call = replay.call
        match decision:
            case Overflowed() if call.kind in TIMED:
                self.timer_fired(replay, decision, self.stage_due(self.items[decision.item]))
            case Requeued(reason="no_answer"):
                self.timer_fired(replay, decision, self.items[decision.item].expires_at)
            case _ if call.kind in TIMED:
                assert decision.at == replay.fired_at, f"{decision} is not at {replay.fired_at}"
            case _:
                assert decision.at == replay.now, f"{decision} is not at now={replay.now}"
        # decision times never go back, for the item or the agent concerned
        for subject, times in (
            (getattr(decision, "item", None), self.item_time),
            (getattr(decision, "agent", None), self.agent_time),
        ):
            if subject is not None and subject in times:
                assert decision.at >= times[subject], (
                    f"{decision}: {subject} last changed at {times[subject]}"
                )
                times[subject] = decision.at
        match decision:
            case Offered():
                self.offered(replay, decision)
            case Requeued():
                item = self.items.get(decision.item)
                assert item is not None and item.agent == decision.agent, (
                    f"{decision}: not held by that agent"
                )
                assert item.state in (ItemState.offered, ItemState.active), (
                    f"{decision}: item was {item.state}"
                )
                assert decision.queue == item.queue, f"{decision}: the item is in {item.queue}"
                assert decision.reason in REASONS.get(call.kind, ()), f"{decision} after {call.kind}"
                if decision.reason in ("no_answer", "agent_paused"):
                    assert item.state is ItemState.offered, f"{decision}: the item had been accepted"
                item.state, item.agent, item.expires_at, item.accepted_at = (
                    ItemState.waiting,
                    None,
                    None,
                    None,
                )
                self.touch(decision.agent)
                item.since = self.moved()
                if replay.transfer is not None and replay.transfer[0] == item.id:
                    self.change(item, replay.transfer[1])
                    replay.transfer = None
            case AgentPaused():
                assert call.kind in TIMED and decision.reason == "no_answer", decision
                assert self.presence[decision.agent] is Presence.available, decision
                self.presence[decision.agent] = Presence.paused
            case Overflowed():
                self.overflowed(decision)
            case CallbackOffered():
                assert call.kind == "arrive" and decision.item == call.args[0].id, decision
                item = self.items[decision.item]
                threshold = self.rules[item.queue].callback_offer_after_seconds
                assert item.state is ItemState.waiting and decision.queue == item.queue, decision
                assert threshold is not None and decision.predicted_wait > threshold, decision
            case Escalated():
                assert call.kind == "escalate" and index == 0, decision
                item = self.items[decision.item]
                target = self.rules[decision.to_queue]
                assert decision.from_queue == item.queue and decision.to_queue == call.args[1], decision
                assert decision.level == target.level > item.level, decision
                if item.state is ItemState.waiting:
                    self.change(item, replay.transfer[1])
                    replay.transfer = None
            case Refused():
                raise AssertionError(f"{decision}: every queue is open")
            case _:
                raise AssertionError(f"unknown decision {decision}")

    def offered(self, replay: Replay, offer: Offered) -> None:
        item = self.items.get(offer.item)
        agent_id = offer.agent
        assert item is not None, f"{offer}: unknown item"
        assert item.state is ItemState.waiting, f"{offer}: offered again while {item.state} with {item.agent}"
        assert offer.queue == item.queue, f"{offer}: the item is in {item.queue}"
        pulled = replay.call.kind == "next_item"
        assert not pulled or agent_id == replay.call.args[0], offer
        rules = self.rules[item.queue]
        ring = rules.synchronous and rules.ring_timeout_seconds > 0 and not pulled
        assert offer.expires_at == (offer.at + rules.ring_timeout_seconds if ring else None), offer
        assert self.can_take(agent_id, item.media), f"{offer}: the agent has no room for {item.media}"
        assert agent_id not in item.declined or agent_id == item.pinned, (
            f"{offer}: the agent declined or passed it on"
        )
        assert self.eligible(agent_id, item), f"{offer}: the agent is not eligible"
        if not pulled:
            assert self.pushed(item), f"{offer}: a pull item was pushed"
            # Selection: nobody who could take it is better placed (best skill, then longest idle).
            longest_idle = rules.selection is AgentSelection.longest_idle or item.pinned is not None
            mine = (0 if longest_idle else self.score(agent_id, item.queue), -self.rank[agent_id])
            for other in self.agent_ids:
                if other != agent_id and self.can_take(other, item.media) and self.eligible(other, item):
                    theirs = (0 if longest_idle else self.score(other, item.queue), -self.rank[other])
                    assert theirs < mine, (
                        f"{offer}: {other} {theirs} should be chosen before {agent_id} {mine}"
                    )
        # Order: no waiting item this agent could take now comes before this one. Exception: an agent who
        # transfers an item to themselves gets it straight back, whatever waits (see the module docstring).
        mine = self.order_key(item)
        call = replay.call
        if call.kind == "transfer" and call.args[0] == item.id and call.kwargs.get("to_agent") == agent_id:
            mine = (-math.inf, -math.inf)
        for other in self.items.values():
            if other is item or other.state is not ItemState.waiting or not (pulled or self.pushed(other)):
                continue
            if (
                self.order_key(other) < mine
                and self.can_take(agent_id, other.media)
                and self.eligible(agent_id, other)
            ):
                raise AssertionError(
                    f"{offer}: {other.id} {self.order_key(other)} waits before {item.id} {mine} "
                    f"and {agent_id} could take it"
                )
        item.state = ItemState.active if offer.expires_at is None else ItemState.offered
        item.agent, item.expires_at = agent_id, offer.expires_at
        item.accepted_at = offer.at if offer.expires_at is None else None
        item.since = self.moved()
        self.touch(agent_id)

    def overflowed(self, decision: Overflowed) -> None:
        item = self.items[decision.item]
        assert item.state is ItemState.waiting and item.pinned is None, f"{decision}: item {item.state}"
        assert decision.from_queue == item.queue, f"{decision}: the item is in {item.queue}"
        steps = self.rules[item.queue].overflow
        assert item.stage < len(steps), f"{decision}: no overflow step left"
        step = steps[item.stage]
        if step.to_queue is not None:  # stages appear in order: the next one, or stage 0 of the target
            assert (decision.to_queue, decision.stage) == (step.to_queue, 0), decision
            item.queue, item.queued_at = step.to_queue, decision.at
            item.level = max(item.level, self.rules[step.to_queue].level)
        else:
            assert (decision.to_queue, decision.stage) == (item.queue, item.stage + 1), decision
        item.stage = decision.stage
        item.since = self.moved()
        item.declined = set()

    # The state after each input -------------------------------------------------------------------------

    def check(self, *, just_advanced: bool = False) -> None:
        engine, items = self.engine, self.items
        assert set(engine.items) == set(items), "the engine's items differ from those that arrived and remain"
        held_by: dict[str, set[str]] = {a: set() for a in self.agent_ids}
        for item_id, item in items.items():
            assert engine.item_state(item_id) == (item.state, item.agent), (
                f"{item_id}: engine {engine.item_state(item_id)}, decisions say {(item.state, item.agent)}"
            )
            assert engine.queue_of(item_id) == item.queue and engine.stage_of(item_id) == item.stage, item_id
            if item.agent is not None:
                held_by[item.agent].add(item_id)
        # 1. each waiting item in exactly one waiting list (its queue's), each held item with its holder only
        places: Counter[str] = Counter()
        for queue_id in self.queue_ids:
            waiting = engine.waiting_items(queue_id)
            places.update(waiting)
            expected = [
                i for i, it in items.items() if it.state is ItemState.waiting and it.queue == queue_id
            ]
            assert sorted(waiting) == sorted(expected), f"{queue_id} waiting {waiting}, expected {expected}"
            keys = [self.order_key(items[i]) for i in waiting]
            assert keys == sorted(keys), f"{queue_id} is not in priority then age/deadline order: {waiting}"
        assert all(n == 1 for n in places.values()), f"items in several waiting lists: {places}"
        holders: Counter[str] = Counter()
        for agent_id in self.agent_ids:
            agent = engine.agents[agent_id]
            holders.update(agent.items)
            assert agent.items == held_by[agent_id], (
                f"{agent_id} holds {agent.items}, expected {held_by[agent_id]}"
            )
            assert agent.presence is self.presence[agent_id], agent_id
            # 2. capacity per media, and nothing held that another held item blocks
            load = Counter(items[i].media for i in held_by[agent_id])
            assert engine.load_of(agent_id) == dict(load), (
                f"{agent_id} load {engine.load_of(agent_id)} != {load}"
            )
            capacity = self.profiles[agent_id].capacity
            assert all(n <= capacity.get(media, 0) for media, n in load.items()), (
                f"{agent_id} over capacity {load}"
            )
            for first in held_by[agent_id]:
                for second in held_by[agent_id] - {first}:
                    blocked = self.config.blocks.get(items[first].media, frozenset())
                    assert items[second].media not in blocked, f"{agent_id} holds {first} and {second}"
            if self.presence[agent_id] is Presence.offline:
                assert not held_by[agent_id], f"{agent_id} is offline and holds {held_by[agent_id]}"
            if self.presence[agent_id] is Presence.paused:
                assert all(items[i].state is not ItemState.offered for i in held_by[agent_id]), agent_id
        assert all(n == 1 for n in holders.values()), f"items held by several agents: {holders}"
        # 3. may_take agrees with the independent model; work conservation for pushed work
        for item in items.values():
            if item.state is not ItemState.waiting:
                continue
            for agent_id in self.agent_ids:
                expected = self.can_take(agent_id, item.media) and self.eligible(agent_id, item)
                assert engine.may_take(agent_id, item.id) == expected, (
                    f"may_take({agent_id}, {item.id}) is {not expected}, the rules say {expected}"
                )
                if self.pushed(item):
                    assert not expected, f"{item.id} waits in {item.queue} while {agent_id} may take it"
        # 5. after advance(now) no overflow stage and no ring timeout is overdue
        if just_advanced:
            for item in items.values():
                if item.state is ItemState.waiting:
                    due = self.stage_due(item)
                    assert due is None or due > self.now, (
                        f"{item.id} should have overflowed at {due} ({self.now})"
                    )
                if item.state is ItemState.offered:
                    assert item.expires_at > self.now, (
                        f"{item.id}'s offer expired at {item.expires_at} ({self.now})"
                    )


# Properties --------------------------------------------------------------------------------------------

PROPERTY = settings(
    max_examples=200,
    deadline=None,
    database=None,  # pure: no files written
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@PROPERTY
@given(config=configs(), script=scripts())
def test_invariants_hold_after_every_input(config, script):
    queues, agents = config
    Runner(queues, agents).run(script)


@settings(PROPERTY, max_examples=150)
@given(config=configs(), script=scripts())
def test_invariants_hold_with_a_punctual_clock(config, script):
    """advance(now) whenever time moves, as the live dispatcher does: every timer fires when due."""
    queues, agents = config
    Runner(queues, agents, punctual=True).run(script)


@settings(PROPERTY, max_examples=120)
@given(
    config=configs(callbacks=False),  # handle-time averages are not restored, so neither are predictions
    script=scripts(max_size=50),
    cut=st.integers(0, 50),
)
def test_restored_engine_decides_like_the_live_one(config, script, cut):
    queues, agents = config
    live = Runner(queues, agents, distinct_times=True)  # timers due at once fire in the order they were set
    live.run(script[:cut])
    live.step(Advance())
    restored = live.restart().engine
    assert restored.rebalance(live.now) == [], "a restored work-conserving state has nothing to rebalance"
    for event in script[cut:]:
        call = live.resolve(event)
        if call is None or call.kind == "tick":
            live.step(event)
            continue
        try:
            expected = getattr(restored, call.method)(*call.args, **call.kwargs)
        except RoutingError as exc:
            expected = type(exc)
        actual = live.execute(call)
        if actual is None:
            assert isinstance(expected, type) and issubclass(expected, RoutingError), (call, expected)
        elif call.kind == "next_item":
            assert expected == (actual[0] if actual else None), call
        elif call.kind != "accept":
            assert expected == actual, call


@st.composite
def moves(draw: st.DrawFn) -> list[QueueRules]:
    """Queues whose overflow steps move items anywhere: another media, themselves, in loops."""
    n = draw(st.integers(1, 4))
    media = [draw(st.sampled_from(["voice", "voice", "chat"])) for _ in range(n)]
    queues = []
    for i in range(n):
        delays = sorted(draw(st.lists(st.sampled_from([0.0, 0.0, 5.0]), max_size=2)))
        steps = tuple(
            OverflowStep(delay, to_queue=draw(st.sampled_from([None, *(f"q{j}" for j in range(n))])))
            for delay in delays
        )
        queues.append(QueueRules(f"q{i}", media[i], overflow=steps))
    return queues


def instant_loop(queues: list[QueueRules]) -> bool:
    """Does some item move round a loop of queues without any time passing?"""
    first = {}  # queue -> (the queue its first move goes to, after how long); later moves never happen
    for rules in queues:
        step = next((s for s in rules.overflow if s.to_queue is not None), None)
        if step is not None:
            first[rules.id] = (step.to_queue, step.after_seconds)
    for start in first:
        path = [start]
        while path[-1] in first and first[path[-1]][0] not in path:
            path.append(first[path[-1]][0])
        if path[-1] in first:  # back to a queue already on the path: a loop
            loop = path[path.index(first[path[-1]][0]) :]
            if all(first[q][1] == 0 for q in loop):
                return True
    return False


@settings(PROPERTY, max_examples=300)
@given(queues=moves())
def test_config_refuses_instant_move_loops(queues):
    media = {q.id: q.media for q in queues}
    misplaced = any(
        s.to_queue == q.id or media[s.to_queue] != q.media for q in queues for s in q.overflow if s.to_queue
    )
    try:
        RoutingConfig(queues, [AgentProfile("a")])
    except RoutingRuleError:
        assert misplaced or instant_loop(queues), "refused a configuration that can be routed"
    else:
        assert not misplaced and not instant_loop(queues), "accepted moves that cannot be routed"


@settings(PROPERTY, max_examples=120)
@given(
    config=configs(),
    script=scripts(max_size=50),
    cut=st.integers(0, 50),
    late=st.sampled_from([0.0, 10.0, 100.0]),
)
def test_rebalance_after_a_restart_serves_the_backlog_by_priority(config, script, cut, late):
    """Nobody dispatched for a while and everyone came back: one rebalance fires what is overdue at now,
    then offers the backlog by priority to the best agents, and the engine carries on from there."""
    queues, agents = config
    live = Runner(queues, agents)
    live.run(script[:cut])
    runner = live.restart(everyone_back=True)
    runner.now += late
    runner.execute(Call("rebalance", "rebalance", (runner.now,)))
    runner.run(script[cut:])
