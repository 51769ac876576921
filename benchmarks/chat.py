"""Web chat: customer → agent latency with 500 concurrent chat connections on one server process.

Why: issue 5 sets p99 <= 100 ms from a chat message sent by the customer to the agent receiving it, with
500 concurrent chat connections on one process.

What "agent receives" means here: the ``chat-message`` event for that message on the agent's live chat
stream (``GET /agent/chat/live``, Server-Sent Events) — the event on which the open console refreshes the
conversation. Between the two: the WebSocket frame is read, the message is written through the
conversations write path and numbered in the chat log (one transaction, committed to disk: SQLite
``synchronous=FULL``), the event is published after commit and streamed to the agent holding the chat.

How:
1. A fresh SQLite database: a chat queue needing the ``chat`` skill, ``--agents`` agents with that skill
   and room for ``--chats / --agents`` chats each (default 20 agents x 25 chats), signed in.
2. One uvicorn process (uvloop, httptools, websockets-sansio; dispatcher and job runner on, as in production).
3. This process: the agents open their live chat stream (httpx, signed-in web sessions) and go available;
   ``--chats`` visitors connect (``websockets`` client) and start a chat; the agents accept every offer.
4. For ``--seconds``, every visitor sends a line every ``--interval`` seconds (random phase). The time from
   ``send`` to the agent's stream event (same clock, same process) is recorded per message, and the
   visitor's acknowledgement time beside it.

    .venv/bin/python benchmarks/chat.py [--chats 500] [--agents 20] [--seconds 30] [--interval 5] [--json OUT]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402

PASSWORD = "bench-password-123"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def prepare(url: str, agents: int, per_agent: int) -> dict[str, str]:
    """Schema, a chat queue, skilled agents (username -> API token)."""
    from sqlalchemy import select

    from accueil.conversations.models import Motif
    from accueil.core.events import InProcessEventBus
    from accueil.core.security import hash_password
    from accueil.db import migrate
    from accueil.db.session import make_engine, make_session_factory
    from accueil.identity.models import Role, SiteKind, User
    from accueil.identity.service import (
        do_create_api_token,
        do_create_site,
        do_create_skill,
        do_create_team,
        do_create_user,
        do_set_skill,
    )
    from accueil.routing.admin import do_save_queue
    from accueil.routing.config_loader import RoutingConfigCache
    from accueil.routing.service import do_set_capacity

    migrate.upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine, InProcessEventBus())
    tokens = {}
    with factory() as session, session.begin():
        site = do_create_site(session, code="siege", name="Siège", kind=SiteKind.in_house)
        team = do_create_team(session, site=site, name="Chat", level=1)
        session.add(Motif(code="suivi_commande", label_fr="Suivi de commande", label_en="Order tracking"))
        skill = do_create_skill(session, code="chat", kind="channel", label_fr="Discussion", label_en="Chat")
        do_save_queue(session, code="chat", channel="chat", name_fr="Discussion", name_en="Chat",
                      skills={"chat": 1}, ring_timeout_seconds=600)
        password = hash_password(PASSWORD)
        for n in range(agents):
            user = do_create_user(session, username=f"agent{n}", display_name=f"Agent {n}", role=Role.agent,
                                  password=None, site=site, team=team)
            user.password_hash = password
            do_set_skill(session, user=user, skill=skill, level=3)
            tokens[user.username] = do_create_api_token(session, user=user, name="bench").secret
        session.flush()
        rules = RoutingConfigCache()
        for user in session.scalars(select(User).where(User.role == Role.agent)):
            do_set_capacity(session, rules=rules, user_id=user.id, capacity={"chat": per_agent})
    engine.dispose()
    return tokens


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(url: str, data_dir: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ, ACCUEIL_DATABASE_URL=url, ACCUEIL_DATA_DIR=str(data_dir), ACCUEIL_AUTO_MIGRATE="false",
               ACCUEIL_ENVIRONMENT="test", ACCUEIL_SECRET_KEY="bench-" + "x" * 40,
               ACCUEIL_DISPATCH_POLL_SECONDS="0.5",
               ACCUEIL_CHAT_STARTS_PER_ADDRESS="100000")  # every visitor comes from this one address
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "accueil.asgi:app", "--host", "127.0.0.1", "--port", str(port),
         "--loop", "uvloop", "--http", "httptools", "--ws", "websockets-sansio", "--log-level", "warning",
         "--backlog", "4096"], env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("server did not start")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Bench:
    def __init__(self, base: str, tokens: dict[str, str], chats: int, seconds: float, interval: float,
                 server_pid: int) -> None:
        self.base, self.tokens, self.chats, self.server_pid = base, tokens, chats, server_pid
        self.seconds, self.interval = seconds, interval
        self.sent: dict[str, float] = {}  # client id -> send time
        self.received: dict[str, float] = {}  # client id -> the agent's stream event time
        self.acked: dict[str, float] = {}
        self.joined = 0
        self.by_seq: dict[tuple, str] = {}  # (chat, line number) -> the visitor's message id
        self.heard_early: dict[tuple, float] = {}
        self.measuring = False
        self.stop = asyncio.Event()

    async def agent_stream(self, username: str, ready: asyncio.Event) -> None:
        async with httpx.AsyncClient(base_url=self.base, timeout=None) as client:
            form = await client.get("/login")
            token = CSRF.search(form.text).group(1)
            signed = await client.post("/login", data={"username": username, "password": PASSWORD,
                                                       "csrf_token": token})
            assert signed.status_code == 303, signed.text
            async with client.stream("GET", "/agent/chat/live") as stream:
                kind = None
                async for line in stream.aiter_lines():
                    if line.startswith(": connected"):
                        ready.set()
                    elif line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: ") and kind == "chat-message":
                        moment = time.perf_counter()
                        data = json.loads(line[6:])
                        key = (data.get("chat_id"), data.get("seq"))
                        client_id = self.by_seq.get(key)
                        if client_id is not None:
                            self.received[client_id] = moment
                        else:  # the agent heard it before the visitor's ack arrived
                            self.heard_early[key] = moment
                    if self.stop.is_set():
                        return

    async def accept_offers(self, api: httpx.AsyncClient) -> None:
        """Agents take every chat offered to them (as fast as they can click)."""
        while self.joined < self.chats and not self.stop.is_set():
            for token in self.tokens.values():
                me = (await api.get("/api/v1/routing/me", headers={"Authorization": f"Bearer {token}"})).json()
                for item in me["items"]:
                    if item["status"] == "offered":
                        await api.post(f"/api/v1/routing/items/{item['interaction_id']}/accept",
                                       headers={"Authorization": f"Bearer {token}"})
            await asyncio.sleep(0.2)

    async def visitor(self, n: int, started: asyncio.Event, go: asyncio.Event) -> None:
        url = self.base.replace("http://", "ws://") + "/ws/chat?lang=fr"
        async with websockets.connect(url, max_queue=None, open_timeout=60, ping_interval=None) as ws:
            await ws.send(json.dumps({"type": "start", "id": uuid.uuid4().hex, "name": f"Visiteur {n}",
                                      "email": f"visiteur{n}@example.org", "motif": "suivi_commande",
                                      "text": "Bonjour", "language": "fr"}))

            async def reader() -> None:
                chat_id = None
                async for raw in ws:
                    frame = json.loads(raw)
                    if frame["type"] == "agent_joined":
                        self.joined += 1
                        started.set() if self.joined >= self.chats else None
                    elif frame["type"] == "started":
                        chat_id = frame["chat_id"]
                    elif frame["type"] == "ack" and frame["id"] in self.sent:
                        self.acked[frame["id"]] = time.perf_counter()
                        key = (chat_id, frame["seq"])
                        self.by_seq[key] = frame["id"]
                        if key in self.heard_early:
                            self.received[frame["id"]] = self.heard_early.pop(key)
                    elif frame["type"] == "error":
                        print("error frame:", frame, file=sys.stderr)

            reading = asyncio.create_task(reader())
            await go.wait()
            await asyncio.sleep(random.uniform(0, self.interval))
            end = time.perf_counter() + self.seconds
            while time.perf_counter() < end:
                client_id = uuid.uuid4().hex
                self.sent[client_id] = time.perf_counter()
                await ws.send(json.dumps({"type": "message", "id": client_id, "text": f"Message {n}"}))
                await asyncio.sleep(self.interval)
            await asyncio.sleep(2)  # the last answers
            reading.cancel()

    async def run(self) -> dict:
        streams_ready = [asyncio.Event() for _ in self.tokens]
        streams = [asyncio.create_task(self.agent_stream(u, r)) for u, r in zip(self.tokens, streams_ready,
                                                                                  strict=True)]
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in streams_ready)), 60)
        async with httpx.AsyncClient(base_url=self.base, timeout=60) as api:
            for token in self.tokens.values():
                r = await api.put("/api/v1/routing/me/presence", headers={"Authorization": f"Bearer {token}"},
                                  json={"presence": "available"})
                assert r.status_code == 200, r.text
            all_joined, go = asyncio.Event(), asyncio.Event()
            t0 = time.perf_counter()
            visitors = []
            for n in range(self.chats):  # connections opened in small waves, as visitors arrive
                visitors.append(asyncio.create_task(self.visitor(n, all_joined, go)))
                if n % 50 == 49:
                    await asyncio.sleep(0.2)
            accepting = asyncio.create_task(self.accept_offers(api))
            await asyncio.wait_for(all_joined.wait(), 300)
            setup = time.perf_counter() - t0
            accepting.cancel()
            idle_start, idle_cpu = time.perf_counter(), cpu_seconds(self.server_pid)
            await asyncio.sleep(5)  # 500 chats open, nobody typing: the server's own background work
            idle = (cpu_seconds(self.server_pid) - idle_cpu) / (time.perf_counter() - idle_start)
            go.set()
            t1, cpu1 = time.perf_counter(), cpu_seconds(self.server_pid)
            await asyncio.gather(*visitors)
            elapsed = time.perf_counter() - t1
            measured_cpu = cpu_seconds(self.server_pid) - cpu1
        self.stop.set()
        for task in streams:
            task.cancel()
        latencies = sorted((self.received[k] - self.sent[k]) * 1000 for k in self.received)
        acks = sorted((self.acked[k] - self.sent[k]) * 1000 for k in self.acked)
        q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0] * 99
        qa = statistics.quantiles(acks, n=100) if len(acks) > 1 else [0] * 99
        return {"connections": self.chats, "agents": len(self.tokens), "setup_seconds": round(setup, 1),
                "messages_sent": len(self.sent), "received_by_agents": len(self.received),
                "messages_per_second": round(len(self.sent) / elapsed, 1),
                "server_cpu_share_while_measuring": round(measured_cpu / elapsed, 2),
                "server_cpu_share_idle": round(idle, 2),
                "server_cpu_ms_per_message": round((measured_cpu - idle * elapsed) * 1000 / len(self.sent), 1),
                "agent_latency_ms": {"p50": round(q[49], 1), "p95": round(q[94], 1), "p99": round(q[98], 1),
                                     "max": round(latencies[-1], 1) if latencies else None},
                "ack_latency_ms": {"p50": round(qa[49], 1), "p95": round(qa[94], 1), "p99": round(qa[98], 1)}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chats", type=int, default=500)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--interval", type=float, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    print(json.dumps(machine(("accueil", "uvicorn", "websockets", "sqlalchemy")), indent=2))
    tmp = Path(tempfile.mkdtemp(prefix="accueil-chat-bench-"))
    url = f"sqlite:///{tmp / 'accueil.sqlite3'}"
    tokens = prepare(url, args.agents, -(-args.chats // args.agents))
    port = free_port()
    server = start_server(url, tmp, port)
    try:
        cpu_before = cpu_seconds(server.pid)
        wall = time.perf_counter()
        result = asyncio.run(Bench(f"http://127.0.0.1:{port}", tokens, args.chats, args.seconds,
                                   args.interval, server.pid).run())
        result["server_cpu_seconds"] = round(cpu_seconds(server.pid) - cpu_before, 1)
        result["wall_seconds"] = round(time.perf_counter() - wall, 1)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    result["database"] = "sqlite"
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "result": result}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
