"""How fast are the agent's inbox and conversation view with 100,000 cases, and how soon does a new contact
reach the agent's open browser page?

Why: issue 4 sets p95 <= 50 ms of server time for the inbox and the conversation view with 100,000 cases on
SQLite, and p95 <= 300 ms from an inbound API call to the offer shown in the agent's browser.

How:
1. A SQLite database gets the demo company (sites, users, motifs, queues: ``build_demo`` with one day of
   history), then ``--cases`` more contacts through the real inbound write path (``InboundWriter``, group
   commit): ``--cases``/4 customers who each write about 4 different motifs (so as many cases) over several
   channels; ``--mine`` of them are given to Alice
   (open cases on her work list, with routing items she holds).
2. The app runs under uvicorn in this process (dispatcher on, as in production). A client signs in as Alice
   through the form and times ``GET /agent/work`` (the inbox fragment) and ``GET /agent/cases/{id}`` (the
   conversation fragment, for random cases of hers and of any customer), ``--requests`` each, one at a
   time. Server time is measured inside the app (a middleware around each request) and reported beside
   the client's round trip.
3. Debian's Chromium (Playwright) opens Alice's console, she goes available; ``--offers`` chat contacts
   are posted through the API one after another; the page records (MutationObserver, ``Date.now()``) when
   each offer appears; the script records when it sent the POST (same machine clock). Each offer is then
   declined through the page so the next one rings.

    .venv/bin/python benchmarks/web_console.py [--cases 100000] [--requests 300] [--offers 30] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import delete, func, select, update

from accueil.app import create_app
from accueil.config import Settings
from accueil.conversations.models import Case, ChannelKind, Interaction
from accueil.conversations.service import InboundContact
from accueil.conversations.writer import InboundWriter
from accueil.core.events import make_event_bus
from accueil.customers.models import IdentityKind
from accueil.customers.service import IdentityRef
from accueil.db.session import make_engine
from accueil.demo.generator import DemoSpec, build_demo
from accueil.demo.reference import DEMO_PASSWORD
from accueil.identity.models import User
from accueil.routing.models import RoutingItem, routing_item_row
from accueil.runtime import make_runtime

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402
from ingest import free_port  # noqa: E402

TARGET_VIEW_P95_MS, TARGET_LIVE_P95_MS = 50.0, 300.0
CHANNELS = [(ChannelKind.email, 0.45), (ChannelKind.voice, 0.25), (ChannelKind.chat, 0.15),
            (ChannelKind.webform, 0.1), (ChannelKind.sms, 0.05)]
MOTIFS = ["suivi_commande", "livraison_retard", "retour_produit", "remboursement", "compte_client"]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict:
    return {"n": len(values), "p50": percentile(values, 0.5), "p95": percentile(values, 0.95),
            "max": max(values), "mean": statistics.fmean(values)}


CASES_PER_CUSTOMER = 4


def fill(settings: Settings, cases: int, mine: int, seed: int) -> dict:
    """The demo company, then ``cases`` contacts through the inbound write path; Alice gets ``mine``."""
    started = time.perf_counter()
    build_demo(settings, DemoSpec(days=1, customers=50, seed=seed))
    engine = make_engine(settings.effective_database_url)
    runtime = make_runtime(settings, engine, make_event_bus())
    writer = InboundWriter(runtime.factory, runtime.conversation_config, max_batch=64)
    rng = random.Random(seed)
    kinds, weights = zip(*CHANNELS, strict=True)
    pending = []
    for n in range(cases):
        channel = rng.choices(kinds, weights)[0]
        # Each customer writes about four different motifs: four cases each, a journey to show.
        who, nth = divmod(n, CASES_PER_CUSTOMER)
        motif = MOTIFS[(nth + who) % len(MOTIFS)]
        pending.append(writer.submit(InboundContact(
            channel=channel, identities=[IdentityRef(IdentityKind.email, f"client{who}@exemple.fr")],
            display_name=f"Client {who}", motif_code=motif, subject=f"Demande {n}",
            body_text=f"Bonjour, voici ma demande numéro {n}. " * 3, provider_message_id=f"bench-{n}")))
        if len(pending) >= 2000:
            for future in pending:
                future.result(timeout=120)
            pending.clear()
            if (n + 1) % 20000 == 0:
                log(f"  {n + 1:,} contacts written ({(n + 1) / (time.perf_counter() - started):,.0f}/s)")
    for future in pending:
        future.result(timeout=120)
    writer.stop()
    with runtime.factory() as session, session.begin():
        alice = session.scalar(select(User.id).where(User.username == "alice"))
        picked = session.execute(select(Case.id, Interaction.id, Interaction.channel, Case.created_at)
                                 .join(Interaction, Interaction.case_id == Case.id)
                                 .where(Case.agent_id.is_(None)).order_by(Case.id.desc()).limit(mine)).all()
        case_ids = [row[0] for row in picked]
        session.execute(update(Case).where(Case.id.in_(case_ids)).values(agent_id=alice, status="open"))
        queue_id = session.execute(select(RoutingItem.queue_id).limit(1)).scalar()
        for case_id, interaction_id, _channel, created in picked[:8]:  # within her e-mail capacity (10)
            if session.get(RoutingItem, interaction_id) is None and queue_id:
                row = routing_item_row(interaction_id=interaction_id, case_id=case_id, queue_id=queue_id,
                                       channel="email", priority=0, level=1, arrived_at=created, queued_at=created,
                                       sla_due_at=None, skills=[])
                row.update(status="active", agent_id=alice, accepted_at=created)
                session.execute(RoutingItem.__table__.insert(), row)
        # The backlog would be offered before the live contacts: the live part measures delivery, not queueing.
        session.execute(delete(RoutingItem).where(RoutingItem.status == "waiting"))
        total = session.scalar(select(func.count()).select_from(Case))
        others = [row[0] for row in session.execute(select(Case.id).order_by(Case.id).limit(5000))]
    engine.dispose()
    return {"cases_total": total, "alice_cases": case_ids, "other_cases": others,
            "fill_s": time.perf_counter() - started}


class ServerTimer:
    """ASGI middleware: time spent in the app for each request, by path kind."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.times: dict[str, list[float]] = {}

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] != "http" or scope["path"] == "/live":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            path = scope["path"]
            kind = "work" if path == "/agent/work" else "case" if path.startswith("/agent/cases/") else "other"
            self.times.setdefault(kind, []).append(1000 * (time.perf_counter() - started))


def serve(settings: Settings) -> tuple[str, ServerTimer, uvicorn.Server, threading.Thread]:
    timer = ServerTimer(create_app(settings))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(timer, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", timer, server, thread


def sign_in(client: httpx.Client) -> str:
    import re

    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    response = client.post("/login", data={"username": "alice", "password": DEMO_PASSWORD, "csrf_token": token})
    assert response.status_code == 303, response.text
    page = client.get("/agent").text
    return re.search(r'"X-CSRF-Token": "([^"]+)"', page).group(1)


def time_views(url: str, timer: ServerTimer, data: dict, requests: int, seed: int) -> dict:
    rng = random.Random(seed)
    client_ms: dict[str, list[float]] = {"work": [], "case": []}
    with httpx.Client(base_url=url, timeout=30) as client:
        sign_in(client)
        hx = {"HX-Request": "true"}
        for _ in range(20):  # warm-up: templates compiled, caches and pages of the database file read
            client.get("/agent/work", headers=hx)
            client.get(f"/agent/cases/{rng.choice(data['alice_cases'])}", headers=hx)
        timer.times.clear()
        for n in range(requests):
            started = time.perf_counter()
            response = client.get("/agent/work", headers=hx)
            client_ms["work"].append(1000 * (time.perf_counter() - started))
            assert response.status_code == 200
            pool = data["alice_cases"] if n % 2 == 0 else data["other_cases"]
            started = time.perf_counter()
            response = client.get(f"/agent/cases/{rng.choice(pool)}", headers=hx)
            client_ms["case"].append(1000 * (time.perf_counter() - started))
            assert response.status_code == 200, response.text[:200]
    return {kind: {"server_ms": summary(timer.times[kind]), "client_ms": summary(client_ms[kind])}
            for kind in ("work", "case")}


OBSERVER = """() => {
  window.__seen = {};
  new MutationObserver(() => {
    document.querySelectorAll('.offer [hx-post$="/accept"]').forEach((b) => {
      const id = b.getAttribute('hx-post').split('/')[3];
      if (!(id in window.__seen)) window.__seen[id] = Date.now();
    });
  }).observe(document.body, {childList: true, subtree: true});
}"""


def time_live_offers(url: str, token: str, offers: int) -> dict:
    from playwright.sync_api import sync_playwright

    delays = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), headless=True,
                                             args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(url + "/login")
        page.fill("#username", "alice")
        page.fill("#password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/agent")
        page.click("button[name=presence][value=available]")
        page.locator("#presence.presence-available").wait_for()
        page.wait_for_timeout(1000)
        page.evaluate(OBSERVER)
        with httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as api:
            for n in range(offers):
                sent = time.time() * 1000
                response = api.post("/api/v1/inbound", json={
                    "channel": "chat", "queue": "chat_n1", "motif": "suivi_commande", "body_text": "Bonjour !",
                    "identities": [{"kind": "email", "value": f"live{n}@exemple.fr"}]})
                assert response.status_code == 201, response.text
                interaction = response.json()["interaction_id"]
                try:
                    page.wait_for_function(f"() => '{interaction}' in window.__seen", timeout=10_000)
                except Exception:
                    page.screenshot(path="/tmp/bench-fail.png")
                    print(api.get("/api/v1/routing/queues").text[:1500], response.text)
                    raise
                delays.append(page.evaluate(f"window.__seen['{interaction}']") - sent)
                page.locator(f'.offer [hx-post="/agent/items/{interaction}/decline"]').click()
                page.wait_for_function(
                    f"() => !document.querySelector('.offer [hx-post=\"/agent/items/{interaction}/decline\"]')")
        browser.close()
    return summary(delays)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--mine", type=int, default=40, help="open cases given to Alice")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--offers", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", help="also write the results here")
    opts = parser.parse_args()
    info = machine()
    print(f"# accueil web console benchmark — {info['date']}\n\nmachine: {info['nproc']} CPU(s), "
          f"{info['cpu_model']}; Python {info['python']}; load average {info['loadavg']}\n", flush=True)
    with tempfile.TemporaryDirectory(prefix="accueil-web-bench-") as tmp:
        settings = Settings(data_dir=Path(tmp), environment="development", auto_migrate=True)
        log(f"filling SQLite with {opts.cases:,} contacts…")
        data = fill(settings, opts.cases, opts.mine, opts.seed)
        log(f"  done in {data['fill_s']:.0f} s: {data['cases_total']:,} cases")
        url, timer, server, thread = serve(settings)
        try:
            views = time_views(url, timer, data, opts.requests, opts.seed)
            from accueil.identity.service import do_create_api_token

            engine = make_engine(settings.effective_database_url)
            runtime = make_runtime(settings, engine, make_event_bus())
            with runtime.factory() as session, session.begin():
                admin = session.scalar(select(User).where(User.username == "admin"))
                token = do_create_api_token(session, user=admin, name="bench").secret
            engine.dispose()
            live = time_live_offers(url, token, opts.offers) if shutil.which("chromium") else None
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    results = {"machine": info, "options": vars(opts), "cases_total": data["cases_total"],
               "fill_s": data["fill_s"], "views": views, "live_offer_ms": live}
    print("| view | requests | server p50 ms | server p95 ms | server max ms | client p50 ms | client p95 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for kind, label in (("work", "inbox (`/agent/work`)"), ("case", "conversation (`/agent/cases/{id}`)")):
        s, c = views[kind]["server_ms"], views[kind]["client_ms"]
        print(f"| {label} | {s['n']} | {s['p50']:.1f} | {s['p95']:.1f} | {s['max']:.1f} | {c['p50']:.1f} "
              f"| {c['p95']:.1f} |")
    worst = max(views["work"]["server_ms"]["p95"], views["case"]["server_ms"]["p95"])
    print(f"\nTarget p95 <= {TARGET_VIEW_P95_MS:.0f} ms server time with {data['cases_total']:,} cases on SQLite: "
          f"{'MET' if worst <= TARGET_VIEW_P95_MS else 'MISSED'} (worst p95 {worst:.1f} ms)")
    if live:
        print(f"Inbound API call -> offer shown in the browser, {live['n']} offers: p50 {live['p50']:.0f} ms, "
              f"p95 {live['p95']:.0f} ms, max {live['max']:.0f} ms; target p95 <= {TARGET_LIVE_P95_MS:.0f} ms: "
              f"{'MET' if live['p95'] <= TARGET_LIVE_P95_MS else 'MISSED'}")
    else:
        print("Live offers not measured: no chromium on PATH")
    if opts.json:
        Path(opts.json).write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
