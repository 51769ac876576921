"""Shift scheduling against REFERENCES.md, the Musliu shift design instances, brute force and properties.

Every figure a schedule reports is recomputed here from its shifts and breaks by code that shares nothing
with the module (numpy sums, a separate .dzn reader), so a wrong model cannot hide behind its own report.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accueil.workforce.erlang import required_agents_many
from accueil.workforce.scheduling import (
    BreakRule,
    ChosenShift,
    Objective,
    Requirement,
    Schedule,
    SchedulingInputError,
    ShiftType,
    SolveStatus,
    UncoverableRequirementError,
    evaluate_schedule,
    schedule_shifts,
)
from accueil.workforce.scheduling_instances import (
    InstanceFormatError,
    parse_dzn,
    parse_shift_design_instance,
)

PROPERTY = settings(max_examples=150, deadline=None, database=None)
MUSLIU = "wfm/shift_design_musliu/"

# REFERENCES.md C8: hourly calls of Anonymous Bank (mtpa chapter 6), 15 calls an hour per agent, P(wait) <= 0.5
C8_CALLS = [6.75, 1.75, 1.25, 0, 0.5, 0.25, 4.75, 39.5, 97.25, 107.5, 124, 110.25, 95.5, 203.5, 115.75]
C8_CALLS += [115.5, 67.75, 75, 88.75, 85.5, 68, 61.5, 57.5, 44.25]
C8_AGENTS = [1, 1, 1, 0, 1, 1, 1, 4, 8, 9, 10, 9, 8, 16, 10, 10, 6, 7, 8, 8, 6, 6, 5, 4]
# mtpa data_anonymous_bank_shifts.csv: eight 6-hour shifts (midnight, then every 2 h from 6:00), costs in ILS
MTPA_STARTS = [0, 6, 8, 10, 12, 14, 16, 18]
MTPA_COSTS = [252, 288, 180, 180, 180, 288, 288, 288]
CYCLIC_DEMAND = [6, 6, 6, 6, 6, 8, 9, 12, 18, 22, 25, 21, 21, 20, 18, 21, 21, 24, 24, 18, 18, 18, 12, 8]


# ---------------------------------------------------------------------------------------------------
# Independent checks


def recomputed_coverage(horizon: int, shifts: tuple[ChosenShift, ...]) -> np.ndarray:
    """Agents working per slot: each shift's slots (wrapped) minus its agents' breaks, by numpy."""
    coverage = np.zeros(horizon, dtype=np.int64)
    for shift in shifts:
        np.add.at(coverage, (shift.first_slot + np.arange(shift.length)) % horizon, shift.agents)
        for placed in shift.breaks:
            slots = (shift.first_slot + placed.offset + np.arange(placed.length)) % horizon
            np.add.at(coverage, slots, -placed.agents)
    return coverage


def check_schedule(
    schedule: Schedule, requirement: Requirement, types: list[ShiftType], objective: Objective
) -> None:
    """Everything a found schedule reports agrees with its shifts; the shifts respect their types."""
    assert schedule.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
    need = np.array(requirement.agents)
    coverage = recomputed_coverage(len(need), schedule.shifts)
    assert schedule.coverage == tuple(coverage.tolist())
    assert schedule.under == tuple(np.maximum(need - coverage, 0).tolist())
    assert schedule.over == tuple(np.maximum(coverage - need, 0).tolist())
    by_name = {t.name: t for t in types}
    cost = 0
    for shift in schedule.shifts:
        kind = by_name[shift.shift_type]
        assert shift.agents > 0 and shift.start in kind.starts and shift.length in kind.lengths
        assert kind.days is None or shift.day in kind.days
        assert shift.first_slot == shift.day * requirement.day_length + shift.start
        assert requirement.cyclic or shift.first_slot + shift.length <= len(need)
        for index, rule in enumerate(kind.breaks):  # every agent takes every break, inside its window
            mine = [p for p in shift.breaks if p.rule == index]
            assert sum(p.agents for p in mine) == shift.agents
            assert all(rule.earliest <= p.offset <= rule.latest and p.length == rule.length for p in mine)
        cost += shift.agents * (kind.cost + kind.cost_per_slot * shift.length)
    distinct = len({(s.shift_type, s.start, s.length) for s in schedule.shifts})
    assert (schedule.total_cost, schedule.distinct_shifts) == (cost, distinct)
    assert schedule.total_shifts == sum(s.agents for s in schedule.shifts)
    value = (
        objective.under_weight * int(np.maximum(need - coverage, 0).sum())
        + objective.over_weight * int(np.maximum(coverage - need, 0).sum())
        + objective.cost_weight * cost
        + objective.distinct_shift_weight * distinct
    )
    assert schedule.objective == value
    assert schedule.best_bound is not None and schedule.best_bound <= value
    if objective.full_coverage:
        assert (coverage >= need).all()
    if schedule.proven_optimal:
        assert schedule.best_bound == value


def mtpa_types() -> list[ShiftType]:
    return [
        ShiftType(f"shift{k + 1}", s, 6, cost=c)
        for k, (s, c) in enumerate(zip(MTPA_STARTS, MTPA_COSTS, strict=True))
    ]


# ---------------------------------------------------------------------------------------------------
# REFERENCES.md, shift scheduling


def test_c8_requirement_comes_from_erlang_c() -> None:
    plan = required_agents_many(np.array(C8_CALLS) / 3600, 240.0, service_level=0.5, threshold=0.0)
    assert plan.agents.tolist() == C8_AGENTS


def test_mtpa_chapter_6_minimum_cost_is_6336() -> None:
    requirement = Requirement([0] * 6 + C8_AGENTS[6:])  # the bank's call centre is closed 0:00-5:59
    types = mtpa_types()
    schedule = schedule_shifts(requirement, types, Objective.minimum_cost(), time_limit=10)
    assert schedule.status is SolveStatus.OPTIMAL
    assert schedule.objective == schedule.total_cost == schedule.best_bound == 6336
    assert "shift1" not in {s.shift_type for s in schedule.shifts}  # nobody works the closed night
    check_schedule(schedule, requirement, types, Objective.minimum_cost())


def test_cyclic_eight_hour_shifts_need_55() -> None:
    requirement = Requirement(CYCLIC_DEMAND, cyclic=True)
    types = [ShiftType("8h", range(24), 8, cost=1)]
    schedule = schedule_shifts(requirement, types, time_limit=10)
    assert schedule.status is SolveStatus.OPTIMAL
    assert schedule.total_shifts == schedule.objective == schedule.best_bound == 55
    check_schedule(schedule, requirement, types, Objective.minimum_cost())


# ---------------------------------------------------------------------------------------------------
# Musliu shift design instances (../shared/data/wfm/shift_design_musliu)


def raw_dzn(path: Path) -> dict[str, list[float]]:
    """A separate reader for the check: every assignment as a list of floats."""
    values = {}
    for name, body in re.findall(r"(\w+)\s*=\s*([^;]*);", path.read_text()):
        values[name] = [float(v) for v in body.strip("[] \n").split(",")]
    return values


def check_against_raw(path: Path, schedule: Schedule) -> int:
    """The schedule is in the instance's windows; returns its benchmark objective, in minutes and shifts."""
    raw = raw_dzn(path)
    interval = int(raw["interval"][0])
    per_day = 1440 // interval
    demand = np.array(raw["demand"], dtype=np.int64)
    for shift in schedule.shifts:
        k = int(shift.shift_type.removeprefix("type")) - 1
        assert raw["minStart"][k] <= shift.start <= raw["maxStart"][k]
        assert raw["minLength"][k] <= shift.length <= raw["maxLength"][k]
    coverage = np.zeros_like(demand)
    for shift in schedule.shifts:
        coverage[(shift.day * per_day + shift.start + np.arange(shift.length)) % len(demand)] += shift.agents
    shortage = int(np.maximum(demand - coverage, 0).sum()) * interval  # agent-minutes
    excess = int(np.maximum(coverage - demand, 0).sum()) * interval
    shifts = len({(s.shift_type, s.start, s.length) for s in schedule.shifts})
    return (
        int(raw["weightUnderCover"][0]) * shortage
        + int(raw["weightOverCover"][0]) * excess
        + int(raw["weightShiftInstances"][0]) * shifts
    )


@pytest.mark.parametrize(
    ("name", "optimum"),
    [("DataSet1_RandomExample1", 480), ("DataSet1_RandomExample3", 600), ("DataSet1_RandomExample5", 480)],
)
def test_musliu_hourly_instances_solved_to_optimality(shared_data, name: str, optimum: int) -> None:
    """Set 1 demand was built from shifts, so it can be met exactly; proven here: 60 per distinct shift."""
    path = shared_data(f"{MUSLIU}{name}.dzn")
    instance = parse_shift_design_instance(path.read_text())
    schedule = schedule_shifts(instance.requirement, instance.shift_types, instance.objective, time_limit=20)
    check_schedule(schedule, instance.requirement, list(instance.shift_types), instance.objective)
    assert schedule.objective == check_against_raw(path, schedule)
    assert schedule.status is SolveStatus.OPTIMAL and schedule.objective == optimum
    assert sum(schedule.under) == sum(schedule.over) == 0 and schedule.distinct_shifts == optimum // 60


def test_musliu_instance_with_shortage_and_excess(shared_data) -> None:
    path = shared_data(f"{MUSLIU}DataSet3_RandomExample25.dzn")
    instance = parse_shift_design_instance(path.read_text())
    schedule = schedule_shifts(instance.requirement, instance.shift_types, instance.objective, time_limit=20)
    check_schedule(schedule, instance.requirement, list(instance.shift_types), instance.objective)
    assert schedule.objective == check_against_raw(path, schedule)
    assert sum(schedule.under) + sum(schedule.over) > 0  # set 3 cannot be met exactly
    assert schedule.best_bound <= 13020 <= schedule.objective  # 13,020 proven optimal here in about 1.5 s
    if schedule.proven_optimal:
        assert schedule.objective == 13020


def test_musliu_quarter_hour_instance_reports_best_found_within_the_limit(shared_data) -> None:
    """672 slots and 3,276 candidate shifts: not solved in a short budget, and it says so."""
    path = shared_data(f"{MUSLIU}DataSet2_RandomExample27.dzn")
    instance = parse_shift_design_instance(path.read_text())
    runs = [
        schedule_shifts(
            instance.requirement, instance.shift_types, instance.objective, time_limit=30, work_limit=1.0
        )
        for _ in range(2)
    ]
    first = runs[0]
    assert first.status is SolveStatus.FEASIBLE and not first.proven_optimal
    assert first.best_bound < first.objective
    check_schedule(first, instance.requirement, list(instance.shift_types), instance.objective)
    assert first.objective == check_against_raw(path, first)
    assert runs[1].shifts == first.shifts  # one worker, fixed seed, deterministic limit: same answer
    nothing = schedule_shifts(
        instance.requirement, instance.shift_types, instance.objective, time_limit=30, work_limit=0.001
    )
    assert nothing.status is SolveStatus.UNKNOWN and nothing.objective is None and nothing.shifts == ()
    assert nothing.best_bound is not None and nothing.best_bound <= first.objective


def test_musliu_toys_flip_with_the_shift_weight(shared_data) -> None:
    """toy1/toy2 weigh a shift at 179 / 181 against 180 agent-minutes of excess per 3-hour slot: with full
    cover (the bounded variant they were written for) one more shift beats one slot of excess only in toy1."""
    results = {}
    for name in ("toy1", "toy2"):
        instance = parse_shift_design_instance(shared_data(f"{MUSLIU}{name}.dzn").read_text())
        objective = dataclasses.replace(instance.objective, full_coverage=True)
        schedule = schedule_shifts(instance.requirement, instance.shift_types, objective, time_limit=10)
        check_schedule(schedule, instance.requirement, list(instance.shift_types), objective)
        results[name] = (schedule.distinct_shifts, sum(schedule.over), schedule.objective)
    assert results == {"toy1": (4, 0, 4 * 179), "toy2": (3, 1, 3 * 181 + 180)}


def test_every_musliu_file_parses(shared_data) -> None:
    directory = shared_data(MUSLIU)
    paths = sorted(directory.glob("*.dzn"))
    assert len(paths) >= 20
    for path in paths:
        raw = raw_dzn(path)
        instance = parse_shift_design_instance(path.read_text())
        interval = int(raw["interval"][0])
        assert instance.slot_minutes == interval and instance.requirement.cyclic
        assert list(instance.requirement.agents) == [int(v) for v in raw["demand"]]
        assert instance.requirement.day_length == 1440 // interval
        assert instance.requirement.days == int(raw["days"][0])
        assert len(instance.shift_types) == int(raw["shiftTypes"][0])
        for k, kind in enumerate(instance.shift_types):
            assert kind.starts == tuple(range(int(raw["minStart"][k]), int(raw["maxStart"][k]) + 1))
            assert kind.lengths == tuple(range(int(raw["minLength"][k]), int(raw["maxLength"][k]) + 1))
        assert instance.objective.under_weight == raw["weightUnderCover"][0] * interval
        assert instance.objective.over_weight == raw["weightOverCover"][0] * interval
        assert instance.objective.distinct_shift_weight == raw["weightShiftInstances"][0]
        assert instance.max_duties == raw["maxDuties"][0]


GOOD_DZN = """% a comment
interval = 360; days = 1;
demand = [1, 2,
          3, 0];
shiftTypes = 1; minStart = [0]; maxStart = [2]; minLength = [1]; maxLength = [2];
minDuties = 4.8; maxDuties = 5; avgMinutes = 2280;
weightUnderCover = 1; weightOverCover = 1; weightDutiesPerWeek = 0; weightShiftInstances = 360;
"""


def test_parser_reads_comments_multiline_arrays_and_floats() -> None:
    assert parse_dzn("a = 1; % x = 2;\nb = [1.5, 2];")["b"] == [1.5, 2.0]
    instance = parse_shift_design_instance(GOOD_DZN)
    assert instance.requirement.agents == (1, 2, 3, 0) and instance.min_duties == 4.8
    assert instance.objective.under_weight == 360 and instance.shift_types[0].starts == (0, 1, 2)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("demand = [1, 2,", "demand = [1,"), "demand has 3 values"),
        (lambda t: t.replace("interval = 360;", ""), "missing interval"),
        (lambda t: t.replace("interval = 360", "interval = 7"), "does not divide a day"),
        (lambda t: t.replace("maxStart = [2]", "maxStart = [two]"), "not a number"),
        (lambda t: t.replace("minLength = [1]", "minLength = [1.5]"), "whole number"),
        (lambda t: t.replace("maxLength = [2]", "maxLength = [2"), "not closed"),
        (lambda t: t + "days = 2;", "given twice"),
        (lambda t: t.replace("maxStart = [2]", "maxStart = [9]"), "not a slot"),
        (lambda t: t.replace("days = 1;", "days = [1];"), "should be a number"),
        (lambda t: t + "1 = 2;", "expected name = value"),
    ],
)
def test_parser_refuses_broken_instances(edit, message: str) -> None:
    with pytest.raises(SchedulingInputError, match=message):
        instance = parse_shift_design_instance(edit(GOOD_DZN))
        schedule_shifts(instance.requirement, instance.shift_types, instance.objective, time_limit=1)
    assert issubclass(InstanceFormatError, ValueError)


# ---------------------------------------------------------------------------------------------------
# Breaks, days, counts, caps


def test_break_placement_is_a_decision() -> None:
    """4 agents needed for 8 slots, one 1-slot break in offsets 3-5: spreading breaks needs 6, not 8."""
    requirement = Requirement([4] * 8)
    floating = [ShiftType("day", 0, 8, cost=1, breaks=[BreakRule(1, 3, 5)])]
    schedule = schedule_shifts(requirement, floating, time_limit=10)
    assert schedule.proven_optimal and schedule.total_shifts == 6
    assert sorted(p.agents for p in schedule.shifts[0].breaks) == [2, 2, 2]
    check_schedule(schedule, requirement, floating, Objective.minimum_cost())
    fixed = [ShiftType("day", 0, 8, cost=1, breaks=[BreakRule(1, 4)])]
    with pytest.raises(UncoverableRequirementError, match="slot"):
        schedule_shifts(requirement, fixed, time_limit=10)
    short = schedule_shifts(requirement, fixed, Objective.minimum_deviation(), time_limit=10)
    assert short.proven_optimal and short.under[4] == 4 and sum(short.under) == 4
    check_schedule(short, requirement, fixed, Objective.minimum_deviation())


def test_two_breaks_lunch_and_pause() -> None:
    requirement = Requirement([3] * 16)
    types = [ShiftType("long", 0, 16, cost=10, breaks=[BreakRule(1, 2, 4), BreakRule(2, 7, 10)])]
    schedule = schedule_shifts(requirement, types, time_limit=10)
    check_schedule(schedule, requirement, types, Objective.minimum_cost())
    # the 2-slot break (offsets 7-10) blocks two offsets' worth of agents on each slot it can touch, so
    # at most 2 x (agents - 3) agents can take it: 6 agents, where the 1-slot break alone would need 5
    assert schedule.proven_optimal and schedule.total_shifts == 6


def test_days_min_count_cost_per_slot_and_cap() -> None:
    week = Requirement([2, 2, 2, 2] * 5 + [0, 0, 0, 0] * 2, slots_per_day=4)
    weekday = ShiftType("weekday", 0, [2, 4], cost_per_slot=5, days=range(5))
    schedule = schedule_shifts(week, [weekday], time_limit=10)
    assert schedule.proven_optimal and schedule.total_cost == 5 * 4 * 2 * 5
    assert {s.length for s in schedule.shifts} == {4} and {s.day for s in schedule.shifts} == set(range(5))
    extra = dataclasses.replace(weekday, name="w", min_count=12)
    forced = schedule_shifts(week, [extra], time_limit=10)
    assert forced.total_shifts == 12 and forced.total_cost == 10 * 20 + 2 * 10  # two cheapest extras
    check_schedule(forced, week, [extra], Objective.minimum_cost())
    capped = schedule_shifts(week, [weekday], max_shifts=9, time_limit=10)
    assert capped.status is SolveStatus.INFEASIBLE and capped.objective is None and not capped.shifts
    deviation = Objective.minimum_deviation(under=3, over=1, cost=0)
    best_effort = schedule_shifts(week, [weekday], deviation, max_shifts=9, time_limit=10)
    assert best_effort.proven_optimal and best_effort.total_shifts == 9 and sum(best_effort.under) == 4
    check_schedule(best_effort, week, [weekday], deviation)
    limited = dataclasses.replace(weekday, max_count=3)
    assert schedule_shifts(week, [limited], time_limit=10).status is SolveStatus.INFEASIBLE


def test_empty_need_costs_nothing() -> None:
    schedule = schedule_shifts(Requirement([0] * 6), [ShiftType("a", 0, 3, cost=7)], time_limit=5)
    assert schedule.proven_optimal and schedule.objective == 0 and schedule.shifts == ()


def test_evaluate_schedule_of_a_hand_edited_plan() -> None:
    requirement = Requirement([1, 2, 2, 1], cyclic=True)
    shifts = [ChosenShift("x", 0, 3, 2, 1, unit_cost=5, first_slot=3)]  # 3 -> wraps to slot 0
    figures = evaluate_schedule(requirement, shifts, Objective.minimum_deviation(under=2, over=1, cost=1))
    assert figures.coverage == (1, 0, 0, 1) and figures.under == (0, 2, 2, 0)
    assert figures.objective == 2 * 4 + 5


# ---------------------------------------------------------------------------------------------------
# Bad input: clear errors before any solving


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Requirement([]), "at least one slot"),
        (lambda: Requirement([1, -1]), ">= 0"),
        (lambda: Requirement([1, 2.5]), "whole number"),
        (lambda: Requirement(5), "at least one slot"),
        (lambda: Requirement([1] * 10, slots_per_day=4), "whole days"),
        (lambda: ShiftType("a", 0, 4, cost=-1), "cost must be >= 0"),
        (lambda: ShiftType("a", [], 4), "at least one start"),
        (lambda: ShiftType("a", 0, 0), "length must be >= 1"),
        (lambda: ShiftType("a", 0, 4, min_count=3, max_count=2), "max_count < min_count"),
        (lambda: ShiftType("a", 0, 4, days=[]), "covers nothing"),
        (lambda: ShiftType("a", 0, 4, breaks=[BreakRule(1, 3, 4)]), "past the shift end"),
        (lambda: ShiftType("a", 0, 4, breaks=[BreakRule(1, 0, 1), BreakRule(1, 1)]), "overlap"),
        (lambda: ShiftType("a", 0, 2, breaks=[BreakRule(2, 0)]), "no working slot"),
        (lambda: ShiftType("", 0, 4), "needs a name"),
        (lambda: BreakRule(1, 3, 2), "ends"),
        (lambda: BreakRule(0, 1), ">= 1"),
        (lambda: Objective.minimum_deviation(under=0, over=0), "nothing to minimise"),
        (lambda: Objective.minimum_deviation(under=-1), ">= 0"),
        (lambda: Objective(cost_weight=1.5), "whole number"),
    ],
)
def test_bad_definitions_are_refused(build, message: str) -> None:
    with pytest.raises(SchedulingInputError, match=message):
        build()


DAY = Requirement([1] * 8)
OK = ShiftType("ok", 0, 8, cost=1)


@pytest.mark.parametrize(
    ("types", "options", "message"),
    [
        ([], {}, "at least one ShiftType"),
        ([OK, OK], {}, "unique"),
        ([ShiftType("late", 6, 4)], {}, "covers nothing"),  # non-cyclic: runs past the end
        ([ShiftType("far", 9, 2)], {}, "not a slot"),
        ([ShiftType("long", 0, 9)], {}, "longer than"),
        ([ShiftType("sunday", 0, 8, days=[1])], {}, "outside"),
        ([ShiftType("half", 0, 4)], {}, "no shift works slot"),
        ([OK], {"time_limit": 0}, "seconds"),
        ([OK], {"time_limit": float("inf")}, "seconds"),
        ([OK], {"time_limit": float("nan")}, "seconds"),
        ([OK], {"time_limit": True}, "seconds"),
        ([OK], {"time_limit": 10_000}, "seconds"),
        ([OK], {"work_limit": -1}, "seconds"),
        ([OK], {"workers": 0}, "workers"),
        ([OK], {"max_shifts": -1}, "max_shifts"),
        (
            [ShiftType("huge", range(96), range(50, 97), breaks=[BreakRule(1, 1, 40)])],
            {"_week": 1},
            "choices",
        ),
    ],
)
def test_bad_problems_are_refused_before_solving(types, options: dict, message: str) -> None:
    requirement = DAY if "_week" not in options else Requirement([1] * 96 * 7, slots_per_day=96, cyclic=True)
    options = {key: value for key, value in options.items() if not key.startswith("_")}
    with pytest.raises(SchedulingInputError, match=message):
        schedule_shifts(requirement, types, **{"time_limit": 5, **options})


# ---------------------------------------------------------------------------------------------------
# Properties


@st.composite
def problems(draw):
    per_day = draw(st.integers(4, 10))
    days = draw(st.integers(1, 2))
    cyclic = draw(st.booleans())
    need = draw(st.lists(st.integers(0, 4), min_size=per_day * days, max_size=per_day * days))
    types = []
    for k in range(draw(st.integers(1, 3))):
        length = draw(st.integers(2, per_day))
        starts = draw(
            st.lists(st.integers(0, per_day - length if not cyclic else per_day - 1), min_size=1, max_size=3)
        )
        breaks = []
        if length >= 3 and draw(st.booleans()):
            size = draw(st.integers(1, 2 if length >= 4 else 1))
            earliest = draw(st.integers(1, length - 1 - size))
            breaks = [BreakRule(size, earliest, draw(st.integers(earliest, length - 1 - size)))]
        on = draw(st.none() | st.lists(st.integers(0, days - 1), min_size=1, max_size=days))
        minimum = draw(st.sampled_from([0, 0, 0, 2]))
        cost = draw(st.integers(0, 9))
        types.append(ShiftType(f"t{k}", starts, length, cost=cost, breaks=breaks, days=on, min_count=minimum))
    objective = draw(
        st.sampled_from(
            [
                Objective.minimum_cost(),
                Objective.minimum_deviation(under=3, over=1, cost=1),
                Objective.minimum_deviation(under=2, over=0),
                Objective.shift_design(under=2, over=1, distinct_shift=3),
            ]
        )
    )
    max_shifts = draw(st.none() | st.integers(0, 8))
    return Requirement(need, slots_per_day=per_day, cyclic=cyclic), types, objective, max_shifts


def workable_slots(requirement: Requirement, types: list[ShiftType]) -> set[int]:
    """Slots some agent can work: in a shift and outside the part of a break window always taken."""
    slots = set()
    for kind in types:
        for day in kind.days if kind.days is not None else range(requirement.days):
            for start, length in itertools.product(kind.starts, kind.lengths):
                first = day * requirement.day_length + start
                if not requirement.cyclic and first + length > requirement.horizon:
                    continue
                off = {k for r in kind.breaks for k in range(r.latest, r.earliest + r.length)}
                slots |= {(first + k) % requirement.horizon for k in range(length) if k not in off}
    return slots


@PROPERTY
@given(problems())
def test_reported_figures_equal_the_recomputed_ones(problem) -> None:
    requirement, types, objective, max_shifts = problem
    short = [t for t, n in enumerate(requirement.agents) if n and t not in workable_slots(requirement, types)]
    if objective.full_coverage and short:
        with pytest.raises(UncoverableRequirementError):
            schedule_shifts(requirement, types, objective, max_shifts=max_shifts, time_limit=5)
        return
    schedule = schedule_shifts(requirement, types, objective, max_shifts=max_shifts, time_limit=5)
    if schedule.status is SolveStatus.INFEASIBLE:  # only a cap can make these problems impossible
        assert max_shifts is not None and schedule.objective is None and schedule.shifts == ()
        return
    check_schedule(schedule, requirement, types, objective)
    assert max_shifts is None or schedule.total_shifts <= max_shifts
    for kind in types:
        assert sum(s.agents for s in schedule.shifts if s.shift_type == kind.name) >= kind.min_count


def brute_force_optimum(requirement: Requirement, types: list[ShiftType], objective: Objective) -> int | None:
    """Try every count 0..max(need) on every (day, start, length): tiny instances only, no breaks."""
    need = np.array(requirement.agents)
    candidates = [
        (kind, day, start, length)
        for kind in types
        for day in range(requirement.days)
        for start in kind.starts
        for length in kind.lengths
        if requirement.cyclic or day * requirement.day_length + start + length <= len(need)
    ]
    best = None
    for counts in itertools.product(range(int(need.max()) + 1), repeat=len(candidates)):
        coverage = np.zeros_like(need)
        cost, used = 0, set()
        for n, (kind, day, start, length) in zip(counts, candidates, strict=True):
            if n:
                first = day * requirement.day_length + start
                coverage[(first + np.arange(length)) % len(need)] += n
                cost += n * kind.cost
                used.add((kind.name, start, length))
        if objective.full_coverage and (coverage < need).any():
            continue
        value = (
            objective.under_weight * int(np.maximum(need - coverage, 0).sum())
            + objective.over_weight * int(np.maximum(coverage - need, 0).sum())
            + objective.cost_weight * cost
            + objective.distinct_shift_weight * len(used)
        )
        best = value if best is None else min(best, value)
    return best  # None: no count vector covers every slot


@PROPERTY
@given(
    need=st.lists(st.integers(0, 3), min_size=6, max_size=6),
    starts=st.lists(st.integers(0, 5), min_size=1, max_size=2, unique=True),
    length=st.integers(2, 4),
    costs=st.tuples(st.integers(1, 5), st.integers(1, 5)),
    which=st.integers(0, 2),
)
def test_proven_optimum_matches_brute_force(need, starts, length, costs, which) -> None:
    requirement = Requirement(need, cyclic=True)
    types = [ShiftType("a", starts, length, cost=costs[0]), ShiftType("b", 1, [2, 3], cost=costs[1])]
    objective = [
        Objective.minimum_cost(),
        Objective.minimum_deviation(under=2, over=1, cost=1),
        Objective.shift_design(under=2, over=1, distinct_shift=2),
    ][which]
    expected = brute_force_optimum(requirement, types, objective)
    if expected is None:  # some needed slot lies in no shift
        with pytest.raises(UncoverableRequirementError):
            schedule_shifts(requirement, types, objective, time_limit=5)
        return
    schedule = schedule_shifts(requirement, types, objective, time_limit=5)
    assert schedule.proven_optimal
    assert schedule.objective == expected
