"""The routing engine: which agent gets which item, and when. Pure, deterministic, ``now`` passed in.

The same engine routes live (the service restores it from the database for each dispatch pass) and
in the simulator (which keeps one engine for a whole simulated day). Every input returns the decisions
it caused; nothing else changes the world.

Policy. Items are served by priority (queue priority + item priority), then by age or SLA deadline.
An item goes to the eligible agent with the best skill level on its queue's skills, then the one who
has waited longest for work (or longest idle only, per queue). Synchronous items are offered and must
be accepted within the ring timeout; asynchronous items are pushed into the agent's work when capacity
allows, or wait to be pulled (``next_item``) in pull queues.

Invariants (checked by property tests): an item is held by at most one agent; an agent never holds
more than their capacity per media, nor anything their current work blocks; the engine is
work-conserving: after any input, no push item waits while an agent who may take it is free.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left, insort
from collections.abc import Iterable

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
    StaleDecision,
    UnknownAgent,
    UnknownItem,
    UnknownQueue,
    WorkItem,
)
from accueil.routing.rules import (
    AgentSelection,
    ClosedBehaviour,
    CompiledQueue,
    Delivery,
    OrderBy,
    RoutingConfig,
)

_HANDLE_SMOOTHING = 0.1  # weight of the newest handle time in a queue's moving average
_STAGE, _RING = 0, 1  # timer kinds


# State ------------------------------------------------------------------------------------------------


class _Item:
    __slots__ = (
        "id", "queue", "media", "priority", "level", "skills", "arrived_at", "sla_due", "queued_at",
        "stage", "state", "agent", "declined", "pinned", "key", "timer", "accepted_at", "motif",
    )  # fmt: skip

    def __init__(self, item: WorkItem, queue: CompiledQueue, now: float) -> None:
        self.id = item.id
        self.queue = item.queue
        self.media = queue.rules.media
        self.priority = item.priority
        self.level = queue.rules.level if item.level is None else item.level
        self.skills = item.skills
        self.arrived_at = item.arrived_at
        self.sla_due = item.sla_due
        self.queued_at = now
        self.stage = 0
        self.state = ItemState.waiting
        self.agent: str | None = None
        self.declined: set[str] | None = None
        self.pinned: str | None = None
        self.key: tuple = ()
        self.timer = 0  # version: a timer for an older version is ignored
        self.accepted_at: float | None = None
        self.motif = item.motif


class _Agent:
    __slots__ = ("id", "profile", "presence", "reason", "load", "blocked", "rank", "items", "lines")

    def __init__(self, agent_id: str, profile) -> None:
        self.id = agent_id
        self.profile = profile
        self.presence = Presence.offline
        self.reason: str | None = None
        self.load: dict[str, int] = {}
        self.blocked: dict[str, int] = {}
        self.rank = 0  # order in which agents became ready: lower = waiting longer for work
        self.items: set[str] = set()
        self.lines: tuple[tuple[str, int, dict[str, None]], ...] = ()  # (media, capacity, free line)


class RoutingEngine:
    def __init__(self, config: RoutingConfig) -> None:
        self.config = config
        self.items: dict[str, _Item] = {}
        self.agents: dict[str, _Agent] = {a: _Agent(a, p) for a, p in config.agents.items()}
        self.waiting: dict[str, list[tuple]] = {q: [] for q in config.queues}
        self.stage_counts: dict[str, list[int]] = {q: [0] * len(c.eligible) for q, c in config.queues.items()}
        # media -> queues with push items waiting; media -> agents who may take one more, oldest first
        self.busy_queues: dict[str, dict[str, None]] = {}
        self.free: dict[str, dict[str, None]] = {
            media: {} for profile in config.agents.values() for media in profile.capacity
        }
        for agent in self.agents.values():
            agent.lines = tuple((m, cap, self.free[m]) for m, cap in agent.profile.capacity.items())
        self.pinned: dict[str, dict[str, None]] = {}  # agent -> items transferred to them, waiting
        self._blocks = {media: tuple(blocked) for media, blocked in config.blocks.items()}
        self.handle_time: dict[str, float] = {
            q: c.rules.default_handle_seconds for q, c in config.queues.items()
        }
        self._timers: list[tuple[float, int, int, str, int]] = []
        # The latest moment the engine was told about: a timer found overdue fires then, never in the past.
        self.clock = -math.inf
        self._holding = False
        self._seq = 0
        self.decisions = 0  # assignments made, for benchmarks

    # Inputs --------------------------------------------------------------------------------------------

    def item_arrived(self, item: WorkItem, now: float) -> list[Decision]:
        self._tick(now)
        queue = self._queue(item.queue)
        if item.id in self.items:
            return []  # a second delivery of the same item changes nothing
        out: list[Decision] = []
        hours = queue.rules.hours
        if hours is not None and not hours.is_open(now):
            behaviour = queue.rules.closed_behaviour
            if behaviour in (ClosedBehaviour.reject, ClosedBehaviour.callback):
                return [Refused(item.id, item.queue, behaviour, now)]
            if behaviour is ClosedBehaviour.overflow:
                target = self._queue(queue.rules.closed_queue or "")
                out.append(Overflowed(item.id, item.queue, target.rules.id, 0, now))
                queue = target
        state = _Item(item, queue, now)
        state.queue = queue.rules.id
        self.items[item.id] = state
        self._route_item(state, now, out)
        threshold = queue.rules.callback_offer_after_seconds
        if threshold is not None and state.state is ItemState.waiting:
            wait = self.predicted_wait(state.queue, now, ahead=self._position(state))
            if wait > threshold:
                out.append(CallbackOffered(item.id, state.queue, wait, now))
        return out

    def set_presence(
        self, agent_id: str, presence: Presence, now: float, reason: str | None = None
    ) -> list[Decision]:
        self._tick(now)
        out: list[Decision] = []
        self._set_presence(self._agent(agent_id), Presence(presence), now, reason, out)
        return out

    def _set_presence(
        self, agent: _Agent, presence: Presence, now: float, reason: str | None, out: list[Decision],
        also_route: tuple[_Item, ...] = (),
    ) -> None:
        previous = agent.presence
        agent.presence = presence
        agent.reason = reason if presence is Presence.paused else None
        if presence is Presence.available:
            if previous is not Presence.available:
                self._requeue_agent(agent)
            else:
                self._refresh(agent)
            self._fill(agent, now, out)
            return
        withdraw = [i for i in agent.items if self.items[i].state is ItemState.offered]
        if presence is Presence.offline:
            withdraw = list(agent.items)
        cause = "agent_paused" if presence is Presence.paused else "agent_offline"
        requeued = list(also_route)
        for item_id in sorted(withdraw):
            item = self.items[item_id]
            if item.state is ItemState.wrapup:
                self._release(item)
                del self.items[item_id]
            else:
                self._requeue(item, cause, now, out)
                requeued.append(item)
        self._refresh(agent)
        # Everything withdrawn goes back by priority and age, as if it had waited in the queue.
        for item in sorted(requeued, key=self._ensure_key):
            if item.state is ItemState.waiting and item.id in self.items:
                self._route_item(item, now, out)

    def accept(self, item_id: str, agent_id: str, now: float) -> None:
        item = self._item_at(item_id, now)
        if item.state is not ItemState.offered or item.agent != agent_id:
            raise StaleDecision(f"item {item_id} is not offered to {agent_id}")
        item.state = ItemState.active
        item.accepted_at = now
        item.timer += 1

    def decline(self, item_id: str, agent_id: str, now: float) -> list[Decision]:
        item = self._item_at(item_id, now)
        if item.state is not ItemState.offered or item.agent != agent_id:
            raise StaleDecision(f"item {item_id} is not offered to {agent_id}")
        out: list[Decision] = []
        if item.declined is None:
            item.declined = set()
        item.declined.add(agent_id)
        if item.pinned == agent_id:
            item.pinned = None  # transferred to them and refused: back to its queue for anyone
        self._requeue(item, "declined", now, out)
        self._route_item(item, now, out)
        self._fill(self.agents[agent_id], now, out)
        return out

    def end(self, item_id: str, now: float, *, wrapup: bool = False) -> list[Decision]:
        """The contact ended: abandoned while waiting or ringing, or handled (then maybe wrap-up)."""
        item = self._item_at(item_id, now)
        out: list[Decision] = []
        if item.state is ItemState.waiting:
            self._unqueue(item)
            del self.items[item_id]
            return out
        if item.state is ItemState.wrapup:
            raise StaleDecision(f"item {item_id} has already ended")
        if item.state is ItemState.active and wrapup:
            item.state = ItemState.wrapup
            return out
        self._finish(item, now, out)
        return out

    def end_wrapup(self, item_id: str, now: float) -> list[Decision]:
        item = self._item_at(item_id, now)
        if item.state is not ItemState.wrapup:
            raise StaleDecision(f"item {item_id} is not in wrap-up")
        out: list[Decision] = []
        self._finish(item, now, out)
        return out

    def transfer(
        self, item_id: str, now: float, *, to_queue: str | None = None, to_agent: str | None = None
    ) -> list[Decision]:
        """Send an item to another queue (its clock restarts there) or to one named agent."""
        item = self._item_at(item_id, now)
        if (to_queue is None) == (to_agent is None):
            raise RoutingError("transfer to exactly one of a queue or an agent")
        if item.state is ItemState.wrapup:
            raise StaleDecision(f"item {item_id} has already ended")
        target_queue = self._queue(to_queue) if to_queue is not None else self.config.queues[item.queue]
        if target_queue.rules.media != item.media:
            raise RoutingError(
                f"queue {target_queue.rules.id} serves {target_queue.rules.media}, not {item.media}"
            )
        if to_agent is not None and self._agent(to_agent).profile.capacity.get(item.media, 0) <= 0:
            raise RoutingError(f"agent {to_agent} takes no {item.media}")
        out: list[Decision] = []
        previous = None
        if item.state is ItemState.waiting:
            self._unqueue(item)
        else:
            previous = self._release(item)
            out.append(Requeued(item.id, previous.id, item.queue, "transferred", now))
            item.state = ItemState.waiting
        if to_queue is not None:
            item.queue = to_queue
            item.level = target_queue.rules.level
            item.pinned = None
        else:
            item.pinned = to_agent
        item.queued_at = now
        item.stage = 0
        # Whoever passed it on does not get it straight back (unless they named themselves).
        item.declined = {previous.id} if previous is not None else None
        self._route_item(item, now, out)
        if previous is not None:
            self._fill(previous, now, out)
        return out

    def escalate(self, item_id: str, to_queue: str, now: float) -> list[Decision]:
        item = self._item_at(item_id, now)
        target = self._queue(to_queue)
        if target.rules.level <= item.level:
            raise RoutingError(f"queue {to_queue} is not above level {item.level}")
        origin = item.queue
        out: list[Decision] = [Escalated(item.id, origin, to_queue, target.rules.level, now)]
        out.extend(self.transfer(item_id, now, to_queue=to_queue))
        return out

    def next_item(self, agent_id: str, now: float) -> Offered | None:
        """The agent asks for their next item (pull); includes pull queues. None when nothing fits."""
        self._tick(now)
        agent = self._agent(agent_id)
        if agent.presence is not Presence.available:
            raise RoutingError(f"agent {agent_id} is not available")
        found = self._find_item(agent, include_pull=True)
        if found is None:
            return None
        item = self.items[found]
        self._unqueue(item)
        return self._assign(item, agent, now, pulled=True)

    def advance(self, now: float) -> list[Decision]:
        """Fire every timer due by ``now`` (overflow stages, ring timeouts) in time order."""
        out: list[Decision] = []
        self._fire_due(now, out)
        self._tick(now)
        return out

    def _fire_due(self, now: float, out: list[Decision]) -> None:
        timers = self._timers
        while timers and timers[0][0] <= now:
            due, _, kind, item_id, version = heapq.heappop(timers)
            item = self.items.get(item_id)
            if item is None or item.timer != version:
                continue
            at = max(due, self.clock)  # overdue (restored state, or held past its stage): fire now
            self.clock = at
            if kind == _STAGE and item.state is ItemState.waiting:
                self._next_stage(item, at, out)
            elif kind == _RING and item.state is ItemState.offered:
                agent = self.agents[item.agent]
                self._requeue(item, "no_answer", at, out)
                out.append(AgentPaused(agent.id, "no_answer", at))
                self._set_presence(agent, Presence.paused, at, "no_answer", out, also_route=(item,))

    def next_timer(self) -> float | None:
        while self._timers:
            due, _, _, item_id, version = self._timers[0]
            item = self.items.get(item_id)
            if item is not None and item.timer == version:
                return due
            heapq.heappop(self._timers)
        return None

    # Live view -------------------------------------------------------------------------------------------

    def predicted_wait(self, queue_id: str, now: float, *, ahead: int | None = None) -> float:
        """Expected wait of a newcomer behind ``ahead`` items (default: everyone waiting in the queue).

        Position-based estimate: (ahead + 1) x average handle time / agents serving the queue, where an
        agent shared by several queues with work waiting counts for a share of each. The agents are those
        eligible from arrival (or from the first overflow stage that has any), present and not paused.
        """
        queue = self._queue(queue_id)
        media = queue.rules.media
        if ahead is None:
            ahead = len(self.waiting[queue_id])
        eligible = next((stage for stage in queue.eligible if stage), {})
        servers = 0.0
        free_slots = 0
        busy = self.busy_queues.get(media, {})
        busy_keys = busy.keys()
        this_busy = queue_id in busy  # the agents serve this queue: it is in their set, not "another" one
        free = self.free.get(media, {})
        agents, agent_queues = self.agents, self.config.agent_queues
        for agent_id in eligible:
            agent = agents[agent_id]
            if agent.presence is not Presence.available:
                continue
            capacity = agent.profile.capacity.get(media, 0)
            if agent_id in free:
                free_slots += capacity - agent.load.get(media, 0)
            serves = agent_queues[agent_id].get(media, {})
            # 1 + the other queues with work waiting that this agent also serves (a set intersection in C)
            shared = 1 + len(busy_keys & serves.keys()) - (this_busy and queue_id in serves)
            servers += capacity / shared
        if ahead < free_slots:
            return 0.0
        if servers == 0:
            return math.inf
        return (ahead + 1 - free_slots) * self.handle_time[queue_id] / servers

    def item_state(self, item_id: str) -> tuple[ItemState, str | None] | None:
        item = self.items.get(item_id)
        return None if item is None else (item.state, item.agent)

    def waiting_items(self, queue_id: str) -> list[str]:
        return [key[-1] for key in self.waiting[self._queue(queue_id).rules.id]]

    def queue_of(self, item_id: str) -> str:
        return self._item(item_id).queue

    def stage_of(self, item_id: str) -> int:
        return self._item(item_id).stage

    def load_of(self, agent_id: str) -> dict[str, int]:
        return {m: n for m, n in self._agent(agent_id).load.items() if n}

    def may_take(self, agent_id: str, item_id: str) -> bool:
        """Could this agent be given this waiting item right now (presence, capacity, eligibility)?"""
        agent = self._agent(agent_id)
        item = self._item(item_id)
        return self._is_free(agent, item.media) and self._eligible(agent, item) is not None

    # Restoring from storage ------------------------------------------------------------------------------

    def restore_agent(self, agent_id: str, presence: Presence, reason: str | None = None) -> None:
        """Load an agent as stored (call in order of their ready time: the oldest ready first)."""
        agent = self._agent(agent_id)
        agent.presence = Presence(presence)
        agent.reason = reason
        self._requeue_agent(agent)

    def restore_item(
        self,
        item: WorkItem,
        *,
        queued_at: float,
        stage: int = 0,
        state: ItemState = ItemState.waiting,
        agent: str | None = None,
        offer_expires_at: float | None = None,
        accepted_at: float | None = None,
        declined: Iterable[str] = (),
        pinned: str | None = None,
    ) -> None:
        """Load an item as stored, without routing it (``rebalance`` does that once all is loaded)."""
        queue = self._queue(item.queue)
        state_obj = _Item(item, queue, queued_at)
        state_obj.stage = min(stage, len(queue.eligible) - 1)
        state_obj.declined = set(declined) or None
        state_obj.pinned = pinned
        state_obj.accepted_at = accepted_at
        self.items[item.id] = state_obj
        if state is ItemState.waiting:
            self._enqueue(state_obj)
            return
        holder = self._agent(agent or "")
        state_obj.state = ItemState(state)
        self._hold(state_obj, holder)
        self._refresh(holder)
        if state is ItemState.offered and offer_expires_at is not None:
            self._timer(offer_expires_at, _RING, state_obj)

    def rebalance(self, now: float) -> list[Decision]:
        """Fire due timers, then offer every waiting push item that a free agent may take (by priority).

        Restored state is seen at ``now``: timers that fell due before fire now, not in the past.
        """
        self._tick(now)
        self._holding = True  # overdue timers only move items; then the whole backlog is served by priority
        try:
            out = self.advance(now)
        finally:
            self._holding = False
        pending = sorted(  # push work, and work transferred to a named agent (pushed to them even in pull queues)
            (key for queue_id, keys in self.waiting.items() for key in keys
             if self.config.queues[queue_id].rules.delivery is Delivery.push
             or self.items[key[-1]].pinned is not None),
        )  # fmt: skip
        for key in pending:
            item = self.items.get(key[-1])
            if item is not None and item.state is ItemState.waiting:
                agent_id = self._find_agent(item)
                if agent_id is not None:
                    self._unqueue(item)
                    out.append(self._assign(item, self.agents[agent_id], now))
        return out

    # Internals -------------------------------------------------------------------------------------------

    def _queue(self, queue_id: str) -> CompiledQueue:
        try:
            return self.config.queues[queue_id]
        except KeyError:
            raise UnknownQueue(f"unknown queue {queue_id!r}") from None

    def _agent(self, agent_id: str) -> _Agent:
        try:
            return self.agents[agent_id]
        except KeyError:
            raise UnknownAgent(f"unknown agent {agent_id!r}") from None

    def _item(self, item_id: str) -> _Item:
        try:
            return self.items[item_id]
        except KeyError:
            raise UnknownItem(f"unknown item {item_id!r}") from None

    def _item_at(self, item_id: str, now: float) -> _Item:
        """An input about an item: the clock moves to ``now`` and the item must exist."""
        if now > self.clock:
            self.clock = now
        item = self.items.get(item_id)
        if item is None:
            raise UnknownItem(f"unknown item {item_id!r}")
        return item

    def _tick(self, now: float) -> None:
        if now > self.clock:
            self.clock = now

    def _ensure_key(self, item: _Item) -> tuple:
        """The item's place in its queue: priority, then age or SLA; kept when it is re-queued."""
        if not item.key or item.key[-2] != item.queue:
            rules = self.config.queues[item.queue].rules
            order = item.sla_due if rules.order_by is OrderBy.sla and item.sla_due is not None else item.arrived_at
            self._seq += 1
            item.key = (-(rules.priority + item.priority), order, self._seq, item.queue, item.id)
        return item.key

    def _timer(self, due: float, kind: int, item: _Item) -> None:
        self._seq += 1
        heapq.heappush(self._timers, (due, self._seq, kind, item.id, item.timer))

    def _position(self, item: _Item) -> int:
        return bisect_left(self.waiting[item.queue], item.key)

    def _enqueue(self, item: _Item) -> None:
        queue = self.config.queues[item.queue]
        rules = queue.rules
        item.state = ItemState.waiting
        item.agent = None
        self._ensure_key(item)
        insort(self.waiting[item.queue], item.key)
        if item.pinned is not None:
            self.pinned.setdefault(item.pinned, {})[item.id] = None
        self.stage_counts[item.queue][item.stage] += 1
        if rules.delivery is Delivery.push:
            self.busy_queues.setdefault(item.media, {})[item.queue] = None
        item.timer += 1
        if item.stage < len(queue.stage_due) and item.pinned is None:
            self._timer(item.queued_at + queue.stage_due[item.stage], _STAGE, item)

    def _unqueue(self, item: _Item) -> None:
        keys = self.waiting[item.queue]
        del keys[bisect_left(keys, item.key)]
        if item.pinned is not None:
            self.pinned[item.pinned].pop(item.id, None)
        self.stage_counts[item.queue][item.stage] -= 1
        if not keys:
            self.busy_queues.get(item.media, {}).pop(item.queue, None)
        item.timer += 1

    def _next_stage(self, item: _Item, at: float, out: list[Decision]) -> None:
        queue = self.config.queues[item.queue]
        step = queue.rules.overflow[item.stage]
        self._unqueue(item)
        origin = item.queue
        if step.to_queue is not None:
            item.queue = step.to_queue
            item.level = max(item.level, self.config.queues[step.to_queue].rules.level)
            item.stage = 0
            item.queued_at = at
        else:
            item.stage += 1
        item.declined = None
        out.append(Overflowed(item.id, origin, item.queue, item.stage, at))
        self._route_item(item, at, out)

    def _route_item(self, item: _Item, now: float, out: list[Decision]) -> None:
        if self._holding:
            self._enqueue(item)
            return
        pull = self.config.queues[item.queue].rules.delivery is Delivery.pull and item.pinned is None
        agent_id = None if pull else self._find_agent(item)
        if agent_id is None:
            self._enqueue(item)
        else:
            out.append(self._assign(item, self.agents[agent_id], now))

    def _eligible(self, agent: _Agent, item: _Item) -> int | None:
        if item.pinned is not None:
            return 0 if agent.id == item.pinned else None
        score = self.config.queues[item.queue].eligible[item.stage].get(agent.id)
        if score is None or agent.profile.level < item.level:
            return None
        if item.skills:
            skills = agent.profile.skills
            if not all(skills.get(r.skill, 0) >= r.min_level for r in item.skills):
                return None
        if item.declined and agent.id in item.declined:
            return None
        motifs = agent.profile.motifs
        if motifs is not None and item.motif is not None and item.motif not in motifs:
            return None
        return score

    def _find_agent(self, item: _Item) -> str | None:
        free = self.free.get(item.media)
        if not free:
            return None
        if item.pinned is not None:
            return item.pinned if item.pinned in free else None
        queue = self.config.queues[item.queue]
        stage = item.stage
        eligible = queue.eligible[stage]
        longest_idle = queue.rules.selection is AgentSelection.longest_idle
        agents = self.agents
        # Items that need nothing beyond the queue's rules (the usual case) skip the per-agent checks.
        plain = (not item.skills and not item.declined and item.level <= queue.rules.level
                 and (item.motif is None or not queue.restricted))
        if len(free) <= len(eligible):
            if plain:  # scanned in C: max() keeps the first, so the longest idle, of the best scores
                candidates = filter(eligible.__contains__, free)
                if longest_idle:
                    return next(candidates, None)
                return max(candidates, key=eligible.__getitem__, default=None)
            best, best_score, target = None, -1, queue.best_score[stage]
            for agent_id in free:  # oldest ready first
                score = eligible.get(agent_id)
                if score is None or (not plain and self._eligible(agents[agent_id], item) is None):
                    continue
                if longest_idle or score >= target:
                    return agent_id
                if score > best_score:
                    best, best_score = agent_id, score
            return best
        tiers = [(0, eligible)] if longest_idle else queue.tiers[stage]
        for _, members in tiers:
            if plain:
                present = list(filter(free.__contains__, members))
                if present:
                    return present[0] if len(present) == 1 else min(present, key=lambda a: agents[a].rank)
                continue
            best, best_rank = None, math.inf
            for agent_id in members:
                if agent_id in free:
                    agent = agents[agent_id]
                    if agent.rank < best_rank and (plain or self._eligible(agent, item) is not None):
                        best, best_rank = agent_id, agent.rank
            if best is not None:
                return best
        return None

    def _find_item(self, agent: _Agent, include_pull: bool = False) -> str | None:
        best: tuple | None = None
        pinned = self.pinned.get(agent.id)
        if pinned:
            for item_id in pinned:
                item = self.items[item_id]
                if self._is_free(agent, item.media) and (best is None or item.key < best):
                    best = item.key
        if agent.presence is not Presence.available:
            return None if best is None else best[-1]
        load, blocked, capacity = agent.load, agent.blocked, agent.profile.capacity
        waiting, items, stage_counts = self.waiting, self.items, self.stage_counts
        for media, stages in self.config.agent_queues[agent.id].items():
            busy = self.busy_queues.get(media)
            if (not busy and not include_pull) or blocked.get(media) or load.get(media, 0) >= capacity[media]:
                continue
            # Walk the smaller of (queues with push work waiting, queues the agent serves).
            walk, other = (stages, busy) if include_pull or len(stages) <= len(busy) else (busy, stages)
            for queue_id in walk:
                if not include_pull and queue_id not in other:
                    continue
                keys = waiting[queue_id]
                if not keys:
                    continue
                min_stage = stages[queue_id]
                if min_stage and not any(stage_counts[queue_id][min_stage:]):
                    continue
                for key in keys:
                    if best is not None and key >= best:
                        break
                    if self._eligible(agent, items[key[-1]]) is not None:
                        best = key
                        break
        return None if best is None else best[-1]

    def _fill(self, agent: _Agent, now: float, out: list[Decision]) -> None:
        while agent.presence is Presence.available:
            item_id = self._find_item(agent)
            if item_id is None:
                return
            item = self.items[item_id]
            self._unqueue(item)
            out.append(self._assign(item, agent, now))

    def _assign(self, item: _Item, agent: _Agent, now: float, pulled: bool = False) -> Offered:
        rules = self.config.queues[item.queue].rules
        ring = rules.synchronous and rules.ring_timeout_seconds > 0 and not pulled
        item.state = ItemState.offered if ring else ItemState.active
        item.accepted_at = None if ring else now
        self._hold(item, agent)
        self._requeue_agent(agent)
        self.decisions += 1
        expires = now + rules.ring_timeout_seconds if ring else None
        if expires is not None:
            self._timer(expires, _RING, item)
        return Offered(item.id, agent.id, item.queue, now, expires)

    def _hold(self, item: _Item, agent: _Agent) -> None:
        item.agent = agent.id
        item.timer += 1
        agent.items.add(item.id)
        agent.load[item.media] = agent.load.get(item.media, 0) + 1
        blocked = agent.blocked
        for media in self._blocks.get(item.media, ()):
            blocked[media] = blocked.get(media, 0) + 1

    def _finish(self, item: _Item, now: float, out: list[Decision]) -> None:
        if item.accepted_at is not None:  # the queue's moving average of handle time
            previous = self.handle_time[item.queue]
            self.handle_time[item.queue] = previous + _HANDLE_SMOOTHING * (now - item.accepted_at - previous)
        agent = self._release(item)
        del self.items[item.id]
        self._fill(agent, now, out)

    def _release(self, item: _Item) -> _Agent:
        agent = self.agents[item.agent]
        agent.items.discard(item.id)
        agent.load[item.media] -= 1
        blocked = agent.blocked
        for media in self._blocks.get(item.media, ()):
            blocked[media] -= 1
        item.agent = None
        item.timer += 1
        self._requeue_agent(agent)
        return agent

    def _requeue(self, item: _Item, reason: str, now: float, out: list[Decision]) -> None:
        agent = self._release(item)
        out.append(Requeued(item.id, agent.id, item.queue, reason, now))
        item.state = ItemState.waiting
        item.accepted_at = None

    def _is_free(self, agent: _Agent, media: str) -> bool:
        return (
            agent.presence is Presence.available
            and agent.load.get(media, 0) < agent.profile.capacity.get(media, 0)
            and not agent.blocked.get(media, 0)
        )

    def _requeue_agent(self, agent: _Agent) -> None:
        """The agent just got or finished work, or came back: to the back of the idle line of each media
        they may take now (and out of the others)."""
        self._seq += 1
        agent.rank = self._seq
        agent_id = agent.id
        available = agent.presence is Presence.available
        load, blocked = agent.load, agent.blocked
        for media, capacity, free in agent.lines:
            free.pop(agent_id, None)
            if available and load.get(media, 0) < capacity and not blocked.get(media, 0):
                free[agent_id] = None

    def _refresh(self, agent: _Agent) -> None:
        """Put the agent in (or take them out of) the free line of each of their media."""
        agent_id = agent.id
        available = agent.presence is Presence.available
        load, blocked = agent.load, agent.blocked
        for media, capacity, free in agent.lines:
            if available and load.get(media, 0) < capacity and not blocked.get(media, 0):
                if agent_id not in free:
                    free[agent_id] = None
            else:
                free.pop(agent_id, None)
