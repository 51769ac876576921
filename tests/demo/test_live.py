"""The demo's live traffic: simulated contacts arrive, simulated agents take and finish them, all labelled."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from accueil.conversations.models import Case, Interaction, Outcome
from accueil.core import clock
from accueil.demo.generator import DemoSpec, build_demo
from accueil.demo.live import LiveTraffic
from accueil.routing.models import RoutingItem
from accueil.routing.service import do_dispatch


def test_simulated_traffic_flows_through_the_real_services(runtime):
    build_demo(runtime.settings, DemoSpec(days=0, customers=10, seed=3))
    traffic = LiveTraffic(runtime, contacts_per_minute=200, seed=7)
    traffic._log_in()
    assert len(traffic.agents) == 7
    now = clock.now()
    for second in range(180):  # three simulated minutes, a tick a second (a dispatcher pass after each)
        at = now + timedelta(seconds=second)
        traffic.step(at)
        with runtime.factory() as session, session.begin():
            do_dispatch(session, rules=runtime.routing_rules, now=at)
    with runtime.factory() as session:
        simulated = session.scalar(select(func.count()).select_from(Interaction).join(Case).where(
            Case.subject.like("[simulation]%")))
        assert simulated == traffic.count > 400  # every simulated contact is labelled
        handled = session.scalar(select(func.count()).select_from(Interaction).where(
            Interaction.outcome == Outcome.handled, Interaction.wrapup_ended_at.is_not(None)))
        assert handled > 20  # simulated agents answered, talked, wrapped up
        abandoned = session.scalar(select(func.count()).select_from(Interaction).where(
            Interaction.outcome == Outcome.abandoned))
        assert abandoned > 0  # 200 contacts a minute is far more than seven agents: callers give up
        assert session.scalar(select(func.count()).select_from(RoutingItem).where(
            RoutingItem.status == "waiting")) > 0
