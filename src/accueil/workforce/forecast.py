"""Forecast of contact volumes and handle time per interval, learnt from a queue's history.

Why: staffing (erlang.py) needs, for every 15- or 30-minute interval of the coming days, how many contacts
will arrive and how long each takes. Traffic has a weekly pattern, an intraday shape per weekday, a slow
trend, public holidays that empty (or fill) a day, and people call by a local clock that changes twice a
year. This learns those from history, and its backtest says whether the statistical model beats the
baseline every planner knows: "same as last week".

Pure core: no I/O, no clock (the first forecast day is an argument). Instants are UTC epoch seconds on a
regular grid; days, weekdays and time-of-day slots are local wall-clock time in the calendar's zone
(default Europe/Paris), so a 23- or 25-hour DST day gets 92 or 100 quarter-hours shaped by the wall clock.

    prepare_history(rows, *, interval, resample_to=None, period_start=None, period_end=None) -> IntervalSeries
    resample(series, interval) -> IntervalSeries
    forecast(series, *, start, days, method="ets", calendar=None, profile_weeks=8, training_days=728)
    backtest(series, *, weeks=8, horizon_days=7, step_days=7, methods=(both), calendar=None, ...) -> Backtest
    error_scores(actual, predicted) -> ErrorScores

Rows are IntervalVolume(start, volume, handle_time=None) or (start, volume[, handle_time]) tuples, sorted,
one per interval, starts UTC-aware; an interval missing inside the period had no contacts.
"seasonal_naive": each interval as the same weekday and wall-clock slot of the latest normal week (a holiday
a week ago is skipped); a holiday as the last holiday of that name in history, else the last holiday, else
the calendar's holiday weekday. "ets": Holt-Winters (statsmodels; damped additive trend, weekly
multiplicative season, additive if a day had no contact) on daily totals, holidays and special days replaced
by their neighbouring weeks; each day split by its weekday's intraday profile over the last profile_weeks
normal weeks. A holiday's total is the normal forecast times the ratio that holiday had to its neighbouring
weeks (same name, else the median of all holidays seen, else like the holiday weekday), shaped like past
holidays. A weekday with no contact in recent normal weeks is closed. Handle time (both methods): the
volume-weighted mean of the same weekday and slot over recent normal weeks.
The backtest forecasts horizon_days from every step_days over the last `weeks` weeks, each from the history
before its origin, and scores every interval. MAPE is a fraction and skips zero actuals (undefined there).
Bad input raises ForecastInputError (a ValueError); too little history raises HistoryTooShortError.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Final, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holiday_tables
import numpy as np
from numpy.typing import ArrayLike, NDArray

from accueil.workforce.intervals import (  # noqa: F401 - re-exported: the forecast's inputs
    DAY,
    Floats,
    ForecastInputError,
    HistoryTooShortError,
    IntervalSeries,
    IntervalVolume,
    Ints,
    iso_utc,
    prepare_history,
    resample,
    whole_at_least,
)

WEEK: Final = 7  # days
MIN_DAYS: Final = {"seasonal_naive": 7, "ets": 21}  # complete local days of history each method needs
_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()


class ForecastMethod(StrEnum):
    SEASONAL_NAIVE = "seasonal_naive"
    ETS = "ets"


@dataclass(frozen=True)
class SpecialDay:
    """A day known to be unusual: a normal day times `factor` (0 = closed), or like another weekday
    (`like_weekday`, 0 = Monday). Either way it is left out when learning."""

    day: date
    factor: float | None = None
    like_weekday: int | None = None
    name: str = "special day"

    def __post_init__(self) -> None:
        if (self.factor is None) == (self.like_weekday is None):
            raise ForecastInputError(f"special day {self.day}: give exactly one of factor or like_weekday")
        if self.factor is not None and not (math.isfinite(self.factor) and self.factor >= 0):
            raise ForecastInputError(f"special day {self.day}: factor must be a finite number >= 0")
        if self.like_weekday is not None and self.like_weekday not in range(7):
            raise ForecastInputError(f"special day {self.day}: like_weekday must be 0 (Monday) to 6")


@dataclass(frozen=True)
class ForecastCalendar:
    """The zone seasonality is computed in, public holidays (`holidays` package, country None for none)
    and special days. A holiday never seen in history is forecast like holiday_like_weekday (Sunday)."""

    time_zone: str = "Europe/Paris"
    holiday_country: str | None = "FR"
    holiday_subdivision: str | None = None
    holiday_categories: tuple[str, ...] = ("public",)
    special_days: tuple[SpecialDay, ...] = ()
    holiday_like_weekday: int = 6


class ForecastInterval(NamedTuple):
    start: datetime  # UTC
    volume: float
    handle_time: float | None  # seconds


class DayForecast(NamedTuple):
    day: date  # local
    volume: float
    kind: str  # "normal", "holiday" or "special"
    name: str | None  # holiday or special day name


@dataclass(frozen=True, eq=False)
class Forecast:
    method: ForecastMethod
    interval: int  # seconds
    starts: Ints  # UTC epoch seconds of each interval
    volumes: Floats
    handle_times: Floats | None  # None when the history had no handle time
    days: tuple[DayForecast, ...]

    def intervals(self) -> list[ForecastInterval]:
        """One row per interval with a UTC datetime start."""
        handles = [None] * len(self.starts) if self.handle_times is None else self.handle_times.tolist()
        starts = (datetime.fromtimestamp(s, UTC) for s in self.starts.tolist())
        return [ForecastInterval(*row) for row in zip(starts, self.volumes.tolist(), handles, strict=True)]


@dataclass(frozen=True)
class ErrorScores:
    mae: float
    rmse: float
    mape: float  # fraction (0.25 = 25 %) over intervals with a non-zero actual; NaN if there are none
    points: int  # intervals scored by MAE and RMSE
    mape_points: int  # intervals scored by MAPE (actual > 0)


@dataclass(frozen=True)
class Backtest:
    scores: dict[ForecastMethod, ErrorScores]
    origins: tuple[date, ...]  # first forecast day of each run
    horizon_days: int
    interval: int  # seconds


# ---------------------------------------------------------------------------------------------------
# Local time and calendar


def _midnight(zone: ZoneInfo, day: date) -> int:
    return int(datetime.combine(day, time(), tzinfo=zone).timestamp())


def _offset(zone: ZoneInfo, instant: int) -> int:
    return int(datetime.fromtimestamp(instant, zone).utcoffset().total_seconds())  # type: ignore[union-attr]


def _wall_seconds(zone: ZoneInfo, starts: Ints, step: int) -> Ints:
    """Local wall-clock epoch seconds of sorted instants: the UTC offset is sampled once a day, and read
    per interval only in a day where it changes."""
    offsets = np.empty(len(starts), dtype=np.int64)
    marks = sorted({*range(0, len(starts), max(1, DAY // step)), max(len(starts) - 1, 0)})
    known = [_offset(zone, int(starts[i])) for i in marks] if len(starts) else []
    for a, b, off_a, off_b in zip(marks, marks[1:], known, known[1:], strict=False):
        offsets[a : b + 1] = (
            off_a if off_a == off_b else [_offset(zone, s) for s in starts[a : b + 1].tolist()]
        )
    if len(starts) == 1:
        offsets[0] = known[0]
    return starts + offsets


class _Context:
    """Settings of one forecast or backtest: zone, holiday and special-day lookups, learning windows."""

    def __init__(self, calendar: ForecastCalendar | None, weeks: object, training_days: object) -> None:
        calendar = calendar or ForecastCalendar()
        self.weeks = whole_at_least("profile_weeks", weeks, 1)
        self.training_days = whole_at_least("training_days", training_days, MIN_DAYS["ets"])
        try:
            self.zone = ZoneInfo(calendar.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ForecastInputError(f"unknown time zone {calendar.time_zone!r}") from None
        if calendar.holiday_like_weekday not in range(7):
            raise ForecastInputError("holiday_like_weekday must be 0 (Monday) to 6 (Sunday)")
        self.like_weekday = calendar.holiday_like_weekday
        self.special = {special.day: special for special in calendar.special_days}
        if len(self.special) != len(calendar.special_days):
            raise ForecastInputError("a special day is given twice")
        self.table = None
        if calendar.holiday_country:
            try:
                self.table = holiday_tables.country_holidays(
                    calendar.holiday_country,
                    subdiv=calendar.holiday_subdivision,
                    categories=calendar.holiday_categories,
                )
            except (NotImplementedError, ValueError) as error:
                raise ForecastInputError(f"holiday calendar: {error}") from None

    def holiday(self, day: date) -> str | None:
        return None if self.table is None else self.table.get(day)

    def describe(self, day: date) -> tuple[str, str | None]:
        if day in self.special:
            return "special", self.special[day].name
        name = self.holiday(day)
        return ("holiday", name) if name else ("normal", None)


# ---------------------------------------------------------------------------------------------------
# Complete local days of history, by wall-clock slot


@dataclass(frozen=True, eq=False)
class _Days:
    first_day: date
    weekdays: Ints
    totals: Floats
    slot_means: Floats  # (days, slots): mean volume per wall-clock slot (a DST day's repeated hour averaged)
    regular: NDArray[np.bool_]  # every wall-clock slot seen once: not a DST change day
    normal: NDArray[np.bool_]  # neither holiday nor special day
    holiday_names: list[str | None]
    handle_sums: Floats  # (days, slots): sum of handle time x volume
    handle_weights: Floats  # (days, slots): volume with a known handle time

    def ordinal(self, index: int) -> int:
        return self.first_day.toordinal() + index


def _complete_days(series: IntervalSeries, context: _Context) -> _Days:
    zone, step, slots = context.zone, series.interval, DAY // series.interval
    starts = series.first_start + step * np.arange(len(series.volumes), dtype=np.int64)
    wall = _wall_seconds(zone, starts, step)
    first = int(wall[0] // DAY) + _EPOCH_ORDINAL
    first += _midnight(zone, date.fromordinal(first)) < series.first_start
    last = int(_wall_seconds(zone, np.array([series.end - 1]), step)[0] // DAY) + _EPOCH_ORDINAL
    last -= _midnight(zone, date.fromordinal(last + 1)) > series.end
    count = max(0, last - first + 1)
    day_index = wall // DAY + _EPOCH_ORDINAL - first
    keep = (day_index >= 0) & (day_index < count)
    flat = day_index[keep] * slots + (wall[keep] % DAY) // step

    def per_slot(weights: Floats | None) -> Floats:
        summed = np.bincount(flat, weights=weights, minlength=count * slots)
        return summed.reshape(count, slots).astype(float)

    volumes, handles = series.volumes[keep], series.handle_times[keep]
    known = np.isfinite(handles)
    seen, sums = per_slot(None), per_slot(volumes)
    described = [context.describe(date.fromordinal(first + i)) for i in range(count)]
    return _Days(
        first_day=date.fromordinal(max(first, 1)),
        weekdays=(np.arange(count) + first - 1) % WEEK,  # date.weekday() of each ordinal
        totals=sums.sum(axis=1),
        slot_means=sums / np.maximum(seen, 1.0),
        regular=(seen == 1).all(axis=1),
        normal=np.array([kind == "normal" for kind, _ in described], dtype=bool),
        holiday_names=[name if kind == "holiday" else None for kind, name in described],
        handle_sums=per_slot(np.where(known, handles * volumes, 0.0)),
        handle_weights=per_slot(np.where(known, volumes, 0.0)),
    )


def _recent_normal(days: _Days, upto: int, weekday: int | None, count: int) -> list[int]:
    """Indices of the last `count` normal days before `upto` (of one weekday, or any)."""
    found: list[int] = []
    for i in range(upto - 1, -1, -1):
        if len(found) == count:
            break
        if days.normal[i] and (weekday is None or days.weekdays[i] == weekday):
            found.append(i)
    return found


def _neighbour_total(days: _Days, i: int, upto: int) -> float:
    """What day i would have had as a normal day: mean of the normal same weekdays 1-3 weeks around it."""
    found: list[float] = []
    for weeks in (1, 2, 3):
        found += [
            days.totals[j] for j in (i - WEEK * weeks, i + WEEK * weeks) if 0 <= j < upto and days.normal[j]
        ]
        if len(found) >= 2:
            break
    if not found:
        found = list(days.totals[_recent_normal(days, upto, int(days.weekdays[i]), 8)]) or [days.totals[i]]
    return float(np.mean(found))


# ---------------------------------------------------------------------------------------------------
# Forecast


@dataclass(frozen=True, eq=False)
class _Targets:
    days: list[date]
    starts: Ints
    day_of: Ints  # index into days, per interval
    slots: Ints  # wall-clock slot, per interval


def _targets(series: IntervalSeries, zone: ZoneInfo, start: date, count: int) -> _Targets:
    days = [start + timedelta(days=i) for i in range(count)]
    bounds = np.array([_midnight(zone, start + timedelta(days=i)) for i in range(count + 1)], dtype=np.int64)
    step = series.interval
    first = int(bounds[0]) + (series.first_start - int(bounds[0])) % step
    starts = np.arange(first, int(bounds[-1]), step, dtype=np.int64)
    slots = (_wall_seconds(zone, starts, step) % DAY) // step
    return _Targets(days, starts, np.searchsorted(bounds, starts, side="right") - 1, slots)


def _profile(days: _Days, indices: list[int]) -> Floats:
    return days.slot_means[indices].sum(axis=0) if indices else np.zeros(days.slot_means.shape[1])


def _weekday_profiles(days: _Days, upto: int, weeks: int) -> Floats:
    """Intraday shape per weekday: summed wall-clock slots of its last `weeks` normal, regular days."""
    pooled = _profile(days, [i for i in _recent_normal(days, upto, None, weeks * WEEK) if days.regular[i]])
    profiles = np.empty((WEEK, days.slot_means.shape[1]))
    for weekday in range(WEEK):
        shape = _profile(days, [i for i in _recent_normal(days, upto, weekday, weeks) if days.regular[i]])
        profiles[weekday] = shape if shape.sum() > 0 else pooled
    return profiles


def _handle_profiles(days: _Days, upto: int, weeks: int) -> Floats | None:
    """Volume-weighted mean handle time per weekday and slot; else of the slot; else the overall mean."""
    if not days.handle_weights[:upto].any():
        return None
    window = _recent_normal(days, upto, None, weeks * WEEK)
    if not days.handle_weights[window].any():
        window = list(range(upto))
    sums, weights = np.zeros((2, WEEK, days.slot_means.shape[1]))
    np.add.at(sums, days.weekdays[window], days.handle_sums[window])
    np.add.at(weights, days.weekdays[window], days.handle_weights[window])
    slot_sums, slot_weights = sums.sum(axis=0), weights.sum(axis=0)
    overall = np.full(slot_sums.shape, slot_sums.sum() / slot_weights.sum())
    by_slot = np.divide(slot_sums, slot_weights, out=overall, where=slot_weights > 0)
    return np.divide(sums, weights, out=np.broadcast_to(by_slot, sums.shape).copy(), where=weights > 0)


def _ets_totals(totals: Floats, steps: int) -> Floats:
    """Daily totals for the next `steps` days by Holt-Winters; recent weekday means if it cannot fit."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing  # here: importing costs ~1 s, ETS only

    seasonal = "mul" if totals.min() > 0 else "add"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence chatter; a bad fit shows in the backtest
            settings = {"trend": "add", "damped_trend": True, "seasonal_periods": WEEK}
            model = ExponentialSmoothing(
                totals, seasonal=seasonal, initialization_method="estimated", **settings
            )
            fitted = model.fit(method="least_squares", use_brute=False)  # minimises the SSE itself: fast
            predicted = np.asarray(fitted.forecast(steps), dtype=float)
    except (ValueError, ArithmeticError, np.linalg.LinAlgError):
        predicted = np.full(steps, math.nan)
    if not np.isfinite(predicted).all():
        recent = totals[-4 * WEEK :]
        weekly = np.array([recent[k::WEEK].mean() for k in range(WEEK)])
        predicted = weekly[(len(recent) + np.arange(steps)) % WEEK]
    return np.clip(predicted, 0.0, None)


def _open_weekdays(days: _Days, upto: int, weeks: int) -> list[bool]:
    """False for a weekday with no contact in its recent normal weeks (with no such week: open)."""
    recent = [days.totals[_recent_normal(days, upto, weekday, weeks)] for weekday in range(WEEK)]
    return [not len(totals) or bool(totals.sum() > 0) for totals in recent]


def _holiday_ratios(days: _Days, upto: int) -> dict[str, list[float]]:
    """Each past holiday's total over what its neighbouring weeks say a normal day would have had."""
    ratios: dict[str, list[float]] = {}
    for i in range(upto):
        expected = _neighbour_total(days, i, upto) if days.holiday_names[i] else 0.0
        if expected > 0:
            ratios.setdefault(days.holiday_names[i] or "", []).append(float(days.totals[i]) / expected)
    return ratios


def _holiday_factor(ratios: dict[str, list[float]], name: str) -> float | None:
    """The holiday's mean ratio over its last three years, else the median of every holiday seen."""
    seen = [ratio for values in ratios.values() for ratio in values]
    return float(np.mean(ratios[name][-3:])) if name in ratios else float(np.median(seen)) if seen else None


def _ets_days(days: _Days, upto: int, targets: list[date], context: _Context) -> list[tuple[float, Floats]]:
    """Per target day: (total, intraday profile) from ETS on daily totals, unusual days adjusted."""
    lo = max(0, upto - context.training_days)
    totals = days.totals[:upto].copy()
    for i in np.flatnonzero(~days.normal[lo:upto]) + lo:
        totals[i] = _neighbour_total(days, int(i), upto)
    steps = [d.toordinal() - days.ordinal(upto - 1) for d in targets]
    predicted = _ets_totals(totals[lo:], max(steps) + WEEK)
    profiles = _weekday_profiles(days, upto, context.weeks)
    is_open = _open_weekdays(days, upto, context.weeks)
    holiday_shape = _profile(days, [i for i in range(upto) if days.holiday_names[i]][-10:])
    ratios = _holiday_ratios(days, upto)

    def as_weekday(step: int, own: int, like: int) -> tuple[float, Floats]:
        """The ETS total of the next `like` weekday from this one, with its profile."""
        return (predicted[step - 1 + (like - own) % WEEK] if is_open[like] else 0.0), profiles[like]

    plan: list[tuple[float, Floats]] = []
    for day, step in zip(targets, steps, strict=True):
        own, special, holiday = day.weekday(), context.special.get(day), context.holiday(day)
        normal = (predicted[step - 1] if is_open[own] else 0.0), profiles[own]
        factor = _holiday_factor(ratios, holiday) if holiday and special is None else None
        if special is not None and special.like_weekday is not None:
            plan.append(as_weekday(step, own, special.like_weekday))
        elif special is not None:
            plan.append((normal[0] * (special.factor or 0.0), normal[1]))
        elif holiday and factor is None:
            plan.append(as_weekday(step, own, context.like_weekday))
        elif holiday:
            shape = holiday_shape if holiday_shape.sum() > 0 else profiles[context.like_weekday]
            plan.append((normal[0] * float(factor or 0.0), shape))
        else:
            plan.append(normal)
    return plan


def _naive_days(days: _Days, upto: int, targets: list[date], context: _Context) -> list[tuple[float, Floats]]:
    """Per target day: (factor, slot volumes of the reference day) for the seasonal naive method. A past
    holiday on a weekday the centre is closed anyway says nothing about holidays: not a reference."""

    def latest(weekday: int | None, not_after: int | None = None) -> int:
        for i in range(upto - 1, -1, -1):
            if days.normal[i] and (weekday is None or days.weekdays[i] == weekday):
                if not_after is None or days.ordinal(i) <= not_after:
                    return i
        return upto - 1 if weekday is None else latest(None)

    is_open = _open_weekdays(days, upto, context.weeks)
    holidays_seen = [i for i in range(upto) if days.holiday_names[i] and is_open[days.weekdays[i]]]
    plan: list[tuple[float, Floats]] = []
    for day in targets:
        own, lagged = day.weekday(), day.toordinal() - WEEK
        special, holiday = context.special.get(day), context.holiday(day)
        if special is not None and special.like_weekday is not None:
            plan.append((1.0, days.slot_means[latest(special.like_weekday)]))
        elif special is not None:
            plan.append((special.factor or 0.0, days.slot_means[latest(own, lagged)]))
        elif holiday:
            same = [i for i in holidays_seen if days.holiday_names[i] == holiday] or holidays_seen
            plan.append((1.0, days.slot_means[same[-1] if same else latest(context.like_weekday)]))
        else:
            plan.append((1.0, days.slot_means[latest(own, lagged)]))
    return plan


def _predict(
    series: IntervalSeries,
    days: _Days,
    upto: int,
    targets: _Targets,
    method: ForecastMethod,
    context: _Context,
) -> Forecast:
    """One forecast from the first `upto` complete days of history."""
    if upto < MIN_DAYS[method.value]:
        needs = f"{method.value} needs {MIN_DAYS[method.value]} complete local days before the start"
        raise HistoryTooShortError(f"{needs}, found {max(upto, 0)}")
    plan = (_ets_days if method is ForecastMethod.ETS else _naive_days)(days, upto, targets.days, context)
    volumes = np.zeros(len(targets.starts))
    for k, (scale, shape) in enumerate(plan):
        members = np.flatnonzero(targets.day_of == k)
        weights = shape[targets.slots[members]]
        if method is ForecastMethod.ETS:  # the total split by the profile over this day's own slots
            weights = (
                weights / weights.sum() if weights.sum() > 0 else np.full(len(weights), 1 / len(weights))
            )
        volumes[members] = scale * weights
    handle_profile = _handle_profiles(days, upto, context.weeks)
    handles = None
    if handle_profile is not None:
        weekdays = np.array([d.weekday() for d in targets.days], dtype=np.int64)
        handles = handle_profile[weekdays[targets.day_of], targets.slots]
    totals = np.bincount(targets.day_of, weights=volumes, minlength=len(targets.days))
    summary = tuple(
        DayForecast(d, float(total), *context.describe(d))
        for d, total in zip(targets.days, totals, strict=True)
    )
    return Forecast(method, series.interval, targets.starts, volumes, handles, summary)


def _method(value: object) -> ForecastMethod:
    if value not in set(ForecastMethod):
        raise ForecastInputError(f"unknown method {value!r}: use one of {[m.value for m in ForecastMethod]}")
    return ForecastMethod(value)


def forecast(
    series: IntervalSeries,
    *,
    start: date,
    days: int,
    method: ForecastMethod | str = ForecastMethod.ETS,
    calendar: ForecastCalendar | None = None,
    profile_weeks: int = 8,
    training_days: int = 728,
) -> Forecast:
    """Volumes (and handle times) for every interval of `days` local days from `start`, learnt only from
    the history before `start` (its local midnight)."""
    chosen, context = _method(method), _Context(calendar, profile_weeks, training_days)
    if not isinstance(start, date) or isinstance(start, datetime):
        raise ForecastInputError(f"start must be a local date, got {start!r}")
    history = _complete_days(series, context)
    upto = min(start.toordinal() - history.first_day.toordinal(), len(history.totals))
    targets = _targets(series, context.zone, start, whole_at_least("days", days, 1))
    return _predict(series, history, upto, targets, chosen, context)


# ---------------------------------------------------------------------------------------------------
# Backtest


def error_scores(actual: ArrayLike, predicted: ArrayLike) -> ErrorScores:
    """MAE, RMSE and MAPE (a fraction, over non-zero actuals only: it is undefined at zero)."""
    truth, guess = np.asarray(actual, dtype=float).ravel(), np.asarray(predicted, dtype=float).ravel()
    if truth.shape != guess.shape or truth.size == 0:
        raise ForecastInputError("actual and predicted must be non-empty and the same length")
    error, nonzero = guess - truth, truth != 0
    mape = float(np.mean(np.abs(error[nonzero]) / np.abs(truth[nonzero]))) if nonzero.any() else math.nan
    return ErrorScores(
        mae=float(np.mean(np.abs(error))),
        rmse=float(np.sqrt(np.mean(error**2))),
        mape=mape,
        points=int(truth.size),
        mape_points=int(nonzero.sum()),
    )


def backtest(
    series: IntervalSeries,
    *,
    weeks: int = 8,
    horizon_days: int = 7,
    step_days: int = 7,
    methods: Sequence[ForecastMethod | str] = (ForecastMethod.SEASONAL_NAIVE, ForecastMethod.ETS),
    calendar: ForecastCalendar | None = None,
    profile_weeks: int = 8,
    training_days: int = 728,
) -> Backtest:
    """Rolling-origin backtest over the last `weeks` weeks of complete days: a forecast of horizon_days
    from every step_days, each from the history before its origin, scored on every interval."""
    chosen, context = [_method(m) for m in methods], _Context(calendar, profile_weeks, training_days)
    weeks, horizon_days = whole_at_least("weeks", weeks, 1), whole_at_least("horizon_days", horizon_days, 1)
    step_days = whole_at_least("step_days", step_days, 1)
    if not chosen:
        raise ForecastInputError("methods must name at least one method")
    history = _complete_days(series, context)
    count = len(history.totals)
    first = count - WEEK * weeks
    origins = list(range(first, count - horizon_days + 1, step_days))
    needed = max(MIN_DAYS[m.value] for m in chosen)
    if first < needed or not origins:
        raise HistoryTooShortError(
            f"a {weeks}-week backtest of {horizon_days}-day horizons needs {needed + WEEK * weeks} complete "
            f"days of history, found {count}"
        )
    actual: list[Floats] = []
    predicted: dict[ForecastMethod, list[Floats]] = {m: [] for m in chosen}
    for origin in origins:
        targets = _targets(series, context.zone, date.fromordinal(history.ordinal(origin)), horizon_days)
        actual.append(series.volumes[(targets.starts - series.first_start) // series.interval])
        for method in chosen:
            predicted[method].append(_predict(series, history, origin, targets, method, context).volumes)
    truth = np.concatenate(actual)
    scores = {m: error_scores(truth, np.concatenate(values)) for m, values in predicted.items()}
    dates = tuple(date.fromordinal(history.ordinal(o)) for o in origins)
    return Backtest(scores, dates, horizon_days, series.interval)
