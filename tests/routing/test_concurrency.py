"""Two OS processes routing from the same queues at once: never one item to two agents, never an agent over
capacity. On PostgreSQL (row locks, SKIP LOCKED) with ≥ 10,000 assignments; on SQLite too (one writer)."""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from accueil.conversations.models import InteractionEvent
from accueil.conversations.receive import begin_batch, do_receive_inbound, flush_batch
from accueil.core.errors import Conflict, NotFound
from accueil.db.session import make_engine, make_session_factory
from accueil.identity.models import Role
from accueil.identity.service import do_create_user
from accueil.routing import service
from accueil.routing.admin import do_save_queue
from accueil.routing.config_loader import RoutingConfigCache
from accueil.routing.decisions import Presence, StaleDecision
from accueil.routing.models import RoutingItem
from tests.factories import contact

AGENTS = 40
CAPACITY = 5


def _worker(url: str, results: multiprocessing.Queue, deadline: float, seed: int) -> None:
    """Dispatch passes, and ending work held by any agent (which offers them their next item), until none is left.

    Both processes end items of the same agents, so they compete for the same agents and items all along.
    """
    import random

    rng = random.Random(seed)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    rules = RoutingConfigCache()
    assigned: list[tuple[str, str]] = []
    refused = 0
    while time.monotonic() < deadline:
        try:
            with factory() as session, session.begin():
                result = service.do_dispatch(session, rules=rules)
            assigned.extend((o.item, o.agent) for o in result.offers)
            with factory() as session:
                held = session.execute(select(RoutingItem.interaction_id, RoutingItem.agent_id).where(
                    RoutingItem.agent_id.is_not(None)).limit(400)).all()
                left = session.scalar(select(func.count()).select_from(RoutingItem))
            if left == 0:
                break
            for item, agent in rng.sample(held, min(len(held), 25)):
                try:
                    with factory() as session, session.begin():
                        result = service.do_end(session, rules=rules, item_id=item, user_id=agent)
                    assigned.extend((o.item, o.agent) for o in result.offers)
                except (NotFound, Conflict):
                    refused += 1  # the other process ended it first
        except (StaleDecision, OperationalError):
            refused += 1
    results.put((assigned, refused))
    engine.dispose()


def test_two_processes_never_double_assign_nor_exceed_capacity(runtime, cast, database_url):
    postgres = runtime.factory.kw["bind"].dialect.name == "postgresql"
    total = 10_000 if postgres else 1_000
    started = time.monotonic()
    with runtime.factory() as session, session.begin():
        do_save_queue(session, code="mail", channel="email", name_fr="Courriels", name_en="Mail")
        agents = [do_create_user(session, username=f"agent{n:02d}", display_name=f"Agent {n}", role=Role.agent).id
                  for n in range(AGENTS)]
        for agent in agents:
            service.do_set_capacity(session, rules=runtime.routing_rules, user_id=agent,
                                    capacity={"email": CAPACITY})
    for start in range(0, total, 500):
        contacts = [contact(email=f"client{n}@example.fr", queue_code="mail", provider_message_id=f"m{n}")
                    for n in range(start, min(total, start + 500))]
        with runtime.factory() as session, session.begin():
            begin_batch(session, contacts, config=runtime.conversation_config, now=datetime.now(UTC))
            for one in contacts:
                do_receive_inbound(session, contact=one, config=runtime.conversation_config)
            flush_batch(session)
    for agent in agents:  # nobody routes yet: presence only (the workers do the routing)
        with runtime.factory() as session, session.begin():
            service.ensure_agent_state(session, agent, datetime.now(UTC))
            from accueil.routing.models import AgentState

            session.get(AgentState, agent).presence = Presence.available.value

    setup_seconds = time.monotonic() - started
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue = context.Queue()
    deadline = time.monotonic() + 600
    workers = [context.Process(target=_worker, args=(database_url, results, deadline, seed)) for seed in range(2)]
    for worker in workers:
        worker.start()
    most_held = 0
    outcomes = []
    while len(outcomes) < 2:
        with runtime.factory() as session:  # an independent observer: every snapshot respects capacity
            held = session.execute(
                select(RoutingItem.agent_id, func.count()).where(RoutingItem.agent_id.is_not(None))
                .group_by(RoutingItem.agent_id)
            ).all()
        most_held = max([most_held, *(count for _, count in held)])
        try:
            outcomes.append(results.get(timeout=0.05))
        except Exception:  # noqa: BLE001 - queue.Empty: keep observing
            pass
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0

    assignments = [pair for assigned, _ in outcomes for pair in assigned]
    per_item = Counter(item for item, _ in assignments)
    assert len(assignments) >= total and len(per_item) == total
    assert max(per_item.values()) == 1, "an item was given twice"
    assert all(len(assigned) > 0 for assigned, _ in outcomes), "both processes must have routed"
    assert most_held <= CAPACITY
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(RoutingItem)) == 0
        offered = Counter(session.scalars(select(InteractionEvent.interaction_id).where(
            InteractionEvent.kind == "offered")))
        assert len(offered) == total and set(offered.values()) == {1}
    print(f"\n{len(assignments)} assignments by 2 processes, {sum(r for _, r in outcomes)} stale refusals, "
          f"split {[len(a) for a, _ in outcomes]}, most held by one agent {most_held}; "
          f"setup {setup_seconds:.1f} s, routing {time.monotonic() - started - setup_seconds:.1f} s")


