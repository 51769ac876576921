"""Discrete-event simulation of contact-centre queues: the fast single-queue kernel and its result types.

Pure core: no I/O, no clock, no database; every random draw comes from ``numpy.random.default_rng(seed)``,
so a seed gives the same figures on every run. SI units as in erlang.py: rates per second, times in
seconds. A day is cut into equal intervals (96 quarter-hours, or 48 half-hours); staffing and traffic
are constant within an interval. The routing-engine mode (multi-skill, the real RoutingEngine) lives in
simulation_routing.py and returns the same ContactStats per queue.

    simulate_queue(arrival_rates, agents, handle_time, *, patience=None, interval_seconds=900.0,
                   threshold=20.0, handle_distribution="exponential", handle_cv=1.0,
                   short_abandon_seconds=5.0, arrival_times=None, seed=0) -> QueueSimulation

The kernel is M/M/N+M served first come, first served (or lognormal handle times, or no patience).
With FCFS, a caller's wait is known the moment it arrives: the time until the earliest agent is free
(its "virtual wait"). If that exceeds its patience it hangs up and holds no agent; otherwise it takes
that agent (one C-level heap replacement per call). So the simulation is one loop over calls in arrival
order, with every draw made beforehand in numpy.

Staffing changes at interval boundaries. Agents added at a boundary are free from it. Agents removed at
a boundary are the ones free soonest: idle agents first, then those who finish their current call first;
a leaving agent finishes that call and takes no new one (their extra time counts as staffed and busy).
After the last interval no call arrives, and its agents stay until every waiting caller is served or
has hung up. Metrics of a call belong to the interval it arrived in; busy and staffed time to the
interval in which it is spent.

Service level: ContactStats.service_level is erlang.py's OFFERED convention (answered within t over all
offered); service_level_by gives the others, VIRTUAL included here since FCFS virtual waits are known.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from heapq import heappop, heappush, heapreplace
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from accueil.workforce.erlang import ServiceLevelConvention

Floats = NDArray[np.float64]
Counts = NDArray[np.int64]
FloatOrArray = float | Floats

DEFAULT_SHORT_ABANDON: Final = 5.0  # seconds: hang-ups this quick are usually misdials, reported apart


class SimulationInputError(ValueError):
    """Inputs a simulation cannot run on (negative rates, zero handle time, lengths that disagree...)."""


class HandleTimeDistribution(StrEnum):
    """Law of handle times around their mean; real ones are closer to lognormal than exponential."""

    EXPONENTIAL = "exponential"  # Erlang's assumption: coefficient of variation 1
    LOGNORMAL = "lognormal"  # coefficient of variation given by handle_cv


# ---------------------------------------------------------------------------------------------------
# Results


def _ratio(numerator: ArrayLike, denominator: ArrayLike) -> FloatOrArray:
    """numerator / denominator, NaN where nothing was counted (an empty interval has no service level)."""
    num, den = np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return float(out) if out.ndim == 0 else out


@dataclass(frozen=True)
class ContactStats:
    """Counts and summed waits per interval of arrival; every metric is a ratio of these, so totals
    over a day are exact and not averages of averages. Fields are arrays (one value per interval), or
    0-d arrays in a total, whose metrics are then floats. NaN marks a ratio over nothing."""

    threshold: float  # seconds, for the service level
    offered: Counts
    answered: Counts
    abandoned: Counts  # hung up while waiting
    short_abandoned: Counts  # hung up within short_abandon_seconds (part of abandoned)
    abandoned_within_threshold: Counts  # hung up before the threshold (part of abandoned)
    answered_within_threshold: Counts
    callbacks: Counts  # accepted a callback offer and left the queue (engine mode)
    refused: Counts  # arrived while the queue was closed (engine mode)
    answered_wait: Floats  # seconds, summed over answered contacts
    wait: Floats  # seconds, summed over answered and abandoned contacts (abandoned: until they hung up)
    virtual_within_threshold: Counts | None = None  # would have been answered within t had nobody hung up

    @property
    def unanswered(self) -> Counts:
        """Still waiting at the end: no agent came back and the caller never hangs up."""
        return self.offered - self.answered - self.abandoned - self.callbacks - self.refused

    @property
    def service_level(self) -> FloatOrArray:
        """Answered within the threshold over all offered contacts (ServiceLevelConvention.OFFERED)."""
        return _ratio(self.answered_within_threshold, self.offered)

    def service_level_by(self, convention: ServiceLevelConvention | str) -> FloatOrArray:
        """The service level under any convention of erlang.py, to compare like with like."""
        convention = ServiceLevelConvention(convention)
        if convention is ServiceLevelConvention.OFFERED:
            return self.service_level
        if convention is ServiceLevelConvention.ANSWERED:
            return _ratio(self.answered_within_threshold, self.answered)
        if convention is ServiceLevelConvention.SHORT_ABANDONS_EXCLUDED:
            return _ratio(self.answered_within_threshold, self.offered - self.abandoned_within_threshold)
        if self.virtual_within_threshold is None:
            raise SimulationInputError("the virtual service level needs FCFS virtual waits (the kernel only)")
        return _ratio(self.virtual_within_threshold, self.offered)

    @property
    def abandon_rate(self) -> FloatOrArray:
        """Abandoned over offered, as Erlang A's probability_abandon."""
        return _ratio(self.abandoned, self.offered)

    @property
    def average_speed_of_answer(self) -> FloatOrArray:
        """Mean wait of answered contacts, seconds."""
        return _ratio(self.answered_wait, self.answered)

    @property
    def mean_wait(self) -> FloatOrArray:
        """Mean time in queue of answered and abandoned contacts, seconds (Erlang A's mean_wait)."""
        return _ratio(self.wait, self.answered + self.abandoned)

    def total(self, start: int = 0, stop: int | None = None) -> ContactStats:
        """The same counts summed over intervals start..stop-1 (all by default): one day's figures."""
        return _summed(self, start, stop)


@dataclass(frozen=True)
class StaffStats:
    """Agent time per interval: busy (holding at least one contact) and staffed (logged in, or finishing
    a contact after logging out)."""

    busy_seconds: Floats
    staffed_seconds: Floats

    @property
    def occupancy(self) -> FloatOrArray:
        """Busy over staffed time."""
        return _ratio(self.busy_seconds, self.staffed_seconds)

    def total(self, start: int = 0, stop: int | None = None) -> StaffStats:
        return _summed(self, start, stop)


def _summed(stats, start: int, stop: int | None):  # type: ignore[no-untyped-def]
    """A copy of a stats object with each array field summed over a range of intervals."""
    summed = {
        f.name: np.asarray(getattr(stats, f.name)[start:stop].sum())
        for f in fields(stats)
        if isinstance(getattr(stats, f.name), np.ndarray)
    }
    return replace(stats, **summed)


@dataclass(frozen=True)
class QueueSimulation:
    """What the single-queue kernel saw, per interval (contacts by arrival, agent time where spent)."""

    interval_seconds: float
    agents: Counts  # staffing per interval, as given
    contacts: ContactStats
    staff: StaffStats


# ---------------------------------------------------------------------------------------------------
# Input handling (shared with simulation_routing)


def check(ok: object, message: str) -> None:
    if not np.all(ok):
        raise SimulationInputError(message)


def per_interval(name: str, value: ArrayLike, intervals: int, *, positive: bool = False) -> Floats:
    """One finite value per interval: a single number is repeated, a sequence must have one per interval."""
    array = np.asarray(value, dtype=float)
    check(array.ndim <= 1, f"{name}: give one number or one per interval")
    check(
        array.ndim == 0 or array.shape[0] == intervals,
        f"{name}: {array.size} values for {intervals} intervals",
    )
    check(np.isfinite(array), f"{name} must be finite")
    check(
        array > 0 if positive else array >= 0, f"{name} must be {'positive' if positive else 'zero or more'}"
    )
    return np.broadcast_to(array, (intervals,)).astype(float)


def check_interval(interval_seconds: float, threshold: float, short_abandon_seconds: float) -> None:
    for name, value in (("threshold", threshold), ("short_abandon_seconds", short_abandon_seconds)):
        check(np.ndim(value) == 0 and math.isfinite(value) and value >= 0, f"{name} must be seconds >= 0")
    check(
        np.ndim(interval_seconds) == 0 and math.isfinite(interval_seconds) and interval_seconds > 0,
        "interval_seconds must be a positive number of seconds",
    )


def arrivals(
    rng: np.random.Generator,
    arrival_rates: ArrayLike | None,
    arrival_times: ArrayLike | None,
    intervals: int,
    interval_seconds: float,
) -> tuple[Floats, Counts]:
    """Sorted arrival times and the count per interval: Poisson at the given rates, or history replayed."""
    check(
        (arrival_rates is None) != (arrival_times is None),
        "give exactly one of arrival_rates or arrival_times",
    )
    if arrival_times is not None:
        times = np.sort(np.asarray(arrival_times, dtype=float).ravel())
        horizon = intervals * interval_seconds
        check(
            np.isfinite(times) & (times >= 0) & (times < horizon),
            f"arrival_times must lie in [0, {horizon:g}) s",
        )
        counts = np.bincount((times // interval_seconds).astype(np.int64), minlength=intervals)[:intervals]
        return times, counts.astype(np.int64)
    rates = per_interval("arrival_rates", arrival_rates, intervals)
    counts = rng.poisson(rates * interval_seconds).astype(np.int64)
    offsets = np.repeat(np.arange(intervals, dtype=float), counts)
    return np.sort((offsets + rng.random(offsets.size)) * interval_seconds), counts


def draw_handle_times(
    rng: np.random.Generator,
    means: Floats,
    distribution: HandleTimeDistribution | str,
    cv: float,
) -> Floats:
    """Handle times with the given means (one per contact): exponential, or lognormal of that cv."""
    try:
        distribution = HandleTimeDistribution(distribution)
    except ValueError:
        raise SimulationInputError(f"unknown handle time distribution {distribution!r}") from None
    if distribution is HandleTimeDistribution.EXPONENTIAL:
        return rng.standard_exponential(means.size) * means
    check(np.ndim(cv) == 0 and math.isfinite(cv) and cv > 0, "handle_cv must be a positive number")
    sigma2 = math.log1p(cv * cv)
    return means * np.exp(math.sqrt(sigma2) * rng.standard_normal(means.size) - 0.5 * sigma2)


def time_in_intervals(starts: Floats, ends: Floats, intervals: int, interval_seconds: float) -> Floats:
    """Seconds of the spans [start, end) falling in each interval, in O(n) without sorting.

    The time spent before x is G(x) = sum (x - s)+ - (x - e)+; each sum is read off counts and sums of the
    points below each boundary, binned by interval.
    """
    edges = np.arange(intervals + 1) * interval_seconds

    def below(points: Floats) -> Floats:
        bins = np.minimum(points // interval_seconds, intervals).astype(np.int64)
        count = np.concatenate(([0], np.cumsum(np.bincount(bins, minlength=intervals + 1))[:-1]))
        total = np.concatenate(
            ([0.0], np.cumsum(np.bincount(bins, weights=points, minlength=intervals + 1))[:-1])
        )
        return count * edges - total

    before = below(np.asarray(starts, dtype=float)) - below(np.asarray(ends, dtype=float))
    return np.diff(before)


def contact_stats(
    interval: Counts,
    intervals: int,
    threshold: float,
    short_abandon_seconds: float,
    *,
    answered: NDArray[np.bool_],
    abandoned: NDArray[np.bool_],
    wait: Floats,
    callbacks: NDArray[np.bool_] | None = None,
    refused: NDArray[np.bool_] | None = None,
    virtual_wait: Floats | None = None,
) -> ContactStats:
    """Per-interval ContactStats from one row per contact (wait: to answer, or until hanging up)."""

    def count(mask: NDArray[np.bool_] | None) -> Counts:
        if mask is None:
            return np.zeros(intervals, dtype=np.int64)
        return np.bincount(interval[mask], minlength=intervals).astype(np.int64)

    def add(values: Floats, mask: NDArray[np.bool_]) -> Floats:
        return np.bincount(interval[mask], weights=values[mask], minlength=intervals)

    return ContactStats(
        threshold=threshold,
        offered=np.bincount(interval, minlength=intervals).astype(np.int64),
        answered=count(answered),
        abandoned=count(abandoned),
        short_abandoned=count(abandoned & (wait < short_abandon_seconds)),
        abandoned_within_threshold=count(abandoned & (wait < threshold)),
        answered_within_threshold=count(answered & (wait <= threshold)),
        callbacks=count(callbacks),
        refused=count(refused),
        answered_wait=add(wait, answered),
        wait=add(wait, answered | abandoned),
        virtual_within_threshold=None if virtual_wait is None else count(virtual_wait <= threshold),
    )


# ---------------------------------------------------------------------------------------------------
# The kernel


def _serve_first_come(
    times: list[float],
    handles: list[float],
    patiences: list[float],
    bounds: list[int],
    agents: list[int],
    interval_seconds: float,
) -> tuple[list[float], list[float], list[float]]:
    """Virtual wait of each caller in arrival order, and the (boundary, free at) spans of agents who left busy.

    ``heap`` holds the time each agent is next free, over an infinite sentinel (no agent: wait forever).
    Boundary changes are applied as soon as some call could be answered at or after the boundary (the
    earliest free agent is past it), so a call before a boundary already sees who arrives at it.
    """
    intervals = len(agents)
    heap = [0.0] * agents[0] + [math.inf]
    waits: list[float] = []
    wait = waits.append
    left_at: list[float] = []
    free_at: list[float] = []
    applied = 1  # boundaries 1..applied-1 are in the heap
    replace_earliest = heapreplace  # a local name: the loop below runs once per call

    def change_staffing(boundary: int) -> None:
        at = boundary * interval_seconds
        change = agents[boundary] - agents[boundary - 1]
        for _ in range(change):
            heappush(heap, at)
        for _ in range(-change):  # the agents free soonest leave: idle first, then the first to finish
            free = heappop(heap)
            if free > at:
                left_at.append(at)
                free_at.append(free)

    for k in range(intervals):
        while applied <= k:
            change_staffing(applied)
            applied += 1
        next_boundary = applied * interval_seconds if applied < intervals else math.inf
        first, last = bounds[k], bounds[k + 1]
        for t, h, p in zip(times[first:last], handles[first:last], patiences[first:last], strict=True):
            f = heap[0]
            if f >= next_boundary:  # nobody free before the boundary: its staffing decides
                while f >= next_boundary and applied < intervals:
                    change_staffing(applied)
                    applied += 1
                    next_boundary = applied * interval_seconds if applied < intervals else math.inf
                    f = heap[0]
            if f <= t:
                replace_earliest(heap, t + h)
                wait(0.0)
            else:
                w = f - t
                wait(w)
                if w <= p:
                    replace_earliest(heap, f + h)
    return waits, left_at, free_at


def simulate_queue(
    arrival_rates: ArrayLike | None,
    agents: ArrayLike,
    handle_time: ArrayLike,
    *,
    patience: ArrayLike | None = None,
    interval_seconds: float = 900.0,
    threshold: float = 20.0,
    handle_distribution: HandleTimeDistribution | str = HandleTimeDistribution.EXPONENTIAL,
    handle_cv: float = 1.0,
    short_abandon_seconds: float = DEFAULT_SHORT_ABANDON,
    arrival_times: ArrayLike | None = None,
    seed: int = 0,
) -> QueueSimulation:
    """Simulate one FCFS queue over len(agents) intervals: Poisson arrivals at ``arrival_rates`` (per second,
    one per interval or one for all) or the given ``arrival_times`` (history, seconds from the start).

    handle_time and patience are means in seconds (one, or one per interval, applied by arrival interval);
    patience None means callers never hang up (Erlang C), otherwise it is exponential (Erlang A). Draws
    come in this order: arrivals, handle times, patience (the engine mode keeps it, so a single queue
    there sees the very same callers for the same seed).
    """
    check_interval(interval_seconds, threshold, short_abandon_seconds)
    staffing = np.asarray(agents, dtype=float)
    check(staffing.ndim == 1 and staffing.size > 0, "agents: give one number per interval")
    check(
        np.isfinite(staffing) & (staffing >= 0) & (staffing == np.floor(staffing)),
        "agents must be whole numbers >= 0",
    )
    intervals = staffing.size
    handle_means = per_interval("handle_time", handle_time, intervals, positive=True)
    patience_means = (
        None if patience is None else per_interval("patience", patience, intervals, positive=True)
    )
    rng = np.random.default_rng(seed)
    times, counts = arrivals(rng, arrival_rates, arrival_times, intervals, interval_seconds)
    handles = draw_handle_times(rng, np.repeat(handle_means, counts), handle_distribution, handle_cv)
    patiences = (
        np.full(times.size, math.inf)
        if patience_means is None
        else rng.standard_exponential(times.size) * np.repeat(patience_means, counts)
    )
    bounds = np.concatenate(([0], np.cumsum(counts))).tolist()
    staff_list = staffing.astype(np.int64).tolist()
    waits_list, left_at, free_at = _serve_first_come(
        times.tolist(), handles.tolist(), patiences.tolist(), bounds, staff_list, interval_seconds
    )
    virtual = np.asarray(waits_list, dtype=float)
    abandoned = virtual > patiences
    answered = ~abandoned & np.isfinite(virtual)
    wait = np.where(abandoned, patiences, virtual)
    interval = np.repeat(np.arange(intervals), counts)
    contacts = contact_stats(
        interval, intervals, float(threshold), float(short_abandon_seconds),
        answered=answered, abandoned=abandoned, wait=wait, virtual_wait=virtual,
    )  # fmt: skip
    starts = times[answered] + virtual[answered]
    busy = time_in_intervals(starts, starts + handles[answered], intervals, interval_seconds)
    overtime = time_in_intervals(np.asarray(left_at), np.asarray(free_at), intervals, interval_seconds)
    staffed = staffing * interval_seconds + overtime
    return QueueSimulation(
        interval_seconds=float(interval_seconds),
        agents=staffing.astype(np.int64),
        contacts=contacts,
        staff=StaffStats(busy_seconds=busy, staffed_seconds=staffed),
    )
