"""How many routing decisions per second does the pure routing engine make, from 100 to 10,000 agents?

Why: the routing engine (src/accueil/routing/engine.py) sits on the path of every contact, live and in the
simulator. The target is >= 50,000 decisions/s at 1,000 agents, 50 skills and 200 queues on one core.

How: a multi-skill centre is built deterministically from the seed. 200 queues: 60 % voice, 20 % chat,
20 % email (15 % of the email queues are pull), each requiring 1-2 of the 50 skills (Zipf-skewed) with
minimum levels, 10 % at level 2, half restricted to 1-2 of the 2-3 internal sites; most voice and chat
queues overflow (after 30 s min_skill_level 1, after 60 s any_skill, after 120 s the partner site), email
queues on the same ladder x30 (pull queues: one relaxation after 15 min). Agents: media profiles (voice,
voice+chat, voice+chat+email, chat+email, chat, email), capacities voice 1 / chat 3 / email 10, 3-8 skills at
levels 1-5 (first the skills of 1 popular "home" queue per media, then extra ones), level 1 or 2, 15 % on
the partner site. A discrete-event simulation then drives one RoutingEngine: Poisson arrivals over the
queues (Zipf popularity), offers accepted at once (40 %) or after 1-6 s, 0.5 % declined, 0.5 % not
answered (ring timeout, agent paused, back 30-120 s later), exponential handle times (voice 300 s, chat
600 s, email 1,200 s), some wrap-up, callers abandoning while waiting or ringing (patience voice 240 s, chat
600 s), and ``engine.advance`` at each ``engine.next_timer()``. Staffing follows demand: each agent
spreads ``--occupancy`` (95 %) of their "lanes" (voice/chat one lane, email another) over the queues they
serve from stage 0, and a queue's arrival rate is the sum of those shares; measured lane occupancy comes out
near 90-95 %, so both paths run (an agent frees and picks an item, an item arrives and picks an agent) and
some items reach overflow stages. Pull queues are in the rules but get no contacts unless ``--pull`` is
given (then their agents poll ``next_item``, and a pulled item is theirs at once, without ringing).

Measured after a warm-up (``--warmup`` simulated seconds), for ``--contacts`` arrivals: assignments
(``Offered`` decisions), engine calls (every input: arrivals, accepts, declines, ends, presence, pulls,
advance), and the time spent inside engine calls (``--clock wall``: perf_counter, or ``cpu``: thread CPU
time, steadier on a shared machine but a system call costing ~0.6 µs here; around each call, including the
``next_timer`` query after it; the clock's own cost, measured on empty intervals, is taken off). The
simulation's own bookkeeping is outside, but the whole loop is reported too, with its CPU time. The config
compile time is the RoutingConfig construction. A digest of the assignments lets two runs (e.g. before and
after an engine change) be compared for identical decisions.

    .venv/bin/python benchmarks/routing.py [--agents 100,1000,10000] [--contacts N|N1,N2,N3] [--json OUT]
"""

from __future__ import annotations

import argparse
import dataclasses
import heapq
import json
import math
import random
import sys
import time
import zlib
from bisect import bisect
from itertools import accumulate
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402

from accueil.routing.decisions import AgentPaused, Offered, Overflowed, Presence, Requeued, WorkItem
from accueil.routing.engine import RoutingEngine
from accueil.routing.rules import (
    AgentProfile,
    AgentSelection,
    Delivery,
    OrderBy,
    OverflowStep,
    QueueRules,
    RoutingConfig,
    SkillRequirement,
)

TARGET_AT_1000 = 50_000  # decisions/s
CAPACITY = {"voice": 1, "chat": 3, "email": 10}
HANDLE = {"voice": 300.0, "chat": 600.0, "email": 1200.0}  # mean seconds an item is held once accepted
WRAPUP = {"voice": (0.5, 30.0), "chat": (0.2, 20.0), "email": (0.0, 0.0)}  # share with wrap-up, mean seconds
PATIENCE = {"voice": 240.0, "chat": 600.0}  # mean patience before abandoning (email never abandons)
RING = {"voice": 20.0, "chat": 30.0}
PROFILES = [  # media an agent takes, share of agents
    (("voice",), 0.45),
    (("voice", "chat"), 0.20),
    (("voice", "chat", "email"), 0.10),
    (("chat", "email"), 0.10),
    (("chat",), 0.05),
    (("email",), 0.10),
]
P_IMMEDIATE, P_DECLINE, P_NO_ANSWER = 0.4, 0.005, 0.005
PARTNER = "partner"
DEFAULT_CONTACTS = {100: 50_000, 1000: 200_000, 10000: 100_000}
# simulation events
ARRIVE, ACCEPT, DECLINE, END, END_WRAP, ABANDON, BACK, POLL = range(8)
SOURCES = ("arrival", "agent_frees", "timer", "presence", "decline", "pull")


def zipf(rng: random.Random, n: int, s: float = 0.9) -> list[float]:
    weights = [1.0 / (r + 1) ** s for r in range(n)]
    rng.shuffle(weights)
    return weights


# Centre -----------------------------------------------------------------------------------------------


def build_queues(
    seed: int, n_queues: int, n_skills: int
) -> tuple[list[QueueRules], dict[str, float], list[str], list[str], list[float]]:
    """The queues (independent of the agent count), their popularity, the internal sites, the skills."""
    rng = random.Random(f"queues-{seed}")
    skills = [f"s{i:02d}" for i in range(n_skills)]
    skill_w = zipf(rng, n_skills)
    sites = [f"site{i}" for i in range(rng.choice((2, 3)))]
    n_voice, n_chat = round(0.6 * n_queues), round(0.2 * n_queues)
    n_email = n_queues - n_voice - n_chat
    n_pull = max(1, round(0.15 * n_email)) if n_email else 0
    media_of = ["voice"] * n_voice + ["chat"] * n_chat + ["email"] * n_email
    queues, weight = [], {}
    pulls = 0
    for j, media in enumerate(media_of):
        pull = media == "email" and pulls < n_pull
        pulls += pull
        chosen: list[str] = []
        while len(chosen) < (1 if rng.random() < 0.6 else 2):
            skill = rng.choices(skills, skill_w)[0]
            if skill not in chosen:
                chosen.append(skill)
        reqs = tuple(SkillRequirement(s, rng.choice((1, 1, 2, 2, 3))) for s in chosen)
        restricted = rng.random() < 0.5
        queue_sites = frozenset(rng.sample(sites, rng.randint(1, len(sites) - 1))) if restricted else None
        scale = 30.0 if media == "email" else 1.0
        ladder = (
            OverflowStep(30.0 * scale, min_skill_level=1),
            OverflowStep(60.0 * scale, any_skill=True),
            OverflowStep(120.0 * scale, add_sites=frozenset({PARTNER})),
        )
        r = rng.random()
        if pull:
            overflow = ladder[:1] if r < 0.5 else ()
        elif media == "email":
            overflow = ladder if r < 0.5 else ()
        else:
            overflow = ladder if r < 0.6 else ladder[:1] if r < 0.8 else ()
        queues.append(
            QueueRules(
                id=f"q{j:03d}",
                media=media,
                level=2 if rng.random() < 0.1 else 1,
                priority=1 if rng.random() < 0.1 else 0,
                skills=reqs,
                sites=queue_sites,
                overflow=overflow,
                selection=AgentSelection.longest_idle if rng.random() < 0.2 else AgentSelection.best_skill,
                delivery=Delivery.pull if pull else Delivery.push,
                order_by=OrderBy.sla if media == "email" and rng.random() < 0.5 else OrderBy.age,
                ring_timeout_seconds=RING.get(media, 0.0),
                default_handle_seconds=HANDLE[media],
            )
        )
    for media in ("voice", "chat", "email"):
        ids = [q.id for q in queues if q.media == media]
        weight.update(zip(ids, zipf(rng, len(ids)), strict=True))
    return queues, weight, sites, skills, skill_w


def build_agents(
    seed: int,
    n_agents: int,
    queues: list[QueueRules],
    weight: dict[str, float],
    sites: list[str],
    skills: list[str],
    skill_w: list[float],
) -> list[AgentProfile]:
    rng = random.Random(f"agents-{seed}-{n_agents}")
    profiles, shares = zip(*PROFILES, strict=True)
    homes: dict[tuple, tuple[list[QueueRules], list[float]]] = {}
    agents = []
    for i in range(n_agents):
        media = rng.choices(profiles, shares)[0]
        site = PARTNER if rng.random() < 0.15 else rng.choice(sites)
        level = 2 if rng.random() < 0.2 else 1
        want = rng.randint(3, 8)
        held: dict[str, int] = {}
        for m in media:
            key = (m, level, site)
            if key not in homes:
                fits = [
                    q
                    for q in queues
                    if q.media == m and q.level <= level and (q.sites is None or site in q.sites)
                ]
                homes[key] = (fits, list(accumulate(weight[q.id] for q in fits)))
            fits, cum = homes[key]
            if not fits:
                continue
            home = rng.choices(fits, cum_weights=cum)[0]
            if len(held) + sum(r.skill not in held for r in home.skills) > 8:
                continue
            for req in home.skills:
                held[req.skill] = max(held.get(req.skill, 0), rng.randint(req.min_level, 5))
        while len(held) < want:
            held.setdefault(rng.choices(skills, skill_w)[0], rng.randint(1, 5))
        agents.append(
            AgentProfile(
                id=f"a{i:05d}",
                skills=held,
                site=site,
                level=level,
                capacity={m: CAPACITY[m] for m in media},
            )
        )
    return agents


def cover(config: RoutingConfig, agents: list[AgentProfile]) -> tuple[list[AgentProfile], int]:
    """Give each queue nobody serves at stage 0 one agent (fewest skills first) trained on its skills."""
    fixed = {a.id: a for a in agents}
    changed = 0
    for queue in config.queues.values():
        if queue.eligible[0]:
            continue
        rules = queue.rules
        fits = sorted(
            (
                a
                for a in fixed.values()
                if rules.media in a.capacity
                and a.level >= rules.level
                and (rules.sites is None or a.site in rules.sites)
                and len(a.skills) + sum(r.skill not in a.skills for r in rules.skills) <= 8
            ),
            key=lambda a: (len(a.skills), a.id),
        )
        if fits:
            agent = fits[0]
            held = dict(agent.skills)
            for req in rules.skills:
                held[req.skill] = max(held.get(req.skill, 0), req.min_level)
            fixed[agent.id] = dataclasses.replace(agent, skills=held)
            changed += 1
    return list(fixed.values()), changed


# Simulation -------------------------------------------------------------------------------------------


class _Contact:
    __slots__ = ("media", "arrived", "state", "agent", "version", "held_since", "overflowed", "offered", "predicted")

    def __init__(self, media: str, arrived: float) -> None:
        self.media = media
        self.arrived = arrived
        self.state = "waiting"  # waiting, offered, active, wrapup
        self.agent: str | None = None
        self.version = 0
        self.held_since = 0.0
        self.overflowed = False
        self.offered = False
        self.predicted: float | None = None  # the engine's predicted wait at arrival (--predicted-wait)


class Simulation:
    def __init__(
        self,
        config: RoutingConfig,
        queues: list[QueueRules],
        weight: dict[str, float],
        *,
        seed: int,
        occupancy: float,
        warmup: float,
        contacts: int,
        pull: bool,
        cpu_clock: bool = False,
        predict: bool = False,
    ) -> None:
        self.predict = predict
        self.predictions: list[tuple[float, float]] = []  # (predicted, actual) wait of answered contacts
        self.config = config
        self.engine = RoutingEngine(config)
        self.rng = random.Random(f"sim-{seed}-{len(config.agents)}")
        self.warmup, self.contacts, self.cpu_clock = warmup, contacts, cpu_clock
        # lanes: voice and chat block each other (one lane), email is a second lane
        voice_lanes = chat_lanes = email_lanes = 0.0
        for agent in config.agents.values():
            cap = agent.capacity
            both = "voice" in cap and "chat" in cap
            voice_lanes += ("voice" in cap) * (0.5 if both else 1.0)
            chat_lanes += ("chat" in cap) * (0.5 if both else 1.0)
            email_lanes += "email" in cap
        self.sync_lanes, self.email_lanes = voice_lanes + chat_lanes, email_lanes
        held = {
            m: HANDLE[m] + WRAPUP[m][0] * WRAPUP[m][1] + (1 - P_IMMEDIATE) * 3.5 * (m in RING) for m in HANDLE
        }
        # Staffing follows demand: each agent spreads ``occupancy`` of each lane over the queues they serve
        # from stage 0 (by queue popularity), and a queue's arrival rate is the sum of those shares. So the
        # popular queues get most of the traffic and the staff, and no queue is structurally overloaded.
        media_of = {q.id: q.media for q in queues}
        serves: dict[str, list[str]] = {}
        for q in queues:
            if pull or q.delivery is Delivery.push:
                for agent_id in config.queues[q.id].eligible[0]:
                    serves.setdefault(agent_id, []).append(q.id)
        demand = dict.fromkeys(media_of, 0.0)
        for agent_id, queue_ids in sorted(serves.items()):
            cap = config.agents[agent_id].capacity
            both = "voice" in cap and "chat" in cap
            for media in cap:
                mine = [q for q in queue_ids if media_of[q] == media]
                if not mine:
                    continue
                lanes = 0.5 if both and media != "email" else 1.0
                supply = occupancy * lanes * CAPACITY[media] / held[media]
                norm = sum(weight[q] for q in mine)
                for q in mine:
                    demand[q] += supply * weight[q] / norm
        # one cumulative table over every queue for drawing the queue of each arrival
        self.queue_ids = [q for q in media_of if demand[q] > 0]
        self.queue_media = [media_of[q] for q in self.queue_ids]
        self.queue_cum = list(accumulate(demand[q] for q in self.queue_ids))
        self.rate = self.queue_cum[-1]
        self.pullers = sorted(
            {a for q in queues if q.delivery is Delivery.pull for a in config.queues[q.id].eligible[0]}
            if pull
            else ()
        )
        self.events: list[tuple] = []
        self.seq = 0
        self.items: dict[str, _Contact] = {}
        self.paused: set[str] = set()
        self.digest = 0
        # counters (whole run; a snapshot at the end of the warm-up is subtracted)
        self.c = {
            "engine_s": 0.0,
            "calls": 0,
            "assignments": 0,
            "arrivals": 0,
            "routed": 0,
            "abandoned": 0,
            "requeued": 0,
            "overflowed": 0,
            "items_overflowed": 0,
            "routed_after_overflow": 0,
            "pulls_empty": 0,
            "wait_sum": 0.0,
            "voice_held": 0.0,
            "chat_held": 0.0,
            "email_held": 0.0,
        }
        for source in SOURCES:
            self.c[f"by_{source}"] = 0
        self.snapshot: dict | None = None
        self.measure_from = 0.0

    def push(self, at: float, kind: int, a: object = None, b: object = None) -> None:
        self.seq += 1
        heapq.heappush(self.events, (at, self.seq, kind, a, b))

    def release(self, item: _Contact, at: float) -> None:
        self.c[item.media + "_held"] += (at - max(item.held_since, self.measure_from)) / CAPACITY[item.media]

    def handle(self, out: list, source: str) -> None:
        c, rng = self.c, self.rng
        for d in out:
            kind = type(d)
            if kind is Offered:
                item = self.items[d.item]
                item.state, item.agent, item.held_since = "offered", d.agent, d.at
                item.version += 1
                c["assignments"] += 1
                c["by_" + source] += 1
                self.digest = zlib.crc32(f"{d.item}>{d.agent}@{d.at:.3f};".encode(), self.digest)
                if not item.offered:
                    item.offered = True
                    c["routed"] += 1
                    c["wait_sum"] += d.at - item.arrived
                    if item.predicted is not None and math.isfinite(item.predicted):
                        self.predictions.append((item.predicted, d.at - item.arrived))
                    c["routed_after_overflow"] += item.overflowed
                if d.expires_at is None:
                    item.state = "active"
                    self.push(d.at + rng.expovariate(1 / HANDLE[item.media]), END, d.item, item.version)
                    continue
                r = rng.random()
                if r < P_NO_ANSWER:
                    continue  # rings until the engine's ring timeout
                if r < P_NO_ANSWER + P_DECLINE:
                    self.push(d.at + rng.uniform(1, 4), DECLINE, d.item, item.version)
                else:
                    delay = 0.0 if rng.random() < P_IMMEDIATE else rng.uniform(1, 6)
                    self.push(d.at + delay, ACCEPT, d.item, item.version)
            elif kind is Requeued:
                item = self.items[d.item]
                self.release(item, d.at)
                item.state, item.agent = "waiting", None
                item.version += 1
                c["requeued"] += 1
            elif kind is Overflowed:
                item = self.items[d.item]
                c["overflowed"] += 1
                if not item.overflowed:
                    item.overflowed = True
                    c["items_overflowed"] += 1
            elif kind is AgentPaused:
                self.paused.add(d.agent)
                self.push(d.at + rng.uniform(30, 120), BACK, d.agent)

    def run(self) -> dict:
        engine, rng, c, items, events = self.engine, self.rng, self.c, self.items, self.events
        perf = time.perf_counter
        clock = time.thread_time if self.cpu_clock else perf  # what the engine-call timings use
        config_agents = sorted(self.config.agents)
        t0 = perf()
        for agent_id in config_agents:  # everyone logs in at t=0, before any contact
            engine.set_presence(agent_id, Presence.available, 0.0)
        login_s = perf() - t0
        for i, agent_id in enumerate(self.pullers):
            self.push(rng.uniform(0, 300) + i * 1e-6, POLL, agent_id)
        self.push(rng.expovariate(self.rate), ARRIVE)
        n = 0
        stop_at = None
        next_timer = None
        loop_start = perf()
        while events:
            now = events[0][0]
            if next_timer is not None and next_timer <= now:
                t0 = clock()
                out = engine.advance(next_timer)
                next_timer = engine.next_timer()
                c["engine_s"] += clock() - t0
                c["calls"] += 1
                self.handle(out, "timer")
                continue
            now, _, kind, a, b = heapq.heappop(events)
            if self.snapshot is None and now >= self.warmup:
                self.snapshot, self.measure_from = self.start_measuring(now)
                measure_wall, measure_cpu = perf(), time.process_time()
            if kind == ARRIVE:
                n += 1
                if self.snapshot is not None and c["arrivals"] - self.snapshot["arrivals"] >= self.contacts:
                    stop_at = now
                    break
                c["arrivals"] += 1
                k = bisect(self.queue_cum, rng.random() * self.queue_cum[-1])
                media = self.queue_media[k]
                item_id = f"c{n}"
                item = items[item_id] = _Contact(media, now)
                work = WorkItem(
                    item_id,
                    self.queue_ids[k],
                    now,
                    priority=1 if rng.random() < 0.05 else 0,
                    sla_due=now + 86_400.0 if media == "email" else None,
                )
                if self.predict and media in PATIENCE and self.snapshot is not None:
                    item.predicted = engine.predicted_wait(work.queue, now)  # a newcomer's, as announced
                t0 = clock()
                out = engine.item_arrived(work, now)
                next_timer = engine.next_timer()
                c["engine_s"] += clock() - t0
                c["calls"] += 1
                self.handle(out, "arrival")
                if media in PATIENCE:
                    self.push(now + rng.expovariate(1 / PATIENCE[media]), ABANDON, item_id)
                self.push(now + rng.expovariate(self.rate), ARRIVE)
            elif kind == ACCEPT:
                item = items.get(a)
                if item is None or item.version != b or item.state != "offered":
                    continue
                t0 = clock()
                engine.accept(a, item.agent, now)
                next_timer = engine.next_timer()
                c["engine_s"] += clock() - t0
                c["calls"] += 1
                item.state = "active"
                item.version += 1
                self.push(now + rng.expovariate(1 / HANDLE[item.media]), END, a, item.version)
            elif kind == DECLINE:
                item = items.get(a)
                if item is None or item.version != b or item.state != "offered":
                    continue
                t0 = clock()
                out = engine.decline(a, item.agent, now)  # its Requeued decision releases the hold
                next_timer = engine.next_timer()
                c["engine_s"] += clock() - t0
                c["calls"] += 1
                self.handle(out, "decline")
            elif kind == END:
                item = items.get(a)
                if item is None or item.version != b or item.state != "active":
                    continue
                share, mean = WRAPUP[item.media]
                wrap = bool(share) and rng.random() < share
                t0 = clock()
                out = engine.end(a, now, wrapup=wrap)
                next_timer = engine.next_timer()
                c["engine_s"] += clock() - t0
                c["calls"] += 1
                if wrap:
                    item.state = "wrapup"
                    item.version += 1
                    self.push(now + rng.expovariate(1 / mean), END_WRAP, a, item.version)
                else:
                    self.release(item, now)
                    del items[a]
                self.handle(out, "agent_frees")
            elif kind == END_WRAP:
                item = items.get(a)
                if item is None or item.version != b or item.state != "wrapup":
                    continue
                t0 = clock()
                out = engine.end_wrapup(a, now)
                next_timer = engine.next_timer()
                c["engine_s"] += clock() - t0
                c["calls"] += 1
                self.release(item, now)
                del items[a]
                self.handle(out, "agent_frees")
            elif kind == ABANDON:
                item = items.get(a)
                if item is None or item.state not in ("waiting", "offered"):
                    continue
                t0 = clock()
                out = engine.end(a, now)
                next_timer = engine.next_timer()
                c["engine_s"] += clock() - t0
                c["calls"] += 1
                if item.state == "offered":
                    self.release(item, now)
                del items[a]
                c["abandoned"] += 1
                self.handle(out, "agent_frees")
            elif kind == BACK:
                self.paused.discard(a)
                t0 = clock()
                out = engine.set_presence(a, Presence.available, now)
                next_timer = engine.next_timer()
                c["engine_s"] += clock() - t0
                c["calls"] += 1
                self.handle(out, "presence")
            elif kind == POLL:
                if a in self.paused:
                    self.push(now + 60.0, POLL, a)
                    continue
                t0 = clock()
                pulled = engine.next_item(a, now)
                next_timer = engine.next_timer()
                c["engine_s"] += clock() - t0
                c["calls"] += 1
                if pulled is None:
                    c["pulls_empty"] += 1
                    self.push(now + rng.expovariate(1 / 300.0), POLL, a)
                else:
                    self.handle([pulled], "pull")
                    self.push(now + rng.expovariate(1 / 60.0), POLL, a)
        loop_s = perf() - measure_wall if self.snapshot is not None else 0.0
        loop_cpu_s = time.process_time() - measure_cpu if self.snapshot is not None else 0.0
        end = stop_at if stop_at is not None else now
        for item in items.values():  # holds still open count up to the end of the window
            if item.state != "waiting":
                self.release(item, end)
        got = {k: v - self.snapshot[k] for k, v in c.items()} if self.snapshot else dict(c)
        window = end - self.measure_from
        got.update(
            login_s=login_s,
            loop_s=loop_s,
            loop_cpu_s=loop_cpu_s,
            loop_total_s=perf() - loop_start,
            sim_seconds=window,
            waiting_at_end=sum(len(engine.waiting_items(q)) for q in self.config.queues),
            engine_decisions_attr=engine.decisions - self.snapshot["engine_decisions"]
            if self.snapshot
            else 0,
            digest=f"{self.digest:08x}",
            pullers=len(self.pullers),
            rate_per_s=self.rate,
        )
        lanes_s = window or 1.0
        got["occupancy_sync"] = (got["voice_held"] + got["chat_held"]) / (self.sync_lanes * lanes_s or 1.0)
        got["occupancy_email"] = got["email_held"] / (self.email_lanes * lanes_s or 1.0)
        return got

    def start_measuring(self, now: float) -> tuple[dict, float]:
        # holds that started before the window count from its start only (release() clips them)
        snap = dict(self.c)
        snap["engine_decisions"] = self.engine.decisions
        for key in ("voice_held", "chat_held", "email_held"):
            snap[key] = 0.0
        self.c["voice_held"] = self.c["chat_held"] = self.c["email_held"] = 0.0
        return snap, now


# Report -----------------------------------------------------------------------------------------------


def bench(n_agents: int, contacts: int, opts: argparse.Namespace) -> dict:
    queues, weight, sites, skills, skill_w = build_queues(opts.seed, opts.queues, opts.skills)
    agents = build_agents(opts.seed, n_agents, queues, weight, sites, skills, skill_w)
    t0 = time.perf_counter()
    config = RoutingConfig(queues, agents)
    compile_s = time.perf_counter() - t0
    agents, trained = cover(config, agents)
    if trained:
        t0 = time.perf_counter()
        config = RoutingConfig(queues, agents)
        compile_s = time.perf_counter() - t0
    stage0 = [len(q.eligible[0]) for q in config.queues.values()]
    last = [len(q.eligible[-1]) for q in config.queues.values()]
    runs = []
    for _ in range(opts.repeat):  # the same simulated day each time: only the timings differ
        sim = Simulation(
            config,
            queues,
            weight,
            seed=opts.seed,
            occupancy=opts.occupancy,
            warmup=opts.warmup,
            contacts=contacts,
            pull=opts.pull,
            cpu_clock=opts.clock == "cpu",
            predict=opts.predicted_wait,
        )
        runs.append(sim.run())
        runs[-1]["predicted_wait"] = prediction_error(sim.predictions) if opts.predicted_wait else None
    # Each timed call also pays about one clock read (the end of the first, the start of the second):
    # measured on empty intervals and taken off, so a costly clock (thread_time is a system call) does not
    # count as engine time.
    overhead = timer_overhead(time.thread_time if opts.clock == "cpu" else time.perf_counter)
    for r in runs:
        r["engine_s_raw"] = r["engine_s"]
        r["engine_s"] = max(r["engine_s"] - r["calls"] * overhead, 0.0)
    engine_times = sorted(r["engine_s"] for r in runs)
    got = min(runs, key=lambda r: r["engine_s"])  # best of the repeats, as timeit does: the least disturbed
    got["engine_s_runs"] = [r["engine_s"] for r in runs]
    got["engine_s_median"] = engine_times[len(engine_times) // 2]
    got["decisions_per_s_median"] = got["assignments"] / got["engine_s_median"] if got["engine_s_median"] else 0.0
    got.update(
        timer_overhead_ns=1e9 * overhead,
        agents=n_agents,
        contacts=contacts,
        compile_s=compile_s,
        trained_for_cover=trained,
        queues_unserved_stage0=sum(n == 0 for n in stage0),
        eligible_stage0_median=sorted(stage0)[len(stage0) // 2],
        eligible_last_stage_median=sorted(last)[len(last) // 2],
        decisions_per_s=got["assignments"] / got["engine_s"] if got["engine_s"] else 0.0,
        events_per_s=got["calls"] / got["engine_s"] if got["engine_s"] else 0.0,
        us_per_decision=1e6 * got["engine_s"] / got["assignments"] if got["assignments"] else 0.0,
        mean_wait_s=got["wait_sum"] / got["routed"] if got["routed"] else 0.0,
    )
    return got


def prediction_error(pairs: list[tuple[float, float]]) -> dict:
    """How far the engine's predicted wait (at arrival, for a newcomer) was from the wait that followed,
    for contacts that were answered (those who hung up never got a wait to compare: left out, so a
    queue where many give up looks better than it is)."""
    if not pairs:
        return {"answered": 0}
    errors = sorted(p - a for p, a in pairs)
    absolute = sorted(abs(e) for e in errors)
    buckets = {}
    for low, high in ((0, 0.5), (0.5, 30), (30, 120), (120, math.inf)):
        chosen = [(p, a) for p, a in pairs if low <= a < high]
        if chosen:
            buckets[f"{low:g}-{high:g}s"] = {
                "answered": len(chosen), "mean_actual": sum(a for _, a in chosen) / len(chosen),
                "mean_predicted": sum(p for p, _ in chosen) / len(chosen),
                "mae": sum(abs(p - a) for p, a in chosen) / len(chosen)}
    return {"answered": len(pairs), "mae": sum(absolute) / len(absolute), "median_abs": absolute[len(absolute) // 2],
            "p90_abs": absolute[int(0.9 * (len(absolute) - 1))], "bias": sum(errors) / len(errors),
            "mean_actual": sum(a for _, a in pairs) / len(pairs), "by_actual_wait": buckets}


def timer_overhead(clock, rounds: int = 20_001) -> float:
    """Median time an empty ``t0 = clock(); ... clock() - t0`` interval measures, in seconds."""
    gaps = []
    for _ in range(rounds):
        t0 = clock()
        gaps.append(clock() - t0)
    gaps.sort()
    return gaps[rounds // 2]


def report(results: list[dict], opts: argparse.Namespace) -> None:
    print(
        "\n| agents | contacts | routed | assignments | engine calls | engine s | decisions/s | calls/s "
        "| µs/decision | loop s (CPU s) | compile ms | occupancy voice+chat / email |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['agents']:,} | {r['arrivals']:,} | {r['routed']:,} | {r['assignments']:,} | {r['calls']:,} "
            f"| {r['engine_s']:.2f} | {r['decisions_per_s']:,.0f} | {r['events_per_s']:,.0f} "
            f"| {r['us_per_decision']:.1f} | {r['loop_s']:.2f} ({r['loop_cpu_s']:.2f}) | {1000 * r['compile_s']:.0f} "
            f"| {r['occupancy_sync']:.0%} / {r['occupancy_email']:.0%} |"
        )
    print(
        f"\n(engine s: time inside engine calls (--clock), next_timer() included, less the clock's own cost "
        f"({results[0]['timer_overhead_ns']:.0f} ns per call, measured on empty intervals); loop s: the whole measured "
        "simulation loop, the simulation's own bookkeeping included, and its process CPU time: CPU well below wall "
        "means the machine was busy with something else; compile: RoutingConfig construction)"
    )
    print(
        "\n| agents | assignments by path: item arrives / agent frees / timers / presence / decline / pull "
        "| abandoned | requeued | items overflowed (routed after) | mean wait s | waiting at end "
        "| eligible/queue stage 0 / last (median) | digest |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        paths = " / ".join(f"{r['by_' + s]:,}" for s in SOURCES)
        print(
            f"| {r['agents']:,} | {paths} | {r['abandoned']:,} | {r['requeued']:,} "
            f"| {r['items_overflowed']:,} ({r['routed_after_overflow']:,}) | {r['mean_wait_s']:.1f} "
            f"| {r['waiting_at_end']:,} | {r['eligible_stage0_median']:,} / {r['eligible_last_stage_median']:,} "
            f"| {r['digest']} |"
        )
    for r in results:
        if r["engine_decisions_attr"] != r["assignments"]:
            print(
                f"\nWARNING {r['agents']} agents: engine.decisions counted {r['engine_decisions_attr']:,}, "
                f"Offered decisions seen {r['assignments']:,}"
            )
        if r["queues_unserved_stage0"]:
            print(
                f"\nnote {r['agents']} agents: {r['queues_unserved_stage0']} queue(s) without any agent at "
                f"stage 0 ({r['trained_for_cover']} agent(s) were given the skills of an unstaffed queue)"
            )
    if any(r.get("predicted_wait") for r in results):
        print("\n| agents | answered voice/chat | mean wait s | MAE s | median abs s | p90 abs s | bias s "
              "| MAE by actual wait: 0 / 0.5-30 / 30-120 / >120 s |")
        print("|---:|---:|---:|---:|---:|---:|---:|---|")
        for r in results:
            e = r.get("predicted_wait") or {}
            if not e.get("answered"):
                continue
            by = e["by_actual_wait"]
            cells = " / ".join(f"{by[k]['mae']:.1f} (n={by[k]['answered']:,})" if k in by else "–"
                               for k in ("0-0.5s", "0.5-30s", "30-120s", "120-infs"))
            print(f"| {r['agents']:,} | {e['answered']:,} | {e['mean_actual']:.1f} | {e['mae']:.1f} "
                  f"| {e['median_abs']:.1f} | {e['p90_abs']:.1f} | {e['bias']:+.1f} | {cells} |")
    at = next((r for r in results if r["agents"] == 1000), None)
    if at is not None:
        met = at["decisions_per_s"] >= TARGET_AT_1000
        print(
            f"\nTarget >= {TARGET_AT_1000:,} decisions/s at 1,000 agents: {'MET' if met else 'MISSED'} - "
            f"{at['decisions_per_s']:,.0f}/s ({at['us_per_decision']:.1f} µs per decision, "
            f"{at['events_per_s']:,.0f} engine calls/s)"
            + (
                f"; best of {opts.repeat} runs, median {at['decisions_per_s_median']:,.0f}/s, slowest "
                f"{at['assignments'] / max(at['engine_s_runs']):,.0f}/s"
                if opts.repeat > 1
                else ""
            )
        )
    else:
        print(
            f"\nTarget >= {TARGET_AT_1000:,} decisions/s at 1,000 agents: not measured (no 1,000-agent run)"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--agents", default="100,1000,10000", help="comma list of agent counts")
    ap.add_argument("--skills", type=int, default=50)
    ap.add_argument("--queues", type=int, default=200)
    ap.add_argument(
        "--contacts",
        help="measured arrivals per agent count: one N for all, or a comma list matching --agents "
        f"(default {', '.join(f'{k:,}: {v:,}' for k, v in DEFAULT_CONTACTS.items())}; others 150,000)",
    )
    ap.add_argument("--warmup", type=float, default=1800.0, help="simulated seconds before measuring")
    ap.add_argument("--occupancy", type=float, default=0.95, help="offered load / nominal lane capacity")
    ap.add_argument(
        "--pull",
        action="store_true",
        help="send contacts to the pull queues too, and have their agents poll next_item",
    )
    ap.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="time engine calls with perf_counter (wall) or thread_time (CPU: steadier on a shared machine, "
        "a little more overhead per call)",
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run each simulated day N times and report the fastest (the median is in the JSON): "
        "on a shared or virtual machine the slow runs measure the neighbours",
    )
    ap.add_argument(
        "--predicted-wait",
        action="store_true",
        help="also measure the engine's predicted wait (asked at each voice/chat arrival, outside the timed "
        "calls) against the wait that followed",
    )
    ap.add_argument("--json", metavar="OUT", help="also write the results as JSON")
    opts = ap.parse_args()
    sizes = [int(a) for a in opts.agents.split(",") if a.strip()]
    if opts.contacts is None:
        counts = [DEFAULT_CONTACTS.get(n, 150_000) for n in sizes]
    else:
        counts = [int(c) for c in opts.contacts.split(",") if c.strip()]
        if len(counts) == 1:
            counts *= len(sizes)
        elif len(counts) != len(sizes):
            ap.error("--contacts: one value, or one per --agents value")
    info = machine()
    print(f"# accueil routing engine benchmark - {info['date']}\n")
    print(
        f"machine: {info['nproc']} CPU(s), {info['cpu_model']}; Python {info['python']} ({info['platform']}); "
        f"load average {info['loadavg']}"
    )
    print(
        f"centre: {opts.queues} queues, {opts.skills} skills, seed {opts.seed}; offered load {opts.occupancy:.0%} "
        f"of nominal lane capacity; warm-up {opts.warmup:g} simulated s; engine calls timed with "
        f"{'thread CPU time' if opts.clock == 'cpu' else 'wall time (perf_counter)'}",
        flush=True,
    )
    results = []
    for n_agents, contacts in zip(sizes, counts, strict=True):
        started = time.perf_counter()
        r = bench(n_agents, contacts, opts)
        r["run_s"] = time.perf_counter() - started
        print(
            f"  {n_agents:,} agents: {r['arrivals']:,} contacts over {r['sim_seconds'] / 3600:.1f} simulated h "
            f"({r['rate_per_s']:.2f}/s), {r['assignments']:,} assignments, {r['decisions_per_s']:,.0f} "
            f"decisions/s; run {r['run_s']:.1f} s (compile {r['compile_s'] * 1000:.0f} ms, login "
            f"{r['login_s'] * 1000:.0f} ms)",
            flush=True,
        )
        results.append(r)
    report(results, opts)
    if opts.json:
        Path(opts.json).write_text(
            json.dumps(
                {"machine": info, "options": vars(opts), "results": results}, indent=2, ensure_ascii=False
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
