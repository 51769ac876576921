"""Helpers for the benchmarks: a bare ASGI "hello" app and a light HTTP/1.1 load generator.

The load generator speaks HTTP/1.1 over raw asyncio streams (uvloop when installed) on keep-alive
connections: no HTTP library on the client side, so the client takes as little of the shared CPU as we can
manage. It only understands what uvicorn answers (Content-Length or chunked bodies).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import platform
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

HELLO_BODY = b'{"hello":"world"}'


async def hello_app(scope, receive, send):  # type: ignore[no-untyped-def]
    """Raw ASGI callable: drains the request body and answers {"hello":"world"}."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"17")]})
    await send({"type": "http.response.body", "body": HELLO_BODY})


class Conn:
    """One keep-alive HTTP/1.1 connection; ``request`` sends raw bytes and returns (status, body)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer, self.closed = reader, writer, False

    @classmethod
    async def open(cls, host: str, port: int) -> Conn:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def request(self, data: bytes) -> tuple[int, bytes]:
        self.writer.write(data)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        lower = head.lower()
        if b"connection: close" in lower:
            self.closed = True
        i = lower.find(b"content-length:")
        if i >= 0:
            body = await self.reader.readexactly(int(head[i + 15:head.index(b"\r\n", i)]))
        elif b"transfer-encoding: chunked" in lower:
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                parts.append(await self.reader.readexactly(size + 2))
                if size == 0:
                    break
            body = b"".join(p[:-2] for p in parts)
        else:
            raise RuntimeError(f"response without length: {head[:200]!r}")
        return status, body

    def close(self) -> None:
        self.closed = True
        self.writer.close()


@dataclass
class Record:
    """What one phase measured."""

    latencies: list[float] = field(default_factory=list)  # seconds, successful (2xx) requests only
    statuses: Counter = field(default_factory=Counter)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    client_cpu: float = 0.0  # client CPU seconds / wall seconds (1.0 = one core)
    total_cpu: float = 0.0  # whole-machine busy cores during the phase, from /proc/stat
    scheduled: int = 0
    unfinished: int = 0

    def ok(self, status: int, body: bytes, latency: float) -> None:
        self.statuses[status] += 1
        if 200 <= status < 300:
            self.latencies.append(latency)
        else:
            self.error(f"HTTP {status}: {body[:300].decode('utf-8', 'replace')}")

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(what)

    @property
    def done(self) -> int:
        return sum(self.statuses.values())

    def rate(self) -> float:
        return self.done / self.elapsed if self.elapsed else 0.0

    def pct(self, p: float) -> float | None:
        """Percentile in milliseconds (nearest rank), None without data."""
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def busy_jiffies() -> tuple[int, int]:
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class _CpuMeter:
    def __enter__(self) -> _CpuMeter:
        self.t0, self.c0, self.j0 = time.perf_counter(), time.process_time(), busy_jiffies()
        return self

    def finish(self, record: Record, ncpu: int) -> None:
        wall = time.perf_counter() - self.t0
        busy, total = (b - a for a, b in zip(self.j0, busy_jiffies(), strict=True))
        record.client_cpu = (time.process_time() - self.c0) / wall if wall else 0.0
        record.total_cpu = ncpu * busy / total if total else 0.0

    def __exit__(self, *exc: object) -> None:
        return None


Make = Callable[[], bytes]
Done = Callable[[bytes, int], None]


async def _send(conn: Conn | None, host: str, port: int, data: bytes, timeout: float,
                record: Record) -> tuple[Conn | None, int, bytes] | None:
    try:
        if conn is None or conn.closed:
            conn = await Conn.open(host, port)
        async with asyncio.timeout(timeout):
            status, body = await conn.request(data)
        return conn, status, body
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, RuntimeError,
            ValueError) as exc:
        record.error(f"{type(exc).__name__}: {exc}"[:300])
        if conn is not None:
            conn.close()
        return None


async def closed_loop(host: str, port: int, make: Make, done: Done, *, connections: int, duration: float,
                      timeout: float = 30.0, ncpu: int = 1) -> Record:
    """Each connection sends its next request as soon as the previous answer arrived, for ``duration``."""
    record = Record()
    conns: list[Conn | None] = list(await asyncio.gather(*(Conn.open(host, port) for _ in range(connections))))

    async def worker(conn: Conn | None) -> None:
        while time.perf_counter() < stop_at:
            data = make()
            t0 = time.perf_counter()
            sent = await _send(conn, host, port, data, timeout, record)
            if sent is None:
                conn = None
                await asyncio.sleep(0.01)
                continue
            conn, status, body = sent
            record.ok(status, body, time.perf_counter() - t0)
            done(data, status)
        if conn is not None:
            conn.close()

    with _CpuMeter() as meter:
        start = time.perf_counter()
        stop_at = start + duration
        await asyncio.wait_for(asyncio.gather(*(worker(c) for c in conns)), duration + timeout + 5)
        record.elapsed = time.perf_counter() - start
        meter.finish(record, ncpu)
    return record


async def open_loop(host: str, port: int, make: Make, done: Done, *, rate: float, duration: float,
                    connections: int, timeout: float = 30.0, ncpu: int = 1) -> Record:
    """Requests are due at a fixed rate whatever the server does; latency counts from the due time, so a
    stalled server shows up in the figures (no coordinated omission). ``connections`` bounds what is in
    flight; a request waiting for a free connection is still late from its due time."""
    record = Record()
    total = int(rate * duration)
    record.scheduled = total
    queue: asyncio.Queue[float | None] = asyncio.Queue()
    conns: list[Conn | None] = list(await asyncio.gather(*(Conn.open(host, port) for _ in range(connections))))

    async def dispatcher(start: float) -> None:
        i = 0
        while i < total:
            due = min(total, int((time.perf_counter() - start) * rate) + 1)
            while i < due:
                queue.put_nowait(start + i / rate)
                i += 1
            await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
        for _ in conns:
            queue.put_nowait(None)

    async def worker(conn: Conn | None) -> None:
        while (due_at := await queue.get()) is not None:
            data = make()
            sent = await _send(conn, host, port, data, timeout, record)
            if sent is None:
                conn = None
                continue
            conn, status, body = sent
            record.ok(status, body, time.perf_counter() - due_at)
            done(data, status)
        if conn is not None:
            conn.close()

    with _CpuMeter() as meter:
        start = time.perf_counter() + 0.01
        tasks = [asyncio.ensure_future(dispatcher(start))] + [asyncio.ensure_future(worker(c)) for c in conns]
        _, pending = await asyncio.wait(tasks, timeout=duration + timeout + 5)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        record.elapsed = time.perf_counter() - start
        meter.finish(record, ncpu)
    non_2xx = sum(n for status, n in record.statuses.items() if not 200 <= status < 300)
    record.unfinished = total - record.done - (record.errors - non_2xx)
    if record.unfinished > 0:
        record.errors += record.unfinished
        record.error_samples.append(f"{record.unfinished} scheduled request(s) unanswered at the phase deadline")
    return record


def machine(packages: tuple[str, ...] = ("accueil",)) -> dict:
    """What every benchmark prints first: date, cores, CPU, Python, platform, versions, load average."""
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    except OSError:
        pass
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for name in packages:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    try:
        with open("/proc/loadavg") as f:
            load = " ".join(f.read().split()[:3])
    except OSError:
        load = "?"
    return {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "nproc": len(os.sched_getaffinity(0)),
            "cpu_model": model, "python": platform.python_version(), "platform": platform.platform(),
            "versions": versions, "loadavg": load}
