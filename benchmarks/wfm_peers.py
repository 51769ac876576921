"""The peer side of benchmarks/wfm.py: run in a side virtualenv (never the project's), one job per call.

    <side venv>/bin/python benchmarks/wfm_peers.py JOB '<json arguments>'

prints one line of JSON. Jobs: ``erlang_c`` (pyworkforce 0.5.1, call-center-tools, callcenterdim),
``erlang_a`` (pyworkforce 0.5.4, on Python >= 3.12), ``ciw`` (ciw 3.2.7) and ``simpy`` (a hand-written
SimPy 4.1.2 model). The last two simulate the same M/M/N+M queue as accueil's kernel (Poisson arrivals,
exponential handle times and patience, FCFS) and report what they measured in the same shape: arrivals
simulated, wall seconds of each repeat, and the counts after the warm-up that give the service level
(answered within t over offered) and the abandonment. Only the standard library and the peers are
imported here, so the file also runs where accueil is not installed; wfm.py imports its helpers.
"""

from __future__ import annotations

import json
import math
import random
import statistics
import sys
import time
import timeit

BATCHES = 20  # batch means for a confidence interval: arrivals after the warm-up cut in 20 equal spans


def timings(fn, repeat: int, number: int | None = None) -> dict:
    """Wall seconds per call of fn: best and median of ``repeat`` timeit repeats (``number`` calls each)."""
    timer = timeit.Timer(fn)
    if number is None:
        number = max(1, timer.autorange()[0] // 4)
    runs = [t / number for t in timer.repeat(repeat=repeat, number=number)]
    return {"best": min(runs), "median": statistics.median(runs), "runs": runs, "number": number}


def queue_counts(rows, warmup: float, end: float, threshold: float) -> dict:
    """Counts over arrivals in [warmup, end): rows are (arrival time, wait, answered?); with batch means."""
    width = (end - warmup) / BATCHES
    batches = [[0, 0, 0] for _ in range(BATCHES)]  # offered, answered within t, abandoned
    for arrived, wait, answered in rows:
        if warmup <= arrived < end:
            b = batches[min(BATCHES - 1, int((arrived - warmup) / width))]
            b[0] += 1
            b[1] += answered and wait <= threshold
            b[2] += not answered
    return summarise(batches)


def summarise(batches) -> dict:
    """Service level and abandonment over all batches, each with a 95 % half-width from batch means."""
    offered = sum(b[0] for b in batches)
    out = {"offered": offered, "answered_within": sum(b[1] for b in batches),
           "abandoned": sum(b[2] for b in batches)}
    for key, col in (("service_level", 1), ("abandon_rate", 2)):
        values = [b[col] / b[0] for b in batches if b[0]]
        out[key] = sum(b[col] for b in batches) / offered if offered else math.nan
        spread = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 2 else math.nan
        out[key + "_ci"] = 2.09 * spread  # t quantile, 19 degrees of freedom
    return out


def erlang_c(args: dict) -> dict:
    calls, aht, t, sl, repeat = args["calls"], args["aht"], args["threshold"], args["sl"], args["repeat"]

    def pwf():
        from pyworkforce.queuing import ErlangC
        return [ErlangC(transactions=c, aht=aht / 60, asa=t / 60, interval=15)
                .required_positions(service_level=sl, max_occupancy=1.0)["raw_positions"] for c in calls]

    def cct():
        from call_center_tools import calc_staffing
        # occupancy cap 1 - 1e-9, not 1.0: its search starts at N = load, and a whole-number load then
        # divides by zero in its ASA; 1 - 1e-9 starts it at the first N above the load (no answer changes)
        return [calc_staffing(c * 4, aht, max_occupancy=1 - 1e-9, target_answer_time=t,
                              target_service_level=sl).agents for c in calls]

    def ccd():
        from callcenterdim.Dimensionamento import AgentsReq
        return [AgentsReq(c, 15, aht, sl, t) for c in calls]

    out = {}
    for name, fn in (("pyworkforce", pwf), ("call-center-tools", cct), ("callcenterdim", ccd)):
        try:
            out[name] = {"agents": [int(a) for a in fn()], **timings(fn, repeat)}
        except Exception as exc:  # noqa: BLE001 - a peer that does not import is reported, not fatal
            out[name] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    return out


def erlang_a(args: dict) -> dict:
    from pyworkforce.queuing import ErlangA

    aht, t, sl, patience = args["aht"], args["threshold"], args["sl"], args["patience"]

    def staff(calls: list[int], minutes: int) -> list[int]:
        return [ErlangA(transactions=c, aht=aht / 60, asa=t / 60, interval=minutes, patience=patience / 60)
                .required_positions(service_level=sl)["raw_positions"] for c in calls]

    out = {}
    for name, calls, minutes in (("intervals", args["calls"], 15), ("large", [args["large_calls"]], 30)):
        start = time.perf_counter()  # one run each: pyworkforce 0.5.4's Erlang A takes seconds
        agents = staff(calls, minutes)
        out[name] = {"agents": [int(a) for a in agents], "best": time.perf_counter() - start}
    return out


def ciw_queue(args: dict) -> dict:
    import ciw

    rate, aht, patience, servers = args["rate"], args["aht"], args["patience"], args["servers"]
    end = args["warmup"] + args["calls"] / rate
    runs, arrivals, counts = [], 0, {}
    for _ in range(args["repeat"]):
        ciw.seed(args["seed"])
        start = time.perf_counter()
        network = ciw.create_network(
            arrival_distributions=[ciw.dists.Exponential(rate=rate)],
            service_distributions=[ciw.dists.Exponential(rate=1 / aht)],
            number_of_servers=[servers],
            reneging_time_distributions=[ciw.dists.Exponential(rate=1 / patience)],
        )
        sim = ciw.Simulation(network)
        sim.simulate_until_max_time(end)
        records = sim.get_all_records(only=["service", "renege"])
        rows = [(r.arrival_date, r.waiting_time, r.record_type == "service") for r in records]
        # callers who arrived within 10 mean patiences of the end may still wait: left out of the counts
        counts = queue_counts(rows, args["warmup"], end - 10 * patience, args["threshold"])
        runs.append(time.perf_counter() - start)
        arrivals = len(sim.get_all_individuals())
    return {"arrivals": arrivals, "runs": runs, **counts}


def simpy_model(simpy, rate: float, aht: float, patience: float, servers: int, end: float, seed: int):
    """M/M/N+M in SimPy 4.1.2 as its documentation teaches (a process per caller, a Resource for the
    agents, ``request | timeout(patience)`` for hanging up), with draws from one random.Random. Returns the
    (arrival, wait, answered?) rows of callers settled by ``end`` and how many were still waiting."""
    expo = random.Random(seed).expovariate
    theta, mu = 1 / patience, 1 / aht
    rows: list[tuple[float, float, bool]] = []
    record = rows.append
    env = simpy.Environment()
    agents = simpy.Resource(env, capacity=servers)

    def caller():
        arrived = env.now
        with agents.request() as request:
            got = yield request | env.timeout(expo(theta))
            if request in got:
                record((arrived, env.now - arrived, True))
                yield env.timeout(expo(mu))
            else:
                record((arrived, env.now - arrived, False))

    def source():
        while True:
            yield env.timeout(expo(rate))
            env.process(caller())

    env.process(source())
    env.run(until=end)
    return rows, len(agents.queue)


def simpy_queue(args: dict) -> dict:
    import simpy

    end = args["warmup"] + args["calls"] / args["rate"]
    runs, arrivals, counts = [], 0, {}
    for _ in range(args["repeat"]):
        start = time.perf_counter()
        rows, waiting = simpy_model(simpy, args["rate"], args["aht"], args["patience"], args["servers"], end,
                                    args["seed"])
        counts = queue_counts(rows, args["warmup"], end - 10 * args["patience"], args["threshold"])
        runs.append(time.perf_counter() - start)
        arrivals = len(rows) + waiting  # answered or hung up, and still waiting at the end
    return {"arrivals": arrivals, "runs": runs, **counts}


JOBS = {"erlang_c": erlang_c, "erlang_a": erlang_a, "ciw": ciw_queue, "simpy": simpy_queue}

if __name__ == "__main__":
    print(json.dumps(JOBS[sys.argv[1]](json.loads(sys.argv[2]))))
