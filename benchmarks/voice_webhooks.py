"""How fast does accueil answer Twilio's voice webhooks while it plays the IVR and queues calls?

Why: issue 5 sets a p99 of at most 30 ms for the voice webhook response (Twilio waits on each answer with
the caller listening to silence, and gives up after 15 s).

How: a SQLite database gets the demo company (one day of history) and the demo IVR (``ivr.DEFAULT_FLOW``,
open every day so the menus play). The app runs under uvicorn in this process, as ``make demo`` runs it
(dispatcher and job runner on). ``--calls`` calls then arrive, ``--concurrency`` at a time, each as Twilio
would drive it, every request signed with ``X-Twilio-Signature``:

    POST /webhooks/twilio/voice      the call arrives: recorded, the flow found, welcome + menu (Gather)
    POST /webhooks/twilio/ivr        key 1: the motif set, the call queued in accueil, wait predicted
    POST /webhooks/twilio/status     completed (the caller hangs up): the call closed, leaves the queue

Each request's round trip is timed on the client (loopback), per webhook and overall.

    .venv/bin/python benchmarks/voice_webhooks.py [--calls 1000] [--concurrency 4] [--json OUT]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from accueil.app import create_app
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


def serve(settings: Settings) -> tuple[str, uvicorn.Server, threading.Thread]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


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


async def drive(base: str, calls: int, concurrency: int, warmup: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {"voice": [], "ivr": [], "status": []}
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        scratch: dict[str, list[float]] = {"voice": [], "ivr": [], "status": []}
        for number in range(warmup):
            await one_call(client, base, 900_000 + number, scratch)
        queue: asyncio.Queue[int] = asyncio.Queue()
        for number in range(calls):
            queue.put_nowait(number)

        async def worker() -> None:
            while not queue.empty():
                await one_call(client, base, queue.get_nowait(), timings)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), environment="development", auto_migrate=True,
                            twilio_auth_token=TOKEN)
        print("seeding the demo company and IVR…", file=sys.stderr, flush=True)
        seed(settings)
        base, server, thread = serve(settings)
        started = time.perf_counter()
        timings = asyncio.run(drive(base, args.calls, args.concurrency, args.warmup))
        wall = time.perf_counter() - started
        server.should_exit = True
        thread.join(timeout=10)
    every = [t for values in timings.values() for t in values]
    result = {
        "machine": machine(), "calls": args.calls, "concurrency": args.concurrency,
        "requests_per_second": round(len(every) / wall, 1),
        "latency_ms": {name: summary(values) for name, values in timings.items()} | {"all": summary(every)},
        "target_p99_ms": TARGET_P99_MS, "met": percentile(every, 0.99) <= TARGET_P99_MS,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
