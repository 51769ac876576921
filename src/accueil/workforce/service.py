"""Workforce from accueil's own data: contact history per queue and interval, and a queue's planned day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from accueil.conversations.models import Interaction
from accueil.core.errors import NotFound
from accueil.db.session import make_engine, make_session_factory
from accueil.routing.models import Queue
from accueil.workforce.intervals import IntervalVolume


def database_interval_history(url: str, *, queue_code: str, interval: int = 900) -> list[IntervalVolume]:
    """``interval_history`` read from the database at ``url`` (the CLI's ``--queue``)."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return interval_history(session, queue_code=queue_code, interval=interval)
    finally:
        engine.dispose()


def interval_history(session: Session, *, queue_code: str, interval: int = 900,
                     since: datetime | None = None, until: datetime | None = None) -> list[IntervalVolume]:
    """Contacts offered to a queue per interval (by arrival), with the mean handle time of those answered
    (answer to end of wrap-up, else to end). Intervals without contacts are left out (they count as zero)."""
    queue = session.scalar(select(Queue).where(Queue.code == queue_code))
    if queue is None:
        raise NotFound("not_found", kind="queue", id=queue_code)
    statement = select(Interaction.arrived_at, Interaction.answered_at, Interaction.ended_at,
                       Interaction.wrapup_ended_at).where(Interaction.queue_id == queue.id)
    if since is not None:
        statement = statement.where(Interaction.arrived_at >= since)
    if until is not None:
        statement = statement.where(Interaction.arrived_at < until)
    counts: dict[int, list[float]] = {}
    for arrived, answered, ended, wrapped in session.execute(statement):
        bucket = int(arrived.timestamp()) // interval * interval
        entry = counts.setdefault(bucket, [0.0, 0.0, 0.0])
        entry[0] += 1
        finished = wrapped or ended
        if answered is not None and finished is not None and finished > answered:
            entry[1] += (finished - answered).total_seconds()
            entry[2] += 1
    return [IntervalVolume(datetime.fromtimestamp(start, UTC), volume, handled / n if n else None)
            for start, (volume, handled, n) in sorted(counts.items())]


# A queue's day: forecast, actual, requirement, a schedule's coverage (the supervisor's workforce page) ----------

DAY_INTERVAL = 1800  # the page plans in half-hours
HISTORY_DAYS = 8 * 7
DEFAULT_SHIFTS = (  # a plausible roster to show coverage: 8-hour days with a lunch break, 4-hour halves
    ("day", range(6 * 2, 14 * 2 + 1), 16, 100, ((2, 6, 10),)),  # (name, starts, length, cost, breaks)
    ("half", range(8 * 2, 18 * 2 + 1, 2), 8, 55, ()),
)


@dataclass(frozen=True)
class QueueDay:
    queue_code: str
    day: date
    starts: list[datetime]  # UTC, one per half-hour of the local day
    forecast: list[float] | None  # None when the history is too short (message says why)
    actual: list[float]
    handle_time: float  # seconds used for staffing
    agents: list[int]  # required on the phone (Erlang)
    positions: list[int]  # with shrinkage
    scheduled: list[int]  # coverage of a roster built for this requirement (CP-SAT)
    service_level: list[float | None]
    method: str | None
    message: str | None


def queue_day(session: Session, *, queue_code: str, day: date, timezone: str, now: datetime,
              patience: float | None = None, shrinkage: float = 0.3, volume_factor: float = 1.0,
              handle_time: float | None = None) -> QueueDay:
    """Forecast the queue's day from its own history, staff it to the queue's target, roster it."""
    import numpy as np

    from accueil.workforce.forecast import ForecastCalendar, ForecastInputError, forecast, prepare_history
    from accueil.workforce.scheduling import BreakRule, Objective, Requirement, ShiftType, schedule_shifts
    from accueil.workforce.staffing import QueueDemand, QueueTarget, plan_staffing

    queue = session.scalar(select(Queue).where(Queue.code == queue_code))
    if queue is None:
        raise NotFound("not_found", kind="queue", id=queue_code)
    zone = ZoneInfo(timezone)
    first = datetime.combine(day, time(0), tzinfo=zone)
    last = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    starts = []
    moment = first.astimezone(UTC)
    while moment < last:
        starts.append(moment)
        moment += timedelta(seconds=DAY_INTERVAL)
    actual_rows = interval_history(session, queue_code=queue_code, interval=DAY_INTERVAL, since=first, until=last)
    by_start = {row.start: row.volume for row in actual_rows}
    actual = [by_start.get(s, 0.0) for s in starts]
    history = interval_history(session, queue_code=queue_code, interval=DAY_INTERVAL,
                               since=first - timedelta(days=HISTORY_DAYS), until=min(first, now))
    handles = [r.handle_time for r in history if r.handle_time]
    handle = handle_time or (float(np.median(handles)) if handles else float(queue.default_handle_seconds))
    predicted, method, message = None, None, None
    if len(history) >= 2:
        # History starts at the local midnight of the first contact: days before it are unknown, not quiet.
        opened = datetime.combine(history[0].start.astimezone(zone).date(), time(0), tzinfo=zone)
        series = prepare_history(history, interval=DAY_INTERVAL, period_start=opened, period_end=first)
        calendar = ForecastCalendar(time_zone=timezone)
        for method in ("ets", "seasonal_naive"):
            try:
                result = forecast(series, start=day, days=1, method=method, calendar=calendar)
            except ForecastInputError as exc:
                message = str(exc)
                continue
            predicted = [float(v) * volume_factor for v in result.volumes]
            message = None
            break
    else:
        message = "not enough history in this queue to forecast"
    volumes = np.array(predicted if predicted is not None else actual, dtype=float)
    target = QueueTarget(queue_code, service_level=queue.target_percent / 100, threshold=queue.target_seconds,
                         patience=patience, shrinkage=shrinkage)
    plan = plan_staffing({queue_code: QueueDemand(
        np.array([int(s.timestamp()) for s in starts], dtype=np.int64), DAY_INTERVAL, volumes,
        np.full(len(starts), handle))}, {queue_code: target}).queues[queue_code]
    scheduled = [0] * len(starts)
    if plan.positions.any():
        types = [ShiftType(name=name, start=list(rng), length=length, cost=cost,
                           breaks=[BreakRule(length=b, earliest=e, latest=latest) for b, e, latest in breaks])
                 for name, rng, length, cost, breaks in DEFAULT_SHIFTS]
        roster = schedule_shifts(Requirement(agents=plan.positions.tolist(), slots_per_day=len(starts)), types,
                                 Objective.minimum_deviation(under=4, over=1), time_limit=3.0)
        if roster.coverage:
            scheduled = list(roster.coverage)
    return QueueDay(queue_code=queue_code, day=day, starts=starts, forecast=predicted, actual=actual,
                    handle_time=handle, agents=plan.agents.tolist(), positions=plan.positions.tolist(),
                    scheduled=scheduled,
                    service_level=[None if not np.isfinite(v) or volumes[i] == 0 else float(v)
                                   for i, v in enumerate(plan.service_level)],
                    method=method if predicted is not None else None, message=message)
