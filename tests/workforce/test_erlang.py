"""Erlang B/C/A against REFERENCES.md, an independent brute force, and properties that must always hold."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import expm
from scipy.special import logsumexp

from accueil.workforce.erlang import (
    ErlangInputError,
    ServiceLevelConvention,
    StaffingCapError,
    erlang_a_metrics,
    erlang_b,
    erlang_c,
    erlang_c_metrics,
    required_agents,
    required_agents_many,
)

PER_30_MIN = 1 / 1800
PROPERTY = settings(max_examples=60, deadline=None, database=None)  # pure: no files written


def matches(value: float, printed: str) -> bool:
    """True when value rounds to the figure as printed in REFERENCES.md (half a unit of its last digit)."""
    exponent = Decimal(printed).as_tuple().exponent
    assert isinstance(exponent, int)
    return abs(value - float(printed)) <= 0.5 * 10.0**exponent * (1 + 1e-9)


def erlang_b_by_recursion(agents: int, load: float) -> float:
    """The textbook recursion B(k) = A B(k-1) / (k + A B(k-1)), independent of the module's log-space code."""
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = load * blocking / (k + load * blocking)
    return blocking


# ---------------------------------------------------------------------------------------------------
# REFERENCES.md, Erlang B / C


def test_c1_worked_example() -> None:
    m = erlang_c_metrics(14, 100 * PER_30_MIN, 180, 20)
    assert matches(m.offered_load, "10")
    assert matches(m.probability_wait, "0.1741319")
    assert matches(m.service_level, "0.8883500")
    assert matches(m.average_speed_of_answer, "7.835937")
    assert matches(m.occupancy, "0.7142857")


def test_c2_neighbours_and_staffing_with_shrinkage() -> None:
    eleven = erlang_c_metrics(11, 100 * PER_30_MIN, 180, 20)
    assert matches(eleven.probability_wait, "0.6821182")
    assert matches(eleven.service_level, "0.3896138")
    assert matches(erlang_c_metrics(13, 100 * PER_30_MIN, 180, 20).service_level, "0.7955948")
    staffing = required_agents(100 * PER_30_MIN, 180, service_level=0.8, threshold=20, shrinkage=0.3)
    assert (staffing.agents, staffing.positions) == (14, 20)
    capped = required_agents(
        100 * PER_30_MIN, 180, service_level=0.8, threshold=20, max_occupancy=0.85, shrinkage=0.3
    )
    assert (capped.agents, capped.positions) == (14, 20)


def test_c3_and_c4_call_center_tools() -> None:
    assert erlang_c(132, 123) == pytest.approx(0.3211161792617074, rel=1e-10)
    m = erlang_c_metrics(130, 123 / 300, 300, 20)
    assert matches(m.probability_wait, "0.42438075")
    assert matches(m.service_level, "0.73387546")


def test_c5_queueing_package() -> None:
    # REFERENCES.md says A = 0.7, but the R `queueing` example is B_erlang(2, 0.5/0.7): A = 5/7. Its
    # figures only hold for 5/7; at exactly 0.7 the closed form gives 0.245 / 1.945.
    assert matches(erlang_b(2, 0.5 / 0.7), "0.1295337")
    assert matches(erlang_c(2, 0.5 / 0.7), "0.1879699")
    assert erlang_b(2, 0.7) == pytest.approx(0.245 / 1.945, rel=1e-14)


def test_c6_wolfram() -> None:
    assert matches(erlang_b(30, 25), "0.052603")


def test_c7_stimulus() -> None:
    assert required_agents(25 / 900, 752, service_level=0.9, threshold=20).agents == 28
    assert matches(erlang_c_metrics(37, 35 / 900, 752, 20).service_level, "0.9042163")


C8_CALLS = [6.75, 1.75, 1.25, 0, 0.5, 0.25, 4.75, 39.5, 97.25, 107.5, 124, 110.25, 95.5, 203.5, 115.75,
            115.5, 67.75, 75, 88.75, 85.5, 68, 61.5, 57.5, 44.25]  # fmt: skip
C8_AGENTS = [1, 1, 1, 0, 1, 1, 1, 4, 8, 9, 10, 9, 8, 16, 10, 10, 6, 7, 8, 8, 6, 6, 5, 4]


def test_c8_anonymous_bank_wait_probability_target() -> None:
    # "P(wait) <= 0.5" is a service level of 50 % at t = 0; an hour without calls needs nobody
    plan = required_agents_many(np.array(C8_CALLS) / 3600, 240, service_level=0.5, threshold=0)
    assert plan.agents.tolist() == C8_AGENTS
    assert np.all(np.asarray(plan.metrics.probability_wait) <= 0.5)


def test_c9_westbay_example() -> None:
    m = erlang_c_metrics(55, 48 / 240, 240, 15)
    assert matches(m.probability_wait, "0.238701")
    assert matches(m.average_speed_of_answer, "8.18")
    assert matches(m.service_level, "0.845883")


def test_c10_large_centre() -> None:
    staffing = required_agents(5000 * PER_30_MIN, 300, service_level=0.8, threshold=20)
    assert staffing.agents == 848
    m = staffing.metrics
    assert isinstance(m.offered_load, float) and matches(m.offered_load, "833.33")
    assert matches(m.service_level, "0.810992")
    assert matches(m.probability_wait, "0.502486")
    assert matches(m.average_speed_of_answer, "10.278")
    assert matches(m.occupancy, "0.9827")
    assert matches(erlang_c_metrics(847, 5000 * PER_30_MIN, 300, 20).service_level, "0.78744")


def test_vectorised_staffing_matches_c2_c7_c10() -> None:
    rates = np.array([100 * PER_30_MIN, 25 / 900, 5000 * PER_30_MIN])
    handle = np.array([180, 752, 300])
    assert required_agents_many(rates[[0, 2]], handle[[0, 2]], service_level=0.8).agents.tolist() == [14, 848]
    assert required_agents_many(rates[1:2], handle[1:2], service_level=0.9).agents.tolist() == [28]


# ---------------------------------------------------------------------------------------------------
# REFERENCES.md, Erlang A


def test_a1_pyworkforce_regression() -> None:
    m = erlang_a_metrics(14, 100 * PER_30_MIN, 180, 300, 20)
    assert matches(m.probability_wait, "0.14526")
    assert matches(m.probability_abandon, "0.013984")
    assert matches(m.occupancy, "0.704297")
    assert matches(m.mean_wait, "4.1951")
    assert matches(m.average_speed_of_answer, "3.8785")
    assert matches(m.service_level, "0.916792")
    assert matches(m.service_level_answered, "0.929794")
    assert matches(m.service_level_virtual, "0.918714")
    assert m.service_level_by("virtual") == m.service_level_virtual
    # short abandons excluded sits between "offered" and "answered": fewer calls in its denominator
    assert m.service_level < m.service_level_short_abandons_excluded < m.service_level_answered


@pytest.mark.parametrize(
    ("agents", "wait", "abandon", "service_level"),
    [(11, "0.382816", "0.094155", "0.742209"), (10, "0.496853", "0.137464", "0.639941"),
     (8, "0.722626", "0.257982", "0.403213")],
)  # fmt: skip
def test_a2_short_patience(agents: int, wait: str, abandon: str, service_level: str) -> None:
    m = erlang_a_metrics(agents, 100 * PER_30_MIN, 180, 120, 20)
    assert matches(m.probability_wait, wait)
    assert matches(m.probability_abandon, abandon)
    assert matches(m.service_level, service_level)


def test_a2_vectorised_over_agents() -> None:
    m = erlang_a_metrics(np.array([11, 10, 8]), 100 * PER_30_MIN, 180, 120, 20)
    assert isinstance(m.probability_abandon, np.ndarray)
    printed = ["0.094155", "0.137464", "0.257982"]
    assert all(matches(v, s) for v, s in zip(m.probability_abandon, printed, strict=True))


# ---------------------------------------------------------------------------------------------------
# Erlang A against an independent brute force: truncated birth-death chain for the state an arrival
# sees, and an absorbing chain (expm) for the tagged caller's fate.


def brute_force_erlang_a(
    agents: int, rate: float, handle: float, patience: float, t: float
) -> dict[str, float]:
    mu, theta = 1 / handle, 1 / patience
    queue_cap = max(0, math.ceil((rate - agents * mu) / theta)) + 40 + math.ceil(12 * math.sqrt(rate / theta))
    n = np.arange(agents + queue_cap + 1)
    death = np.minimum(n, agents) * mu + np.maximum(n - agents, 0) * theta
    log_pi = np.concatenate(([0.0], np.cumsum(np.log(rate / death[1:]))))
    pi = np.exp(log_pi - logsumexp(log_pi))
    arrivals_queued = pi[agents:]  # PASTA: an arrival finds j = 0.. callers ahead with these weights

    def fate(own_patience: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        size = queue_cap + 1  # transient states: k callers ahead, then "answered", then "abandoned"
        q = np.zeros((size + 2, size + 2))
        for k in range(size):
            forward = agents * mu + k * theta
            q[k, k - 1 if k else size] = forward
            q[k, size + 1] = own_patience
            q[k, k] = -(forward + own_patience)
        by_t = expm(q * t)
        transient = q[:size, :size]
        expected = np.linalg.solve(-transient, np.linalg.solve(-transient, q[:size, size]))  # E[T; answered]
        return by_t[:size, size], by_t[:size, size + 1], expected  # and answered / abandoned by t

    answered_t, abandoned_t, answered_wait = fate(theta)
    virtual_t, _, _ = fate(0.0)
    wait = arrivals_queued.sum()
    abandon = theta * (np.maximum(n - agents, 0) * pi).sum() / rate
    served_t = 1 - wait + arrivals_queued @ answered_t
    gone_t = arrivals_queued @ abandoned_t
    return {
        "wait": wait,
        "abandon": abandon,
        "sl": served_t,
        "sl_answered": served_t / (1 - abandon),
        "sl_short": served_t / (1 - gone_t),
        "sl_virtual": 1 - wait + arrivals_queued @ virtual_t,
        "asa": (arrivals_queued @ answered_wait) / (1 - abandon),
        "mean_wait": abandon * patience,
    }


@PROPERTY
@given(
    agents=st.integers(1, 25),
    load=st.floats(0.2, 25),
    handle=st.floats(30, 600),
    patience_ratio=st.floats(0.05, 4),  # patience / handle time; kept small so the brute force stays small
    t=st.sampled_from([0.0, 5.0, 20.0, 60.0, 300.0]),
)
def test_erlang_a_agrees_with_brute_force(
    agents: int, load: float, handle: float, patience_ratio: float, t: float
) -> None:
    rate, patience = load / handle, patience_ratio * handle
    truth = brute_force_erlang_a(agents, rate, handle, patience, t)
    m = erlang_a_metrics(agents, rate, handle, patience, t)
    got = {
        "wait": m.probability_wait,
        "abandon": m.probability_abandon,
        "sl": m.service_level,
        "sl_answered": m.service_level_answered,
        "sl_short": m.service_level_short_abandons_excluded,
        "sl_virtual": m.service_level_virtual,
        "asa": m.average_speed_of_answer,
        "mean_wait": m.mean_wait,
    }
    for key, value in truth.items():
        assert got[key] == pytest.approx(value, rel=1e-7, abs=1e-10), key


def test_large_traffic_no_underflow() -> None:
    # lambda t = 55 calls in the threshold, load 833 Erlangs: naive e**(lambda t) or A**N / N! breaks here
    rate = 5000 * PER_30_MIN
    m = erlang_a_metrics(np.array([700, 782, 850, 900]), rate, 300, 180, 20)
    for field in ("probability_wait", "probability_abandon", "service_level", "average_speed_of_answer"):
        assert np.all(np.isfinite(getattr(m, field))), field
    assert np.all(np.diff(m.service_level) > 0)
    truth = brute_force_erlang_a(850, rate, 300, 180, 20)
    assert m.probability_wait[2] == pytest.approx(truth["wait"], rel=1e-8)
    assert m.service_level[2] == pytest.approx(truth["sl"], rel=1e-8)


def test_twenty_thousand_agents() -> None:
    assert erlang_b(20_000, 19_700) == pytest.approx(erlang_b_by_recursion(20_000, 19_700), rel=1e-9)
    assert 0 < erlang_c(20_000, 19_900) < 1
    for patience in (30.0, 180.0, 30_000.0):
        m = erlang_a_metrics(20_000, 19_900 / 300, 300, patience, 20)
        values = [m.probability_wait, m.probability_abandon, m.service_level, m.service_level_virtual]
        assert all(0 <= v <= 1 for v in values)
        assert math.isfinite(m.average_speed_of_answer)
    overloaded = erlang_a_metrics(100, 1000.0, 300, 180, 20)
    assert overloaded.probability_abandon == pytest.approx(1 - 100 / 300_000, rel=1e-6)
    assert overloaded.occupancy <= 1


# ---------------------------------------------------------------------------------------------------
# Properties


@PROPERTY
@given(agents=st.integers(0, 3000), load=st.floats(0, 5000))
def test_erlang_b_recursion_equals_log_space(agents: int, load: float) -> None:
    assert erlang_b(agents, load) == pytest.approx(erlang_b_by_recursion(agents, load), rel=1e-9, abs=1e-300)


@PROPERTY
@given(load=st.floats(0.01, 3000), handle=st.floats(10, 1200), t=st.floats(0, 120))
def test_erlang_c_service_level_monotone_and_probabilities_bounded(
    load: float, handle: float, t: float
) -> None:
    n = np.arange(0, int(load * 1.5) + 30)
    m = erlang_c_metrics(n, load / handle, handle, t)
    assert np.all(np.diff(m.service_level) >= 0)
    assert np.all((0 <= m.probability_wait) & (m.probability_wait <= 1))
    assert np.all((0 <= m.service_level) & (m.service_level <= 1))


@PROPERTY
@given(
    load=st.floats(0.01, 400),
    handle=st.floats(10, 1200),
    patience=st.floats(1, 5000),
    t=st.floats(0, 120),
)
def test_erlang_a_monotone_and_bounded(load: float, handle: float, patience: float, t: float) -> None:
    n = np.arange(0, int(load * 1.5) + 30)
    m = erlang_a_metrics(n, load / handle, handle, patience, t)
    for convention in ServiceLevelConvention:
        level = m.service_level_by(convention)
        assert np.all(np.diff(level) >= -1e-12), convention
        assert np.all((0 <= level) & (level <= 1 + 1e-12)), convention
    for name in ("probability_wait", "probability_abandon", "abandoned_within_threshold", "occupancy"):
        value = getattr(m, name)
        assert np.all((0 <= value) & (value <= 1 + 1e-12)), name
    assert np.all(np.diff(m.probability_abandon) <= 1e-15)


@PROPERTY
@given(agents=st.integers(1, 300), utilisation=st.floats(0.05, 0.98), handle=st.floats(10, 1200))
def test_erlang_a_tends_to_erlang_c_as_patience_grows(agents: int, utilisation: float, handle: float) -> None:
    rate = agents * utilisation / handle
    c = erlang_c_metrics(agents, rate, handle, 20)
    a = erlang_a_metrics(agents, rate, handle, 1e9 * handle, 20)
    assert a.probability_wait == pytest.approx(c.probability_wait, rel=1e-4, abs=1e-12)
    assert a.service_level == pytest.approx(c.service_level, rel=1e-4)
    assert a.average_speed_of_answer == pytest.approx(c.average_speed_of_answer, rel=1e-4, abs=1e-9)
    assert a.probability_abandon < 1e-4


def meets(agents: int, rate: float, handle: float, patience: float | None, targets: dict) -> bool:
    """The targets checked from public metrics only, to judge the staffing search from outside."""
    if patience is None:
        m = erlang_c_metrics(agents, rate, handle, targets["threshold"])
        ok = agents > m.offered_load or rate == 0
        level = m.service_level
    else:
        a = erlang_a_metrics(agents, rate, handle, patience, targets["threshold"])
        ok = agents > 0 or rate == 0
        level = a.service_level_by(targets["sl_convention"])
        if targets["max_abandon_rate"] is not None:
            ok = ok and a.probability_abandon <= targets["max_abandon_rate"]
        m = a
    if targets["service_level"] is not None:
        ok = ok and level >= targets["service_level"]
    if targets["max_asa"] is not None:
        ok = ok and m.average_speed_of_answer <= targets["max_asa"]
    return bool(ok and m.occupancy <= targets["max_occupancy"])


@PROPERTY
@given(
    calls_per_15_min=st.one_of(st.just(0.0), st.floats(0.1, 2000)),
    handle=st.floats(30, 900),
    patience=st.one_of(st.none(), st.floats(5, 2000)),
    service_level=st.one_of(st.none(), st.floats(0, 0.99)),
    threshold=st.sampled_from([0.0, 10.0, 20.0, 60.0]),
    max_asa=st.one_of(st.none(), st.floats(1, 120)),
    max_abandon_rate=st.one_of(st.none(), st.floats(0.01, 0.3)),
    max_occupancy=st.one_of(st.just(1.0), st.floats(0.6, 0.99)),
    sl_convention=st.sampled_from(list(ServiceLevelConvention)),
)
def test_staffing_returns_the_minimum(
    calls_per_15_min: float,
    handle: float,
    patience: float | None,
    service_level: float | None,
    threshold: float,
    max_asa: float | None,
    max_abandon_rate: float | None,
    max_occupancy: float,
    sl_convention: ServiceLevelConvention,
) -> None:
    if patience is None:
        max_abandon_rate = None
    if service_level is None and max_asa is None and max_abandon_rate is None:
        service_level = 0.8
    targets = dict(
        service_level=service_level,
        threshold=threshold,
        max_asa=max_asa,
        max_abandon_rate=max_abandon_rate,
        max_occupancy=max_occupancy,
        sl_convention=sl_convention,
    )
    rate = calls_per_15_min / 900
    staffing = required_agents(rate, handle, patience=patience, shrinkage=0.25, **targets)
    n = staffing.agents
    assert meets(n, rate, handle, patience, targets)
    assert n == 0 or not meets(n - 1, rate, handle, patience, targets)
    assert staffing.positions == math.ceil(n / 0.75 - 1e-9)


@settings(max_examples=20, deadline=None, database=None)
@given(
    calls=st.lists(st.floats(0, 800), min_size=1, max_size=30),
    patience=st.one_of(st.none(), st.floats(10, 1000)),
)
def test_vectorised_staffing_equals_one_by_one(calls: list[float], patience: float | None) -> None:
    rates = np.array(calls) / 900
    plan = required_agents_many(rates, 300, patience=patience, service_level=0.8, threshold=20)
    one_by_one = [required_agents(r, 300, patience=patience, service_level=0.8).agents for r in rates]
    assert plan.agents.tolist() == one_by_one


# ---------------------------------------------------------------------------------------------------
# Bad input


def test_input_error_is_a_value_error() -> None:
    assert issubclass(ErlangInputError, ValueError)
    assert issubclass(StaffingCapError, ErlangInputError)


@pytest.mark.parametrize(
    "call",
    [
        lambda: erlang_c_metrics(10, 0.1, 0, 20),  # zero handle time
        lambda: erlang_c_metrics(10, 0.1, -180, 20),
        lambda: erlang_c_metrics(10, -0.1, 180, 20),  # negative rate
        lambda: erlang_c_metrics(10, float("nan"), 180, 20),
        lambda: erlang_c_metrics(10.5, 0.1, 180, 20),  # fractional agents
        lambda: erlang_c_metrics(-1, 0.1, 180, 20),
        lambda: erlang_c_metrics(10, 0.1, 180, -1),  # negative threshold
        lambda: erlang_a_metrics(10, 0.1, 180, 0, 20),  # zero patience
        lambda: erlang_b(3, -1.0),
        lambda: required_agents(0.1, 0, service_level=0.8),
        lambda: required_agents(-0.1, 180, service_level=0.8),
        lambda: required_agents(0.1, 180, service_level=1.0, threshold=0),  # 100 % at t = 0
        lambda: required_agents(0.1, 180, service_level=1.0, threshold=20),  # 100 % is never reached
        lambda: required_agents(0.1, 180, service_level=1.2),
        lambda: required_agents(0.1, 180, service_level=-0.1),
        lambda: required_agents(0.1, 180, max_asa=0),
        lambda: required_agents(0.1, 180, max_abandon_rate=0.05),  # abandonment needs patience
        lambda: required_agents(0.1, 180, patience=60, max_abandon_rate=0),
        lambda: required_agents(0.1, 180, service_level=0.8, max_occupancy=0),
        lambda: required_agents(0.1, 180, service_level=0.8, shrinkage=1),
        lambda: required_agents(0.1, 180, service_level=0.8, max_agents=0),
        lambda: required_agents(0.1, 180),  # no target at all
        lambda: required_agents(0.1, 180, patience=60, service_level=0.8, sl_convention="whatever"),
        lambda: required_agents_many([[0.1, 0.2]], 180, service_level=0.8),  # not a list of intervals
    ],
)
def test_bad_input_is_rejected(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ErlangInputError):
        call()


def test_target_beyond_cap_raises_instead_of_searching_on() -> None:
    with pytest.raises(StaffingCapError):
        required_agents(100.0, 300, service_level=0.8, max_agents=1000)  # load 30,000 Erlangs
    with pytest.raises(StaffingCapError):
        required_agents(5000 * PER_30_MIN, 300, service_level=0.8, max_agents=840)  # needs 848
    with pytest.raises(StaffingCapError):
        required_agents_many([0.01, 100.0], 300, patience=60, max_abandon_rate=1e-6, max_agents=20_000)
    assert required_agents(5000 * PER_30_MIN, 300, service_level=0.8, max_agents=848).agents == 848
