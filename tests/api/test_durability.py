"""A crash never loses an acknowledged contact: kill -9 the server while contacts pour in, then check
that every contact it acknowledged is in the database (real server process, real HTTP)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
from sqlalchemy import select

from accueil.conversations.models import Message
from tests.factories import inbound


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(database_url: str, data_dir: object, *extra: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCUEIL_")}
    env.update(ACCUEIL_DATABASE_URL=database_url, ACCUEIL_DATA_DIR=str(data_dir), ACCUEIL_AUTO_MIGRATE="false")
    server = subprocess.Popen([sys.executable, "-m", "accueil", "serve", "--port", str(port), *extra], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return server, base
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            os.killpg(server.pid, signal.SIGKILL)
            raise AssertionError("server did not start")
        time.sleep(0.1)


def test_acknowledged_contacts_survive_a_killed_server(runtime, cast, database_url, tmp_path):
    server, base = _start_server(database_url, tmp_path)
    try:
        acknowledged = asyncio.run(_pour(base, cast.auth("alice"), server))
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(10)
    assert len(acknowledged) >= 50, "the server was killed before it acknowledged enough to test"
    with runtime.factory() as session:
        stored = set(session.scalars(select(Message.id).where(Message.id.in_(list(acknowledged)))))
    assert stored == acknowledged


async def _pour(base: str, headers: dict[str, str], server: subprocess.Popen) -> set[str]:
    """32 clients send contacts; after 150 acknowledgements the server is killed mid-flight."""
    acknowledged: set[str] = set()
    killed = asyncio.Event()

    async def client(number: int) -> None:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as http:
            for i in range(40):
                if killed.is_set():
                    return
                payload = inbound(email=f"crash{number}-{i % 7}@example.fr", provider_message_id=f"crash-{number}-{i}")
                try:
                    response = await http.post("/api/v1/inbound", json=payload)
                except httpx.HTTPError:
                    return  # the server died under this request: it was never acknowledged
                if response.status_code in (200, 201):
                    acknowledged.add(response.json()["message_id"])
                if len(acknowledged) >= 150 and not killed.is_set():
                    killed.set()
                    os.killpg(server.pid, signal.SIGKILL)

    await asyncio.gather(*(client(n) for n in range(32)))
    return acknowledged


def test_two_server_processes_share_the_port_and_stop_cleanly(runtime, cast, database_url, tmp_path):
    server, base = _start_server(database_url, tmp_path, "--workers", "2")
    try:
        with httpx.Client(base_url=base, headers=cast.auth("alice"), timeout=10) as http:
            codes = [http.post("/api/v1/inbound", json=inbound(provider_message_id=f"w{i}")).status_code
                     for i in range(20)]
        assert codes == [201] * 20
        server.send_signal(signal.SIGTERM)
        assert server.wait(30) == 0
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
    with runtime.factory() as session:
        assert len(list(session.scalars(select(Message.id)))) == 20
