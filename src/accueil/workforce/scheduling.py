"""Shift scheduling: how many agents to put on which shifts so staffing follows the requirement.

Erlang staffing says how many agents each slot needs; people work shifts (9:00 for 8 h, lunch somewhere
between 12:00 and 14:00). This picks shifts and agents per shift with OR-Tools CP-SAT, for minimum cost
with every slot covered (set covering), minimum weighted under/over-cover when full cover is impossible or
capped, or the "shift design" goal of Musliu, Schaerf and Slany (shortage, excess and number of distinct
shifts: few patterns per week; benchmark instances in scheduling_instances.py).

Pure core: no I/O, no clock reads (solve time is the solver's own measurement). Time is in slots: a
Requirement is agents needed per slot, for one day or several (`slots_per_day`), optionally cyclic (a
night shift wraps from the last slot to the first). Costs and weights are integers (cents, per agent-slot)
because CP-SAT is exact on integers. Every solve has a time limit and says whether the answer is proven
optimal or only the best found; bad input raises SchedulingInputError (a ValueError) before solving.

Public API: Requirement, BreakRule, ShiftType, Objective (.minimum_cost / .minimum_deviation /
.shift_design) in; schedule_shifts(...) -> Schedule out; evaluate_schedule(...) -> Evaluation for a
schedule edited by hand.
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


def _check(ok: object, message: str) -> None:
    if not ok:
        raise SchedulingInputError(message)


def _whole(name: str, value: object, *, minimum: int = 0) -> int:
    """An integer >= minimum (numpy integers accepted; floats and bools refused, they hide mistakes)."""
    try:
        number = None if isinstance(value, bool) else operator.index(value)  # type: ignore[call-overload]
    except TypeError:
        number = None
    _check(number is not None, f"{name} must be a whole number, not {value!r}")
    assert number is not None
    _check(number >= minimum, f"{name} must be >= {minimum}, not {number}")
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
    """Agents needed per slot; `slots_per_day` splits it into days (None: one day).

    cyclic: the slot after the last is the first (a night shift of the last day ends on the first day, as
    in a repeating week); otherwise shifts that would run past the last slot are not offered.
    """

    agents: Sequence[int]
    slots_per_day: int | None = None
    cyclic: bool = False

    def __post_init__(self) -> None:
        agents = _wholes("requirement", self.agents)
        _check(isinstance(self.agents, Iterable) and agents, "the requirement needs at least one slot")
        per_day = len(agents) if self.slots_per_day is None else _whole("slots_per_day", self.slots_per_day)
        _check(
            per_day >= 1 and len(agents) % per_day == 0,
            f"{len(agents)} slots are not whole days of {per_day}",
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
        _check(latest >= self.earliest, f"break window ends ({latest}) before it starts ({self.earliest})")
        object.__setattr__(self, "latest", latest)

    @property
    def offsets(self) -> range:
        """Possible start offsets of the break inside the shift."""
        return range(self.earliest, int(self.latest or self.earliest) + 1)

    @property
    def span_end(self) -> int:
        """First offset after the last slot the break can occupy."""
        return int(self.latest or self.earliest) + self.length

    @property
    def always_taken(self) -> range:
        """Offsets where every agent is on this break, wherever it is placed (empty for wide windows)."""
        return range(self.span_end - self.length, self.earliest + self.length)


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
        _check(isinstance(self.name, str) and self.name, "a shift type needs a name")
        name = self.name
        starts = tuple(sorted(set(_wholes(f"{name}: start", self.start))))
        lengths = tuple(sorted(set(_wholes(f"{name}: length", self.length, minimum=1))))
        _check(starts and lengths, f"{name}: give at least one start and one length")
        for field_name in ("cost", "cost_per_slot", "min_count"):
            _whole(f"{name}: {field_name}", getattr(self, field_name))
        maximum = None if self.max_count is None else _whole(f"{name}: max_count", self.max_count)
        _check(maximum is None or maximum >= self.min_count, f"{name}: max_count < min_count")
        breaks = tuple(self.breaks)
        _check(all(isinstance(b, BreakRule) for b in breaks), f"{name}: breaks must be BreakRule values")
        _check(
            all(before.span_end <= after.earliest for before, after in zip(breaks, breaks[1:], strict=False)),
            f"{name}: break windows must be in order and not overlap (each agent takes each break once)",
        )
        _check(not breaks or breaks[-1].span_end <= lengths[0], f"{name}: a break runs past the shift end")
        _check(sum(b.length for b in breaks) < lengths[0], f"{name}: breaks leave no working slot")
        days = None if self.days is None else tuple(sorted(set(_wholes(f"{name}: days", self.days))))
        _check(days != (), f"{name}: days is empty, the type covers nothing")
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
        weights = (self.under_weight, self.over_weight, self.cost_weight, self.distinct_shift_weight)
        for name, weight in zip(("under", "over", "cost", "distinct_shift"), weights, strict=True):
            _whole(f"{name} weight", weight)
        _check(self.full_coverage or any(weights), "every weight is zero: nothing to minimise")

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
        return cls(full_coverage, under, over, cost, distinct_shift)


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
    total_shifts = sum(s.agents for s in shifts)
    return Evaluation(tuple(coverage), under, over, total_cost, total_shifts, distinct, value)


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


def _choices_per_shift(shift_type: ShiftType) -> int:
    """Solver variables per candidate shift: its agent count, plus one per offset of each break window."""
    return 1 + sum(len(rule.offsets) for rule in shift_type.breaks if len(rule.offsets) > 1)


def _candidates(
    requirement: Requirement, shift_types: Sequence[ShiftType]
) -> tuple[list[_Candidate], set[int]]:
    """Every placeable shift with a safe upper bound on its agents, and the slots some shift can work
    (a slot inside every possible position of a break is never worked)."""
    need, horizon, per_day = requirement.agents, requirement.horizon, requirement.day_length
    candidates: list[_Candidate] = []
    coverable: set[int] = set()
    decisions = 0
    for index, shift_type in enumerate(shift_types):
        name, starts, lengths = shift_type.name, shift_type.starts, shift_type.lengths
        _check(starts[-1] < per_day, f"{name}: start {starts[-1]} is not a slot of a {per_day}-slot day")
        _check(lengths[-1] <= horizon, f"{name}: a shift is longer than the whole requirement")
        days = shift_type.days if shift_type.days is not None else range(requirement.days)
        _check(days[-1] < requirement.days, f"{name}: day {days[-1]} is outside the requirement's days")
        decisions += len(days) * len(starts) * len(lengths) * _choices_per_shift(shift_type)
        _check(
            decisions <= MAX_DECISIONS,
            f"more than {MAX_DECISIONS} shift and break choices: narrow the windows or use coarser slots",
        )
        always_off = {k for rule in shift_type.breaks for k in rule.always_taken}
        cap, before = shift_type.max_count, len(candidates)
        for day in days:
            for start in starts:
                for length in lengths:
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
                    coverable.update((first + k) % horizon for k in range(length) if k not in always_off)
        _check(
            len(candidates) > before,
            f"{name}: no shift of this type fits in the requirement: it covers nothing",
        )
    return candidates, coverable


def _check_limit(name: str, value: object) -> None:
    """A positive, finite, bounded number of seconds: every solve stops."""
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else math.nan
    _check(
        math.isfinite(number) and 0 < number <= MAX_TIME_LIMIT,
        f"{name} must be seconds in (0, {MAX_TIME_LIMIT:g}]",
    )


def schedule_shifts(
    requirement: Requirement,
    shift_types: Sequence[ShiftType],
    objective: Objective | None = None,
    *,
    max_shifts: int | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
    work_limit: float | None = None,
    workers: int = 1,
    seed: int = 0,
) -> Schedule:
    """Agents per shift that best meet the requirement under `objective` (default: minimum cost).

    max_shifts caps agent-shifts over the whole requirement (the number of agents, for one day). The
    solve stops after `time_limit` wall-clock seconds at the latest, or after `work_limit` units of the
    solver's deterministic time (about seconds): with workers=1 (the default) and a fixed seed, a search
    cut by work_limit gives the same answer on every run and machine, one cut by the wall clock may not.
    workers=2 runs a portfolio on both cores of a small machine; on the shift design benchmarks the
    single worker with the stronger LP relaxation did as well or better.
    """
    objective = objective or Objective.minimum_cost()
    _check(isinstance(requirement, Requirement), "requirement must be a Requirement")
    _check(isinstance(objective, Objective), "objective must be an Objective")
    types = tuple(shift_types)
    _check(types and all(isinstance(t, ShiftType) for t in types), "give at least one ShiftType")
    _check(len({t.name for t in types}) == len(types), "shift type names must be unique")
    _check_limit("time_limit", time_limit)
    if work_limit is not None:
        _check_limit("work_limit", work_limit)
    _whole("workers", workers, minimum=1)
    _whole("seed", seed)
    if max_shifts is not None:
        _whole("max_shifts", max_shifts)
    candidates, coverable = _candidates(requirement, types)
    if objective.full_coverage:
        missing = [t for t, need in enumerate(requirement.agents) if need > 0 and t not in coverable]
        if missing:
            shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
            raise UncoverableRequirementError(
                f"full coverage asked, but no shift works slot(s) {shown}; add a shift type or use "
                "Objective.minimum_deviation"
            )
    model, live, count, placements = _model(requirement, types, objective, candidates, max_shifts)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    if work_limit is not None:
        solver.parameters.max_deterministic_time = float(work_limit)
    solver.parameters.num_workers = int(workers)
    solver.parameters.random_seed = int(seed)
    # the LP with the distinct-shift indicators: proves most shift design benchmarks optimal in seconds,
    # where the default level leaves the bound near zero
    solver.parameters.linearization_level = 2
    solver.parameters.log_search_progress = False
    code = solver.solve(model)
    return _answer(requirement, types, objective, live, count, placements, solver, code)


_Placements = dict[tuple[int, int, int], cp_model.IntVar]  # (candidate, break rule, offset) -> agents


def _model(
    requirement: Requirement,
    types: tuple[ShiftType, ...],
    objective: Objective,
    candidates: list[_Candidate],
    max_shifts: int | None,
) -> tuple[cp_model.CpModel, list[_Candidate], list[cp_model.IntVar], _Placements]:
    """CP-SAT model: agents per candidate shift and per break offset; coverage, penalties, limits."""
    horizon = requirement.horizon
    model = cp_model.CpModel()
    live = [c for c in candidates if c.upper > 0]
    count = [model.new_int_var(0, c.upper, f"x{i}") for i, c in enumerate(live)]
    terms: list[list[cp_model.LinearExprT]] = [[] for _ in range(horizon)]
    capacity = [0] * horizon  # most agents any schedule can put on each slot
    minus: list[list[cp_model.LinearExprT]] = [[] for _ in range(horizon)]
    placements: _Placements = {}
    for i, (cand, x) in enumerate(zip(live, count, strict=True)):
        for t in _slots(cand.first, cand.length, horizon):
            terms[t].append(x)
            capacity[t] += cand.upper
        for r, rule in enumerate(types[cand.type_index].breaks):
            share = (
                [x]
                if len(rule.offsets) == 1
                else [model.new_int_var(0, cand.upper, "") for _ in rule.offsets]
            )
            if len(share) > 1:
                model.add(sum(share) == x)  # every agent takes the break once, somewhere in its window
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
    return model, live, count, placements


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
    placements: _Placements,
    solver: cp_model.CpSolver,
    code: cp_model.CpSolverStatus,
) -> Schedule:
    if code not in _STATUS:  # MODEL_INVALID: a bug here, not the caller's input
        raise RuntimeError(f"CP-SAT rejected the shift model: {solver.status_name(code)}")
    status = _STATUS[code]
    seconds = float(solver.wall_time)
    raw_bound = solver.best_objective_bound  # integer objective: a fractional bound rounds up
    proven = status is not SolveStatus.INFEASIBLE and math.isfinite(raw_bound)
    bound = math.ceil(raw_bound - 1e-6) if proven else None
    if status not in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
        return Schedule(status, (), (), (), (), 0, 0, 0, None, bound, seconds)
    breaks_of: dict[int, list[BreakPlacement]] = defaultdict(list)
    for (i, r, offset), y in placements.items():
        agents = int(solver.value(y))
        if agents:
            cand = live[i]
            slot = (cand.first + offset) % requirement.horizon
            breaks_of[i].append(
                BreakPlacement(r, offset, slot, types[cand.type_index].breaks[r].length, agents)
            )
    shifts: list[ChosenShift] = []
    for i, (cand, x) in enumerate(zip(live, count, strict=True)):
        agents = int(solver.value(x))
        if not agents:
            continue
        shift_type = types[cand.type_index]
        placed = tuple(sorted(breaks_of[i], key=lambda p: (p.rule, p.offset)))
        unit = shift_type.unit_cost(cand.length)
        shifts.append(
            ChosenShift(shift_type.name, cand.day, cand.start, cand.length, agents, unit, cand.first, placed)
        )
    figures = evaluate_schedule(requirement, shifts, objective)
    bound = figures.objective if status is SolveStatus.OPTIMAL else bound
    return Schedule(
        status=status, shifts=tuple(shifts), best_bound=bound, solve_seconds=seconds, **vars(figures)
    )
