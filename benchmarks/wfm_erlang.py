"""How fast and how exact is accueil's Erlang C / Erlang A staffing next to the Python peers?

Why: docs/benchmarks.md promises (1) Erlang C staffing of 96 quarter-hours (10-600 calls each, AHT 300 s,
80/20) at least 10x faster than pyworkforce 0.5.1 with identical answers, (2) Erlang A staffing of the same
96 intervals (patience 180 s) in <= 50 ms, exact, and (3) one large Erlang A case (5,000 calls per 30 min,
AHT 300 s, patience 180 s, 80/20) solved exactly in <= 20 ms.

How: the 96 intervals follow a fixed two-peak intraday profile (morning peak 10:30, afternoon peak 15:00,
night floor), scaled linearly so the quietest quarter-hour has 10 calls and the busiest 600 - no randomness.
accueil is timed in this process (median of 7 timeit repeats). The peers run in side virtualenvs created on
demand under /tmp (pip, Python 3.11: pyworkforce 0.5.1, call-center-tools, callcenterdim; a Python 3.12
for pyworkforce 0.5.4, whose Erlang A needs >= 3.12), through a small script fed the same intervals as JSON
that prints timings and per-interval answers as JSON. Conventions everywhere: SL = answered within 20 s /
offered, target 80 %, no shrinkage, no occupancy cap. "Exact" is checked as SL(N) >= 0.8 > SL(N-1).

    .venv/bin/python benchmarks/wfm_erlang.py
"""

from __future__ import annotations

import datetime as dt
import glob
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import timeit
from importlib.metadata import version

import numpy as np

from accueil.workforce.erlang import erlang_a_metrics, erlang_c_metrics, required_agents, required_agents_many

AHT, THRESHOLD, SL, PATIENCE, INTERVAL = 300.0, 20.0, 0.8, 180.0, 900.0
LARGE_CALLS, LARGE_PERIOD = 5000, 1800.0
VENV311, VENV312 = "/tmp/accueil-bench-peers", "/tmp/accueil-bench-peers312"
PEERS311 = ["pyworkforce==0.5.1", "call-center-tools==1.0.0", "callcenterdim==0.0.3"]
PEERS312 = ["pyworkforce==0.5.4"]

PEER_SCRIPT = r'''
import json, statistics, sys, time, timeit
calls, job = json.loads(sys.argv[1]), sys.argv[2]
AHT, T, SL, PAT = 300.0, 20.0, 0.8, 180.0

def med_ms(fn, repeat):
    timer = timeit.Timer(fn)
    number = max(1, timer.autorange()[0] // 4) if repeat > 1 else 1
    return 1000 * statistics.median(timer.repeat(repeat=repeat, number=number)) / number

out = {}
def peer(name, fn, repeat=7):
    try:
        answers = fn()
        out[name] = {"ms": med_ms(fn, repeat), "agents": answers}
    except Exception as exc:  # a peer that does not install or import is skipped, not fatal
        out[name] = {"error": f"{type(exc).__name__}: {exc}"[:300]}

if job == "c":
    def pwf():
        from pyworkforce.queuing import ErlangC
        return [ErlangC(transactions=c, aht=AHT / 60, asa=T / 60, interval=15)
                .required_positions(service_level=SL, max_occupancy=1.0)["raw_positions"] for c in calls]
    def cct():
        from call_center_tools import calc_staffing
        # max_occupancy 1 - 1e-9, not 1.0: its search starts at N = load, and an integer load (calls
        # divisible by 3 here) then divides by zero in its ASA; 1 - 1e-9 starts it at the first N > load.
        return [calc_staffing(c * 4, AHT, max_occupancy=1 - 1e-9, target_answer_time=T,
                              target_service_level=SL).agents for c in calls]
    def ccd():
        from callcenterdim.Dimensionamento import AgentsReq
        return [AgentsReq(c, 15, AHT, SL, T) for c in calls]
    peer("pyworkforce", pwf); peer("call-center-tools", cct); peer("callcenterdim", ccd)
else:
    from pyworkforce.queuing import ErlangA
    def a96():
        return [ErlangA(transactions=c, aht=AHT / 60, asa=T / 60, interval=15, patience=PAT / 60)
                .required_positions(service_level=SL)["raw_positions"] for c in calls]
    def large():
        return [ErlangA(transactions=5000, aht=AHT / 60, asa=T / 60, interval=30, patience=PAT / 60)
                .required_positions(service_level=SL)["raw_positions"]]
    peer("pyworkforce-a96", a96, repeat=1); peer("pyworkforce-a-large", large, repeat=1)
print(json.dumps(out))
'''


def intervals() -> list[int]:
    """Calls per quarter-hour 00:00-23:45: two Gaussian peaks over a floor, scaled to span 10..600."""
    hours = np.arange(96) / 4 + 0.125
    shape = np.exp(-(((hours - 10.5) / 2.0) ** 2)) + 0.8 * np.exp(-(((hours - 15.0) / 2.2) ** 2))
    scaled = 10 + 590 * (shape - shape.min()) / (shape.max() - shape.min())
    return [int(c) for c in np.rint(scaled)]


def median_ms(fn, repeat: int = 7) -> float:
    timer = timeit.Timer(fn)
    number = max(1, timer.autorange()[0] // 4)
    return 1000 * statistics.median(timer.repeat(repeat=repeat, number=number)) / number


def side_venv(path: str, python: str | None, packages: list[str]) -> tuple[str | None, list[str]]:
    """Create (or reuse) a venv and pip-install each package on its own; returns (python, notes)."""
    notes: list[str] = []
    if python is None:
        return None, [f"no interpreter for {path}: {', '.join(packages)} not measured"]
    exe = os.path.join(path, "bin", "python")
    try:
        if not os.path.exists(exe):
            subprocess.run([python, "-m", "venv", path], check=True, timeout=120, capture_output=True)
        have = subprocess.run([exe, "-m", "pip", "freeze"], capture_output=True, text=True, timeout=60).stdout
        for pkg in packages:
            name, want = pkg.split("==")
            if any(line.lower().replace("_", "-") == f"{name}=={want}".lower() for line in have.split()):
                continue
            run = subprocess.run([exe, "-m", "pip", "install", "-q", pkg], capture_output=True, text=True,
                                 timeout=600)
            if run.returncode:
                tail = [ln for ln in run.stderr.splitlines() if "ignored: it is neither" not in ln][-2:]
                notes.append(f"pip install {pkg} failed in {path}: {' / '.join(tail)}")
    except (subprocess.SubprocessError, OSError) as exc:
        return None, [f"side venv {path} unusable: {exc}"]
    return exe, notes


def run_peers(exe: str | None, calls: list[int], job: str, timeout: float) -> tuple[dict, list[str]]:
    if exe is None:
        return {}, []
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(PEER_SCRIPT)
    try:
        run = subprocess.run([exe, f.name, json.dumps(calls), job], capture_output=True, text=True,
                             timeout=timeout)
        if run.returncode:
            return {}, [f"peer script ({job}) failed: {run.stderr.strip().splitlines()[-1:]}"]
        return json.loads(run.stdout.strip().splitlines()[-1]), []
    except subprocess.TimeoutExpired:
        return {}, [f"peer script ({job}) timed out after {timeout:.0f} s"]
    finally:
        os.unlink(f.name)


def python312() -> str | None:
    return next(iter(sorted(glob.glob("/root/.pyenv/versions/3.12*/bin/python"))), None) or shutil.which("python3.12")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "?")
    except OSError:
        return platform.processor() or "?"


def exact(n: np.ndarray, sl_of) -> int:
    """Number of intervals where N is NOT the exact minimum: SL(N) >= 0.8 > SL(N-1) must hold."""
    ok_n = np.asarray(sl_of(n)) >= SL
    below = np.maximum(n - 1, 1)
    ok_below = np.where(n > 1, np.asarray(sl_of(below)) < SL, True)
    return int(np.sum(~(ok_n & ok_below)))


def diffs(name: str, ours: list[int], theirs: list[int], calls: list[int]) -> str:
    bad = [(i, calls[i], a, b) for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b]
    first = "; ".join(f"#{i} ({c} calls): accueil {a}, {name} {b}" for i, c, a, b in bad[:3])
    at_start = sum(b == math.ceil(c * AHT / INTERVAL) > a for _, c, a, b in bad)  # peer never looked below ceil(A)
    why = f"; {at_start} of them are {name}'s search start ceil(load) > exact N" if at_start else ""
    return f"{len(bad)} differ" + (f" - {first}{why}" if bad else "")


def main() -> None:
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])  # the machine is shared: say how busy it was
    calls = intervals()
    rates = np.array(calls, dtype=float) / INTERVAL
    aht = np.full(len(calls), AHT)
    notes: list[str] = []

    # --- accueil, Erlang C -------------------------------------------------------------------------------
    def c_one() -> list[int]:
        return [required_agents(r, AHT, service_level=SL, threshold=THRESHOLD).agents for r in rates]

    def c_many() -> np.ndarray:
        return required_agents_many(rates, aht, service_level=SL, threshold=THRESHOLD).agents

    c_agents = c_many()
    assert list(c_agents) == c_one(), "one-by-one and vectorised Erlang C disagree"
    c_inexact = exact(c_agents, lambda n: erlang_c_metrics(n, rates, aht, THRESHOLD).service_level)
    c_one_ms, c_many_ms = median_ms(c_one), median_ms(c_many)

    # --- accueil, Erlang A -------------------------------------------------------------------------------
    def a_many() -> np.ndarray:
        return required_agents_many(rates, aht, patience=PATIENCE, service_level=SL, threshold=THRESHOLD).agents

    large_rate = LARGE_CALLS / LARGE_PERIOD

    def a_large() -> int:
        return required_agents(large_rate, AHT, patience=PATIENCE, service_level=SL, threshold=THRESHOLD).agents

    a_agents, big = a_many(), a_large()
    a_inexact = exact(a_agents, lambda n: erlang_a_metrics(n, rates, aht, PATIENCE, THRESHOLD).service_level)
    big_sl = [float(erlang_a_metrics(k, large_rate, AHT, PATIENCE, THRESHOLD).service_level) for k in (big - 1, big)]
    big_exact = big_sl[1] >= SL > big_sl[0]
    a_many_ms, a_large_ms = median_ms(a_many), median_ms(a_large)

    # --- peers in side virtualenvs -----------------------------------------------------------------------
    exe311, n311 = side_venv(VENV311, shutil.which("python3.11") or sys.executable, PEERS311)
    py312 = python312()
    exe312, n312 = side_venv(VENV312, py312, PEERS312)
    peers_c, n_c = run_peers(exe311, calls, "c", timeout=300)
    peers_a, n_a = run_peers(exe312, calls, "a", timeout=600)
    notes += n311 + n312 + n_c + n_a

    def peer_version(exe: str | None, dist: str) -> str:
        if exe is None:
            return "-"
        code = f"from importlib.metadata import version as v; print(v('{dist}'))"
        run = subprocess.run([exe, "-c", code], capture_output=True, text=True, timeout=60)
        return run.stdout.strip() or "not installed"

    # --- report ------------------------------------------------------------------------------------------
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"# Erlang staffing benchmark ({now})\n")
    print(f"- Machine: {os.cpu_count()} CPU(s) (nproc {len(os.sched_getaffinity(0))}), {cpu_model()}; "
          f"Python {platform.python_version()} ({platform.machine()}); load average before the run {load}")
    print(f"- accueil {version('accueil')}, numpy {np.__version__}, scipy {version('scipy')}; peers: "
          f"pyworkforce {peer_version(exe311, 'pyworkforce')} and "
          f"call-center-tools {peer_version(exe311, 'call-center-tools')} and "
          f"callcenterdim {peer_version(exe311, 'callcenterdim')} on Python 3.11 ({VENV311}); "
          f"pyworkforce {peer_version(exe312, 'pyworkforce')} on {py312 or 'no Python 3.12'} ({VENV312})")
    print(f"- Intervals: 96 quarter-hours, two-peak profile, {min(calls)}-{max(calls)} calls, "
          f"{sum(calls):,} calls/day; AHT {AHT:.0f} s, 80/20 (SL over offered), no shrinkage, no occupancy cap")
    print(f"- Erlang C sum of agents (accueil): {int(c_agents.sum()):,}; Erlang A (patience {PATIENCE:.0f} s): "
          f"{int(a_agents.sum()):,}; large case ({LARGE_CALLS:,} calls / 30 min, load "
          f"{large_rate * AHT:.1f} Erl): N = {big}, SL(N-1) = {big_sl[0]:.6f}, SL(N) = {big_sl[1]:.6f}\n")
    print("| Case | Implementation | Median time (ms) | Sum of agents | Answers vs accueil |")
    print("|---|---|---:|---:|---|")
    print(f"| Erlang C, 96 intervals | accueil `required_agents_many` | {c_many_ms:.2f} | {int(c_agents.sum()):,} "
          f"| exact in {96 - c_inexact}/96 |")
    print(f"| Erlang C, 96 intervals | accueil `required_agents` x 96 | {c_one_ms:.2f} | {int(c_agents.sum()):,} "
          f"| same |")
    ours = [int(x) for x in c_agents]
    for name in ("pyworkforce", "call-center-tools", "callcenterdim"):
        res = peers_c.get(name)
        if res is None or "error" in res:
            print(f"| Erlang C, 96 intervals | {name} | - | - | not measured: {(res or {}).get('error', 'no venv')} |")
            continue
        print(f"| Erlang C, 96 intervals | {name} | {res['ms']:.2f} | {sum(res['agents']):,} "
              f"| {diffs(name, ours, res['agents'], calls)} |")
    print(f"| Erlang A, 96 intervals | accueil `required_agents_many` | {a_many_ms:.2f} | {int(a_agents.sum()):,} "
          f"| exact in {96 - a_inexact}/96 |")
    res = peers_a.get("pyworkforce-a96")
    if res and "error" not in res:
        print(f"| Erlang A, 96 intervals | pyworkforce 0.5.4 (1 run) | {res['ms']:.0f} | {sum(res['agents']):,} "
              f"| {diffs('pyworkforce', [int(x) for x in a_agents], res['agents'], calls)} |")
    else:
        print(f"| Erlang A, 96 intervals | pyworkforce 0.5.4 | - | - | not measured: "
              f"{(res or {}).get('error', 'no Python 3.12 venv')} |")
    print(f"| Erlang A, large case | accueil `required_agents` | {a_large_ms:.2f} | {big} "
          f"| {'exact' if big_exact else 'NOT exact'} |")
    res = peers_a.get("pyworkforce-a-large")
    if res and "error" not in res:
        print(f"| Erlang A, large case | pyworkforce 0.5.4 (1 run) | {res['ms']:.0f} | {res['agents'][0]} "
              f"| {res['agents'][0] - big:+d} agents vs exact |")
    else:
        print(f"| Erlang A, large case | pyworkforce 0.5.4 | - | - | not measured: "
              f"{(res or {}).get('error', 'no Python 3.12 venv')} |")

    print("\n## Verdicts\n")
    pwf = peers_c.get("pyworkforce", {})
    if "ms" in pwf:
        same = ours == pwf["agents"]
        ratio, ratio_one = pwf["ms"] / c_many_ms, pwf["ms"] / c_one_ms
        met = ratio >= 10 and same and c_inexact == 0
        print(f"- Erlang C >= 10x pyworkforce 0.5.1, identical answers: {'MET' if met else 'MISSED'} - "
              f"{ratio:.1f}x vectorised ({c_many_ms:.2f} ms vs {pwf['ms']:.2f} ms), {ratio_one:.2f}x one-by-one "
              f"({c_one_ms:.2f} ms); answers {'identical' if same else 'DIFFER'} (sum {sum(ours):,})")
    else:
        print("- Erlang C >= 10x pyworkforce 0.5.1: NOT MEASURED (peer unavailable, see notes)")
    met = a_many_ms <= 50 and a_inexact == 0
    print(f"- Erlang A, 96 intervals <= 50 ms, exact: {'MET' if met else 'MISSED'} - {a_many_ms:.2f} ms, "
          f"exact in {96 - a_inexact}/96")
    met = a_large_ms <= 20 and big_exact
    print(f"- Erlang A large case exact in <= 20 ms: {'MET' if met else 'MISSED'} - N = {big} in {a_large_ms:.2f} ms, "
          f"SL(N-1) = {big_sl[0]:.4f} < 0.8 <= SL(N) = {big_sl[1]:.4f}")
    if notes:
        print("\n## Notes\n")
        for note in notes:
            print(f"- {note}")


if __name__ == "__main__":
    main()
