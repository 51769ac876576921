"""Staffing plans: forecast x Erlang x shrinkage per queue, against REFERENCES and independent checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from accueil.workforce.erlang import erlang_a_metrics, erlang_c_metrics
from accueil.workforce.staffing import (
    QueueDemand,
    QueueTarget,
    StaffingInputError,
    plan_staffing,
    what_if,
)

HALF_HOUR = 1800
STARTS = np.array([0, 1800, 3600], dtype=np.int64)


def demand(volumes, handle=180.0) -> QueueDemand:
    volumes = np.asarray(volumes, dtype=float)
    return QueueDemand(starts=STARTS[: len(volumes)], interval=HALF_HOUR, volumes=volumes,
                       handle_times=np.full(len(volumes), handle))


def test_reference_c2_with_shrinkage_and_an_empty_interval():
    # REFERENCES C2: 100 calls per 30 min, AHT 180 s, 80/20 needs 14; 30 % shrinkage makes 20 positions.
    plan = plan_staffing({"tel": demand([100, 0, 50])}, {"tel": QueueTarget("tel", shrinkage=0.3)})
    tel = plan.queues["tel"]
    assert tel.agents.tolist()[:2] == [14, 0] and tel.positions.tolist()[:2] == [20, 0]
    assert tel.service_level[0] == pytest.approx(0.8883500, abs=5e-7) and tel.model == "erlang_c"
    assert tel.abandon_rate.tolist() == [0.0, 0.0, 0.0]
    below = erlang_c_metrics(tel.agents[2] - 1, 50 / HALF_HOUR, 180.0, 20.0)
    assert below.service_level < 0.8 <= tel.service_level[2]  # exact minimum, checked independently


def test_erlang_a_queues_and_the_centre_total():
    targets = {"tel": QueueTarget("tel", patience=300.0, shrinkage=0.0),
               "chat": QueueTarget("chat", service_level=0.85, threshold=30.0, patience=600.0, shrinkage=0.25)}
    plan = plan_staffing({"tel": demand([100, 200]), "chat": demand([40, 10], handle=540.0)}, targets)
    tel, chat = plan.queues["tel"], plan.queues["chat"]
    a1 = erlang_a_metrics(tel.agents[0], 100 / HALF_HOUR, 180.0, 300.0, 20.0)
    assert tel.service_level[0] == pytest.approx(float(a1.service_level)) and tel.model == "erlang_a"
    assert erlang_a_metrics(tel.agents[0] - 1, 100 / HALF_HOUR, 180.0, 300.0, 20.0).service_level < 0.8
    assert chat.positions.tolist() == [math.ceil(a / 0.75) for a in chat.agents.tolist()]
    assert plan.total_agents.tolist() == (tel.agents + chat.agents).tolist()
    rows = plan.rows()
    assert len(rows) == 4 and rows[0]["start"] == "1970-01-01T00:00:00Z" and rows[0]["queue"] == "tel"


def test_what_if_gives_the_service_of_a_staffing():
    target = QueueTarget("tel", patience=120.0)
    result = what_if(100, 180.0, 11, interval=HALF_HOUR, target=target)  # REFERENCES A2, N = 11
    assert result.service_level == pytest.approx(0.742209, abs=5e-7)
    assert result.abandon_rate == pytest.approx(0.094155, abs=5e-7)
    overloaded = what_if(100, 180.0, 9, interval=HALF_HOUR, target=QueueTarget("tel", patience=None))
    assert overloaded.service_level == 0.0 and math.isinf(overloaded.average_speed_of_answer)
    assert what_if(100, 180.0, 14, interval=HALF_HOUR, target=QueueTarget("tel")).service_level == pytest.approx(
        0.8883500, abs=5e-7)


@pytest.mark.parametrize("bad", [
    lambda: plan_staffing({}, {}),
    lambda: plan_staffing({"tel": demand([10])}, {}),
    lambda: plan_staffing({"tel": demand([-1])}, {"tel": QueueTarget("tel")}),
    lambda: plan_staffing({"tel": demand([10], handle=0.0)}, {"tel": QueueTarget("tel")}),
    lambda: plan_staffing({"a": demand([10, 10]), "b": demand([10])}, {"a": QueueTarget("a"), "b": QueueTarget("b")}),
    lambda: plan_staffing({"tel": demand([10])}, {"tel": QueueTarget("tel", service_level=1.0)}),
    lambda: what_if(10, -5, 3, interval=HALF_HOUR, target=QueueTarget("tel")),
    lambda: what_if(10, 180, 2.5, interval=HALF_HOUR, target=QueueTarget("tel")),
])
def test_bad_demand_or_targets_are_refused_clearly(bad):
    with pytest.raises(ValueError):
        bad()


def test_staffing_errors_are_erlang_input_errors():
    with pytest.raises(StaffingInputError, match="same intervals"):
        plan_staffing({"a": demand([10, 10]), "b": demand([10])}, {"a": QueueTarget("a"), "b": QueueTarget("b")})
