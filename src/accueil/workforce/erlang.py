"""Erlang B, Erlang C (M/M/N) and Erlang A (M/M/N+M) formulas, and staffing to a target.

Pure core: no I/O, no clock, no database. SI units everywhere: rates per second, times in seconds,
offered load in Erlangs (arrival rate x mean handle time). Metric functions broadcast like numpy: scalar
inputs give float fields, array inputs give array fields (one value per interval).

Metrics
    erlang_b(agents, offered_load)                   blocking probability, log-space, vectorised
    erlang_c(agents, offered_load)                   probability that a caller waits, vectorised
    erlang_c_metrics(agents, arrival_rate, handle_time, threshold=20.0) -> ErlangCMetrics
    erlang_a_metrics(agents, arrival_rate, handle_time, patience, threshold=20.0) -> ErlangAMetrics

Staffing (exact minimum number of agents; positions = ceil(agents / (1 - shrinkage)))
    required_agents(arrival_rate, handle_time, *, patience=None, service_level=None, threshold=20.0,
                    max_asa=None, max_abandon_rate=None, max_occupancy=1.0, shrinkage=0.0,
                    sl_convention="offered", max_agents=20_000) -> Staffing
    required_agents_many(arrival_rates, handle_times, *, same keywords) -> StaffingPlan

patience=None means Erlang C (callers never hang up); a number is the mean patience of Erlang A.
service_level is the fraction to answer within `threshold` seconds (0.8, 20.0 for 80/20; "P(wait) <= p"
is service_level=1-p at threshold 0); 100 % is refused, random arrivals never give it. Targets combine.
Bad input raises ErlangInputError (a ValueError); a target not reachable with max_agents raises
StaffingCapError (a subclass). Service level conventions are spelled out in ServiceLevelConvention.

Erlang A is exact: the birth-death stationary law of M/M/N+M summed in closed form with regularised
incomplete gamma functions (Mandelbaum & Zeltyn), or by short log-space series where those underflow.
The waiting time of a caller who finds j others queued is a sum of exponentials whose law is a beta
distribution, which gives the service levels without integrating e**(lambda t). Checked against
50-digit arithmetic: relative error 1e-10 or better for N <= 20,000 and sensible patience (it grows
like 1e-16 x N x patience / handle time).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import betainc, betaincc, digamma, expit, gammainc, gammaincc, gammaln, logsumexp

FloatOrArray = float | NDArray[np.float64]
Floats = NDArray[np.float64]

DEFAULT_MAX_AGENTS: Final = 20_000
_TINY: Final = 1e-200  # an incomplete-gamma value below this is too near underflow: use a series
_TAIL: Final = 45.0  # series keep terms down to e**-45 of the largest (~1e-20)


class ErlangInputError(ValueError):
    """Inputs that have no meaningful queueing answer (negative rate, 100 % target, ...)."""


class StaffingCapError(ErlangInputError):
    """The target needs more than max_agents agents (or is unreachable): refuse rather than search on."""


class ServiceLevelConvention(StrEnum):
    """Which ratio a service level is; contact centres disagree, so every figure says which it uses."""

    OFFERED = "offered"  # answered within t / all offered calls (the default, as in REFERENCES)
    ANSWERED = "answered"  # answered within t / answered calls
    SHORT_ABANDONS_EXCLUDED = "short_abandons_excluded"  # answered within t / (offered - abandoned before t)
    VIRTUAL = "virtual"  # P(a caller who would never hang up is answered within t)


@dataclass(frozen=True)
class ErlangCMetrics:
    """M/M/N in steady state; with no abandonment every convention of service level coincides."""

    agents: FloatOrArray
    offered_load: FloatOrArray  # Erlangs
    threshold: float  # seconds
    probability_wait: FloatOrArray
    service_level: FloatOrArray  # answered within threshold / offered
    average_speed_of_answer: FloatOrArray  # seconds, mean wait (inf when agents <= load)
    occupancy: FloatOrArray  # offered load / agents, at most 1


@dataclass(frozen=True)
class ErlangAMetrics:
    """M/M/N+M (exponential patience) in steady state; fractions are of offered calls unless said."""

    agents: FloatOrArray
    offered_load: FloatOrArray
    threshold: float
    probability_wait: FloatOrArray
    probability_abandon: FloatOrArray
    abandoned_within_threshold: FloatOrArray  # fraction of offered calls that hang up before t
    occupancy: FloatOrArray  # carried load / agents
    mean_wait: FloatOrArray  # seconds in queue over all callers, answered or not
    average_speed_of_answer: FloatOrArray  # seconds, answered callers only
    service_level: FloatOrArray  # convention "offered"
    service_level_answered: FloatOrArray
    service_level_short_abandons_excluded: FloatOrArray
    service_level_virtual: FloatOrArray

    def service_level_by(self, convention: ServiceLevelConvention | str) -> FloatOrArray:
        """The service level under a named convention."""
        value: FloatOrArray = getattr(self, _SL_FIELD[ServiceLevelConvention(convention)])
        return value


_SL_FIELD: Final = {
    ServiceLevelConvention.OFFERED: "service_level",
    ServiceLevelConvention.ANSWERED: "service_level_answered",
    ServiceLevelConvention.SHORT_ABANDONS_EXCLUDED: "service_level_short_abandons_excluded",
    ServiceLevelConvention.VIRTUAL: "service_level_virtual",
}


@dataclass(frozen=True)
class Staffing:
    """Minimum agents on the phone for one interval, positions to roster, and the metrics at that level."""

    agents: int
    positions: int
    metrics: ErlangCMetrics | ErlangAMetrics


@dataclass(frozen=True)
class StaffingPlan:
    """Staffing for many intervals at once; metrics fields are arrays aligned with agents."""

    agents: NDArray[np.int64]
    positions: NDArray[np.int64]
    metrics: ErlangCMetrics | ErlangAMetrics


# ---------------------------------------------------------------------------------------------------
# Input handling


def _check(ok: object, message: str) -> None:
    if ok is True:  # a plain condition: no need for numpy's reduction
        return
    if ok is False or not (ok.all() if isinstance(ok, np.ndarray) else np.all(ok)):
        raise ErlangInputError(message)


def _floats(name: str, value: ArrayLike, *, positive: bool = False) -> Floats:
    array = np.asarray(value, dtype=float)
    _check(np.isfinite(array), f"{name} must be finite")
    if positive:
        _check(array > 0, f"{name} must be positive")
    else:
        _check(array >= 0, f"{name} must not be negative")
    return array


def _agents(value: ArrayLike) -> Floats:
    array = _floats("agents", value)
    _check(array == np.floor(array), "agents must be whole numbers")
    return array


def _threshold(value: float) -> float:
    _check(np.ndim(value) == 0, "threshold must be a single number of seconds")
    return float(_floats("threshold", value))


def _shaped(shape: tuple[int, ...], array: Floats) -> FloatOrArray:
    return float(array[0]) if shape == () else array.reshape(shape)


# ---------------------------------------------------------------------------------------------------
# Erlang B and C


def _log_idle_mass(n: Floats, load: Floats) -> Floats:
    """log L with L = sum_{k<n} p_k / p_n for Poisson(load): free-agent states relative to all-busy.

    Erlang B = 1/(1+L) and Erlang C = 1/(1+(1-rho)L). From the regularised gamma function, or a short
    series where that underflows (load far above n), so load**n / n! is never formed. Needs n >= 1, load > 0.
    """
    q = gammaincc(n, load)  # P(Poisson(load) <= n-1)
    with np.errstate(divide="ignore"):
        out = np.log(q) - (n * np.log(load) - load - gammaln(n + 1))
    for i in np.flatnonzero(q < _TINY):
        terms = min(n[i], math.ceil(_TAIL / math.log(load[i] / n[i])) + 10)
        k = np.arange(terms)
        out[i] = logsumexp(np.cumsum(np.log((n[i] - k) / load[i])))  # sum_k prod_{i<k} (n-i)/load
    return out


def erlang_b(agents: ArrayLike, offered_load: ArrayLike) -> FloatOrArray:
    """Probability that a call finds all agents busy in a loss system (M/M/N/N), stable to any N."""
    n, load = np.broadcast_arrays(_agents(agents), _floats("offered_load", offered_load))
    shape, n, load = n.shape, n.ravel(), load.ravel()
    blocking = np.where(n == 0, 1.0, 0.0)
    live = (n > 0) & (load > 0)
    blocking[live] = expit(-_log_idle_mass(n[live], load[live]))
    return _shaped(shape, blocking)


def _wait_probability_c(n: Floats, load: Floats) -> Floats:
    """Erlang C; 1 when the queue is unstable (n <= load), 0 with no traffic."""
    wait = np.where(load > 0, 1.0, 0.0)
    live = (n > load) & (load > 0)
    n, load = n[live], load[live]
    wait[live] = expit(-(np.log1p(-load / n) + _log_idle_mass(n, load)))
    return wait


def erlang_c(agents: ArrayLike, offered_load: ArrayLike) -> FloatOrArray:
    """Probability that a caller has to wait in M/M/N (Erlang C formula)."""
    n, load = np.broadcast_arrays(_agents(agents), _floats("offered_load", offered_load))
    return _shaped(n.shape, _wait_probability_c(n.ravel(), load.ravel()))


def _erlang_c_arrays(n: Floats, rate: Floats, handle: Floats, t: float) -> dict[str, Floats]:
    load = rate * handle
    wait = _wait_probability_c(n, load)
    stable = (n > load) | (load == 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        drain = np.where(stable, (n - load) / handle, 0.0)  # n mu - lambda, per second
        service_level = np.where(stable, 1.0 - wait * np.exp(-drain * t), 0.0)
        asa = np.where(stable, np.where(wait > 0, wait / drain, 0.0), np.inf)
        occupancy = np.where(stable, np.where(n > 0, load / n, 0.0), 1.0)
    return {
        "offered_load": load,
        "probability_wait": wait,
        "service_level": service_level,
        "average_speed_of_answer": asa,
        "occupancy": occupancy,
    }


def erlang_c_metrics(
    agents: ArrayLike, arrival_rate: ArrayLike, handle_time: ArrayLike, threshold: float = 20.0
) -> ErlangCMetrics:
    """Waiting probability, service level, ASA and occupancy of M/M/N (callers never hang up)."""
    t = _threshold(threshold)
    arrays = np.broadcast_arrays(
        _agents(agents),
        _floats("arrival_rate", arrival_rate),
        _floats("handle_time", handle_time, positive=True),
    )
    shape = arrays[0].shape
    n, rate, handle = (a.ravel() for a in arrays)
    fields = {key: _shaped(shape, value) for key, value in _erlang_c_arrays(n, rate, handle, t).items()}
    return ErlangCMetrics(agents=_shaped(shape, n), threshold=t, **fields)


# ---------------------------------------------------------------------------------------------------
# Erlang A
#
# With x = N mu / theta and a = lambda / theta, the stationary probability of N + j callers present is
# p_N t_j, t_j = a**j / ((x+1)...(x+j)), and J = sum_j t_j = e**a a**-x Gamma(x+1) P(x, a). A caller who
# finds j queued reaches an agent after V_j, a sum of exponentials of rates theta (x+k), k = 0..j, and
# e**(-theta V_j) ~ Beta(x, j+1); it is answered if its own patience outlasts V_j (probability
# E[e**(-theta V_j)]). Summing against t_j gives incomplete gamma functions. Each helper below returns
# per-waiter fractions: served, served within t, virtual wait within t.


def _gamma_difference(shape: Floats, upper: Floats, lower: Floats) -> Floats:
    """P(shape, upper) - P(shape, lower), taken on whichever tail keeps the digits."""
    use_q = lower > shape
    return np.where(
        use_q,
        gammaincc(shape, lower) - gammaincc(shape, upper),
        gammainc(shape, upper) - gammainc(shape, lower),
    )


def _waiter_fractions_closed(x: Floats, a: Floats, a_late: Floats, p0: Floats) -> tuple[Floats, ...]:
    """(log J, served, abandoned, served within t, virtual within t) per waiter, by incomplete gammas."""
    log_j = a - x * np.log(a) + gammaln(x + 1) + np.log(p0)
    ratio = x / a / p0
    served = ratio * gammainc(x + 1, a)
    served_t = ratio * _gamma_difference(x + 1, a, a_late)
    virtual_t = _gamma_difference(x, a, a_late) / p0
    return log_j, served, 1.0 - served, served_t, virtual_t


def _beta_upper(j: Floats, b: float, late: float, early: float) -> Floats:
    """I_late(j+1, b) with late = 1 - early: P(V_j <= t) for b = x; near late = 1 via the complement."""
    return betainc(j + 1, b, late) if late < 0.5 else betaincc(b, j + 1, early)


def _waiter_fractions_series(x: float, a: float, late: float, early: float) -> tuple[float, ...]:
    """Same as the closed form, summed term by term: for light queues (a << x) where P(x, a) underflows."""
    terms = math.ceil(_TAIL / (math.log(x + 1) - math.log(a))) + 2 if a < x else 10**9
    terms = min(terms, math.ceil(math.sqrt(2 * _TAIL * (x + a + 1))) + 10)
    j = np.arange(terms + 1, dtype=float)
    log_t = np.concatenate(([0.0], np.cumsum(math.log(a) - np.log(x + j[1:]))))
    weight = np.exp(log_t - log_t.max())
    total = weight.sum()
    served = x / (x + j + 1)
    return (
        math.log(total) + log_t.max(),
        float(weight @ served) / total,
        float(weight @ ((j + 1) / (x + j + 1))) / total,
        float(weight @ (served * _beta_upper(j, x + 1, late, early))) / total,
        float(weight @ _beta_upper(j, x, late, early)) / total,
    )


def _answered_wait_per_waiter(x: float, a: float, log_j: float, theta: float) -> float:
    """E[wait; answered] per waiting caller: sum_j t_j/J E[V_j e**(-theta V_j)], terms around the peak."""
    peak = max(0.0, math.floor(a - x))
    width = math.ceil(math.sqrt(2 * _TAIL * (max(x, a) + 1))) + 10
    if a < x:
        width = min(width, math.ceil(_TAIL / (math.log(x + 1) - math.log(a))) + 2)
    first = max(0.0, peak - width)
    j = np.arange(first, peak + width + 1)
    # log t_j by running products from t_first; gammaln only when the queue peaks far from empty
    log_first = first * math.log(a) + gammaln(x + 1) - gammaln(x + first + 1) if first else 0.0
    log_t = log_first + np.concatenate(([0.0], np.cumsum(math.log(a) - np.log(x + j[1:]))))
    # E[V e**(-theta V)] = E[Y] (psi(x+j+2) - psi(x+1)) / theta with Y ~ Beta(x, j+1)
    harmonic = np.cumsum(1.0 / (x + j + 1)) + (digamma(x + first + 1) - digamma(x + 1) if first else 0.0)
    value = np.exp(log_t - log_j) * x / (x + j + 1) * harmonic
    return float(value.sum()) / theta


def _erlang_a_arrays(
    n: Floats, rate: Floats, handle: Floats, patience: Floats, t: float, *, with_asa: bool = True
) -> dict[str, Floats]:
    """All Erlang A metrics for 1-D arrays of intervals (see ErlangAMetrics for meanings)."""
    size = n.shape[0]
    load = rate * handle
    idle = rate == 0  # no calls: nothing waits
    empty = (n == 0) & ~idle  # no agents: every caller waits until it hangs up
    live = ~idle & ~empty
    wait = np.where(empty, 1.0, 0.0)
    no_wait = 1.0 - wait
    abandon = wait.copy()
    answered = 1.0 - wait
    served_t, virtual_t = np.zeros(size), np.zeros(size)
    abandoned_t = np.where(empty, -np.expm1(-t / patience), 0.0)
    answered_wait = np.zeros(size)

    idx = np.flatnonzero(live)
    if idx.size:
        theta = 1.0 / patience[idx]
        x = n[idx] / handle[idx] / theta
        a = rate[idx] / theta
        early = np.exp(-theta * t)  # P(own patience > t)
        late = -np.expm1(-theta * t)  # 1 - early, kept apart for digits
        a_late = a * early
        log_j, served, aband, served_wt, virtual_wt = (np.empty(idx.size) for _ in range(5))
        p0 = gammainc(x, a)
        series = (a <= 0.5 * x) | (p0 < _TINY)
        closed = ~series
        if closed.any():
            parts = _waiter_fractions_closed(x[closed], a[closed], a_late[closed], p0[closed])
            for store, part in zip((log_j, served, aband, served_wt, virtual_wt), parts, strict=True):
                store[closed] = part
        for k in np.flatnonzero(series):
            log_j[k], served[k], aband[k], served_wt[k], virtual_wt[k] = _waiter_fractions_series(
                x[k], a[k], late[k], early[k]
            )
        log_l = _log_idle_mass(n[idx], load[idx])
        wait[idx] = expit(log_j - log_l)
        no_wait[idx] = expit(log_l - log_j)
        abandon[idx] = wait[idx] * aband
        answered[idx] = no_wait[idx] + wait[idx] * served  # not 1 - abandon: keeps digits in overload
        served_t[idx] = wait[idx] * served_wt
        virtual_t[idx] = wait[idx] * virtual_wt
        # hung up before t = waited and (left before t, or still queued at t) minus answered by t
        gone = late + early * virtual_wt - served_wt
        abandoned_t[idx] = np.clip(wait[idx] * gone, 0.0, None)
        if with_asa:
            for k in np.flatnonzero(wait[idx] > 0):
                per_waiter = _answered_wait_per_waiter(x[k], a[k], log_j[k], theta[k])
                answered_wait[idx[k]] = wait[idx[k]] * per_waiter

    with np.errstate(divide="ignore", invalid="ignore"):
        sl = no_wait + served_t
        return {
            "offered_load": load,
            "probability_wait": wait,
            "probability_abandon": abandon,
            "abandoned_within_threshold": abandoned_t,
            "occupancy": np.where(n > 0, np.minimum(load * answered / n, 1.0), 0.0),
            "mean_wait": abandon * patience,  # Little's law: abandon rate = theta x mean queue
            "average_speed_of_answer": np.where(answered > 0, answered_wait / answered, np.inf),
            "service_level": sl,
            "service_level_answered": np.where(answered > 0, sl / answered, 0.0),
            "service_level_short_abandons_excluded": np.where(abandoned_t < 1, sl / (1.0 - abandoned_t), 0.0),
            "service_level_virtual": no_wait + virtual_t,
        }


def erlang_a_metrics(
    agents: ArrayLike,
    arrival_rate: ArrayLike,
    handle_time: ArrayLike,
    patience: ArrayLike,
    threshold: float = 20.0,
) -> ErlangAMetrics:
    """Exact steady-state metrics of M/M/N+M: exponential handle time and exponential patience."""
    t = _threshold(threshold)
    arrays = np.broadcast_arrays(
        _agents(agents),
        _floats("arrival_rate", arrival_rate),
        _floats("handle_time", handle_time, positive=True),
        _floats("patience", patience, positive=True),
    )
    shape = arrays[0].shape
    n, rate, handle, patience_s = (a.ravel() for a in arrays)
    out = _erlang_a_arrays(n, rate, handle, patience_s, t)
    fields = {key: _shaped(shape, value) for key, value in out.items()}
    return ErlangAMetrics(agents=_shaped(shape, n), threshold=t, **fields)


# ---------------------------------------------------------------------------------------------------
# Staffing


@dataclass(frozen=True)
class _Targets:
    service_level: float | None
    threshold: float
    max_asa: float | None
    max_abandon_rate: float | None
    max_occupancy: float
    convention: ServiceLevelConvention


def _targets(
    patience: ArrayLike | None,
    service_level: float | None,
    threshold: float,
    max_asa: float | None,
    max_abandon_rate: float | None,
    max_occupancy: float,
    convention: ServiceLevelConvention | str,
) -> _Targets:
    t = _threshold(threshold)
    if service_level is not None:
        _check(0 <= service_level <= 1, "service_level is a fraction between 0 and 1 (0.8 for 80 %)")
        _check(service_level < 1, "a 100 % service level is never reached with random arrivals")
    if max_asa is not None:
        _check(math.isfinite(max_asa) and max_asa > 0, "max_asa must be a positive number of seconds")
    if max_abandon_rate is not None:
        _check(patience is not None, "max_abandon_rate needs patience (Erlang A); Erlang C never abandons")
        _check(0 < max_abandon_rate <= 1, "max_abandon_rate must be in (0, 1]")
    _check(0 < max_occupancy <= 1, "max_occupancy must be in (0, 1]")
    _check(
        service_level is not None or max_asa is not None or max_abandon_rate is not None or max_occupancy < 1,
        "give at least one target: service_level, max_asa, max_abandon_rate or max_occupancy",
    )
    try:
        convention = ServiceLevelConvention(convention)
    except ValueError:
        raise ErlangInputError(f"unknown service level convention {convention!r}") from None
    return _Targets(service_level, t, max_asa, max_abandon_rate, max_occupancy, convention)


def _meets(
    targets: _Targets, n: Floats, rate: Floats, handle: Floats, patience: Floats | None
) -> NDArray[np.bool_]:
    """Whether n agents meet every target; monotone in n, which makes bisection exact."""
    if patience is None:
        if targets.max_asa is None and targets.max_occupancy >= 1:  # the usual case: only the service level
            return _erlang_c_meets_service_level(n, rate, handle, targets.threshold, targets.service_level)
        out = _erlang_c_arrays(n, rate, handle, targets.threshold)
        ok = (n > out["offered_load"]) | (rate == 0)
        sl_field = "service_level"
    else:
        out = _erlang_a_arrays(
            n, rate, handle, patience, targets.threshold, with_asa=targets.max_asa is not None
        )
        ok = (n > 0) | (rate == 0)
        sl_field = _SL_FIELD[targets.convention]
        if targets.max_abandon_rate is not None:
            ok &= out["probability_abandon"] <= targets.max_abandon_rate
    if targets.service_level is not None:
        ok &= out[sl_field] >= targets.service_level
    if targets.max_asa is not None:
        ok &= out["average_speed_of_answer"] <= targets.max_asa
    ok &= out["occupancy"] <= targets.max_occupancy
    return ok


def _erlang_c_meets_service_level(n: Floats, rate: Floats, handle: Floats, t: float,
                                  target: float | None) -> NDArray[np.bool_]:
    """_meets for Erlang C with only a service-level target: the same formulas as _erlang_c_arrays, without
    the fields nobody asked for (the staffing search calls this a few times per interval set)."""
    load = rate * handle
    ok = (n > load) | (rate == 0)
    if target is None:
        return ok
    live = np.flatnonzero((n > load) & (load > 0))
    if live.size:
        nl, ll = n[live], load[live]
        wait = expit(-(np.log1p(-ll / nl) + _log_idle_mass(nl, ll)))
        service_level = 1.0 - wait * np.exp(-(nl - ll) / handle[live] * t)
        ok[live] &= service_level >= target
    return ok


def _search(
    meets: Callable[[NDArray[np.intp], Floats], NDArray[np.bool_]],
    load: Floats,
    lower: Floats,
    cap: int,
) -> NDArray[np.int64]:
    """Smallest n <= cap with meets(n), given meets(lower) is False; gallop from sqrt staffing, then bisect."""
    low = lower.copy()
    high = np.full(load.shape, -1.0)
    high[low < 0] = 0.0  # no traffic: zero agents
    todo = np.flatnonzero(low >= 0)
    too_big = todo[low[todo] >= cap]
    if too_big.size:
        raise StaffingCapError(f"intervals {too_big.tolist()} need more than max_agents={cap} agents")
    guess = np.minimum(np.maximum(low + 1, np.ceil(load + np.sqrt(load))), cap)
    step = np.maximum(1.0, np.ceil(np.sqrt(load)))
    while todo.size:
        ok = meets(todo, guess[todo])
        high[todo[ok]] = guess[todo[ok]]
        todo = todo[~ok]
        low[todo] = guess[todo]
        capped = todo[low[todo] >= cap]
        if capped.size:
            raise StaffingCapError(f"intervals {capped.tolist()} cannot meet the target with {cap} agents")
        guess[todo] = np.minimum(low[todo] + step[todo], cap)
        step[todo] *= 2
    todo = np.flatnonzero(high - low > 1)
    while todo.size:
        middle = np.floor((low[todo] + high[todo]) / 2)
        ok = meets(todo, middle)
        high[todo[ok]] = middle[ok]
        low[todo[~ok]] = middle[~ok]
        todo = todo[high[todo] - low[todo] > 1]
    return high.astype(np.int64)


def _staff(
    arrival_rates: ArrayLike,
    handle_times: ArrayLike,
    patience: ArrayLike | None,
    targets: _Targets,
    shrinkage: float,
    max_agents: int,
) -> tuple[Floats, Floats, Floats | None, NDArray[np.int64], NDArray[np.int64]]:
    """Validated intervals (rate, handle, patience) with their minimum agents and positions."""
    _check(0 <= shrinkage < 1, "shrinkage must be in [0, 1)")
    _check(
        isinstance(max_agents, int | np.integer) and max_agents >= 1, "max_agents must be a whole number >= 1"
    )
    inputs = [_floats("arrival_rate", arrival_rates), _floats("handle_time", handle_times, positive=True)]
    if patience is not None:
        inputs.append(_floats("patience", patience, positive=True))
    arrays = np.broadcast_arrays(*inputs)
    _check(arrays[0].ndim <= 1, "give one value, or a one-dimensional sequence of intervals")
    rate, handle = arrays[0].ravel(), arrays[1].ravel()
    patience_s = arrays[2].ravel() if patience is not None else None
    load = rate * handle

    # a lower bound known to fail: unstable or over the occupancy cap (Erlang C), no agent (Erlang A;
    # abandonment lowers its carried load below the offered one, so offered load / cap is no bound)
    lower = np.zeros_like(load)
    if patience_s is None:
        lower = np.maximum(np.floor(load), np.ceil(load / targets.max_occupancy * (1 - 1e-9)) - 1)
    lower[rate == 0] = -1

    def meets(idx: NDArray[np.intp], n: Floats) -> NDArray[np.bool_]:
        return _meets(targets, n, rate[idx], handle[idx], None if patience_s is None else patience_s[idx])

    agents = _search(meets, load, lower, int(max_agents))
    positions = np.ceil(agents / (1.0 - shrinkage) - 1e-9).astype(np.int64)  # 14 / 0.7 is 20, not 21
    return rate, handle, patience_s, agents, positions


def required_agents_many(
    arrival_rates: ArrayLike,
    handle_times: ArrayLike,
    *,
    patience: ArrayLike | None = None,
    service_level: float | None = None,
    threshold: float = 20.0,
    max_asa: float | None = None,
    max_abandon_rate: float | None = None,
    max_occupancy: float = 1.0,
    shrinkage: float = 0.0,
    sl_convention: ServiceLevelConvention | str = ServiceLevelConvention.OFFERED,
    max_agents: int = DEFAULT_MAX_AGENTS,
) -> StaffingPlan:
    """Exact minimum agents per interval meeting every given target (Erlang C, or Erlang A with patience).

    service_level is reached at `threshold` seconds under `sl_convention`; max_asa bounds the mean wait of
    answered calls; max_abandon_rate the fraction of offered calls that hang up; max_occupancy the
    fraction of time agents are busy. Targets combine: all must hold. No traffic needs zero agents.
    """
    targets = _targets(
        patience, service_level, threshold, max_asa, max_abandon_rate, max_occupancy, sl_convention
    )
    rate, handle, patience_s, agents, positions = _staff(
        arrival_rates, handle_times, patience, targets, shrinkage, max_agents
    )
    metrics: ErlangCMetrics | ErlangAMetrics
    if patience_s is None:  # inputs already checked: the formulas directly
        n = agents.astype(float)
        metrics = ErlangCMetrics(agents=n, threshold=targets.threshold,
                                 **_erlang_c_arrays(n, rate, handle, targets.threshold))
    else:
        metrics = erlang_a_metrics(agents, rate, handle, patience_s, targets.threshold)
    return StaffingPlan(agents=agents, positions=positions, metrics=metrics)


def required_agents(
    arrival_rate: float,
    handle_time: float,
    *,
    patience: float | None = None,
    service_level: float | None = None,
    threshold: float = 20.0,
    max_asa: float | None = None,
    max_abandon_rate: float | None = None,
    max_occupancy: float = 1.0,
    shrinkage: float = 0.0,
    sl_convention: ServiceLevelConvention | str = ServiceLevelConvention.OFFERED,
    max_agents: int = DEFAULT_MAX_AGENTS,
) -> Staffing:
    """Exact minimum agents for one interval; the targets are those of required_agents_many."""
    for name, value in (("arrival_rate", arrival_rate), ("handle_time", handle_time), ("patience", patience)):
        _check(value is None or np.ndim(value) == 0, f"{name} must be a single number")
    targets = _targets(
        patience, service_level, threshold, max_asa, max_abandon_rate, max_occupancy, sl_convention
    )
    *_, agents_array, positions = _staff(arrival_rate, handle_time, patience, targets, shrinkage, max_agents)
    agents = int(agents_array[0])
    metrics: ErlangCMetrics | ErlangAMetrics
    if patience is None:
        metrics = erlang_c_metrics(agents, arrival_rate, handle_time, targets.threshold)
    else:
        metrics = erlang_a_metrics(agents, arrival_rate, handle_time, patience, targets.threshold)
    return Staffing(agents=agents, positions=int(positions[0]), metrics=metrics)
