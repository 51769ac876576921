"""Routing rules as plain values, and their compiled form: who may take what, at which overflow stage.

Pure core: no I/O, no clock. The service builds these from the database; the simulator and the
benchmarks build them by hand. Times are seconds on any fixed epoch (the service uses Unix time).

A queue serves one *media* (the capacity a contact uses: ``voice`` for calls and callbacks, ``chat``,
``visit``, ``email``...). An agent may take an item when they are present, have free capacity for its
media (and hold nothing that blocks it: a call blocks chats), have the level, sit on an allowed site
and have the skills. Overflow steps relax the last three as the item waits, cumulatively.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final
from zoneinfo import ZoneInfo

SYNCHRONOUS_MEDIA: Final = frozenset({"voice", "chat", "visit"})
# While an agent holds one item of the key media, they are offered nothing of the value media.
DEFAULT_BLOCKS: Final[Mapping[str, frozenset[str]]] = {
    "voice": frozenset({"chat", "visit"}),
    "chat": frozenset({"voice", "visit"}),
    "visit": frozenset({"voice", "chat"}),
}
DEFAULT_CAPACITY: Final[Mapping[str, int]] = {
    "voice": 1,
    "chat": 3,
    "visit": 1,
    "email": 10,
    "webform": 10,
    "letter": 10,
    "sms": 5,
    "whatsapp": 5,
    "social": 5,
}


def media_of(channel: str) -> str:
    """The capacity a channel's contact uses: a callback is a phone call."""
    return "voice" if channel == "callback" else channel


class RoutingRuleError(ValueError):
    """Rules that cannot be routed (an overflow to a queue that does not exist, a negative delay...)."""


class AgentSelection(StrEnum):
    best_skill = "best_skill"  # highest skill level on the queue's skills, then longest idle
    longest_idle = "longest_idle"  # whoever has waited longest for work, skills aside


class Delivery(StrEnum):
    push = "push"  # the engine offers items to agents as soon as one can take them
    pull = "pull"  # items wait until an agent asks for their next item (asynchronous work only)


class OrderBy(StrEnum):
    age = "age"  # oldest arrival first
    sla = "sla"  # nearest SLA deadline first (items without one fall back to arrival)


class ClosedBehaviour(StrEnum):
    wait = "wait"  # keep the item; it is served when an agent can take it
    reject = "reject"  # refuse it (the channel plays or sends the closed message)
    callback = "callback"  # refuse it and offer a callback
    overflow = "overflow"  # send it to ``closed_queue``


@dataclass(frozen=True, slots=True)
class SkillRequirement:
    skill: str
    min_level: int = 1


@dataclass(frozen=True, slots=True)
class OverflowStep:
    """What changes once an item has waited ``after_seconds`` in its queue."""

    after_seconds: float
    min_skill_level: int | None = None  # accept agents from this level on the queue's skills
    any_skill: bool = False  # generalists: any agent with the media and the level
    add_sites: frozenset[str] = frozenset()  # e.g. open the partner site
    to_queue: str | None = None  # move the item; its clock restarts there


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """Weekly opening ranges in a time zone; minutes since midnight, Monday = 0. Empty = always open."""

    weekly: Mapping[int, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    timezone: str = "Europe/Paris"
    closed_dates: frozenset[str] = frozenset()  # ISO dates (holidays) in the queue's time zone

    def is_open(self, now: float) -> bool:
        if not self.weekly and not self.closed_dates:
            return True
        local = datetime.fromtimestamp(now, UTC).astimezone(ZoneInfo(self.timezone))
        if local.date().isoformat() in self.closed_dates:
            return False
        if not self.weekly:
            return True
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.weekly.get(local.weekday(), ()))


@dataclass(frozen=True, slots=True)
class QueueRules:
    id: str
    media: str
    level: int = 1
    priority: int = 0
    skills: tuple[SkillRequirement, ...] = ()
    sites: frozenset[str] | None = None  # None: every site
    overflow: tuple[OverflowStep, ...] = ()
    selection: AgentSelection = AgentSelection.best_skill
    delivery: Delivery = Delivery.push
    order_by: OrderBy = OrderBy.age
    ring_timeout_seconds: float = 20.0  # synchronous media: an offer not accepted by then is withdrawn
    callback_offer_after_seconds: float | None = None  # offer a callback when the predicted wait exceeds
    default_handle_seconds: float = 300.0  # the handle time assumed before any item has been measured
    hours: OpeningHours | None = None
    closed_behaviour: ClosedBehaviour = ClosedBehaviour.wait
    closed_queue: str | None = None

    @property
    def synchronous(self) -> bool:
        return self.media in SYNCHRONOUS_MEDIA


@dataclass(frozen=True, slots=True)
class AgentProfile:
    id: str
    skills: Mapping[str, int] = field(default_factory=dict)
    site: str | None = None
    level: int = 1
    capacity: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_CAPACITY))
    # Motifs this agent may be given (an outsourced site handles only some); None: every motif.
    motifs: frozenset[str] | None = None


@dataclass(slots=True)
class CompiledQueue:
    rules: QueueRules
    # stage -> {agent id: score}; the score is the agent's lowest level on the queue's skills
    eligible: list[dict[str, int]]
    # stage -> [(score, [agent ids])] best score first, for searching when many agents are free
    tiers: list[list[tuple[int, list[str]]]]
    best_score: list[int]  # stage -> the highest score present (a search can stop when it meets it)
    stage_due: list[float]  # stage s -> seconds after entering the queue at which stage s+1 starts
    restricted: bool = False  # some eligible agent takes only some motifs: items with a motif need a check


class RoutingConfig:
    """Queues and agents compiled once (they change rarely); the engine's hot path only reads this."""

    def __init__(
        self,
        queues: Iterable[QueueRules],
        agents: Iterable[AgentProfile],
        *,
        blocks: Mapping[str, frozenset[str]] = DEFAULT_BLOCKS,
    ) -> None:
        self.queues: dict[str, CompiledQueue] = {}
        self.agents: dict[str, AgentProfile] = {a.id: a for a in agents}
        self.blocks = blocks
        queue_rules = list(queues)
        known = {q.id for q in queue_rules}
        for rules in queue_rules:
            _check_queue(rules, known)
        _check_moves(queue_rules)
        by_skill: dict[str, list[AgentProfile]] = {}
        for agent in self.agents.values():
            for skill in agent.skills:
                by_skill.setdefault(skill, []).append(agent)
        for rules in queue_rules:
            self.queues[rules.id] = _compile_queue(rules, self.agents, by_skill)
        # agent -> media -> {queue id: lowest stage at which the agent is eligible}
        self.agent_queues: dict[str, dict[str, dict[str, int]]] = {a: {} for a in self.agents}
        for queue in self.queues.values():
            first_stage: dict[str, int] = {}
            for stage, eligible in enumerate(queue.eligible):
                for agent_id in eligible:
                    first_stage.setdefault(agent_id, stage)
            for agent_id, stage in first_stage.items():
                self.agent_queues[agent_id].setdefault(queue.rules.media, {})[queue.rules.id] = stage


def _check_queue(rules: QueueRules, known: set[str]) -> None:
    if rules.level < 1:
        raise RoutingRuleError(f"queue {rules.id}: level must be at least 1")
    if rules.ring_timeout_seconds < 0 or rules.default_handle_seconds <= 0:
        raise RoutingRuleError(f"queue {rules.id}: timeouts and handle times must be positive")
    previous = 0.0
    for step in rules.overflow:
        if not math.isfinite(step.after_seconds) or step.after_seconds < previous:
            raise RoutingRuleError(f"queue {rules.id}: overflow delays must be finite and increasing")
        previous = step.after_seconds
        if step.to_queue is not None and step.to_queue not in known:
            raise RoutingRuleError(f"queue {rules.id}: overflow to unknown queue {step.to_queue}")
    if rules.closed_behaviour is ClosedBehaviour.overflow and rules.closed_queue not in known:
        raise RoutingRuleError(f"queue {rules.id}: closed overflow needs an existing closed_queue")


def _check_moves(queues: list[QueueRules]) -> None:
    """Overflow and closed-queue moves must stay within one media and never loop without time passing."""
    by_id = {q.id: q for q in queues}
    moves: dict[str, tuple[str, float]] = {}  # queue -> (where an item goes, after how long)
    for rules in queues:
        targets = [(s.to_queue, s.after_seconds) for s in rules.overflow if s.to_queue is not None]
        if rules.closed_queue is not None and rules.closed_behaviour is ClosedBehaviour.overflow:
            targets.append((rules.closed_queue, math.inf))
        for target, _ in targets:
            if target == rules.id or by_id[target].media != rules.media:
                raise RoutingRuleError(f"queue {rules.id}: overflow to {target} must be another queue of {rules.media}")
        first = next(((t, d) for t, d in targets if d != math.inf), None)
        if first is not None:
            moves[rules.id] = first
    for start in moves:
        seen, here, elapsed = {start}, start, 0.0
        while here in moves:
            here, delay = moves[here]
            elapsed += delay
            if here in seen:
                if elapsed == 0:
                    raise RoutingRuleError(f"queue {start}: overflow moves loop back with no delay")
                break
            seen.add(here)


def _compile_queue(
    rules: QueueRules, agents: Mapping[str, AgentProfile], by_skill: Mapping[str, list[AgentProfile]]
) -> CompiledQueue:
    # Candidates: the holders of the rarest required skill, unless some stage accepts generalists.
    generalists = any(step.any_skill for step in rules.overflow)
    if rules.skills and not generalists:
        rarest = min(rules.skills, key=lambda req: len(by_skill.get(req.skill, ())))
        candidates: Iterable[AgentProfile] = by_skill.get(rarest.skill, ())
    else:
        candidates = agents.values()
    candidates = [a for a in candidates if a.capacity.get(rules.media, 0) > 0 and a.level >= rules.level]
    eligible: list[dict[str, int]] = []
    min_override: int | None = None
    any_skill = False
    sites = rules.sites
    steps = (None, *rules.overflow)
    for step in steps:
        if step is not None:
            if step.min_skill_level is not None:
                min_override = step.min_skill_level
            any_skill = any_skill or step.any_skill
            if sites is not None:
                sites = sites | step.add_sites
        stage: dict[str, int] = {}
        for agent in candidates:
            if sites is not None and agent.site not in sites:
                continue
            score = min((agent.skills.get(req.skill, 0) for req in rules.skills), default=0)
            if not any_skill and not all(
                agent.skills.get(req.skill, 0) >= (req.min_level if min_override is None else min_override)
                and agent.skills.get(req.skill, 0) > 0
                for req in rules.skills
            ):
                continue
            stage[agent.id] = score
        eligible.append(stage)
    tiers = []
    best = []
    for stage in eligible:
        by_score: dict[int, list[str]] = {}
        for agent_id, score in stage.items():
            by_score.setdefault(score, []).append(agent_id)
        tiers.append(sorted(by_score.items(), reverse=True))
        best.append(max(by_score, default=0))
    due = [step.after_seconds for step in rules.overflow]
    restricted = any(agents[a].motifs is not None for stage in eligible for a in stage)
    return CompiledQueue(rules=rules, eligible=eligible, tiers=tiers, best_score=best, stage_due=due,
                         restricted=restricted)
