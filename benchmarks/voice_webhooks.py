"""How fast does accueil answer Twilio's voice webhooks while it plays the IVR and queues calls?

Why: issue 5 sets a p99 of at most 30 ms for the voice webhook response (Twilio waits on each answer with
the caller listening to silence, and gives up after 15 s).

How: a SQLite database gets the demo company (one day of history) and the demo IVR (``ivr.DEFAULT_FLOW``,
open every day so the menus play). The app runs as ``accueil serve`` in its own process, as ``make demo`` runs it
(dispatcher and job runner on). ``--calls`` calls then arrive as Twilio would drive them, every request
signed with ``X-Twilio-Signature``:

    POST /webhooks/twilio/voice      the call arrives: recorded, the flow found, welcome + menu (Gather)
    POST /webhooks/twilio/ivr        key 1: the motif set, the call queued in accueil, wait predicted
    POST /webhooks/twilio/status     completed (the caller hangs up): the call closed, leaves the queue

Each request's round trip is timed on the client (loopback), per webhook and overall, in two runs:

- **open loop** (the figure the target is about): calls arrive at ``--rate`` calls per second (Poisson), each
  call's three webhooks one after the other — 10 calls/s is 36,000 calls an hour, a very large centre;
- **saturation**: ``--concurrency`` callers back to back, to show the most the process serves.

    .venv/bin/python benchmarks/voice_webhooks.py [--calls 1000] [--rate 10] [--concurrency 4] [--json OUT]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from accueil.channels.voice import ivr
from accueil.channels.voice.service import do_save_flow
from accueil.channels.voice.twilio import expected_signature
from accueil.config import Settings
from accueil.db.session import make_engine
from accueil.demo.generator import DemoSpec, build_demo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402
from ingest import free_port  # noqa: E402

TARGET_P99_MS = 30.0
TOKEN = "benchmark-twilio-token"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict:
    return {"n": len(values), "p50": round(percentile(values, 0.5), 2), "p95": round(percentile(values, 0.95), 2),
            "p99": round(percentile(values, 0.99), 2), "max": round(max(values), 2)}


def seed(settings: Settings) -> None:
    build_demo(settings, DemoSpec(days=1, customers=200))
    flow = dict(ivr.DEFAULT_FLOW, hours={day: ["00:00-24:00"] for day in ivr.DAYS}, holidays_country=None)
    engine = make_engine(settings.effective_database_url)
    from sqlalchemy.orm import sessionmaker

    with sessionmaker(engine)() as session, session.begin():
        do_save_flow(session, flow=ivr.flow_from_document(flow), is_default=True)
    engine.dispose()


def serve(data_dir: Path) -> tuple[str, subprocess.Popen]:
    """``accueil serve`` in its own process (as in production: the load generator must not share its GIL)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCUEIL_")}
    env.update(ACCUEIL_DATA_DIR=str(data_dir), ACCUEIL_AUTO_MIGRATE="false", ACCUEIL_TWILIO_AUTH_TOKEN=TOKEN)
    server = subprocess.Popen([sys.executable, "-m", "accueil", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return base, server
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            raise RuntimeError("the server did not start")
        time.sleep(0.1)


async def one_call(client: httpx.AsyncClient, base: str, number: int, timings: dict[str, list[float]]) -> None:
    call = {"CallSid": f"CA{number:032d}", "AccountSid": "AC-bench", "From": f"+3361{number % 10_000_000:07d}",
            "To": "+33170000000", "Direction": "inbound", "CallStatus": "ringing"}
    steps = [("voice", "/webhooks/twilio/voice", call),
             ("ivr", "/webhooks/twilio/ivr?flow=standard&node=main&retry=0", {**call, "Digits": "1",
                                                                             "CallStatus": "in-progress"}),
             ("status", "/webhooks/twilio/status", {**call, "CallStatus": "completed", "SequenceNumber": "1",
                                                    "CallDuration": "42"})]
    for name, path, params in steps:
        headers = {"X-Twilio-Signature": expected_signature(TOKEN, base + path, params)}
        started = time.perf_counter()
        response = await client.post(path, data=params, headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code >= 300:
            raise RuntimeError(f"{name}: HTTP {response.status_code} {response.text[:200]}")
        timings[name].append(elapsed)


def empty() -> dict[str, list[float]]:
    return {"voice": [], "ivr": [], "status": []}


async def open_loop(base: str, calls: int, rate: float, first: int) -> dict[str, list[float]]:
    timings = empty()
    gaps = random.Random(7)
    async with httpx.AsyncClient(base_url=base, timeout=30,
                                 limits=httpx.Limits(max_connections=200)) as client:
        running = []
        for number in range(calls):
            running.append(asyncio.create_task(one_call(client, base, first + number, timings)))
            await asyncio.sleep(gaps.expovariate(rate))
        await asyncio.gather(*running)
    return timings


async def saturation(base: str, calls: int, concurrency: int, first: int) -> dict[str, list[float]]:
    timings = empty()
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for number in range(calls):
            queue.put_nowait(first + number)

        async def worker() -> None:
            while not queue.empty():
                await one_call(client, base, queue.get_nowait(), timings)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return timings


async def warm(base: str, calls: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for number in range(calls):
            await one_call(client, base, 900_000 + number, empty())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=10.0, help="calls per second in the open-loop run")
    parser.add_argument("--concurrency", type=int, default=4, help="callers back to back in the saturation run")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), environment="development", auto_migrate=True,
                            twilio_auth_token=TOKEN)
        print("seeding the demo company and IVR…", file=sys.stderr, flush=True)
        seed(settings)
        base, server = serve(Path(tmp))
        asyncio.run(warm(base, args.warmup))
        started = time.perf_counter()
        opened = asyncio.run(open_loop(base, args.calls, args.rate, 0))
        open_wall = time.perf_counter() - started
        started = time.perf_counter()
        saturated = asyncio.run(saturation(base, args.calls, args.concurrency, 500_000))
        saturated_wall = time.perf_counter() - started
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)

    def report(timings: dict[str, list[float]], wall: float) -> dict:
        every = [t for values in timings.values() for t in values]
        return {"requests_per_second": round(len(every) / wall, 1),
                "latency_ms": {name: summary(values) for name, values in timings.items()} | {"all": summary(every)}}

    every = [t for values in opened.values() for t in values]
    result = {
        "machine": machine(), "calls": args.calls,
        "open_loop": {"calls_per_second": args.rate, **report(opened, open_wall)},
        "saturation": {"concurrency": args.concurrency, **report(saturated, saturated_wall)},
        "target_p99_ms": TARGET_P99_MS, "met": percentile(every, 0.99) <= TARGET_P99_MS,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
