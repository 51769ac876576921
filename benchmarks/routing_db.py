"""Assignments per second through the database, on SQLite and on PostgreSQL.

Two paths, each a real transaction with its locks, guards, interaction events and commit:
- dispatch: ``do_dispatch`` passes offer waiting contacts to free agents, many per transaction;
- end-and-refill: an agent ends an item (``do_end``) and is given their next one in the same transaction:
  one transaction per handled contact, the steady state of a busy centre.

Usage: .venv/bin/python benchmarks/routing_db.py [--backends sqlite,postgresql] [--agents 100] [--items 4000]
PostgreSQL: ACCUEIL_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres); a throw-away
database is created and dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, select, text

from accueil.config import Settings
from accueil.conversations.models import ChannelKind
from accueil.conversations.receive import InboundContact, begin_batch, do_receive_inbound, flush_batch
from accueil.core.events import InProcessEventBus
from accueil.customers.models import IdentityKind
from accueil.customers.service import IdentityRef
from accueil.db import migrate
from accueil.db.session import make_engine
from accueil.identity.models import Role
from accueil.identity.service import do_create_user
from accueil.routing import service
from accueil.routing.admin import do_save_queue
from accueil.routing.models import AgentState, RoutingItem
from accueil.runtime import Runtime, make_runtime

CAPACITY = 10


def build(url: str, data_dir: str, agents: int, items: int) -> tuple[Runtime, list[str]]:
    migrate.upgrade(url)
    settings = Settings(environment="test", secret_key="b" * 40, database_url=url, data_dir=data_dir,
                        auto_migrate=False, run_jobs_in_process=False, dispatch_in_process=False)
    runtime = make_runtime(settings, make_engine(url), InProcessEventBus())
    with runtime.factory() as session, session.begin():
        do_save_queue(session, code="mail", channel="email", name_fr="Courriels", name_en="Mail")
        ids = [do_create_user(session, username=f"agent{n:03d}", display_name=f"Agent {n}", role=Role.agent).id
               for n in range(agents)]
        for agent in ids:
            service.do_set_capacity(session, rules=runtime.routing_rules, user_id=agent,
                                    capacity={"email": CAPACITY})
    for start in range(0, items, 500):
        contacts = [InboundContact(channel=ChannelKind.email, identities=[IdentityRef(
            IdentityKind.email, f"client{n}@example.fr")], queue_code="mail", body_text="Bonjour",
            provider_message_id=f"m{n}") for n in range(start, min(items, start + 500))]
        with runtime.factory() as session, session.begin():
            begin_batch(session, contacts, config=runtime.conversation_config, now=datetime.now(UTC))
            for one in contacts:
                do_receive_inbound(session, contact=one, config=runtime.conversation_config)
            flush_batch(session)
    with runtime.factory() as session, session.begin():
        for agent in ids:
            session.get(AgentState, agent).presence = "available"
    return runtime, ids


def measure(runtime: Runtime, ends: int) -> dict[str, float]:
    rules = runtime.routing_rules
    started = time.perf_counter()
    passes = offered = 0
    while True:  # fill every free slot by dispatch passes
        with runtime.factory() as session, session.begin():
            result = service.do_dispatch(session, rules=rules)
        passes += 1
        offered += len(result.offers)
        if not result.offers:
            break
    dispatch_seconds = time.perf_counter() - started
    with runtime.factory() as session:
        held = session.execute(select(RoutingItem.interaction_id, RoutingItem.agent_id).where(
            RoutingItem.agent_id.is_not(None))).all()
    queue = list(held)
    refilled = done = 0
    started = time.perf_counter()
    while queue and done < ends:
        item, agent = queue.pop(0)
        with runtime.factory() as session, session.begin():
            result = service.do_end(session, rules=rules, item_id=item, user_id=agent)
        done += 1
        refilled += len(result.offers)
        queue.extend((o.item, o.agent) for o in result.offers)
    end_seconds = time.perf_counter() - started
    return {
        "dispatch_assignments": offered, "dispatch_passes": passes, "dispatch_seconds": round(dispatch_seconds, 3),
        "dispatch_per_second": round(offered / dispatch_seconds, 1),
        "ends": done, "refills": refilled, "end_seconds": round(end_seconds, 3),
        "end_refill_per_second": round(refilled / end_seconds, 1),
        "end_ms": round(1000 * end_seconds / done, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--items", type=int, default=4000)
    parser.add_argument("--ends", type=int, default=2000)
    parser.add_argument("--json", dest="out")
    args = parser.parse_args()
    print(f"# accueil routing through the database — {datetime.now(UTC).isoformat(timespec='seconds')}")
    print(f"machine: {os.cpu_count()} CPU(s); Python {platform.python_version()}; "
          f"{args.agents} agents x {CAPACITY} e-mails, {args.items} waiting contacts\n")
    results = {}
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as data_dir:
            if backend == "sqlite":
                url, drop = f"sqlite:///{Path(data_dir) / 'bench.sqlite3'}", None
            else:
                admin_url = os.environ.get("ACCUEIL_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
                name = f"accueil_bench_{uuid.uuid4().hex[:8]}"
                admin = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://"),
                                      isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
                url = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
                drop = (admin, name)
            try:
                runtime, _ = build(url, data_dir, args.agents, args.items)
                results[backend] = measure(runtime, args.ends)
                runtime.factory.kw["bind"].dispose()
            finally:
                if drop is not None:
                    with drop[0].connect() as conn:
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{drop[1]}" WITH (FORCE)'))
    print("| backend | dispatch: assignments / passes | dispatch assignments/s | end + refill: transactions/s "
          "| ms per end + refill |")
    print("|---|---:|---:|---:|---:|")
    for backend, r in results.items():
        print(f"| {backend} | {r['dispatch_assignments']} / {r['dispatch_passes']} | {r['dispatch_per_second']:,.0f} "
              f"| {r['end_refill_per_second']:,.0f} | {r['end_ms']} |")
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
