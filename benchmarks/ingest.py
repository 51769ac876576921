"""How many inbound contacts per second does ``accueil serve`` take, and how fast does it answer?

Why: every contact on every channel enters through POST /api/v1/inbound; the target on a 2-core machine is
>= 1,000 contacts/s on SQLite, with p99 <= 50 ms at half that rate. A bare ASGI "hello" app served by the
same uvicorn command line gives the ceiling on this machine, so the ratio says how much the app costs.

How: per backend, a fresh temp dir (and a fresh PostgreSQL database), ``accueil demo --no-serve`` for the
organisation and an admin API token, then ``accueil serve`` in a subprocess. The client (benchmarks/_common.py)
is raw asyncio + uvloop on keep-alive HTTP/1.1 connections, chosen because it costs far less CPU per request
than httpx, and the client shares the cores with the server (its CPU share is printed). Phases per target:
warm-up (closed loop, discarded), closed loop at max throughput, then an open loop at a fixed rate whose
latency counts from each request's due time (no coordinated omission). The hello target receives the very
same POST requests. Payloads mix email/chat (email identity) and sms/voice (phone identity) over a pool of
customers, with a small share of exact re-sends of already accepted messages (answered 200, not 201).

    .venv/bin/python benchmarks/ingest.py [--quick] [--backends sqlite,postgresql,hello] [--workers 1,2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Record, busy_jiffies, closed_loop, machine, open_loop  # noqa: E402

HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"
CHANNELS = [("email", "email_n1", 0.35), ("chat", "chat_n1", 0.2), ("sms", "messagerie", 0.15),
            ("voice", "tel_n1", 0.3)]
MOTIFS = ["suivi_commande", "remboursement", "livraison_retard"]
SUBJECTS = ["Où est ma commande ?", "Demande de remboursement", "Colis en retard"]


class InboundMix:
    """Makes the POST /api/v1/inbound requests; remembers accepted ones to re-send a few as duplicates."""

    def __init__(self, token: str, port: int, *, customers: int, dup_share: float, seed: int) -> None:
        self.rng, self.customers, self.dup_share = random.Random(seed), customers, dup_share
        self.head = (f"POST /api/v1/inbound HTTP/1.1\r\nHost: {HOST}:{port}\r\nAuthorization: Bearer {token}\r\n"
                     "Content-Type: application/json\r\nContent-Length: ").encode()
        self.run, self.n, self.accepted, self.dups_sent = f"{os.getpid()}-{seed}", 0, [], 0
        self.channels, self.weights = [c[:2] for c in CHANNELS], [c[2] for c in CHANNELS]

    def make(self) -> bytes:
        if self.accepted and self.rng.random() < self.dup_share:
            self.dups_sent += 1
            return self.rng.choice(self.accepted)
        self.n += 1
        rng = self.rng
        customer = rng.randrange(self.customers)
        channel, queue = rng.choices(self.channels, self.weights)[0]
        identity = ({"kind": "email", "value": f"client{customer}@example.fr"} if channel in ("email", "chat")
                    else {"kind": "phone", "value": f"+336{customer:08d}"})
        k = rng.randrange(len(MOTIFS))
        body = json.dumps({
            "channel": channel, "provider_message_id": f"bench-{self.run}-{self.n}", "identities": [identity],
            "motif": MOTIFS[k], "queue": queue, "subject": SUBJECTS[k],
            "body_text": f"Bonjour, ma commande {rng.randrange(10**6):06d} pose problème. Merci de me répondre.",
        }, ensure_ascii=False).encode()
        return self.head + str(len(body)).encode() + b"\r\n\r\n" + body

    def done(self, data: bytes, status: int) -> None:
        if status == 201:
            if len(self.accepted) < 2000:
                self.accepted.append(data)
            else:
                self.accepted[self.rng.randrange(2000)] = data


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """A server subprocess in its own process group (so its workers die with it), logging to a file."""

    def __init__(self, argv: list[str], env: dict, cwd: Path, log: Path) -> None:
        self.log = log
        self.logf = open(log, "wb")
        self.proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=self.logf, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def wait_ready(self, port: int, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server not ready after {timeout:.0f}s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
                try:
                    os.killpg(self.proc.pid, sig)
                    self.proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
                except ProcessLookupError:
                    break
        self.logf.close()

    def problems(self) -> list[str]:
        """Log lines that look like server-side errors."""
        lines = self.log.read_text(errors="replace").splitlines()
        return [ln for ln in lines if re.search(r"Traceback|ERROR|CRITICAL|Exception|Error:", ln)]


def cli(args: list[str], env: dict, cwd: Path, timeout: float) -> str:
    out = subprocess.run([sys.executable, "-m", "accueil", *args], env=env, cwd=cwd, capture_output=True,
                         text=True, timeout=timeout)
    if out.returncode:
        raise RuntimeError(f"accueil {' '.join(args)} failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return out.stdout


def prepare_accueil(env: dict, cwd: Path) -> str:
    """Build the demo organisation; return an admin API token."""
    shown = cli(["demo", "--no-serve", "--days", "1", "--customers", "50"], env, cwd, 600)
    found = re.findall(r"\bacc_[A-Za-z0-9_\-]+", shown)
    return found[-1] if found else cli(["token", "create", "admin"], env, cwd, 120).strip().splitlines()[0]


def run_phases(port: int, mix: InboundMix, opts: argparse.Namespace) -> dict[str, Record]:
    async def go() -> dict[str, Record]:
        ncpu = len(os.sched_getaffinity(0))
        common = {"connections": opts.connections, "timeout": opts.timeout, "ncpu": ncpu}
        out = {}
        log(f"    warm-up {opts.warmup:g}s")
        out["warmup"] = await closed_loop(HOST, port, mix.make, mix.done, duration=opts.warmup, **common)
        await asyncio.sleep(0.5)
        log(f"    closed loop {opts.duration:g}s, {opts.connections} connections")
        out["max"] = await closed_loop(HOST, port, mix.make, mix.done, duration=opts.duration, **common)
        log(f"      -> {out['max'].rate():.0f} req/s")
        await asyncio.sleep(1.0)
        log(f"    open loop {opts.rate:g}/s for {opts.rate_duration:g}s")
        out["fixed"] = await open_loop(HOST, port, mix.make, mix.done, rate=opts.rate,
                                       duration=opts.rate_duration, **common)
        return out

    try:
        import uvloop
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(go())
    except ImportError:
        return asyncio.run(go())


def background_cores(seconds: float = 1.0) -> float:
    """Busy cores on the machine while we do nothing: other people's work skews the figures."""
    before = busy_jiffies()
    time.sleep(seconds)
    busy, total = (b - a for a, b in zip(before, busy_jiffies(), strict=True))
    return round(len(os.sched_getaffinity(0)) * busy / total, 2) if total else 0.0


def bench_target(name: str, workers: int, opts: argparse.Namespace) -> dict:
    """Set up, serve and measure one target; always stops the server and cleans up."""
    tmp = Path(tempfile.mkdtemp(prefix=f"accueil-bench-{name}-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCUEIL_")}
    env.update(ACCUEIL_DATA_DIR=str(tmp), ACCUEIL_DATABASE_URL="", PYTHONUNBUFFERED="1")
    port, server, pg_db, token = free_port(), None, None, "none"
    result: dict = {"target": name, "workers": workers}
    try:
        if name == "postgresql":
            import psycopg
            pg_db = f"accueil_bench_{os.getpid()}_{random.randrange(10**6)}"
            with psycopg.connect(f"{opts.pg_url}/postgres", autocommit=True, connect_timeout=10) as conn:
                conn.execute(f'CREATE DATABASE "{pg_db}"')
            env["ACCUEIL_DATABASE_URL"] = f"{opts.pg_url}/{pg_db}"
        if name.startswith("hello"):
            argv = [sys.executable, "-m", "uvicorn", "_common:hello_app", "--app-dir", str(HERE), "--host", HOST,
                    "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log",
                    "--proxy-headers"]
        else:
            log("    accueil demo --no-serve ...")
            token = prepare_accueil(env, tmp)
            argv = [sys.executable, "-m", "accueil", "serve", "--host", HOST, "--port", str(port)]
            argv += ["--workers", str(workers)] if workers > 1 else []
        server = Server(argv, env, tmp, tmp / "server.log")
        server.wait_ready(port)
        result["background_cores"] = background_cores()
        log(f"    background load before the run: {result['background_cores']:.2f} busy core(s)")
        mix = InboundMix(token, port, customers=opts.customers, dup_share=opts.dup_share, seed=opts.seed)
        phases = run_phases(port, mix, opts)
        result["phases"] = {k: summarise(r) for k, r in phases.items()}
        result["duplicates_sent"] = mix.dups_sent
    except Exception as exc:  # noqa: BLE001 - report and go on with the next target
        result["failed"] = f"{type(exc).__name__}: {exc}"
        log(f"    FAILED: {result['failed'][:2000]}")
    finally:
        if server is not None:
            server.stop()
            problems = server.problems()
            result["server_log_problems"] = len(problems)
            result["server_log_sample"] = problems[:12]
        if pg_db:
            try:
                import psycopg
                with psycopg.connect(f"{opts.pg_url}/postgres", autocommit=True, connect_timeout=10) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)')
            except Exception as exc:  # noqa: BLE001
                log(f"    could not drop database {pg_db}: {exc}")
        if opts.keep:
            log(f"    kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return result


def summarise(r: Record) -> dict:
    return {"requests": r.done, "elapsed_s": round(r.elapsed, 3), "rate": round(r.rate(), 1),
            "p50_ms": r.pct(50), "p90_ms": r.pct(90), "p99_ms": r.pct(99), "max_ms": r.pct(100),
            "statuses": {str(k): v for k, v in sorted(r.statuses.items())}, "errors": r.errors,
            "error_samples": r.error_samples, "scheduled": r.scheduled or None,
            "client_cpu_cores": round(r.client_cpu, 2), "machine_cpu_cores": round(r.total_cpu, 2)}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def ms(v: float | None) -> str:
    return "—" if v is None else f"{v:.1f}"


def report(results: list[dict], opts: argparse.Namespace) -> None:
    hello = {r["workers"]: r["phases"]["max"]["rate"] for r in results if r["target"].startswith("hello")
             and "phases" in r}
    print(f"\n| target | workers | max req/s | p50 ms | p99 ms | client CPU | fixed {opts.rate:g}/s achieved "
          "| p50 ms | p99 ms | 201 | 200 | errors | vs hello |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        if "phases" not in r:
            print(f"| {r['target']} | {r['workers']} | failed | | | | | | | | | | |")
            continue
        mx, fx = r["phases"]["max"], r["phases"]["fixed"]
        ref = hello.get(r["workers"]) or hello.get(1)
        vs = f"{mx['rate'] / ref:.0%}" if ref else "—"
        st = [sum(p["statuses"].get(c, 0) for p in (mx, fx)) for c in ("201", "200")]
        print(f"| {r['target']} | {r['workers']} | {mx['rate']:,.0f} | {ms(mx['p50_ms'])} | {ms(mx['p99_ms'])} "
              f"| {mx['client_cpu_cores']:.2f} of {mx['machine_cpu_cores']:.2f} | {fx['rate']:,.0f} "
              f"| {ms(fx['p50_ms'])} | {ms(fx['p99_ms'])} | {st[0]:,} | {st[1]:,} | {mx['errors'] + fx['errors']} "
              f"| {vs} |")
    print("\n(201/200/errors: max + fixed phases; 200 = re-sent duplicates; CPU in cores: client of whole machine, "
          "during the max phase)")
    print("background load (busy cores measured for 1 s with the server idle, before the phases): "
          + ", ".join(f"{r['target']} {r.get('background_cores', '?')}" for r in results))
    for r in results:
        if "phases" not in r:
            print(f"\n{r['target']}: FAILED — {r['failed'][:1500]}")
        fixed = r.get("phases", {}).get("fixed")
        if fixed and fixed["rate"] < 0.95 * opts.rate:
            print(f"\n{r['target']}: cannot sustain {opts.rate:g}/s (answered {fixed['rate']:,.0f}/s); the fixed-rate "
                  "latency is queueing in an overloaded server, and requests still unanswered at the deadline "
                  "count as errors, not in the percentiles.")
        for name, p in r.get("phases", {}).items():
            if p["error_samples"]:
                print(f"\n{r['target']} {name}: {p['errors']} error(s); first: ")
                for sample in p["error_samples"]:
                    print(f"  - {sample}")
        if r.get("server_log_problems"):
            print(f"\n{r['target']} server log: {r['server_log_problems']} suspicious line(s); first:")
            for line in r["server_log_sample"]:
                print(f"  {line[:300]}")
    for r in results:
        if r["target"] == "sqlite" and "phases" in r:
            mx, fx = r["phases"]["max"], r["phases"]["fixed"]
            ok_rate, ok_p99 = mx["rate"] >= 1000, fx["p99_ms"] is not None and fx["p99_ms"] <= 50 and not fx["errors"]
            print(f"\nSQLite target: {mx['rate']:,.0f}/s vs >= 1,000/s: {'PASS' if ok_rate else 'FAIL'}; "
                  f"p99 {ms(fx['p99_ms'])} ms at {opts.rate:g}/s vs <= 50 ms: {'PASS' if ok_p99 else 'FAIL'}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backends", default="hello,sqlite,postgresql", help="comma list of hello, sqlite, postgresql")
    ap.add_argument("--quick", action="store_true", help="short phases (1 s warm-up, 3 s max, 3 s fixed rate)")
    ap.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds")
    ap.add_argument("--duration", type=float, default=10.0, help="closed-loop (max throughput) seconds")
    ap.add_argument("--rate", type=float, default=500.0, help="open-loop requests per second")
    ap.add_argument("--rate-duration", type=float, default=10.0, help="open-loop seconds")
    ap.add_argument("--connections", type=int, default=32, help="keep-alive connections (both phases)")
    ap.add_argument("--workers", default="1", help="comma list of server worker process counts, e.g. 1,2")
    ap.add_argument("--customers", type=int, default=5000, help="distinct customers in the payload pool")
    ap.add_argument("--dup-share", type=float, default=0.02, help="share of exact re-sends of accepted messages")
    ap.add_argument("--timeout", type=float, default=30.0, help="per-request timeout, seconds")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432", help="server URL, no database")
    ap.add_argument("--json", metavar="OUT", help="also write the results as JSON")
    ap.add_argument("--keep", action="store_true", help="keep the temp dirs (server logs, SQLite file)")
    opts = ap.parse_args()
    if opts.quick:
        opts.warmup, opts.duration, opts.rate_duration = 1.0, 3.0, 3.0
    info = machine(("uvicorn", "uvloop", "httptools", "accueil"))
    print(f"# accueil ingest benchmark — {info['date']}\n")
    print(f"machine: {info['nproc']} CPU(s), {info['cpu_model']}; Python {info['python']} ({info['platform']}); "
          f"load average {info['loadavg']}")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()))
    print(f"client: raw asyncio+uvloop HTTP/1.1, {opts.connections} keep-alive connections; warm-up "
          f"{opts.warmup:g}s, max {opts.duration:g}s, fixed {opts.rate:g}/s for {opts.rate_duration:g}s; "
          f"{opts.customers:,} customers, {opts.dup_share:.0%} duplicates", flush=True)
    worker_counts = sorted({int(w) for w in opts.workers.split(",") if w.strip()})
    targets: list[tuple[str, int]] = []
    for name in (b.strip() for b in opts.backends.split(",") if b.strip()):
        if name not in ("hello", "sqlite", "postgresql"):
            ap.error(f"unknown backend {name!r}")
        targets += [(name, workers) for workers in worker_counts]
    results = []
    for name, workers in targets:
        log(f"\n== {name} ({workers} worker{'s' if workers > 1 else ''})")
        results.append(bench_target(name, workers, opts))
    report(results, opts)
    if opts.json:
        Path(opts.json).write_text(json.dumps({"machine": info, "options": vars(opts), "results": results},
                                              indent=2, ensure_ascii=False))
    return 0 if all("phases" in r for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
