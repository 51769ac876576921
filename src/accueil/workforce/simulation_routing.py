"""The simulator's digital-twin mode: a day or a week of contacts through the real routing engine.

Pure core, like simulation.py: no I/O, no clock, every draw from ``numpy.random.default_rng(seed)``.
One RoutingEngine, built from the centre's own RoutingConfig (multi-skill queues, overflow, priorities),
sees every arrival, answer, hang-up and log-in of the simulated day, so staffing and routing rules can
be tried before they go live.

    simulate_centre(config, traffic, schedule, *, interval_seconds=900.0, threshold=20.0,
                    short_abandon_seconds=5.0, groups=None, start_time=0.0, seed=0) -> CentreSimulation
    staffing_schedule(groups, plan) -> {agent id: logged in per interval}

Model. Contacts arrive per queue (QueueTraffic: Poisson rates per interval from a forecast, or the
arrival times of a historical day). Agents answer at once: the engine is built with ring timeouts of 0
(ringing is part of the handle time). A contact holds its agent for its handle time, then for its
wrap-up (after-call work); a waiting contact hangs up after its patience (exponential), unless it was
answered first. When the engine offers a callback (the queue's callback_offer_after_seconds), the caller
accepts with probability ``callback_acceptance``: the call leaves the queue at once (counted in
``callbacks``, neither answered nor abandoned) and ``callback_delay`` seconds later a callback item
enters ``callback_queue`` (default: the same queue). The customer is then waiting by the phone: a
callback item never abandons, and its wait runs from its release to the agent who takes it. Calls that
took a callback stay in their queue's offered count, so they lower the OFFERED service level (use
service_level_by to choose); callback items have their own ContactStats per queue.

Staffing: ``schedule`` says which agents are logged in during each interval. At a boundary, agents
leaving are paused (they take nothing new but finish what they hold: ``offline`` in the engine would
put a call in progress back in the queue), then agents arriving become available. After the last
interval nobody arrives and the agents still logged in stay until the queues are empty.
Metrics of a contact belong to the interval it arrived in (a callback item: the interval of its
release, the last interval if later); agent time to the interval in which it is spent.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from accueil.routing.decisions import (
    CallbackOffered,
    Offered,
    Overflowed,
    Presence,
    Refused,
    Requeued,
    WorkItem,
)
from accueil.routing.engine import RoutingEngine
from accueil.routing.rules import RoutingConfig
from accueil.workforce.simulation import (
    DEFAULT_SHORT_ABANDON,
    ContactStats,
    Counts,
    HandleTimeDistribution,
    StaffStats,
    arrivals,
    check,
    check_interval,
    contact_stats,
    draw_handle_times,
    per_interval,
    time_in_intervals,
)

_ANSWERED, _ABANDONED, _CALLBACK, _REFUSED = 1, 2, 3, 4  # outcome of a contact; 0 while it waits
_END, _WRAP_END, _ABANDON, _RELEASE, _BOUNDARY = range(5)  # event kinds; also their order at equal times


@dataclass(frozen=True)
class QueueTraffic:
    """The contacts one queue receives, and how their callers behave."""

    queue: str
    arrival_rates: ArrayLike | None = None  # per second: one for all intervals, or one per interval
    arrival_times: ArrayLike | None = None  # seconds from the start (a historical day), instead of rates
    handle_time: ArrayLike = 300.0  # mean seconds, one or one per interval (by arrival)
    handle_distribution: HandleTimeDistribution | str = HandleTimeDistribution.EXPONENTIAL
    handle_cv: float = 1.0  # lognormal only
    patience: ArrayLike | None = None  # mean seconds before hanging up (exponential); None: never
    wrapup_time: float = 0.0  # mean seconds of after-call work (exponential); the agent stays held
    callback_acceptance: float = 0.0  # probability of accepting a callback offered by the engine
    callback_delay: float = 0.0  # seconds from acceptance until the callback item enters its queue
    callback_queue: str | None = None  # where callback items wait; None: this queue


@dataclass(frozen=True)
class CentreSimulation:
    """What a simulated day looked like, per interval."""

    interval_seconds: float
    queues: dict[str, ContactStats]  # contacts by the queue they arrived in (overflow moves them later)
    callbacks: dict[str, ContactStats]  # callback items by the queue they waited in
    groups: dict[str, StaffStats]  # agent time by agent group
    logged_in: dict[str, Counts]  # agents of each group logged in per interval, from the schedule
    contacts: int  # arrivals and callback items simulated
    assignments: int  # contacts the engine gave to an agent
    overflows: int  # overflow moves the engine made


def staffing_schedule(
    groups: Mapping[str, Sequence[str]], plan: Mapping[str, ArrayLike]
) -> dict[str, NDArray[np.bool_]]:
    """Who is logged in per interval for a plan of agents per group: the first n agents of the group's
    list, so the same people stay on from one interval to the next."""
    schedule: dict[str, NDArray[np.bool_]] = {}
    lengths = {np.size(counts) for counts in plan.values()}
    check(len(lengths) == 1, "plan: every group needs the same number of intervals")
    for name, counts in plan.items():
        check(name in groups, f"plan: unknown group {name!r}")
        wanted = np.asarray(counts, dtype=float)
        members = list(groups[name])
        check(wanted.ndim == 1 and np.all(wanted == np.floor(wanted)) and np.all(wanted >= 0),
              f"plan[{name!r}]: whole numbers of agents per interval")  # fmt: skip
        check(
            wanted.max(initial=0) <= len(members), f"plan[{name!r}] asks for more agents than the group has"
        )
        for rank, agent_id in enumerate(members):
            check(agent_id not in schedule, f"agent {agent_id!r} is in two groups")
            schedule[agent_id] = wanted > rank
    return schedule


def _engine_config(config: RoutingConfig) -> RoutingConfig:
    """The same rules with agents answering at once (ring timeout 0): no ring timers to run."""
    queues = [replace(c.rules, ring_timeout_seconds=0.0) for c in config.queues.values()]
    return RoutingConfig(queues, config.agents.values(), blocks=config.blocks)


def _default_groups(config: RoutingConfig) -> dict[str, list[str]]:
    """Agents grouped by skill set ("billing+sales"); agents without skills in "-"."""
    groups: dict[str, list[str]] = {}
    for agent_id, profile in config.agents.items():
        groups.setdefault("+".join(sorted(profile.skills)) or "-", []).append(agent_id)
    return groups


def _rows(stats: ContactStats, row: int, intervals: int) -> ContactStats:
    """One queue's intervals out of stats computed over (queue, interval) pairs."""
    part = slice(row * intervals, (row + 1) * intervals)
    sliced = {name: value[part] for name, value in vars(stats).items() if isinstance(value, np.ndarray)}
    return replace(stats, **sliced)


def simulate_centre(
    config: RoutingConfig,
    traffic: Sequence[QueueTraffic],
    schedule: Mapping[str, ArrayLike],
    *,
    interval_seconds: float = 900.0,
    threshold: float = 20.0,
    short_abandon_seconds: float = DEFAULT_SHORT_ABANDON,
    groups: Mapping[str, Sequence[str]] | None = None,
    start_time: float = 0.0,
    seed: int = 0,
) -> CentreSimulation:
    """Simulate the centre for len(schedule[...]) intervals through a RoutingEngine built from config.

    schedule: agent id -> logged in (bool) per interval. groups: name -> agent ids for occupancy
    (default: by skill set). start_time: Unix seconds of the first interval (opening hours need it).
    """
    check_interval(interval_seconds, threshold, short_abandon_seconds)
    check(np.ndim(start_time) == 0 and math.isfinite(start_time), "start_time must be a finite number")
    check(len(schedule) > 0, "schedule: give the intervals each agent is logged in")
    agent_ids = list(schedule)
    unknown = [a for a in agent_ids if a not in config.agents]
    check(not unknown, f"schedule: unknown agents {unknown[:5]}")
    shapes = {np.shape(flags) for flags in schedule.values()}
    check(
        len(shapes) == 1 and len(next(iter(shapes))) == 1, "schedule: one flag per interval for every agent"
    )
    logged = np.asarray([np.asarray(schedule[a]) for a in agent_ids]).astype(bool)  # agent x interval
    intervals = logged.shape[1]
    row = {a: r for r, a in enumerate(agent_ids)}
    check(intervals > 0, "schedule: at least one interval")
    before = np.concatenate((np.zeros((len(agent_ids), 1), dtype=bool), logged[:, :-1]), axis=1)
    logins = [[agent_ids[a] for a in np.flatnonzero(logged[:, k] & ~before[:, k])] for k in range(intervals)]
    logouts = [[agent_ids[a] for a in np.flatnonzero(~logged[:, k] & before[:, k])] for k in range(intervals)]
    groups = _default_groups(config) if groups is None else {g: list(m) for g, m in groups.items()}
    group_of = {a: g for g, members in groups.items() for a in members}
    check(all(a in config.agents for a in group_of), "groups: unknown agents")
    group_names = list(groups)

    queue_ids = list(config.queues)
    check(len({t.queue for t in traffic}) == len(traffic), "traffic: one entry per queue")
    rng = np.random.default_rng(seed)
    parts = []
    for q in traffic:
        check(q.queue in config.queues, f"traffic: unknown queue {q.queue!r}")
        target = q.callback_queue or q.queue
        check(target in config.queues, f"traffic {q.queue}: unknown callback queue {target!r}")
        check(0 <= q.callback_acceptance <= 1, f"traffic {q.queue}: callback_acceptance is a probability")
        check(q.callback_acceptance == 0 or config.queues[q.queue].rules.callback_offer_after_seconds is not None,
              f"traffic {q.queue}: callback_acceptance needs the queue's callback_offer_after_seconds")  # fmt: skip
        for name, value in (("callback_delay", q.callback_delay), ("wrapup_time", q.wrapup_time)):
            check(math.isfinite(value) and value >= 0, f"traffic {q.queue}: {name} must be seconds >= 0")
        handle = per_interval(f"traffic {q.queue}: handle_time", q.handle_time, intervals, positive=True)
        times, counts = arrivals(rng, q.arrival_rates, q.arrival_times, intervals, interval_seconds)
        means = np.repeat(handle, counts)
        # drawn in the kernel's order (handle times, then patience): one queue gives the kernel's callers
        handles = draw_handle_times(rng, means, q.handle_distribution, q.handle_cv)
        patience = np.full(times.size, math.inf)
        if q.patience is not None:
            patience_means = per_interval(
                f"traffic {q.queue}: patience", q.patience, intervals, positive=True
            )
            patience = rng.standard_exponential(times.size) * np.repeat(patience_means, counts)
        parts.append((
            times, np.full(times.size, queue_ids.index(q.queue)), handles, patience,
            rng.standard_exponential(times.size) * q.wrapup_time,
            rng.random(times.size) < q.callback_acceptance,
            draw_handle_times(rng, means, q.handle_distribution, q.handle_cv),  # a callback's own call
            np.full(times.size, queue_ids.index(target)), np.full(times.size, q.callback_delay),
        ))  # fmt: skip
    columns = [np.concatenate([p[c] for p in parts]) if parts else np.zeros(0) for c in range(9)]
    order = np.argsort(columns[0], kind="stable")
    times, queue_of, handle, patience, wrapup, accepts, callback_handle, callback_to, delay = (
        (col[order] + start_time if c == 0 else col[order]).tolist() for c, col in enumerate(columns)
    )
    queue_of = [int(x) for x in queue_of]
    arrivals_count = len(times)

    engine = RoutingEngine(_engine_config(config))
    timed = any(c.stage_due for c in engine.config.queues.values())
    state = [0] * arrivals_count
    waited = [0.0] * arrivals_count
    arrived = list(times)
    holder: dict[int, str] = {}
    held = dict.fromkeys(config.agents, 0)
    busy_since: dict[str, float] = {}
    busy_spans: list[tuple[float, float, str]] = []
    staffed_since: dict[str, float] = {}
    staffed_spans: list[tuple[float, float, str]] = []
    leaving: set[str] = set()
    events: list[tuple[float, int, int]] = [
        (start_time + k * interval_seconds, _BOUNDARY, k) for k in range(intervals)
    ]
    heapq.heapify(events)
    push = heapq.heappush
    counters = {"assignments": 0, "overflows": 0}

    def handle_out(out: list, now: float) -> None:
        for d in out:
            kind = type(d)
            if kind is Offered:
                idx = int(d.item)
                if state[idx]:
                    raise RuntimeError(f"routing engine gave contact {idx} a second time")
                state[idx] = _ANSWERED
                waited[idx] = d.at - arrived[idx]
                holder[idx] = agent = d.agent
                if not held[agent]:
                    busy_since[agent] = d.at
                held[agent] += 1
                counters["assignments"] += 1
                push(events, (d.at + handle[idx], _END, idx))
            elif kind is CallbackOffered:
                idx = int(d.item)
                if idx < arrivals_count and accepts[idx] and not state[idx]:
                    engine.end(d.item, now)
                    state[idx] = _CALLBACK
                    waited[idx] = now - arrived[idx]
                    push(events, (now + delay[idx], _RELEASE, idx))
            elif kind is Overflowed:
                counters["overflows"] += 1
            elif kind is Refused:
                state[int(d.item)] = _REFUSED
            elif (
                kind is Requeued
            ):  # only ring timeouts and offline agents requeue: the simulator uses neither
                raise RuntimeError(f"routing engine took contact {d.item} back from {d.agent} ({d.reason})")

    def release(idx: int, now: float) -> None:
        agent = holder.pop(idx)
        held[agent] -= 1
        if not held[agent]:
            busy_spans.append((busy_since.pop(agent), now, agent))
            if agent in leaving:
                leaving.discard(agent)
                staffed_spans.append((staffed_since.pop(agent), now, agent))

    def boundary(k: int, now: float) -> None:
        for agent in logouts[k]:
            handle_out(engine.set_presence(agent, Presence.paused, now, "logged_out"), now)
            if held[agent]:
                leaving.add(agent)
            else:
                staffed_spans.append((staffed_since.pop(agent), now, agent))
        for agent in logins[k]:
            if agent in leaving:
                leaving.discard(agent)  # back before finishing: one unbroken stretch
            else:
                staffed_since[agent] = now
            handle_out(engine.set_presence(agent, Presence.available, now), now)

    i = 0
    now = start_time
    inf = math.inf
    while True:
        next_arrival = times[i] if i < arrivals_count else inf
        next_event = events[0][0] if events else inf
        if timed:
            due = engine.next_timer()
            if due is not None and due <= next_arrival and due <= next_event:
                now = due
                handle_out(engine.advance(due), due)
                continue
        if next_arrival < next_event:
            now = next_arrival
            item_id = str(i)
            handle_out(engine.item_arrived(WorkItem(item_id, queue_ids[queue_of[i]], now), now), now)
            if not state[i] and patience[i] < inf:
                push(events, (now + patience[i], _ABANDON, i))
            i += 1
            continue
        if next_event == inf:
            break
        now, kind, idx = heapq.heappop(events)
        if kind == _END:
            if wrapup[idx] > 0:
                engine.end(str(idx), now, wrapup=True)
                push(events, (now + wrapup[idx], _WRAP_END, idx))
            else:
                out = engine.end(str(idx), now)
                release(idx, now)
                handle_out(out, now)
        elif kind == _WRAP_END:
            out = engine.end_wrapup(str(idx), now)
            release(idx, now)
            handle_out(out, now)
        elif kind == _ABANDON:
            if not state[idx]:
                engine.end(str(idx), now)
                state[idx] = _ABANDONED
                waited[idx] = patience[idx]
        elif kind == _RELEASE:
            new = len(state)
            for column, value in (
                (state, 0),
                (waited, 0.0),
                (arrived, now),
                (handle, callback_handle[idx]),
                (wrapup, wrapup[idx]),
                (queue_of, callback_to[idx]),
                (patience, inf),
            ):
                column.append(value)  # fmt: skip
            handle_out(engine.item_arrived(WorkItem(str(new), queue_ids[callback_to[idx]], now), now), now)
        else:
            boundary(idx, now)

    end = max(now, start_time + intervals * interval_seconds)
    for agent, since in staffed_since.items():
        staffed_spans.append((since, end, agent))

    # Per (queue, interval) figures, then split by queue.
    outcome = np.asarray(state)
    interval = np.minimum((np.asarray(arrived) - start_time) // interval_seconds, intervals - 1).astype(
        np.int64
    )
    key = np.asarray(queue_of, dtype=np.int64) * intervals + interval
    wait = np.asarray(waited)
    is_callback = np.arange(outcome.size) >= arrivals_count

    def stats(rows: NDArray[np.bool_]) -> ContactStats:
        return contact_stats(
            key[rows], len(queue_ids) * intervals, float(threshold), float(short_abandon_seconds),
            answered=outcome[rows] == _ANSWERED, abandoned=outcome[rows] == _ABANDONED, wait=wait[rows],
            callbacks=outcome[rows] == _CALLBACK, refused=outcome[rows] == _REFUSED,
        )  # fmt: skip

    calls, callbacks = stats(~is_callback), stats(is_callback)
    served = {t.queue for t in traffic}
    targets = {t.callback_queue or t.queue for t in traffic if t.callback_acceptance > 0}
    return CentreSimulation(
        interval_seconds=float(interval_seconds),
        queues={q: _rows(calls, r, intervals) for r, q in enumerate(queue_ids) if q in served},
        callbacks={q: _rows(callbacks, r, intervals) for r, q in enumerate(queue_ids) if q in targets},
        groups={
            g: _group_time(g, busy_spans, staffed_spans, group_of, start_time, intervals, interval_seconds)
            for g in group_names
        },  # fmt: skip
        logged_in={
            g: logged[[row[a] for a in groups[g] if a in row]].sum(axis=0).astype(np.int64)
            for g in group_names
        },  # fmt: skip
        contacts=outcome.size,
        assignments=counters["assignments"],
        overflows=counters["overflows"],
    )


def _group_time(
    group: str,
    busy: list[tuple[float, float, str]],
    staffed: list[tuple[float, float, str]],
    group_of: Mapping[str, str],
    start_time: float,
    intervals: int,
    interval_seconds: float,
) -> StaffStats:
    def seconds(spans: list[tuple[float, float, str]]) -> NDArray[np.float64]:
        mine = np.asarray([(s, e) for s, e, a in spans if group_of.get(a) == group], dtype=float).reshape(
            -1, 2
        )
        mine -= start_time
        return time_in_intervals(mine[:, 0], mine[:, 1], intervals, interval_seconds)

    return StaffStats(busy_seconds=seconds(busy), staffed_seconds=seconds(staffed))
