"""Shift scheduling: how many agents to put on which shifts so staffing follows the requirement.

Erlang staffing says how many agents each slot needs; people are not hired per slot but per shift (9:00
for 8 h with a 30-minute lunch somewhere between 12:00 and 14:00). This module picks shifts from shift
types and counts agents on each, with OR-Tools CP-SAT, under one of three goals:

- minimum cost with every slot covered (the classic set-covering model of staff scheduling);
- minimum weighted under-cover and over-cover (plus an optional cost term), when full cover is impossible
  or not wanted, e.g. with a cap on the number of shifts;
- the "shift design" goal of Musliu, Schaerf and Slany: weighted shortage, excess and number of distinct
  shifts, so that a week is covered by few shift patterns (benchmark instances: scheduling_instances.py).

Pure core: no I/O, no clock reads (solve time is the solver's own measurement). Time is in slots: a
Requirement is agents needed per slot, for one day or several (`slots_per_day`), optionally cyclic (a
night shift wraps from the last slot to the first). Costs and weights are integers (cents, per agent-slot)
because CP-SAT is exact on integers. Every solve has a time limit and says whether the answer is proven
optimal or only the best found; bad input raises SchedulingInputError (a ValueError) before solving.

Public API
    Requirement(agents, slots_per_day=None, cyclic=False)
    BreakRule(length, earliest, latest=None)        break of `length` slots starting at an offset
    ShiftType(name, start, length, cost=0, cost_per_slot=0, breaks=(), days=None, min_count=0,
              max_count=None)
    Objective.minimum_cost() / .minimum_deviation(...) / .shift_design(...)
    schedule_shifts(requirement, shift_types, objective=None, *, max_shifts=None, time_limit=10.0,
                    workers=1, seed=0) -> Schedule
    evaluate_schedule(requirement, shifts, objective) -> Evaluation
"""

from __future__ import annotations

import math
import operator
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from ortools.sat.python import cp_model

DEFAULT_TIME_LIMIT: Final = 10.0  # seconds
MAX_TIME_LIMIT: Final = 3600.0
MAX_DECISIONS: Final = 400_000  # shift and break variables; beyond this the model is refused, not built


class SchedulingInputError(ValueError):
    """Input with no meaningful schedule (negative requirement, shift that fits nowhere, bad weight...)."""


class UncoverableRequirementError(SchedulingInputError):
    """Full cover was asked, but some slots that need agents lie in no shift: no solver run can help."""


class SolveStatus(StrEnum):
    """What the solver proved within its time limit."""

    OPTIMAL = "optimal"  # proven best
    FEASIBLE = "feasible"  # best found within the time limit; best_bound says how far it may be
    INFEASIBLE = "infeasible"  # proven impossible (caps, min/max counts, full cover)
    UNKNOWN = "unknown"  # no schedule found within the time limit, nothing proven


def _whole(name: str, value: object, *, minimum: int = 0) -> int:
    """An integer >= minimum (numpy integers accepted; floats and bools refused, they hide mistakes)."""
    if isinstance(value, bool):
        raise SchedulingInputError(f"{name} must be a whole number, not {value!r}")
    try:
        number = operator.index(value)  # type: ignore[call-overload]
    except TypeError:
        raise SchedulingInputError(f"{name} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise SchedulingInputError(f"{name} must be >= {minimum}, not {number}")
    return number


def _wholes(name: str, values: object, *, minimum: int = 0) -> tuple[int, ...]:
    """One whole number or an iterable (list, tuple, range, numpy array) of them, as a tuple."""
    if isinstance(values, Iterable) and not isinstance(values, str | bytes):
        return tuple(_whole(f"{name}[{i}]", v, minimum=minimum) for i, v in enumerate(values))
    return (_whole(name, values, minimum=minimum),)


# ---------------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True)
class Requirement:
    """Agents needed per slot; `slots_per_day` splits it into days (None: one day); cyclic wraps around."""

    agents: Sequence[int]
    slots_per_day: int | None = None
    cyclic: bool = False

    def __post_init__(self) -> None:
        agents = _wholes("requirement", self.agents)
        if isinstance(self.agents, int) or not agents:
            raise SchedulingInputError("the requirement needs at least one slot (agents needed per slot)")
        per_day = len(agents) if self.slots_per_day is None else _whole("slots_per_day", self.slots_per_day)
        if per_day < 1 or len(agents) % per_day:
            raise SchedulingInputError(
                f"{len(agents)} slots do not split into whole days of {per_day} slots (slots_per_day)"
            )
        object.__setattr__(self, "agents", agents)
        object.__setattr__(self, "slots_per_day", per_day)
        object.__setattr__(self, "cyclic", bool(self.cyclic))

    @property
    def horizon(self) -> int:
        return len(self.agents)

    @property
    def days(self) -> int:
        return len(self.agents) // self.day_length

    @property
    def day_length(self) -> int:
        return int(self.slots_per_day or len(self.agents))


@dataclass(frozen=True)
class BreakRule:
    """A break of `length` slots starting between `earliest` and `latest` slots after the shift starts.

    latest=None (or equal to earliest) fixes the break. Otherwise where each agent takes it is decided by
    the solver, agent by agent. An agent on break does not cover the slot.
    """

    length: int
    earliest: int
    latest: int | None = None

    def __post_init__(self) -> None:
        _whole("break length", self.length, minimum=1)
        _whole("break earliest offset", self.earliest)
        latest = self.earliest if self.latest is None else _whole("break latest offset", self.latest)
        if latest < self.earliest:
            raise SchedulingInputError(f"break window ends ({latest}) before it starts ({self.earliest})")
        object.__setattr__(self, "latest", latest)

    @property
    def offsets(self) -> range:
        """Possible start offsets of the break inside the shift."""
        return range(self.earliest, int(self.latest or self.earliest) + 1)

    @property
    def span_end(self) -> int:
        """First offset after the last slot the break can occupy."""
        return int(self.latest or self.earliest) + self.length


@dataclass(frozen=True)
class ShiftType:
    """A family of shifts: allowed starts within a day, lengths, cost, breaks, days, count limits.

    start and length take one value, a list, or a window such as range(20, 33); several lengths let the
    solver choose. cost is per agent and shift (cents, say), plus cost_per_slot x length. days lists the
    day indices where the type may start (None: every day). min_count / max_count bound the number of
    agent-shifts of this type over the whole requirement.
    """

    name: str
    start: int | Sequence[int]
    length: int | Sequence[int]
    cost: int = 0
    cost_per_slot: int = 0
    breaks: Sequence[BreakRule] = ()
    days: Sequence[int] | None = None
    min_count: int = 0
    max_count: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise SchedulingInputError("a shift type needs a name")
        starts = tuple(sorted(set(_wholes(f"{self.name}: start", self.start))))
        lengths = tuple(sorted(set(_wholes(f"{self.name}: length", self.length, minimum=1))))
        if not starts or not lengths:
            raise SchedulingInputError(f"{self.name}: give at least one start and one length")
        _whole(f"{self.name}: cost", self.cost)
        _whole(f"{self.name}: cost_per_slot", self.cost_per_slot)
        _whole(f"{self.name}: min_count", self.min_count)
        if self.max_count is not None:
            _whole(f"{self.name}: max_count", self.max_count)
            if self.max_count < self.min_count:
                raise SchedulingInputError(f"{self.name}: max_count is below min_count")
        breaks = tuple(self.breaks)
        if not all(isinstance(b, BreakRule) for b in breaks):
            raise SchedulingInputError(f"{self.name}: breaks must be BreakRule values")
        for before, after in zip(breaks, breaks[1:], strict=False):
            if before.span_end > after.earliest:
                raise SchedulingInputError(
                    f"{self.name}: break windows must be in order and not overlap (each agent takes each break)"
                )
        if breaks and breaks[-1].span_end > lengths[0]:
            raise SchedulingInputError(f"{self.name}: a break window runs past the end of a {lengths[0]}-slot shift")
        if sum(b.length for b in breaks) >= lengths[0]:
            raise SchedulingInputError(f"{self.name}: breaks leave no working slot in a {lengths[0]}-slot shift")
        days = None if self.days is None else tuple(sorted(set(_wholes(f"{self.name}: days", self.days))))
        if days == ():
            raise SchedulingInputError(f"{self.name}: days is empty, the type covers nothing")
        object.__setattr__(self, "start", starts)
        object.__setattr__(self, "length", lengths)
        object.__setattr__(self, "breaks", breaks)
        object.__setattr__(self, "days", days)

    @property
    def starts(self) -> tuple[int, ...]:
        return tuple(self.start) if isinstance(self.start, Sequence) else (self.start,)

    @property
    def lengths(self) -> tuple[int, ...]:
        return tuple(self.length) if isinstance(self.length, Sequence) else (self.length,)

    def unit_cost(self, length: int) -> int:
        """Cost of one agent on one shift of this type and length."""
        return self.cost + self.cost_per_slot * length


@dataclass(frozen=True)
class Objective:
    """What to minimise: weighted under/over-cover (per agent-slot), cost, and distinct shifts used.

    full_coverage makes under-cover forbidden rather than weighted. A distinct shift is a (type, start,
    length) used on at least one day: few patterns make a week easier to roster (Musliu's shift design).
    """

    full_coverage: bool = True
    under_weight: int = 0
    over_weight: int = 0
    cost_weight: int = 1
    distinct_shift_weight: int = 0

    def __post_init__(self) -> None:
        for name in ("under_weight", "over_weight", "cost_weight", "distinct_shift_weight"):
            _whole(name, getattr(self, name))
        weights = (self.under_weight, self.over_weight, self.cost_weight, self.distinct_shift_weight)
        if not self.full_coverage and not any(weights):
            raise SchedulingInputError("every weight is zero: nothing to minimise (an empty schedule wins)")

    @classmethod
    def minimum_cost(cls) -> Objective:
        """Cover every slot at least as required, at the lowest total shift cost."""
        return cls(full_coverage=True, cost_weight=1)

    @classmethod
    def minimum_deviation(cls, *, under: int = 1, over: int = 1, cost: int = 0) -> Objective:
        """Weighted agent-slots missing and in excess (plus cost x `cost`); full cover not required."""
        return cls(full_coverage=False, under_weight=under, over_weight=over, cost_weight=cost)

    @classmethod
    def shift_design(
        cls, *, under: int, over: int, distinct_shift: int, cost: int = 0, full_coverage: bool = False
    ) -> Objective:
        """Musliu's shift design: weighted shortage + excess + number of distinct shifts (+ cost)."""
        return cls(
            full_coverage=full_coverage,
            under_weight=under,
            over_weight=over,
            cost_weight=cost,
            distinct_shift_weight=distinct_shift,
        )


# ---------------------------------------------------------------------------------------------------
# Outputs


@dataclass(frozen=True)
class BreakPlacement:
    """`agents` agents of one shift take break number `rule` at `offset` slots after the shift starts."""

    rule: int
    offset: int
    slot: int  # absolute slot of the requirement where the break starts (wrapped when cyclic)
    length: int
    agents: int


@dataclass(frozen=True)
class ChosenShift:
    """`agents` agents work this shift; breaks say who steps off the phone when."""

    shift_type: str
    day: int
    start: int  # slot within the day
    length: int
    agents: int
    unit_cost: int  # per agent
    first_slot: int  # absolute slot of the requirement
    breaks: tuple[BreakPlacement, ...] = ()

    @property
    def cost(self) -> int:
        return self.agents * self.unit_cost


@dataclass(frozen=True)
class Evaluation:
    """Figures of a schedule against a requirement; the objective value under the given weights."""

    coverage: tuple[int, ...]  # agents working (not on break) per slot
    under: tuple[int, ...]  # max(0, needed - coverage) per slot
    over: tuple[int, ...]  # max(0, coverage - needed) per slot
    total_cost: int
    total_shifts: int  # agent-shifts
    distinct_shifts: int
    objective: int


@dataclass(frozen=True)
class Schedule:
    """The solver's answer. With status infeasible or unknown there is no schedule: shifts and figures
    are empty and objective is None; best_bound is a proven lower bound on the objective (None if none)."""

    status: SolveStatus
    shifts: tuple[ChosenShift, ...]
    coverage: tuple[int, ...]
    under: tuple[int, ...]
    over: tuple[int, ...]
    total_cost: int
    total_shifts: int
    distinct_shifts: int
    objective: int | None
    best_bound: int | None
    solve_seconds: float

    @property
    def proven_optimal(self) -> bool:
        return self.status is SolveStatus.OPTIMAL

    @property
    def found(self) -> bool:
        return self.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)


# ---------------------------------------------------------------------------------------------------
# Evaluation (also used to fill the solver's answer, so reported figures never come from model variables)


def evaluate_schedule(
    requirement: Requirement, shifts: Sequence[ChosenShift], objective: Objective
) -> Evaluation:
    """Coverage, under/over-cover, cost and objective value of a schedule, e.g. one edited by hand."""
    horizon = requirement.horizon
    coverage = [0] * horizon
    for shift in shifts:
        if not requirement.cyclic and shift.first_slot + shift.length > horizon:
            raise SchedulingInputError(f"{shift.shift_type} on day {shift.day} runs past the requirement")
        for k in range(shift.length):
            coverage[(shift.first_slot + k) % horizon] += shift.agents
        for placed in shift.breaks:
            for k in range(placed.length):
                coverage[(shift.first_slot + placed.offset + k) % horizon] -= placed.agents
    under = tuple(max(0, need - have) for need, have in zip(requirement.agents, coverage, strict=True))
    over = tuple(max(0, have - need) for need, have in zip(requirement.agents, coverage, strict=True))
    total_cost = sum(shift.cost for shift in shifts)
    distinct = len({(s.shift_type, s.start, s.length) for s in shifts if s.agents > 0})
    value = (
        objective.under_weight * sum(under)
        + objective.over_weight * sum(over)
        + objective.cost_weight * total_cost
        + objective.distinct_shift_weight * distinct
    )
    return Evaluation(
        coverage=tuple(coverage),
        under=under,
        over=over,
        total_cost=total_cost,
        total_shifts=sum(s.agents for s in shifts),
        distinct_shifts=distinct,
        objective=value,
    )


# ---------------------------------------------------------------------------------------------------
# Model


@dataclass(frozen=True)
class _Candidate:
    """One shift the solver may staff: a type on a day at a start with a length."""

    type_index: int
    day: int
    start: int
    length: int
    first: int
    upper: int  # no optimal schedule needs more agents on it


def _slots(first: int, length: int, horizon: int) -> range | list[int]:
    end = first + length
    return range(first, end) if end <= horizon else [t % horizon for t in range(first, end)]


def _working_offsets(shift_type: ShiftType, length: int) -> list[int]:
    """Offsets where an agent may be working: not inside the part of a break window that is always off."""
    always_off: set[int] = set()
    for rule in shift_type.breaks:
        always_off.update(range(int(rule.latest or rule.earliest), rule.earliest + rule.length))
    return [k for k in range(length) if k not in always_off]


def _candidates(
    requirement: Requirement, shift_types: Sequence[ShiftType]
) -> tuple[list[_Candidate], set[int]]:
    """Every placeable shift with a safe upper bound on its agents, and the slots some shift can work."""
    need, horizon, per_day = requirement.agents, requirement.horizon, requirement.day_length
    candidates: list[_Candidate] = []
    coverable: set[int] = set()
    for index, shift_type in enumerate(shift_types):
        if shift_type.starts[-1] >= per_day:
            raise SchedulingInputError(
                f"{shift_type.name}: start {shift_type.starts[-1]} is not a slot of a {per_day}-slot day"
            )
        if shift_type.lengths[-1] > horizon:
            raise SchedulingInputError(f"{shift_type.name}: a shift is longer than the whole requirement")
        days = shift_type.days if shift_type.days is not None else range(requirement.days)
        if days[-1] >= requirement.days:
            raise SchedulingInputError(
                f"{shift_type.name}: day {days[-1]} is outside the requirement's {requirement.days} day(s)"
            )
        cap = shift_type.max_count
        before = len(candidates)
        for day in days:
            for start in shift_type.starts:
                for length in shift_type.lengths:
                    first = day * per_day + start
                    if not requirement.cyclic and first + length > horizon:
                        continue  # would run past the end of a non-cyclic requirement
                    span = [need[t] for t in _slots(first, length, horizon)]
                    # more agents than this never help: without breaks each one beyond the peak is idle
                    # everywhere; with breaks, beyond the summed need some agent is nowhere critical
                    upper = max(span) if not shift_type.breaks else sum(span)
                    upper = max(upper, shift_type.min_count)
                    upper = upper if cap is None else min(upper, cap)
                    candidates.append(_Candidate(index, day, start, length, first, upper))
                    working = _working_offsets(shift_type, length)
                    coverable.update((first + k) % horizon for k in working)
        if len(candidates) == before:
            raise SchedulingInputError(
                f"{shift_type.name}: no shift of this type fits in the requirement (non-cyclic, too late, "
                "or on no day): it covers nothing"
            )
    return candidates, coverable


def _check_solver_options(time_limit: float, workers: int, seed: int, max_shifts: int | None) -> None:
    if isinstance(time_limit, bool) or not isinstance(time_limit, int | float):
        raise SchedulingInputError("time_limit must be a number of seconds")
    if not (math.isfinite(time_limit) and 0 < time_limit <= MAX_TIME_LIMIT):
        raise SchedulingInputError(f"time_limit must be in (0, {MAX_TIME_LIMIT:g}] seconds: a solve always stops")
    _whole("workers", workers, minimum=1)
    _whole("seed", seed)
    if max_shifts is not None:
        _whole("max_shifts", max_shifts)


def schedule_shifts(
    requirement: Requirement,
    shift_types: Sequence[ShiftType],
    objective: Objective | None = None,
    *,
    max_shifts: int | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
    workers: int = 1,
    seed: int = 0,
) -> Schedule:
    """Agents per shift that best meet the requirement under `objective` (default: minimum cost).

    max_shifts caps agent-shifts over the whole requirement (the number of agents, for one day). The
    solve stops after `time_limit` seconds at the latest. workers=1 with a fixed seed repeats the same
    answer run after run (unless the time limit cuts the search); workers=2 uses both cores of a small
    machine with a portfolio of strategies, usually faster on hard instances but not reproducible.
    """
    objective = objective or Objective.minimum_cost()
    if not isinstance(requirement, Requirement):
        raise SchedulingInputError("requirement must be a Requirement")
    if not isinstance(objective, Objective):
        raise SchedulingInputError("objective must be an Objective")
    types = tuple(shift_types)
    if not types or not all(isinstance(t, ShiftType) for t in types):
        raise SchedulingInputError("give at least one ShiftType")
    if len({t.name for t in types}) != len(types):
        raise SchedulingInputError("shift type names must be unique (the schedule names shifts by type)")
    _check_solver_options(time_limit, workers, seed, max_shifts)
    candidates, coverable = _candidates(requirement, types)
    if objective.full_coverage:
        missing = [t for t, need in enumerate(requirement.agents) if need > 0 and t not in coverable]
        if missing:
            shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
            raise UncoverableRequirementError(
                f"full coverage asked, but no shift works slot(s) {shown}; add a shift type or use "
                "Objective.minimum_deviation"
            )
    decisions = sum(
        1 + sum(len(r.offsets) for r in types[c.type_index].breaks if len(r.offsets) > 1) for c in candidates
    )
    if decisions > MAX_DECISIONS:
        raise SchedulingInputError(
            f"{decisions} shift and break choices exceed {MAX_DECISIONS}: narrow the start, length or break "
            "windows, or use coarser slots"
        )
    return _solve(requirement, types, objective, candidates, max_shifts, time_limit, workers, seed)


def _solve(
    requirement: Requirement,
    types: tuple[ShiftType, ...],
    objective: Objective,
    candidates: list[_Candidate],
    max_shifts: int | None,
    time_limit: float,
    workers: int,
    seed: int,
) -> Schedule:
    horizon = requirement.horizon
    model = cp_model.CpModel()
    live = [c for c in candidates if c.upper > 0]
    count = [model.new_int_var(0, c.upper, f"x{i}") for i, c in enumerate(live)]
    terms: list[list[cp_model.LinearExprT]] = [[] for _ in range(horizon)]
    capacity = [0] * horizon  # most agents any schedule can put on each slot
    minus: list[list[cp_model.LinearExprT]] = [[] for _ in range(horizon)]
    placements: dict[tuple[int, int, int], cp_model.IntVar] = {}  # (candidate, rule, offset) -> agents
    for i, (cand, x) in enumerate(zip(live, count, strict=True)):
        for t in _slots(cand.first, cand.length, horizon):
            terms[t].append(x)
            capacity[t] += cand.upper
        for r, rule in enumerate(types[cand.type_index].breaks):
            if len(rule.offsets) == 1:
                for t in _slots(cand.first + rule.earliest, rule.length, horizon):
                    minus[t].append(x)
                continue
            share = [model.new_int_var(0, cand.upper, f"b{i}_{r}_{o}") for o in rule.offsets]
            model.add(sum(share) == x)
            for offset, y in zip(rule.offsets, share, strict=True):
                placements[(i, r, offset)] = y
                for t in _slots(cand.first + offset, rule.length, horizon):
                    minus[t].append(y)

    penalties: list[cp_model.LinearExprT] = []
    weights: list[int] = []
    for t, need in enumerate(requirement.agents):
        cover = sum(terms[t]) - sum(minus[t])
        if objective.full_coverage:
            model.add(cover >= need)
        elif objective.under_weight and need > 0:
            under = model.new_int_var(0, need, f"under{t}")
            model.add(cover + under >= need)
            penalties.append(under)
            weights.append(objective.under_weight)
        if objective.over_weight and capacity[t] > need:
            over = model.new_int_var(0, capacity[t] - need, f"over{t}")
            model.add(over >= cover - need)
            penalties.append(over)
            weights.append(objective.over_weight)
    if objective.cost_weight:
        for cand, x in zip(live, count, strict=True):
            unit = types[cand.type_index].unit_cost(cand.length)
            if unit:
                penalties.append(x)
                weights.append(objective.cost_weight * unit)
    if objective.distinct_shift_weight:
        used: dict[tuple[int, int, int], cp_model.IntVar] = {}
        for cand, x in zip(live, count, strict=True):
            key = (cand.type_index, cand.start, cand.length)
            if key not in used:
                used[key] = model.new_bool_var(f"used{key}")
                penalties.append(used[key])
                weights.append(objective.distinct_shift_weight)
            model.add(x <= cand.upper * used[key])
    for index, shift_type in enumerate(types):
        mine = [x for cand, x in zip(live, count, strict=True) if cand.type_index == index]
        if shift_type.min_count:
            model.add(sum(mine) >= shift_type.min_count)
        if shift_type.max_count is not None and mine:
            model.add(sum(mine) <= shift_type.max_count)
    if max_shifts is not None:
        model.add(sum(count) <= max_shifts)
    model.minimize(cp_model.LinearExpr.weighted_sum(penalties, weights) if penalties else 0)

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.num_workers = int(workers)
    solver.parameters.random_seed = int(seed)
    solver.parameters.log_search_progress = False
    code = solver.solve(model)
    return _answer(requirement, types, objective, live, count, placements, solver, code)


_STATUS: Final = {
    cp_model.OPTIMAL: SolveStatus.OPTIMAL,
    cp_model.FEASIBLE: SolveStatus.FEASIBLE,
    cp_model.INFEASIBLE: SolveStatus.INFEASIBLE,
    cp_model.UNKNOWN: SolveStatus.UNKNOWN,
}


def _answer(
    requirement: Requirement,
    types: tuple[ShiftType, ...],
    objective: Objective,
    live: list[_Candidate],
    count: list[cp_model.IntVar],
    placements: dict[tuple[int, int, int], cp_model.IntVar],
    solver: cp_model.CpSolver,
    code: cp_model.CpSolverStatus,
) -> Schedule:
    if code not in _STATUS:  # MODEL_INVALID: a bug here, not the caller's input
        raise RuntimeError(f"CP-SAT rejected the shift model: {solver.status_name(code)}")
    status = _STATUS[code]
    seconds = float(solver.wall_time)
    bound = None if status is SolveStatus.INFEASIBLE else math.ceil(solver.best_objective_bound - 1e-6)
    if status not in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
        return Schedule(status, (), (), (), (), 0, 0, 0, None, bound, seconds)
    breaks_of: dict[int, list[BreakPlacement]] = defaultdict(list)
    for (i, r, offset), y in placements.items():
        agents = int(solver.value(y))
        if agents:
            cand = live[i]
            slot = (cand.first + offset) % requirement.horizon
            breaks_of[i].append(BreakPlacement(r, offset, slot, types[cand.type_index].breaks[r].length, agents))
    shifts: list[ChosenShift] = []
    for i, (cand, x) in enumerate(zip(live, count, strict=True)):
        agents = int(solver.value(x))
        if not agents:
            continue
        shift_type = types[cand.type_index]
        fixed = [
            BreakPlacement(r, rule.earliest, (cand.first + rule.earliest) % requirement.horizon, rule.length, agents)
            for r, rule in enumerate(shift_type.breaks)
            if len(rule.offsets) == 1
        ]
        placed = tuple(sorted(fixed + breaks_of[i], key=lambda p: (p.rule, p.offset)))
        shifts.append(
            ChosenShift(
                shift_type.name,
                cand.day,
                cand.start,
                cand.length,
                agents,
                shift_type.unit_cost(cand.length),
                cand.first,
                placed,
            )
        )
    figures = evaluate_schedule(requirement, shifts, objective)
    if status is SolveStatus.OPTIMAL:
        bound = figures.objective
    return Schedule(
        status=status,
        shifts=tuple(shifts),
        coverage=figures.coverage,
        under=figures.under,
        over=figures.over,
        total_cost=figures.total_cost,
        total_shifts=figures.total_shifts,
        distinct_shifts=figures.distinct_shifts,
        objective=figures.objective,
        best_bound=bound,
        solve_seconds=seconds,
    )
