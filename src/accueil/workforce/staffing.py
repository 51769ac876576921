"""Staffing plan: forecast x Erlang (C or A) x shrinkage, per queue and interval, and the centre's total.

Why: a planner needs, for each interval of the coming days, how many agents must be on the phone to meet
each queue's target, how many people that means once breaks, training and absence are counted
(shrinkage), and what service the plan gives. Queues are staffed separately (a dedicated-team plan; the
simulator, which runs the real routing engine, tells how much pooling multi-skilled agents saves).

Pure core: no I/O, no clock. Volumes are contacts per interval; handle times and patience in seconds.

    QueueTarget(queue, service_level=0.8, threshold=20, patience=None, max_asa=None, max_abandon_rate=None,
                max_occupancy=1.0, shrinkage=0.3)
    plan_staffing(demand: dict[queue, QueueDemand], targets: dict[queue, QueueTarget]) -> StaffingPlanResult
    what_if(volume, handle_time, agents, *, interval, target) -> WhatIf   (service for a given staffing)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from numpy.typing import NDArray

from accueil.workforce.erlang import (
    ErlangInputError,
    erlang_a_metrics,
    erlang_c_metrics,
    required_agents_many,
)

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]


class StaffingInputError(ErlangInputError):
    """Demand or targets a plan cannot be built from (mismatched intervals, negative volume...)."""


@dataclass(frozen=True)
class QueueTarget:
    """What a queue must achieve, and how much of a rostered agent's time is lost to shrinkage."""

    queue: str
    service_level: float | None = 0.8
    threshold: float = 20.0
    patience: float | None = None  # mean seconds before hanging up: Erlang A; None: Erlang C
    max_asa: float | None = None
    max_abandon_rate: float | None = None
    max_occupancy: float = 1.0
    shrinkage: float = 0.3


@dataclass(frozen=True)
class QueueDemand:
    """Forecast contacts and mean handle seconds per interval, on a shared grid of interval starts."""

    starts: Ints  # UTC epoch seconds
    interval: int  # seconds
    volumes: Floats
    handle_times: Floats


@dataclass(frozen=True)
class QueuePlan:
    queue: str
    agents: Ints  # on the phone, per interval
    positions: Ints  # to roster, shrinkage included
    service_level: Floats
    average_speed_of_answer: Floats
    abandon_rate: Floats  # zeros under Erlang C
    occupancy: Floats
    model: str  # "erlang_c" or "erlang_a"


@dataclass(frozen=True)
class StaffingPlanResult:
    starts: Ints
    interval: int
    queues: dict[str, QueuePlan] = field(default_factory=dict)

    @property
    def total_agents(self) -> Ints:
        return np.sum([plan.agents for plan in self.queues.values()], axis=0).astype(np.int64)

    @property
    def total_positions(self) -> Ints:
        return np.sum([plan.positions for plan in self.queues.values()], axis=0).astype(np.int64)

    def rows(self) -> list[dict]:
        """One row per queue and interval (for CSV/JSON output)."""
        out = []
        for name, plan in self.queues.items():
            for i, start in enumerate(self.starts.tolist()):
                out.append({
                    "queue": name, "start": datetime.fromtimestamp(start, UTC).isoformat().replace("+00:00", "Z"),
                    "agents": int(plan.agents[i]), "positions": int(plan.positions[i]),
                    "service_level": _round(plan.service_level[i]), "asa_seconds": _round(plan.average_speed_of_answer[i]),
                    "abandon_rate": _round(plan.abandon_rate[i]), "occupancy": _round(plan.occupancy[i]),
                })
        return out


def _round(value: float) -> float | None:
    return None if not np.isfinite(value) else round(float(value), 4)


def _check_demand(name: str, demand: QueueDemand, reference: QueueDemand) -> None:
    n = len(demand.starts)
    if len(demand.volumes) != n or len(demand.handle_times) != n:
        raise StaffingInputError(f"queue {name}: starts, volumes and handle times differ in length")
    if demand.interval <= 0:
        raise StaffingInputError(f"queue {name}: interval must be positive")
    if demand.interval != reference.interval or not np.array_equal(demand.starts, reference.starts):
        raise StaffingInputError(f"queue {name}: every queue must share the same intervals")
    if np.any(~np.isfinite(demand.volumes)) or np.any(demand.volumes < 0):
        raise StaffingInputError(f"queue {name}: volumes must be finite and non-negative")
    busy = demand.volumes > 0
    if np.any(~np.isfinite(demand.handle_times[busy])) or np.any(demand.handle_times[busy] <= 0):
        raise StaffingInputError(f"queue {name}: handle time must be positive wherever contacts are expected")


def plan_staffing(demand: dict[str, QueueDemand], targets: dict[str, QueueTarget]) -> StaffingPlanResult:
    """Exact minimum agents per queue and interval for each queue's target (see erlang.required_agents_many)."""
    if not demand:
        raise StaffingInputError("no queue to staff")
    missing = set(demand) - set(targets)
    if missing:
        raise StaffingInputError(f"no target for queue(s) {', '.join(sorted(missing))}")
    reference = next(iter(demand.values()))
    plans = {}
    for name, queue_demand in demand.items():
        _check_demand(name, queue_demand, reference)
        target = targets[name]
        rates = queue_demand.volumes / queue_demand.interval
        # An interval without contacts needs nobody; its handle time is irrelevant but must be valid.
        handles = np.where(queue_demand.volumes > 0, queue_demand.handle_times, 1.0)
        plan = required_agents_many(
            rates, handles, patience=target.patience, service_level=target.service_level,
            threshold=target.threshold, max_asa=target.max_asa, max_abandon_rate=target.max_abandon_rate,
            max_occupancy=target.max_occupancy, shrinkage=target.shrinkage)
        metrics = plan.metrics
        abandon = getattr(metrics, "probability_abandon", np.zeros(len(rates)))
        plans[name] = QueuePlan(
            queue=name, agents=np.asarray(plan.agents, dtype=np.int64),
            positions=np.asarray(plan.positions, dtype=np.int64),
            service_level=np.asarray(metrics.service_level, dtype=float),
            average_speed_of_answer=np.asarray(metrics.average_speed_of_answer, dtype=float),
            abandon_rate=np.asarray(abandon, dtype=float), occupancy=np.asarray(metrics.occupancy, dtype=float),
            model="erlang_c" if target.patience is None else "erlang_a")
    return StaffingPlanResult(starts=reference.starts, interval=reference.interval, queues=plans)


@dataclass(frozen=True)
class WhatIf:
    agents: int
    offered_load: float
    service_level: float
    average_speed_of_answer: float
    abandon_rate: float
    occupancy: float
    model: str


def what_if(volume: float, handle_time: float, agents: int, *, interval: float, target: QueueTarget) -> WhatIf:
    """The service one interval gets with this many agents (the supervisor's what-if)."""
    if volume < 0 or interval <= 0:
        raise StaffingInputError("volume must be non-negative and the interval positive")
    if handle_time <= 0:
        raise StaffingInputError("handle time must be positive")
    if agents < 0 or agents != int(agents):
        raise StaffingInputError("agents must be a whole number, 0 or more")
    rate = volume / interval
    if target.patience is None:
        if agents * interval <= volume * handle_time:  # Erlang C has no steady state at or above capacity
            return WhatIf(int(agents), rate * handle_time, 0.0, float("inf"), 0.0, 1.0 if agents else 0.0,
                          "erlang_c")
        m = erlang_c_metrics(agents, rate, handle_time, target.threshold)
        abandon = 0.0
    else:
        m = erlang_a_metrics(agents, rate, handle_time, target.patience, target.threshold)
        abandon = float(m.probability_abandon)
    return WhatIf(int(agents), rate * handle_time, float(m.service_level), float(m.average_speed_of_answer),
                  abandon, float(m.occupancy), "erlang_c" if target.patience is None else "erlang_a")
