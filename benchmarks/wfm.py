"""Workforce benchmark (issue 6): Erlang C/A staffing and both simulators, against the peers, in one run.

Why: docs/benchmarks.md promises (1) Erlang C staffing of 96 quarter-hours (10-600 calls each, AHT 300 s,
80/20) >= 10x faster than pyworkforce 0.5.1 with identical answers; (2) Erlang A staffing of the same day
(patience 180 s) in <= 50 ms and exact, and one large case (5,000 calls per 30 min) exact in <= 20 ms;
(3) the single-queue simulation kernel at >= 500,000 calls/s (833 agents), next to ciw 3.2.7 and a
hand-written SimPy 4.1.2 model of the same M/M/N+M queue; (4) >= 50,000 contacts/s through the real
routing engine (simulate_centre) on a multi-skill centre, with and without callback offers.

How: accueil runs in this process; the peers run in side virtualenvs (created on first use with pip,
pinned versions; default ~/.cache/accueil-bench/wfm-peers-py311 and -py312) through
benchmarks/wfm_peers.py, fed the same inputs as JSON and timing themselves (interpreter start-up and
imports excluded). A peer that does not install or run is reported, not fatal.
Every time is wall time, best and median of N repeats (the machine is a shared 2-core VM: both are
printed). The 96 intervals are a two-peak day (no randomness). "Exact" staffing means
SL(N) >= 0.8 > SL(N-1); it is checked with accueil's own closed forms and, independently, with the
birth-death chain of M/M/N+M solved in numpy here (stationary law, then the caller's wait by
uniformisation). Simulators start empty; the first 30 simulated minutes are left out of their figures,
which are printed next to the exact Erlang A values with 95 % half-widths from 20 batch means.

    .venv/bin/python benchmarks/wfm.py [--quick] [--json OUT] [--peers-venv PATH] [--peers-venv312 PATH]
                                       [--python312 EXE] [--no-peers]
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from accueil.routing.rules import AgentProfile, OverflowStep, QueueRules, RoutingConfig, SkillRequirement
from accueil.workforce.erlang import erlang_a_metrics, erlang_c_metrics, required_agents, required_agents_many
from accueil.workforce.simulation import simulate_queue
from accueil.workforce.simulation_routing import QueueTraffic, simulate_centre, staffing_schedule

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402
from wfm_peers import BATCHES, summarise, timings  # noqa: E402

AHT, T, SL, PATIENCE, QUARTER = 300.0, 20.0, 0.8, 180.0, 900.0
LARGE_CALLS, HALF_HOUR = 5000, 1800.0
PEERS_PY311 = ["pyworkforce==0.5.1", "ciw==3.2.7", "simpy==4.1.2", "call-center-tools==1.0.0",
               "callcenterdim==0.0.3"]
PEERS_PY312 = ["pyworkforce==0.5.4"]
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "accueil-bench"
# (label, agents, arrival rate /s, AHT s, patience s): the large case, and REFERENCES' A2 (A = 10, N = 11)
SIM_CASES = [("N = 833", 833, LARGE_CALLS / HALF_HOUR, AHT, PATIENCE),
             ("N = 11", 11, 100 / HALF_HOUR, 180.0, 120.0)]
PEER_SCRIPT = str(Path(__file__).resolve().parent / "wfm_peers.py")


# ---------------------------------------------------------------------------------------------------
# Machine, peers, printing


def side_venv(path: Path, python: str | None, packages: list[str], notes: list[str]) -> str | None:
    """Create (or reuse) a venv and pip-install each pinned package on its own; None if unusable."""
    if python is None:
        notes.append(f"no interpreter for {path}: {', '.join(packages)} not measured")
        return None
    exe = str(path / "bin" / "python")
    try:
        if not os.path.exists(exe):
            print(f"(creating {path} and installing {', '.join(packages)}...)", flush=True)
            subprocess.run([python, "-m", "venv", str(path)], check=True, timeout=120, capture_output=True)
        freeze = subprocess.run([exe, "-m", "pip", "freeze"], capture_output=True, text=True, timeout=120)
        have = {line.lower().replace("_", "-") for line in freeze.stdout.split()}
        for pkg in (p for p in packages if p.lower() not in have):
            run = subprocess.run([exe, "-m", "pip", "install", "-q", pkg], capture_output=True, text=True,
                                 timeout=900)
            if run.returncode:
                tail = [ln for ln in run.stderr.splitlines() if "is ignored" not in ln][-2:]
                notes.append(f"pip install {pkg} failed in {path}: {' / '.join(tail)}")
    except (subprocess.SubprocessError, OSError) as exc:
        notes.append(f"side venv {path} unusable: {exc}")
        return None
    return exe


def run_peer(exe: str | None, job: str, payload: dict, notes: list[str],
             timeout: float = 1200.0) -> dict | None:
    if exe is None:
        return None
    try:
        run = subprocess.run([exe, PEER_SCRIPT, job, json.dumps(payload)], capture_output=True, text=True,
                             timeout=timeout)
    except subprocess.TimeoutExpired:
        notes.append(f"peer job {job} timed out after {timeout:.0f} s")
        return None
    if run.returncode:
        notes.append(f"peer job {job} failed: {' / '.join(run.stderr.strip().splitlines()[-2:])}")
        return None
    return json.loads(run.stdout.strip().splitlines()[-1])


def table(head: list[str], rows: list[list], align: str) -> None:
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---:" if a == "r" else "---" for a in align) + "|")
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")
    print()


def verdict(results: dict, name: str, met: bool | None, detail: str) -> None:
    word = "NOT MEASURED" if met is None else "MET" if met else "MISSED"
    results["verdicts"].append({"target": name, "status": word, "detail": detail})
    print(f"- **{name}: {word}** - {detail}")


def ms(t: dict) -> str:
    return f"{1000 * t['best']:.2f} / {1000 * t['median']:.2f}"


def pm(value: float, ci: float) -> str:
    return f"{value:.4f} ± {ci:.4f}" if math.isfinite(ci) else f"{value:.4f}"


# ---------------------------------------------------------------------------------------------------
# Inputs and the independent exact check


def intervals() -> list[int]:
    """Calls per quarter-hour 00:00-23:45: two Gaussian peaks over a floor, scaled to span 10..600."""
    hours = np.arange(96) / 4 + 0.125
    shape = np.exp(-(((hours - 10.5) / 2.0) ** 2)) + 0.8 * np.exp(-(((hours - 15.0) / 2.2) ** 2))
    scaled = 10 + 590 * (shape - shape.min()) / (shape.max() - shape.min())
    return [int(c) for c in np.rint(scaled)]


def birth_death(n: int, rate: float, aht: float, patience: float, t: float = T) -> dict:
    """M/M/n+M from its birth-death chain, with numpy only (no closed form shared with erlang.py).

    Stationary law pi_k (k in the system, deaths min(k, n)/aht + max(k - n, 0)/patience), truncated where
    it is negligible; an arrival sees pi (PASTA). A caller with j waiting ahead moves up at n/aht + j/patience
    and hangs up at 1/patience: P(answered within t) comes from that chain by uniformisation.
    """
    mu, theta = 1 / aht, 1 / patience
    kmax = int(rate * patience + 12 * math.sqrt(rate * patience) + 60)
    k = np.arange(1, n + kmax + 1)
    log_pi = np.concatenate(([0.0], np.cumsum(math.log(rate) - np.log(np.minimum(k, n) * mu
                                                                     + np.maximum(k - n, 0) * theta))))
    pi = np.exp(log_pi - log_pi.max())
    pi /= pi.sum()
    ahead = np.arange(kmax + 1)
    up = n * mu + ahead * theta
    lam = up[-1] + theta
    p_up, p_stay = up / lam, 1 - (up + theta) / lam
    v, served, sl_wait = pi[n:].copy(), 0.0, 0.0
    weight, m = math.exp(-lam * t), 0  # Poisson(lam t) weights of the number of jumps by t
    while m < lam * t + 12 * math.sqrt(lam * t) + 30:
        sl_wait += weight * served
        served += v[0] * p_up[0]
        v = np.append(v[:-1] * p_stay[:-1] + v[1:] * p_up[1:], v[-1] * p_stay[-1])
        m += 1
        weight *= lam * t / m
    return {"service_level": float(pi[:n].sum() + sl_wait), "probability_wait": float(pi[n:].sum()),
            "abandon_rate": float(theta * (ahead * pi[n:]).sum() / rate)}


def exact_count(agents: np.ndarray, sl_of) -> int:
    """Intervals where SL(N) >= 0.8 > SL(N-1) holds (N = 0 for no traffic counts as exact)."""
    ok_n = np.asarray(sl_of(agents)) >= SL
    below = np.asarray(sl_of(np.maximum(agents - 1, 1)))
    return int(np.sum(ok_n & np.where(agents > 1, below < SL, True)))


# ---------------------------------------------------------------------------------------------------
# 1-2. Erlang C and Erlang A staffing


def erlang_sections(opts, peers: dict, res: dict) -> None:
    calls = intervals()
    rates = np.array(calls, dtype=float) / QUARTER
    repeat = 3 if opts.quick else 7
    load_day = f"{min(calls)}-{max(calls)} calls, {sum(calls):,} calls/day"

    def c_many() -> np.ndarray:
        return required_agents_many(rates, AHT, service_level=SL, threshold=T).agents

    def c_one() -> list[int]:
        return [required_agents(r, AHT, service_level=SL, threshold=T).agents for r in rates]

    c_agents = c_many()
    assert [int(a) for a in c_agents] == c_one(), "vectorised and one-by-one Erlang C disagree"
    c_exact = exact_count(c_agents, lambda n: erlang_c_metrics(n, rates, AHT, T).service_level)
    t_many, t_one = timings(c_many, repeat), timings(c_one, repeat)
    ours = [int(a) for a in c_agents]
    out = res["erlang_c"] = {"calls": calls, "agents": ours, "sum": sum(ours), "exact": c_exact,
                             "accueil_many": t_many, "accueil_one_by_one": t_one,
                             "peers": peers.get("c") or {}}
    print(f"## 1. Erlang C staffing - 96 quarter-hours ({load_day}), AHT {AHT:.0f} s, 80/20\n")
    rows = [["accueil `required_agents_many`", ms(t_many), f"{sum(ours):,}", f"exact in {c_exact}/96"],
            ["accueil `required_agents` x 96", ms(t_one), f"{sum(ours):,}", "same"]]
    for name, peer in out["peers"].items():
        if "error" in peer:
            rows.append([name, "-", "-", f"not measured: {peer['error']}"])
            continue
        diff = sum(a != b for a, b in zip(ours, peer["agents"], strict=True))
        answers = "identical" if not diff else f"{diff} differ"
        rows.append([name, ms(peer), f"{sum(peer['agents']):,}", answers])
    if not out["peers"]:
        rows.append(["pyworkforce 0.5.1", "-", "-", "not measured (see notes)"])
    table(["implementation", "ms best / median", "sum of agents", "answers"], rows, "lrrl")
    pwf = out["peers"].get("pyworkforce", {})
    if "best" in pwf:
        same = pwf["agents"] == ours
        ratio, ratio_med = pwf["best"] / t_many["best"], pwf["median"] / t_many["median"]
        out["ratio_best"], out["ratio_median"] = ratio, ratio_med
        verdict(res, "Erlang C >= 10x faster than pyworkforce 0.5.1, identical answers",
                ratio >= 10 and same and c_exact == 96,
                f"{ratio:.1f}x on best times ({ms(t_many)} ms vs {ms(pwf)} ms; {ratio_med:.1f}x on medians); "
                f"answers {'identical' if same else 'DIFFER'}: sum {sum(ours):,} (accueil) vs "
                f"{sum(pwf['agents']):,} (pyworkforce; REFERENCES.md's 7,460 is for a 10-600 day it does "
                f"not give); one call per interval: {pwf['best'] / t_one['best']:.2f}x")
    else:
        verdict(res, "Erlang C >= 10x faster than pyworkforce 0.5.1, identical answers", None,
                f"pyworkforce 0.5.1 unavailable; accueil {ms(t_many)} ms, sum {sum(ours):,}")
    print()

    # --- Erlang A -----------------------------------------------------------------------------------------
    def a_many() -> np.ndarray:
        return required_agents_many(rates, AHT, patience=PATIENCE, service_level=SL, threshold=T).agents

    large_rate = LARGE_CALLS / HALF_HOUR

    def a_large() -> int:
        return required_agents(large_rate, AHT, patience=PATIENCE, service_level=SL, threshold=T).agents

    a_agents, big = a_many(), a_large()
    a_exact = exact_count(a_agents, lambda n: erlang_a_metrics(n, rates, AHT, PATIENCE, T).service_level)
    t_a, t_big = timings(a_many, repeat), timings(a_large, repeat)
    check = range(96) if not opts.quick else range(0, 96, 8)
    bd_ok, bd_diff = 0, 0.0
    for i in check:
        n = int(a_agents[i])
        sl_n, sl_below = (birth_death(k, rates[i], AHT, PATIENCE)["service_level"]
                           for k in (n, max(1, n - 1)))
        bd_ok += sl_n >= SL and (n == 1 or sl_below < SL)
        closed = float(erlang_a_metrics(n, rates[i], AHT, PATIENCE, T).service_level)
        bd_diff = max(bd_diff, abs(sl_n - closed))
    big_sl = [float(erlang_a_metrics(k, large_rate, AHT, PATIENCE, T).service_level) for k in (big - 1, big)]
    big_bd = [birth_death(k, large_rate, AHT, PATIENCE)["service_level"] for k in (big - 1, big)]
    big_exact = big_sl[1] >= SL > big_sl[0] and big_bd[1] >= SL > big_bd[0]
    ours_a = [int(a) for a in a_agents]
    pa = peers.get("a") or {}
    res["erlang_a"] = {"agents": ours_a, "sum": sum(ours_a), "exact_closed_form": a_exact,
                       "birth_death_checked": len(check), "birth_death_exact": int(bd_ok),
                       "birth_death_max_sl_diff": bd_diff, "accueil_many": t_a, "large": {
                           "agents": big, "sl_closed_form": big_sl, "sl_birth_death": big_bd, "time": t_big},
                       "pyworkforce_054": pa}
    print(f"## 2. Erlang A staffing - same 96 quarter-hours, patience {PATIENCE:.0f} s; large case "
          f"{LARGE_CALLS:,} calls / 30 min (A = {large_rate * AHT:.1f})\n")
    rows = [["96 intervals", "accueil `required_agents_many`", ms(t_a), f"{sum(ours_a):,}",
             f"exact in {a_exact}/96 (closed form); birth-death chain agrees in {bd_ok}/{len(check)} "
             f"checked, max SL gap {bd_diff:.1e}"]]
    loads = [c * AHT / QUARTER for c in calls]
    if "intervals" in pa:
        theirs = pa["intervals"]["agents"]
        bad = [i for i in range(96) if theirs[i] != ours_a[i]]
        start = sum(theirs[i] == math.ceil(loads[i]) > ours_a[i] for i in bad)
        rows.append(["96 intervals", "pyworkforce 0.5.4 (1 run)", f"{1000 * pa['intervals']['best']:,.0f}",
                     f"{sum(theirs):,}", f"{len(bad)} differ ({sum(theirs[i] > ours_a[i] for i in bad)} "
                     f"above the exact minimum; {start} of them at its search start ceil(A))"])
    rows.append(["large case", "accueil `required_agents`", ms(t_big), f"{big}",
                 f"SL({big - 1}) = {big_sl[0]:.6f} < 0.8 <= SL({big}) = {big_sl[1]:.6f}; birth-death "
                 f"{big_bd[0]:.6f} / {big_bd[1]:.6f}"])
    if "large" in pa:
        their = pa["large"]["agents"][0]
        rows.append(["large case", "pyworkforce 0.5.4 (1 run)", f"{1000 * pa['large']['best']:,.0f}",
                     f"{their}", f"{their - big:+d} agents vs the exact minimum"])
    else:
        rows.append(["both", "pyworkforce 0.5.4", "-", "-", "not measured (see notes)"])
    table(["case", "implementation", "ms best / median", "agents", "exactness"], rows, "llrrl")
    verdict(res, "Erlang A, 96 intervals in <= 50 ms, exact", t_a["best"] <= 0.05 and a_exact == 96
            and bd_ok == len(check), f"{ms(t_a)} ms (best / median); exact in {a_exact}/96 by the closed "
            f"form and {bd_ok}/{len(check)} by the birth-death chain")
    verdict(res, "Erlang A large case, exact minimum in <= 20 ms", t_big["best"] <= 0.02 and big_exact,
            f"N = {big} in {ms(t_big)} ms; N - 1 fails, N meets (closed form and birth-death chain)")


# ---------------------------------------------------------------------------------------------------
# 3. Single-queue simulation


def kernel_run(n: int, rate: float, aht: float, patience: float, calls: int) -> tuple[float, dict, int]:
    intervals_n = max(2, round(calls / (rate * HALF_HOUR)))
    start = time.perf_counter()
    sim = simulate_queue(rate, [n] * intervals_n, aht, patience=patience, interval_seconds=HALF_HOUR,
                         threshold=T, seed=1)
    seconds = time.perf_counter() - start
    c = sim.contacts  # the first half-hour is the warm-up
    edges = np.linspace(1, intervals_n, BATCHES + 1).astype(int)
    batches = [[int(c.offered[a:b].sum()), int(c.answered_within_threshold[a:b].sum()),
                int(c.abandoned[a:b].sum())] for a, b in zip(edges[:-1], edges[1:], strict=True)]
    return seconds, summarise(batches), int(c.offered.sum())


def simulation_section(opts, peer_exe: str | None, notes: list[str], res: dict) -> None:
    q = opts.quick
    kernel_calls, kernel_repeat = (200_000, 3) if q else (1_000_000, 5)
    peer_repeat = 1 if q else 3
    peer_calls = {("ciw", 833): 15_000 if q else 50_000, ("ciw", 11): 40_000 if q else 200_000,
                  ("simpy", 833): 30_000 if q else 100_000, ("simpy", 11): 40_000 if q else 200_000}
    print("## 3. Simulation of one M/M/N+M queue (FCFS, exponential handle time and patience, SL over "
          f"offered within {T:.0f} s)\n")
    rows: list[list] = []
    out = res["simulation"] = {}
    for label, n, rate, aht, patience in SIM_CASES:
        exact = erlang_a_metrics(n, rate, aht, patience, T)
        sl_x, ab_x = float(exact.service_level), float(exact.probability_abandon)
        bd = birth_death(n, rate, aht, patience)
        case = out[label] = {"agents": n, "rate": rate, "aht": aht, "patience": patience, "birth_death": bd,
                             "exact": {"service_level": sl_x, "abandon_rate": ab_x}}
        desc = f"{label} (A = {rate * aht:.1f}, AHT {aht:.0f} s, patience {patience:.0f} s)"
        gap = max(abs(bd["service_level"] - sl_x), abs(bd["abandon_rate"] - ab_x))
        rows.append([desc, f"exact Erlang A (birth-death chain agrees to {gap:.0e})", "", "", "",
                     f"{sl_x:.4f}", f"{ab_x:.4f}"])
        runs, stats, offered = [], {}, 0
        for _ in range(kernel_repeat):
            seconds, stats, offered = kernel_run(n, rate, aht, patience, kernel_calls)
            runs.append(seconds)
        best, med = offered / min(runs), offered / statistics.median(runs)
        case["accueil"] = {"calls": offered, "runs": runs, "calls_per_s_best": best,
                           "calls_per_s_median": med, **stats}
        rows.append([desc, "accueil `simulate_queue`", f"{offered:,}", f"{best:,.0f}", f"{med:,.0f}",
                     pm(stats["service_level"], stats["service_level_ci"]),
                     pm(stats["abandon_rate"], stats["abandon_rate_ci"])])
        for peer, name in (("ciw", "ciw 3.2.7"), ("simpy", "SimPy 4.1.2 (hand-written model)")):
            job = {"servers": n, "rate": rate, "aht": aht, "patience": patience,
                   "calls": peer_calls[(peer, n)], "warmup": HALF_HOUR, "threshold": T,
                   "repeat": peer_repeat, "seed": 1}
            got = run_peer(peer_exe, peer, job, notes)
            if got is None:
                rows.append([desc, name, "-", "-", "-", "not measured (see notes)", ""])
                continue
            got["calls_per_s_best"] = got["arrivals"] / min(got["runs"])
            got["calls_per_s_median"] = got["arrivals"] / statistics.median(got["runs"])
            case[peer] = got
            rows.append([desc, name, f"{got['arrivals']:,}", f"{got['calls_per_s_best']:,.0f}",
                         f"{got['calls_per_s_median']:,.0f}",
                         pm(got["service_level"], got["service_level_ci"]),
                         pm(got["abandon_rate"], got["abandon_rate_ci"])])
    table(["case", "simulator", "calls simulated", "calls/s best", "calls/s median", "SL (±95 %)",
           "abandoned (±95 %)"], rows, "llrrrrr")
    print("± is a 95 % half-width from 20 batch means of the run after its first 30 minutes; the peers' "
          "shorter runs at N = 833 have batches only a few relaxation times long, so it understates how "
          "much their figures move from one seed to another.\n")
    big = out["N = 833"]
    ratios = "; ".join(f"{p}: {big['accueil']['calls_per_s_best'] / big[p]['calls_per_s_best']:.0f}x"
                       for p in ("ciw", "simpy") if p in big)
    verdict(res, "Kernel >= 500,000 calls/s at 833 agents", big["accueil"]["calls_per_s_best"] >= 500_000,
            f"{big['accueil']['calls_per_s_best']:,.0f} calls/s best, "
            f"{big['accueil']['calls_per_s_median']:,.0f} median ({big['accueil']['calls']:,} calls)"
            + (f"; faster than {ratios}" if ratios else ""))


# ---------------------------------------------------------------------------------------------------
# 4. The routing engine's digital twin


VOICE = {  # queue: (skill, share of voice calls, AHT s)
    "billing": ("billing", 0.22, 300), "orders": ("orders", 0.18, 280), "delivery": ("delivery", 0.15, 240),
    "returns": ("returns", 0.10, 260), "tech": ("tech", 0.15, 420), "tech-n2": ("tech", 0.04, 600),
    "sales": ("sales", 0.08, 360), "claims": ("claims", 0.05, 480), "english": ("english", 0.03, 330)}
CHAT = {"chat-orders": ("orders", 0.5), "chat-tech": ("tech", 0.3), "chat-general": (None, 0.2)}
CALLBACK_QUEUES = ("billing", "orders", "delivery", "returns")
GROUPS = {"voice": 150, "blended": 40, "partner": 50, "chat": 40}
PEAK_VOICE, PEAK_CHAT, WRAPUP, CHAT_AHT = 480, 90, 30.0, 900.0  # calls / chats per quarter-hour at the peak


def centre(days: int, callbacks: bool) -> tuple[RoutingConfig, list[QueueTraffic], dict, dict]:
    """A mid-size multi-skill centre, open 08:00-20:00, staffed per quarter-hour from Erlang A."""
    rnd = random.Random(7)
    lyon = frozenset({"lyon"})
    queues = []
    for q, (skill, _, _) in VOICE.items():
        overflow: list[OverflowStep] = []
        if q in ("billing", "orders", "delivery"):
            overflow = [OverflowStep(60.0, any_skill=True)]
        elif q == "returns":
            overflow = [OverflowStep(45.0, add_sites=frozenset({"partner"}), any_skill=True)]
        elif q in ("tech", "tech-n2"):
            overflow = [OverflowStep(45.0 if q == "tech" else 90.0, min_skill_level=1)]
        elif q == "claims":
            overflow = [OverflowStep(90.0, any_skill=True)]
        elif q == "sales":
            overflow = [OverflowStep(60.0, to_queue="orders")]
        queues.append(QueueRules(
            q, "voice", level=2 if q == "tech-n2" else 1, priority=1 if q in ("sales", "tech-n2") else 0,
            skills=(SkillRequirement(skill, 2 if q in ("tech", "tech-n2") else 1),),
            sites=None if q in ("billing", "orders", "delivery") else lyon, overflow=tuple(overflow),
            callback_offer_after_seconds=60.0 if callbacks and q in CALLBACK_QUEUES else None))
    queues.append(QueueRules("callbacks", "voice", priority=-1, sites=lyon))
    for q, (skill, _) in CHAT.items():
        queues.append(QueueRules(q, "chat", skills=(SkillRequirement(skill),) if skill else (),
                                 overflow=(OverflowStep(120.0, any_skill=True),) if skill else ()))
    load: dict[str, float] = {}  # in-house skills drawn in proportion to the load of their queues
    for skill, share, aht in VOICE.values():
        if skill != "english":
            load[skill] = load.get(skill, 0.0) + share * aht
    motifs, weights = list(load), list(load.values())
    agents, groups = [], {g: [] for g in GROUPS}
    for group, size in GROUPS.items():
        for i in range(size):
            if group == "partner":
                skills = {s: rnd.randint(1, 3) for s in rnd.sample(["billing", "orders", "delivery"], 2)}
            elif group == "chat":
                skills = {s: rnd.randint(1, 5) for s in rnd.sample(["orders", "tech"], rnd.randint(1, 2))}
            else:
                picked = dict.fromkeys(rnd.choices(motifs, weights)[0] for _ in range(rnd.randint(2, 4)))
                skills = {s: rnd.randint(1, 5) for s in picked}
                if rnd.random() < 0.1:
                    skills["english"] = rnd.randint(2, 5)
            capacity = {"chat": 3} if group == "chat" else {"voice": 1, "chat": 3} if group == "blended" \
                else {"voice": 1}
            agent_id = f"{group}{i:03d}"
            level = 2 if group != "partner" and rnd.random() < 0.25 else 1
            site = "partner" if group == "partner" else "lyon"
            agents.append(AgentProfile(agent_id, skills=skills, site=site, level=level, capacity=capacity))
            groups[group].append(agent_id)
    calls = np.array(intervals(), dtype=float) / max(intervals())
    opened = (np.arange(96) >= 32) & (np.arange(96) < 80)
    shape = np.tile(np.where(opened, calls, 0.0), days)
    voice_rate, chat_rate = PEAK_VOICE * shape / QUARTER, PEAK_CHAT * shape / QUARTER
    aht_v = sum(share * aht for _, share, aht in VOICE.values()) + WRAPUP
    need = required_agents_many(voice_rate, aht_v, patience=PATIENCE, service_level=SL, threshold=T).agents
    need = np.ceil(need * 1.1)  # skills split the pool: 10 % more than one pooled queue would need
    partner = np.minimum(GROUPS["partner"], np.round(0.2 * need))
    blended = np.minimum(GROUPS["blended"], np.round(0.15 * need))
    plan = {"partner": partner, "blended": blended,
            "voice": np.minimum(GROUPS["voice"], need - partner - blended),
            "chat": np.minimum(GROUPS["chat"], np.ceil(chat_rate * CHAT_AHT / 3 / 0.85))}
    traffic = [QueueTraffic(q, arrival_rates=voice_rate * share, handle_time=aht, patience=PATIENCE,
                            wrapup_time=WRAPUP, callback_delay=600.0, callback_queue="callbacks",
                            callback_acceptance=0.5 if callbacks and q in CALLBACK_QUEUES else 0.0)
               for q, (_, share, aht) in VOICE.items()]
    traffic += [QueueTraffic(q, arrival_rates=chat_rate * share, handle_time=CHAT_AHT, patience=600.0)
                for q, (_, share) in CHAT.items()]
    return RoutingConfig(queues, agents), traffic, groups, {g: p.astype(int) for g, p in plan.items()}


def centre_section(opts, res: dict) -> None:
    days, repeat = (1, 2) if opts.quick else (5, 7)
    out = res["centre"] = {"days": days}
    print(f"## 4. Digital twin: contacts through the real routing engine (`simulate_centre`), "
          f"{days} day(s)\n")
    print(f"Centre: {len(VOICE)} voice queues ({', '.join(VOICE)}; 'sales' and 'tech-n2' at priority 1, "
          "'tech' needs skill level 2, 'tech-n2' is a level-2 queue needing tech >= 2), a 'callbacks' voice "
          f"queue (priority -1, any in-house agent) and {len(CHAT)} chat queues ({', '.join(CHAT)}). Agents: "
          f"{sum(GROUPS.values())} - {GROUPS['voice']} in-house voice, {GROUPS['blended']} in-house voice + "
          f"chat (3 chats), {GROUPS['partner']} at a partner site (level 1, 2 of billing/orders/delivery), "
          f"{GROUPS['chat']} chat-only (3 chats); in-house agents have 2-4 of 7 motif skills at levels 1-5 "
          "(10 % also English, 25 % level 2), drawn in proportion to the load of their queues. Overflow: "
          "billing/orders/delivery are open to the partner site from the start and take any voice agent "
          "after 60 s; returns opens to any agent of either site after 45 s; tech (tech-n2) accepts skill "
          "level 1 after 45 s (90 s); claims takes any in-house agent after 90 s; sales moves to orders "
          "after 60 s; skilled chat queues take any chat agent after 120 s. Callbacks (when on): "
          "billing/orders/delivery/returns offer one when the engine's predicted wait exceeds 60 s, half "
          "the callers accept, and the callback enters 'callbacks' 10 min later (it never hangs up). Open "
          f"08:00-20:00, quarter-hours, the two-peak day at {PEAK_VOICE} calls and {PEAK_CHAT} chats per "
          f"quarter-hour at the peak; voice AHT 240-600 s + {WRAPUP:.0f} s wrap-up, patience "
          f"{PATIENCE:.0f} s (chat: {CHAT_AHT:.0f} s, patience 600 s); staffing per quarter-hour from "
          "Erlang A on the pooled voice load + 10 %.\n")
    rows = []
    for callbacks in (False, True):
        config, traffic, groups, plan = centre(days, callbacks)
        schedule = staffing_schedule(groups, plan)
        runs, result = [], None
        for _ in range(repeat):
            start = time.perf_counter()
            result = simulate_centre(config, traffic, schedule, groups=groups, seed=3)
            runs.append(time.perf_counter() - start)
        voice = [s.total() for q, s in result.queues.items() if config.queues[q].rules.media == "voice"]
        chat = [s.total() for q, s in result.queues.items() if config.queues[q].rules.media == "chat"]

        def share(stats, field):
            return sum(int(getattr(s, field)) for s in stats) / max(1, sum(int(s.offered) for s in stats))
        occupancy = {g: float(s.total().occupancy) for g, s in result.groups.items()}
        key = "with callback offers" if callbacks else "without callback offers"
        out[key] = row = {
            "contacts": result.contacts, "assignments": result.assignments, "overflows": result.overflows,
            "callbacks": sum(int(s.total().callbacks) for s in result.queues.values()), "runs": runs,
            "contacts_per_s_best": result.contacts / min(runs),
            "contacts_per_s_median": result.contacts / statistics.median(runs),
            "voice_sl": share(voice, "answered_within_threshold"), "voice_abandon": share(voice, "abandoned"),
            "chat_sl": share(chat, "answered_within_threshold"), "occupancy": occupancy,
            "agents_peak": int(sum(p.max() for p in plan.values()))}
        rows.append([key, f"{row['contacts']:,}", f"{row['assignments']:,}", f"{row['overflows']:,}",
                     f"{row['callbacks']:,}", f"{row['contacts_per_s_best']:,.0f}",
                     f"{row['contacts_per_s_median']:,.0f}", f"{row['voice_sl']:.3f}",
                     f"{row['voice_abandon']:.3f}",
                     f"{row['chat_sl']:.3f}", " / ".join(f"{occupancy[g]:.2f}" for g in GROUPS)])
    table(["run", "contacts", "assignments", "overflows", "callbacks taken", "contacts/s best",
           "contacts/s median", "voice SL", "voice abandoned", "chat SL",
           "occupancy " + " / ".join(GROUPS)], rows, "lrrrrrrrrrl")
    for key, row in out.items():
        if isinstance(row, dict):
            verdict(res, f"Digital twin >= 50,000 contacts/s ({key})", row["contacts_per_s_best"] >= 50_000,
                    f"{row['contacts_per_s_best']:,.0f} contacts/s best, "
                    f"{row['contacts_per_s_median']:,.0f} median "
                    f"({row['contacts']:,} contacts, {row['agents_peak']} agents at the peak)")


# ---------------------------------------------------------------------------------------------------


def python312(given: str | None) -> str | None:
    if given:
        return given
    found = sorted(glob.glob("/root/.pyenv/versions/3.12*/bin/python"))
    return found[0] if found else shutil.which("python3.12")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer calls and repeats (about a minute)")
    ap.add_argument("--json", metavar="OUT", help="write every figure to this JSON file")
    ap.add_argument("--peers-venv", type=Path, default=CACHE / "wfm-peers-py311",
                    help="side venv for pyworkforce 0.5.1, ciw, SimPy (created with this Python if missing)")
    ap.add_argument("--peers-venv312", type=Path, default=CACHE / "wfm-peers-py312",
                    help="side venv for pyworkforce 0.5.4 (Erlang A needs Python >= 3.12)")
    ap.add_argument("--python312", help="interpreter for --peers-venv312 (default: pyenv 3.12, python3.12)")
    ap.add_argument("--no-peers", action="store_true", help="measure accueil only")
    opts = ap.parse_args()
    started = time.perf_counter()
    res: dict = {"machine": machine(("accueil", "numpy", "scipy")), "quick": opts.quick, "verdicts": [], "notes": []}
    notes = res["notes"]
    m = res["machine"]
    exe311 = exe312 = None
    if opts.no_peers:
        notes.append("--no-peers: no peer was measured")
    else:
        exe311 = side_venv(opts.peers_venv, sys.executable, PEERS_PY311, notes)
        exe312 = side_venv(opts.peers_venv312, python312(opts.python312), PEERS_PY312, notes)
    peer_versions = {}
    for exe, dists in ((exe311, ["pyworkforce", "ciw", "simpy"]), (exe312, ["pyworkforce"])):
        if exe:
            code = f"from importlib.metadata import version as v\nfor d in {dists!r}:\n    print(v(d))"
            got = subprocess.run([exe, "-c", code], capture_output=True, text=True, timeout=60).stdout.split()
            where = f"{exe} ({'Python 3.12' if exe is exe312 else 'Python 3.11'})"
            peer_versions[where] = dict(zip(dists, got, strict=False))
    m["peers"] = peer_versions
    print(f"# Workforce benchmark - {m['date']}{' (--quick)' if opts.quick else ''}\n")
    print(f"- Machine: {m['nproc']} CPU(s), {m['cpu_model']}; Python {m['python']}; {m['platform']}; "
          f"load average before the run {m['loadavg']}")
    v = m["versions"]
    print(f"- accueil {v['accueil']}, numpy {v['numpy']}, scipy {v['scipy']}")
    for where, got in peer_versions.items():
        print(f"- peers in {where}: " + ", ".join(f"{d} {v}" for d, v in got.items()))
    print("- Times: wall clock, best / median of the repeats; SL = answered within 20 s over offered\n")

    peers = {"c": run_peer(exe311, "erlang_c", {"calls": intervals(), "aht": AHT, "threshold": T, "sl": SL,
                                                 "repeat": 3 if opts.quick else 7}, notes),
             "a": run_peer(exe312, "erlang_a", {"calls": intervals(), "aht": AHT, "threshold": T, "sl": SL,
                                                 "patience": PATIENCE, "large_calls": LARGE_CALLS}, notes)}
    erlang_sections(opts, peers, res)
    print()
    simulation_section(opts, exe311, notes, res)
    print()
    centre_section(opts, res)
    res["seconds"] = time.perf_counter() - started
    res["loadavg_after"] = " ".join(open("/proc/loadavg").read().split()[:3])
    print(f"\nWhole run {res['seconds']:.0f} s; load average after {res['loadavg_after']}.")
    if notes:
        print("\n## Notes\n")
        for note in notes:
            print(f"- {note}")
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(res, f, indent=1, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o))


if __name__ == "__main__":
    main()
