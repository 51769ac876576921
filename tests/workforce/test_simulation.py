"""The simulator against Erlang A (REFERENCES.md A1, A2 and a large case), a plain event-by-event reference,
hand-checked staffing changes, and the routing-engine mode against the kernel on a single queue."""

from __future__ import annotations

import heapq
import math
import random
from collections import deque

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accueil.routing.rules import AgentProfile, OverflowStep, QueueRules, RoutingConfig, SkillRequirement
from accueil.workforce.erlang import ServiceLevelConvention, erlang_a_metrics
from accueil.workforce.simulation import ContactStats, SimulationInputError, simulate_queue
from accueil.workforce.simulation_routing import QueueTraffic, simulate_centre, staffing_schedule

PER_30_MIN = 1 / 1800
HOUR = 3600.0
SL_TOLERANCE, ABANDON_TOLERANCE = 0.01, 0.005  # the bar: 1 point of SL, 0.5 point of abandonment
BATCH = 20  # intervals per batch for batch-means standard errors (hour intervals: far above relaxation)
DETERMINISTIC = {"handle_distribution": "lognormal", "handle_cv": 1e-9}  # handle time = its mean, to 1e-6 s


def batch_standard_error(numerator: np.ndarray, denominator: np.ndarray) -> float:
    """Standard error of a ratio estimated over a long run, from independent batches of intervals."""
    usable = numerator.size // BATCH * BATCH
    ratios = numerator[:usable].reshape(-1, BATCH).sum(1) / denominator[:usable].reshape(-1, BATCH).sum(1)
    return float(ratios.std(ddof=1) / math.sqrt(ratios.size))


def assert_agrees_with_erlang_a(contacts: ContactStats, exact) -> None:  # type: ignore[no-untyped-def]
    """Within the issue's tolerances, with the run long enough that those are at least 4 standard errors."""
    measured = contacts.total(1)  # the first hour starts from an empty centre: left out as warm-up
    warm = slice(1, None)
    sl_se = batch_standard_error(contacts.answered_within_threshold[warm], contacts.offered[warm])
    abandon_se = batch_standard_error(contacts.abandoned[warm], contacts.offered[warm])
    assert sl_se < SL_TOLERANCE / 4 and abandon_se < ABANDON_TOLERANCE / 4, "run too short to test anything"
    assert abs(measured.service_level - exact.service_level) < SL_TOLERANCE
    assert abs(measured.abandon_rate - exact.probability_abandon) < ABANDON_TOLERANCE


# ---------------------------------------------------------------------------------------------------
# Kernel against Erlang A


@pytest.mark.parametrize(
    ("case", "rate", "handle", "patience", "agents", "hours"),
    [
        ("A1", 100 * PER_30_MIN, 180.0, 300.0, 14, 2000),
        ("A2 N=11", 100 * PER_30_MIN, 180.0, 120.0, 11, 4000),
        ("A2 N=10", 100 * PER_30_MIN, 180.0, 120.0, 10, 4000),
        ("A2 N=8", 100 * PER_30_MIN, 180.0, 120.0, 8, 4000),
        ("833 Erlangs, N=848", 5000 * PER_30_MIN, 300.0, 180.0, 848, 100),
    ],
)
def test_kernel_agrees_with_erlang_a_on_long_runs(case, rate, handle, patience, agents, hours) -> None:
    result = simulate_queue(
        rate, [agents] * hours, handle, patience=patience, interval_seconds=HOUR, seed=20240601
    )
    exact = erlang_a_metrics(agents, rate, handle, patience)
    assert_agrees_with_erlang_a(result.contacts, exact)
    measured = result.contacts.total(1)
    for convention in ServiceLevelConvention:  # each convention means what erlang.py means by it
        assert abs(measured.service_level_by(convention) - exact.service_level_by(convention)) < SL_TOLERANCE
    assert abs(result.staff.total(1).occupancy - exact.occupancy) < 0.01
    assert measured.average_speed_of_answer == pytest.approx(exact.average_speed_of_answer, rel=0.1)


def test_reference_a1_figures_are_the_ones_compared() -> None:
    """Guard against comparing with the wrong exact figures: A1 as printed in REFERENCES.md."""
    exact = erlang_a_metrics(14, 100 * PER_30_MIN, 180.0, 300.0)
    assert exact.service_level == pytest.approx(0.916792, abs=1e-6)
    assert exact.probability_abandon == pytest.approx(0.013984, abs=1e-6)


# ---------------------------------------------------------------------------------------------------
# Kernel: determinism, staffing changes, an independent reference


def test_same_seed_same_day_other_seed_other_day() -> None:
    def run(seed: int) -> ContactStats:
        rates = np.linspace(0.5, 2.0, 96)
        return simulate_queue(rates, np.full(96, 300), 300.0, patience=180.0, seed=seed).contacts

    first, again, other = run(7), run(7), run(8)
    for name in ("offered", "answered", "abandoned", "answered_wait"):
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name))
    assert not np.array_equal(first.answered, other.answered)


def test_staffing_change_rules_by_hand() -> None:
    """One agent, gone in the middle interval, two in the last; calls at 100 s, 1000 s and 1100 s of 1000 s each.

    The first call is answered at once and its agent, logged out at 900 s, finishes it (to 1100 s) but
    takes nothing new: the calls at 1000 s and 1100 s wait for the two agents who come at 1800 s.
    """
    result = simulate_queue(
        None, [1, 0, 2], 1000.0, arrival_times=[100.0, 1000.0, 1100.0], **DETERMINISTIC, seed=1
    )
    contacts, staff = result.contacts, result.staff
    np.testing.assert_array_equal(contacts.offered, [1, 2, 0])
    np.testing.assert_array_equal(contacts.answered, [1, 2, 0])
    np.testing.assert_allclose(contacts.answered_wait, [0.0, 800.0 + 700.0, 0.0])
    np.testing.assert_array_equal(contacts.answered_within_threshold, [1, 0, 0])
    np.testing.assert_allclose(staff.busy_seconds, [800.0, 200.0, 1800.0], atol=1e-5)
    np.testing.assert_allclose(staff.staffed_seconds, [900.0, 200.0, 1800.0], atol=1e-5)  # 200 s to finish


def test_no_agent_callers_hang_up_or_stay_unanswered() -> None:
    patient = simulate_queue(0.1, [0, 0], 300.0, seed=3).contacts.total()
    assert patient.offered > 0 and patient.answered == 0 and patient.unanswered == patient.offered
    assert math.isnan(patient.service_level_by("answered"))  # nothing answered: no ratio, not 0 or 1
    impatient = simulate_queue(0.1, [0, 0], 300.0, patience=60.0, seed=3).contacts.total()
    assert impatient.abandoned == impatient.offered
    assert impatient.mean_wait == pytest.approx(60.0, rel=0.1)  # they wait their whole patience


def test_agents_added_mid_day_take_the_waiting_calls_at_the_boundary() -> None:
    """A backlog built with too few agents (about 300 calls) drains once reinforcements come."""
    result = simulate_queue([0.2, 0.2, 0.2], [10, 200, 200], 300.0, interval_seconds=1800.0, seed=5)
    asa = result.contacts.average_speed_of_answer
    assert asa[0] > 600.0  # 60 Erlangs on 10 agents: a long queue
    assert result.contacts.total().unanswered == 0
    assert asa[2] < 1.0  # 60 Erlangs on 200 agents, backlog long gone
    assert result.staff.occupancy[0] == pytest.approx(1.0, abs=0.01)
    assert 0.2 < result.staff.occupancy[2] < 0.4  # about 60 busy of 200


def reference_queue(times, handles, patiences, agents, interval_seconds):  # type: ignore[no-untyped-def]
    """Event by event, with an explicit waiting line and named agents; waits per caller (None: never)."""
    events = [(k * interval_seconds, 0, k) for k in range(1, len(agents))]
    events += [(t, 2, i) for i, t in enumerate(times)]
    heapq.heapify(events)
    free_at = {a: 0.0 for a in range(agents[0])}  # agent -> when free (<= now: idle)
    leaving: set[int] = set()
    line: deque[int] = deque()
    waits: list[float | None] = [None] * len(times)
    gone: set[int] = set()
    busy, overtime = [], []
    next_agent = agents[0]

    def serve(agent: int, caller: int, now: float) -> None:
        waits[caller] = now - times[caller]
        free_at[agent] = now + handles[caller]
        busy.append((now, free_at[agent]))
        heapq.heappush(events, (free_at[agent], 1, agent))

    while events:
        now, kind, who = heapq.heappop(events)
        if kind == 0:  # boundary: new agents come idle; leavers are the idle, then the first to finish
            change = agents[who] - agents[who - 1]
            for _ in range(change):
                free_at[next_agent] = now
                heapq.heappush(events, (now, 1, next_agent))
                next_agent += 1
            for agent in sorted(free_at, key=free_at.get)[: max(0, -change)]:
                if free_at[agent] > now:
                    leaving.add(agent)
                    overtime.append((now, free_at[agent]))
                del free_at[agent]
        elif kind == 1:  # an agent is free (or just came)
            if who in leaving or who not in free_at or free_at[who] > now:
                continue
            while line and line[0] in gone:
                line.popleft()
            if line:
                serve(who, line.popleft(), now)
        elif kind == 2:
            idle = [a for a, f in free_at.items() if f <= now]
            if idle:
                serve(min(idle), who, now)
            else:
                line.append(who)
                if math.isfinite(patiences[who]):
                    heapq.heappush(events, (now + patiences[who], 3, who))
        elif who in line and waits[who] is None:  # patience over, still waiting
            gone.add(who)
    return waits, busy, overtime


@settings(max_examples=60, deadline=None, database=None)
@given(
    agents=st.lists(st.integers(0, 4), min_size=1, max_size=6),
    calls=st.integers(0, 40),
    patient=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_kernel_equals_an_event_by_event_reference(agents, calls, patient, seed) -> None:
    """Same callers (the kernel's own draws: arrivals given, then handle times, then patience)."""
    interval = 600.0
    rng = random.Random(seed)
    times = sorted(rng.uniform(0, interval * len(agents)) for _ in range(calls))
    result = simulate_queue(
        None, agents, 400.0, patience=None if patient else 200.0, interval_seconds=interval,
        arrival_times=times, seed=seed,
    )  # fmt: skip
    draws = np.random.default_rng(seed)
    handles = (draws.standard_exponential(calls) * 400.0).tolist()
    patiences = [math.inf] * calls if patient else (draws.standard_exponential(calls) * 200.0).tolist()
    waits, busy, overtime = reference_queue(times, handles, patiences, agents, interval)
    k = [min(int(t // interval), len(agents) - 1) for t in times]
    answered = np.bincount([k[i] for i, w in enumerate(waits) if w is not None], minlength=len(agents))
    np.testing.assert_array_equal(result.contacts.answered, answered)
    wait_sum = np.bincount(k, weights=[w or 0.0 for w in waits], minlength=len(agents)) if calls else 0.0
    np.testing.assert_allclose(result.contacts.answered_wait, wait_sum, atol=1e-6)

    def spread(spans: list[tuple[float, float]]) -> list[float]:
        edges = [(i * interval, (i + 1) * interval) for i in range(len(agents))]
        return [sum(max(0.0, min(e, hi) - max(s, lo)) for s, e in spans) for lo, hi in edges]

    np.testing.assert_allclose(result.staff.busy_seconds, spread(busy), atol=1e-6)
    staffed = np.asarray(agents) * interval + np.asarray(spread(overtime))
    np.testing.assert_allclose(result.staff.staffed_seconds, staffed, atol=1e-6)
    assert np.all(result.staff.busy_seconds <= result.staff.staffed_seconds + 1e-6)


# ---------------------------------------------------------------------------------------------------
# Routing-engine mode


def one_queue_centre(agents: int) -> RoutingConfig:
    """One voice queue needing one skill, agents who all have it (ring timeout left at its default: the
    simulator answers at once whatever the rules say)."""
    queue = QueueRules("sales", "voice", skills=(SkillRequirement("sales"),))
    staff = [
        AgentProfile(f"a{i:02d}", skills={"sales": 1 + i % 5}, capacity={"voice": 1}) for i in range(agents)
    ]
    return RoutingConfig([queue], staff)


def test_engine_mode_single_queue_matches_kernel_and_erlang_a() -> None:
    """With one skill and FCFS, the engine mode sees the same callers as the kernel (same seed, same
    draws) and must give the very same outcomes; and both agree with Erlang A on a long run."""
    hours, agents, rate, handle, patience = 2000, 14, 100 * PER_30_MIN, 180.0, 300.0
    schedule = {f"a{i:02d}": [True] * hours for i in range(agents)}
    traffic = [QueueTraffic("sales", arrival_rates=rate, handle_time=handle, patience=patience)]
    centre = simulate_centre(one_queue_centre(agents), traffic, schedule, interval_seconds=HOUR, seed=11)
    kernel = simulate_queue(rate, [agents] * hours, handle, patience=patience, interval_seconds=HOUR, seed=11)
    routed = centre.queues["sales"]
    for name in ("offered", "answered", "abandoned", "answered_within_threshold", "short_abandoned"):
        np.testing.assert_array_equal(getattr(routed, name), getattr(kernel.contacts, name))
    np.testing.assert_allclose(routed.answered_wait, kernel.contacts.answered_wait, atol=1e-6)
    (group,) = centre.groups.values()
    np.testing.assert_allclose(group.busy_seconds, kernel.staff.busy_seconds, atol=1e-3)
    assert_agrees_with_erlang_a(routed, erlang_a_metrics(agents, rate, handle, patience))
    assert centre.assignments == routed.total().answered


def test_engine_mode_logged_out_agent_finishes_the_call_in_hand() -> None:
    """The kernel's hand-made case through the engine: the agent logged out at 900 s ends the call they
    hold (to 1100 s, not requeued) and comes back at 1800 s for the two waiting callers."""
    traffic = [
        QueueTraffic("sales", arrival_times=[100.0, 1000.0, 1100.0], handle_time=1000.0, **DETERMINISTIC)
    ]
    schedule = {"a00": [True, False, True], "a01": [False, False, True]}
    result = simulate_centre(one_queue_centre(2), traffic, schedule, groups={"all": ["a00", "a01"]})
    contacts, staff = result.queues["sales"], result.groups["all"]
    np.testing.assert_array_equal(contacts.answered, [1, 2, 0])
    np.testing.assert_allclose(contacts.answered_wait, [0.0, 1500.0, 0.0])
    np.testing.assert_allclose(staff.busy_seconds, [800.0, 200.0, 1800.0], atol=1e-5)
    np.testing.assert_allclose(staff.staffed_seconds, [900.0, 200.0, 1800.0], atol=1e-5)
    np.testing.assert_array_equal(result.logged_in["all"], [1, 0, 2])


def small_centre(seed: int = 1) -> tuple[RoutingConfig, list[QueueTraffic], dict[str, list[str]], dict]:
    """6 voice queues (2 offering callbacks, 3 overflowing to any agent) and 2 chat queues, 40 agents with
    1-3 skills, a 12-hour day of quarter-hours shaped like a real one."""
    rnd = random.Random(seed)
    queues = [
        QueueRules(
            f"v{j}", "voice", skills=(SkillRequirement(f"v{j}"),),
            overflow=(OverflowStep(60.0, any_skill=True),) if j % 2 == 0 else (),
            callback_offer_after_seconds=90.0 if j < 2 else None,
        )
        for j in range(6)
    ] + [QueueRules(f"c{j}", "chat", skills=(SkillRequirement(f"c{j}"),)) for j in range(2)]  # fmt: skip
    groups: dict[str, list[str]] = {"voice": [], "chat": []}
    agents = []
    for i in range(40):
        media = "voice" if i < 32 else "chat"
        pool = [q.id for q in queues if q.media == media]
        skills = {s: rnd.randint(1, 5) for s in rnd.sample(pool, min(len(pool), rnd.randint(1, 3)))}
        agents.append(
            AgentProfile(f"a{i:02d}", skills=skills, capacity={media: 1 if media == "voice" else 3})
        )
        groups[media].append(f"a{i:02d}")
    shape = 0.4 + 0.6 * np.sin(np.linspace(0, np.pi, 48))
    traffic = [
        QueueTraffic(
            q.id, arrival_rates=(0.9 * 32 / 300 / 6 if q.media == "voice" else 0.9 * 24 / 600 / 2) * shape,
            handle_time=300.0 if q.media == "voice" else 600.0, patience=180.0 if q.media == "voice" else 900.0,
            wrapup_time=15.0 if q.media == "voice" else 0.0,
            callback_acceptance=0.6 if q.callback_offer_after_seconds else 0.0, callback_delay=300.0,
        )
        for q in queues
    ]  # fmt: skip
    plan = {"voice": np.round(32 * shape).astype(int), "chat": np.round(8 * shape).astype(int)}
    return RoutingConfig(queues, agents), traffic, groups, plan


def test_multi_skill_centre_day_is_consistent() -> None:
    config, traffic, groups, plan = small_centre()
    result = simulate_centre(config, traffic, staffing_schedule(groups, plan), groups=groups, seed=4)
    totals = {q: s.total() for q, s in result.queues.items()}
    callbacks = {q: s.total() for q, s in result.callbacks.items()}
    answered = sum(t.answered for t in totals.values()) + sum(c.answered for c in callbacks.values())
    assert result.assignments == answered  # every contact given to one agent once (the simulator raises else)
    for t in totals.values():
        assert t.unanswered == 0 and t.offered > 0
        assert 0 < t.service_level < 1
    assert sum(t.callbacks for t in totals.values()) == sum(c.offered for c in callbacks.values()) > 0
    assert all(c.abandoned == 0 and c.unanswered == 0 for c in callbacks.values())  # callbacks never hang up
    assert result.overflows > 0
    for name, staff in result.groups.items():
        occupancy = staff.occupancy
        assert np.all((occupancy > 0.3) & (occupancy <= 1 + 1e-9)), name
        np.testing.assert_array_equal(result.logged_in[name], plan[name])


def test_removing_agents_raises_abandonment() -> None:
    config, traffic, groups, plan = small_centre()

    def abandon_rate(voice_agents: np.ndarray) -> float:
        schedule = staffing_schedule(groups, {**plan, "voice": voice_agents})
        result = simulate_centre(config, traffic, schedule, groups=groups, seed=4)
        totals = [s.total() for q, s in result.queues.items() if q.startswith("v")]
        return sum(t.abandoned for t in totals) / sum(t.offered for t in totals)

    full, fewer = abandon_rate(plan["voice"]), abandon_rate(np.round(plan["voice"] * 0.75).astype(int))
    assert fewer > full + 0.05


def test_engine_mode_is_deterministic_for_a_seed() -> None:
    config, traffic, groups, plan = small_centre()
    schedule = staffing_schedule(groups, plan)
    first, again = (simulate_centre(config, traffic, schedule, seed=9) for _ in range(2))
    for queue, stats in first.queues.items():
        np.testing.assert_array_equal(stats.answered_wait, again.queues[queue].answered_wait)


def test_staffing_schedule_logs_in_the_first_agents_of_each_group() -> None:
    schedule = staffing_schedule({"team": ["x", "y", "z"]}, {"team": [0, 2, 3, 1]})
    assert {a: flags.tolist() for a, flags in schedule.items()} == {
        "x": [False, True, True, True],
        "y": [False, True, True, False],
        "z": [False, False, True, False],
    }
    with pytest.raises(SimulationInputError, match="more agents than the group has"):
        staffing_schedule({"team": ["x"]}, {"team": [2]})


# ---------------------------------------------------------------------------------------------------
# Bad inputs


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"handle_time": 0.0}, "handle_time must be positive"),
        ({"handle_time": -300.0}, "handle_time must be positive"),
        ({"arrival_rates": -1.0}, "arrival_rates must be zero or more"),
        ({"arrival_rates": [1.0, 2.0]}, "2 values for 3 intervals"),
        ({"agents": [5, 5.5, 5]}, "whole numbers"),
        ({"agents": []}, "one number per interval"),
        ({"patience": 0.0}, "patience must be positive"),
        ({"handle_time": [300.0] * 4}, "4 values for 3 intervals"),
        ({"interval_seconds": 0.0}, "interval_seconds"),
        ({"handle_distribution": "gamma"}, "unknown handle time distribution"),
        ({"arrival_times": [10.0]}, "exactly one of arrival_rates or arrival_times"),
        ({"arrival_rates": None, "arrival_times": [3000.0]}, r"arrival_times must lie in \[0, 2700\)"),
    ],
)
def test_kernel_rejects_bad_inputs(arguments, message) -> None:
    call = {"arrival_rates": 1.0, "agents": [5, 5, 5], "handle_time": 300.0} | arguments
    with pytest.raises(SimulationInputError, match=message):
        simulate_queue(call.pop("arrival_rates"), call.pop("agents"), call.pop("handle_time"), **call)


@pytest.mark.parametrize(
    ("traffic", "schedule", "message"),
    [
        ([QueueTraffic("nowhere", arrival_rates=1.0)], None, "unknown queue 'nowhere'"),
        ([QueueTraffic("sales", arrival_rates=[1.0, 1.0])], None, "2 values for 3 intervals"),
        ([QueueTraffic("sales", arrival_rates=1.0, handle_time=0.0)], None, "handle_time must be positive"),
        ([QueueTraffic("sales", arrival_rates=1.0, callback_acceptance=0.5)], None, "callback_offer_after"),
        ([QueueTraffic("sales", arrival_rates=1.0)] * 2, None, "one entry per queue"),
        (
            [QueueTraffic("sales", arrival_rates=1.0)],
            {"a00": [True] * 3, "a01": [True]},
            "one flag per interval",
        ),
        ([QueueTraffic("sales", arrival_rates=1.0)], {"ghost": [True] * 3}, "unknown agents"),
    ],
)
def test_engine_mode_rejects_bad_inputs(traffic, schedule, message) -> None:
    schedule = schedule or {"a00": [True] * 3, "a01": [True, False, True]}
    with pytest.raises(SimulationInputError, match=message):
        simulate_centre(one_queue_centre(2), traffic, schedule)
