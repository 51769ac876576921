"""``accueil wfm``: forecast, staff, schedule and simulate from the command line, CSV or JSON in and out.

Each step reads the previous one's output, so a planner can chain them:

    accueil wfm forecast history.csv --days 7 -o forecast.csv
    accueil wfm staff forecast.csv --service-level 0.8 --threshold 20 --patience 180 -o plan.csv
    accueil wfm schedule plan.csv --shifts shifts.json -o schedule.json --format json
    accueil wfm simulate plan.csv --patience 180 -o check.csv

Thin: parsing, progress bars and output here; the work is the pure core (forecast, staffing, scheduling,
simulation). Bad input exits with a clear message (status 2) and writes nothing.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click
import numpy as np

from accueil.config import get_settings

DEFAULT_SHIFT_LENGTH_HOURS = 8


def _fail(message: str) -> None:
    raise click.UsageError(message)


def _write(rows: list[dict], output: str, fmt: str, extra: dict | None = None) -> None:
    """Rows as CSV (one header) or JSON ({"rows": [...], ...}); to a file or standard output."""
    if fmt == "json":
        text = json.dumps({**(extra or {}), "rows": rows}, ensure_ascii=False, indent=1, default=str) + "\n"
    else:
        buffer = io.StringIO()
        if rows:
            writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        text = buffer.getvalue()
    if output == "-":
        sys.stdout.write(text)
    else:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"{len(rows)} rows written to {output}", err=True)


def _read_rows(path: str) -> list[dict]:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        _fail(f"cannot read {path}: {exc.strerror}")
    if text.lstrip().startswith("{"):
        return json.loads(text)["rows"]
    return list(csv.DictReader(io.StringIO(text)))


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def _epoch(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def _progress_bar(label: str):  # type: ignore[no-untyped-def]
    from tqdm import tqdm

    bar = tqdm(desc=label, unit=" rows", file=sys.stderr, disable=not sys.stderr.isatty())

    def advance(done: int, total: int | None) -> None:
        if total and bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    return bar, advance


@click.group("wfm")
def wfm() -> None:
    """Workforce planning: forecast, staff, schedule, simulate (CSV or JSON)."""


_output = click.option("-o", "--output", default="-", show_default=True, help="File to write ('-': standard output).")
_format = click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True,
                       help="Output format.")


@wfm.command("forecast")
@click.argument("history", required=False)
@click.option("--kind", type=click.Choice(["volumes", "calls"]), default="volumes", show_default=True,
              help="The CSV holds interval volumes, or one call per row (arrival, answer, end).")
@click.option("--column", "columns", multiple=True, metavar="FIELD=HEADER",
              help="Column mapping, e.g. --column volume=calls (fields: interval_start, volume, handle_time, queue; "
                   "arrival, answer, end for calls).")
@click.option("--queue", default=None, help="Queue to forecast (a CSV with a queue column, or the database's "
                                            "own history when no file is given).")
@click.option("--timezone", default="Europe/Paris", show_default=True, help="Time zone of the history's clock.")
@click.option("--interval", type=click.Choice(["15", "30"]), default="30", show_default=True,
              help="Forecast interval, minutes.")
@click.option("--start", "start_day", default=None, help="First forecast day (YYYY-MM-DD; default: the day after "
                                                         "the history).")
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 62), help="Days to forecast.")
@click.option("--method", type=click.Choice(["ets", "seasonal_naive"]), default="ets", show_default=True,
              help="Model.")
@click.option("--country", default="FR", show_default=True, help="Public holidays of this country.")
@click.option("--skip-bad-rows", is_flag=True, help="Import the good rows and list the bad ones (default: a bad "
                                                    "row stops the import, nothing is imported).")
@click.option("--backtest", "backtest_weeks", default=0, type=click.IntRange(0, 52),
              help="Also score both methods on the last N weeks (MAE, RMSE, MAPE), on standard error.")
@_output
@_format
def forecast_command(history: str | None, kind: str, columns: tuple[str, ...], queue: str | None, timezone: str,
                     interval: str, start_day: str | None, days: int, method: str, country: str,
                     skip_bad_rows: bool, backtest_weeks: int, output: str, fmt: str) -> None:
    """Forecast contacts (and handle time) per interval from history."""
    from accueil.workforce import forecast as fc
    from accueil.workforce.history import HistoryImportError, parse_call_records, parse_interval_volumes

    mapping = {}
    for item in columns:
        field, sep, header = item.partition("=")
        if not sep:
            _fail(f"--column {item!r}: write FIELD=HEADER")
        mapping[field.strip()] = header.strip()
    step = int(interval) * 60
    if history is None:
        if not queue:
            _fail("give a history CSV, or --queue CODE to use the database's own interactions")
        rows = _database_history(queue)
    else:
        bar, advance = _progress_bar("import")
        try:
            source = Path(history).read_text(encoding="utf-8-sig") if history != "-" else sys.stdin.read()
            if kind == "calls":
                calls = parse_call_records(source, columns=mapping or None, time_zone=timezone, interval=step,
                                           skip_bad_rows=skip_bad_rows, progress=advance)
                rows, skipped = calls.volumes(queue or next(iter(calls.queues), "")), calls.skipped
            else:
                volumes = parse_interval_volumes(source, columns=mapping or None, time_zone=timezone,
                                                 skip_bad_rows=skip_bad_rows, progress=advance)
                name = queue if queue is not None else next(iter(volumes.queues), "")
                if name not in volumes.queues:
                    _fail(f"no queue {name!r} in {history}; queues: {', '.join(sorted(volumes.queues)) or '-'}")
                rows, skipped = list(volumes.queues[name]), volumes.skipped
        except OSError as exc:
            _fail(f"cannot read {history}: {exc.strerror}")
        except HistoryImportError as exc:
            lines = "\n".join(f"  line {bad.line}: {bad.reason}" for bad in exc.bad_rows[:20])
            _fail(f"{exc.bad_row_count} bad row(s), nothing imported (--skip-bad-rows imports the others):\n{lines}")
        finally:
            bar.close()
        for bad in skipped[:20]:
            click.echo(f"skipped line {bad.line}: {bad.reason}", err=True)
    if not rows:
        _fail("the history is empty")
    calendar = fc.ForecastCalendar(time_zone=timezone, holiday_country=country)
    try:
        series = fc.prepare_history(rows, interval=_gap(rows), resample_to=step)
        first = date.fromisoformat(start_day) if start_day else None
        if first is None:
            first = datetime.fromtimestamp(series.end, UTC).date()
        result = fc.forecast(series, start=first, days=days, method=method, calendar=calendar)
        if backtest_weeks:
            scores = fc.backtest(series, weeks=backtest_weeks, calendar=calendar)
            for name, score in scores.scores.items():
                click.echo(f"backtest {name.value}: MAE {score.mae:.3f}  RMSE {score.rmse:.3f}  MAPE {score.mape:.1%}",
                           err=True)
    except (ValueError, TypeError) as exc:
        _fail(str(exc))
    handles = result.handle_times if result.handle_times is not None else [None] * len(result.starts)
    out = [{"start": _iso(s), "volume": round(float(v), 3), "handle_time": None if h is None or np.isnan(h)
            else round(float(h), 1)} for s, v, h in zip(result.starts.tolist(), result.volumes, handles, strict=True)]
    _write(out, output, fmt, {"method": method, "interval_seconds": step})


def _gap(rows: list) -> int:
    starts = sorted({int(r[0].timestamp()) for r in rows})
    gaps = np.diff(starts)
    if len(gaps) == 0:
        _fail("the history needs at least two intervals")
    return int(np.gcd.reduce(gaps))


def _database_history(queue_code: str) -> list:
    # lazy, within the domain: the database and the solvers stay out of ``accueil --help``'s start-up
    from accueil.workforce.service import database_interval_history

    return database_interval_history(get_settings().effective_database_url, queue_code=queue_code)


@wfm.command("staff")
@click.argument("forecast_file")
@click.option("--service-level", default=0.8, show_default=True, type=float, help="Share answered within the "
                                                                                   "threshold (0 to drop the target).")
@click.option("--threshold", default=20.0, show_default=True, type=float, help="Seconds.")
@click.option("--patience", default=None, type=float, help="Mean patience, seconds: Erlang A (default Erlang C).")
@click.option("--max-asa", default=None, type=float, help="Longest average speed of answer, seconds.")
@click.option("--max-abandon", default=None, type=float, help="Highest abandonment rate (with --patience).")
@click.option("--max-occupancy", default=1.0, show_default=True, type=float, help="Highest occupancy.")
@click.option("--shrinkage", default=0.3, show_default=True, type=float, help="Share of paid time off the phone.")
@click.option("--handle-time", default=None, type=float, help="Handle time, seconds, where the forecast has none.")
@_output
@_format
def staff_command(forecast_file: str, service_level: float, threshold: float, patience: float | None,
                  max_asa: float | None, max_abandon: float | None, max_occupancy: float, shrinkage: float,
                  handle_time: float | None, output: str, fmt: str) -> None:
    """Agents and positions per interval for a forecast (Erlang C, or A with --patience)."""
    from accueil.workforce.staffing import QueueDemand, QueueTarget, plan_staffing

    rows = _read_rows(forecast_file)
    demand = _demand(rows, handle_time)
    target = QueueTarget("queue", service_level=service_level or None, threshold=threshold, patience=patience,
                         max_asa=max_asa, max_abandon_rate=max_abandon, max_occupancy=max_occupancy,
                         shrinkage=shrinkage)
    try:
        plan = plan_staffing({"queue": QueueDemand(*demand)}, {"queue": target})
    except ValueError as exc:
        _fail(str(exc))
    queue_plan = plan.queues["queue"]
    out = []
    for i, row in enumerate(plan.rows()):
        row.pop("queue")
        out.append({"start": row.pop("start"), "volume": float(demand[2][i]), "handle_time": float(demand[3][i]),
                    **row})
    click.echo(f"peak {int(queue_plan.agents.max())} agents, {int(queue_plan.positions.max())} positions; "
               f"{float(queue_plan.positions.sum()) * demand[1] / 3600:,.0f} position-hours", err=True)
    _write(out, output, fmt, {"model": queue_plan.model, "shrinkage": shrinkage})


def _demand(rows: list[dict], handle_time: float | None) -> tuple:
    try:
        starts = np.array([_epoch(r["start"]) for r in rows], dtype=np.int64)
        volumes = np.array([float(r["volume"]) for r in rows])
        handles = np.array([float(r["handle_time"]) if r.get("handle_time") not in (None, "", "None")
                            else (handle_time or np.nan) for r in rows])
    except (KeyError, ValueError) as exc:
        _fail(f"the input needs start, volume (and handle_time) columns: {exc}")
    if len(starts) < 2:
        _fail("the input needs at least two intervals")
    if np.isnan(handles[volumes > 0]).any():
        _fail("no handle time for some intervals: give --handle-time")
    return starts, int(starts[1] - starts[0]), volumes, handles


@wfm.command("schedule")
@click.argument("plan_file", required=False)
@click.option("--column", default="positions", show_default=True, help="Column of the plan to cover.")
@click.option("--shifts", "shifts_file", default=None, help="JSON list of shift types: name, start ('HH:MM', a "
                                                            "list, or {from, to, every}), hours, cost, breaks.")
@click.option("--instance", default=None, help="A Musliu shift design instance (.dzn) instead of a plan.")
@click.option("--objective", type=click.Choice(["cost", "deviation"]), default="cost", show_default=True,
              help="Full cover at minimum cost, or the least under and over cover.")
@click.option("--time-limit", default=10.0, show_default=True, type=float, help="Seconds for the solver.")
@_output
@_format
def schedule_command(plan_file: str | None, column: str, shifts_file: str | None, instance: str | None,
                     objective: str, time_limit: float, output: str, fmt: str) -> None:
    """Shifts (agents per shift type and start) covering a plan, with OR-Tools CP-SAT."""
    from accueil.workforce.scheduling import Objective, Requirement, schedule_shifts
    from accueil.workforce.scheduling_instances import parse_shift_design_instance

    try:
        if instance:
            found = parse_shift_design_instance(Path(instance).read_text(encoding="utf-8"))
            requirement, types, goal, slot = found.requirement, found.shift_types, found.objective, found.slot_minutes
        else:
            if not plan_file or not shifts_file:
                _fail("give a plan and --shifts, or --instance")
            rows = _read_rows(plan_file)
            starts = [_epoch(r["start"]) for r in rows]
            slot = (starts[1] - starts[0]) // 60 if len(starts) > 1 else 30
            requirement = Requirement(agents=[int(float(r[column])) for r in rows], slots_per_day=1440 // slot)
            types = _shift_types(json.loads(Path(shifts_file).read_text(encoding="utf-8")), slot)
            goal = Objective.minimum_cost() if objective == "cost" else Objective.minimum_deviation()
        result = schedule_shifts(requirement, types, goal, time_limit=time_limit)
    except (OSError, KeyError, ValueError) as exc:
        _fail(str(exc))
    click.echo(f"{result.status.value}: {result.total_shifts} shifts, cost {result.total_cost}, objective "
               f"{result.objective} (bound {result.best_bound}), {result.solve_seconds:.2f} s", err=True)
    out = [{"shift_type": s.shift_type, "day": s.day, "start": f"{s.start * slot // 60:02d}:{s.start * slot % 60:02d}",
            "hours": s.length * slot / 60, "agents": s.agents, "cost": s.cost} for s in result.shifts]
    _write(out, output, fmt, {"status": result.status.value, "coverage": list(result.coverage),
                              "under": list(result.under), "over": list(result.over), "total_cost": result.total_cost})


def _slots(text: str, slot: int) -> int:
    hours, _, minutes = str(text).partition(":")
    value = int(hours) * 60 + int(minutes or 0)
    if value % slot:
        raise ValueError(f"{text} is not on the {slot}-minute grid")
    return value // slot


def _shift_types(items: list[dict], slot: int) -> list:
    from accueil.workforce.scheduling import BreakRule, ShiftType

    types = []
    for item in items:
        start = item["start"]
        if isinstance(start, dict):
            starts: Any = range(_slots(start["from"], slot), _slots(start["to"], slot) + 1,
                                max(1, int(start.get("every", slot)) // slot))
        elif isinstance(start, list):
            starts = [_slots(s, slot) for s in start]
        else:
            starts = _slots(start, slot)
        length = round(float(item.get("hours", DEFAULT_SHIFT_LENGTH_HOURS)) * 60 / slot)
        breaks = [BreakRule(length=round(b["minutes"] / slot), earliest=round(b["after_hours"] * 60 / slot),
                            latest=round(b.get("latest_hours", b["after_hours"]) * 60 / slot))
                  for b in item.get("breaks", [])]
        types.append(ShiftType(name=item["name"], start=starts, length=length, cost=int(item.get("cost", 0)),
                               breaks=breaks))
    return types


@wfm.command("simulate")
@click.argument("plan_file")
@click.option("--column", default="agents", show_default=True, help="Column with the agents on the phone.")
@click.option("--patience", default=None, type=float, help="Mean patience, seconds (default: nobody hangs up).")
@click.option("--threshold", default=20.0, show_default=True, type=float, help="Service level threshold, seconds.")
@click.option("--runs", default=10, show_default=True, type=click.IntRange(1, 1000), help="Simulated days.")
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed (same seed, same days).")
@_output
@_format
def simulate_command(plan_file: str, column: str, patience: float | None, threshold: float, runs: int, seed: int,
                     output: str, fmt: str) -> None:
    """Check a plan by simulation: service level and abandonment per interval, over several days."""
    from tqdm import tqdm

    from accueil.workforce.simulation import simulate_queue

    rows = _read_rows(plan_file)
    starts, step, volumes, handles = _demand(rows, None)
    try:
        agents = np.array([int(float(r[column])) for r in rows])
    except (KeyError, ValueError):
        _fail(f"the plan needs a {column!r} column")
    totals: dict[str, np.ndarray] = {}
    try:
        for run in tqdm(range(runs), desc="simulate", unit=" day", file=sys.stderr, disable=not sys.stderr.isatty()):
            result = simulate_queue(volumes / step, agents, np.where(volumes > 0, handles, 1.0), patience=patience,
                                    interval_seconds=step, threshold=threshold, seed=seed + run)
            stats = result.contacts
            for name in ("offered", "answered", "abandoned", "answered_within_threshold"):
                totals[name] = totals.get(name, 0) + np.asarray(getattr(stats, name), dtype=float)
            totals["occupancy"] = totals.get("occupancy", 0) + np.nan_to_num(np.asarray(result.staff.occupancy))
    except (ValueError, AttributeError) as exc:
        _fail(str(exc))
    out = []
    for i, start in enumerate(starts.tolist()):
        offered = totals["offered"][i]
        out.append({"start": _iso(start), "agents": int(agents[i]), "offered": round(offered / runs, 2),
                    "service_level": round(totals["answered_within_threshold"][i] / offered, 4) if offered else None,
                    "abandon_rate": round(totals["abandoned"][i] / offered, 4) if offered else None,
                    "occupancy": round(totals["occupancy"][i] / runs, 4)})
    offered = totals["offered"].sum()
    click.echo(f"{runs} simulated days: service level {totals['answered_within_threshold'].sum() / offered:.1%}, "
               f"abandonment {totals['abandoned'].sum() / offered:.1%}", err=True)
    _write(out, output, fmt, {"runs": runs, "seed": seed})
