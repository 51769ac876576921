"""Forecast of contact volumes and handle time per interval, learnt from a queue's history.

Why: staffing (erlang.py) needs, for every 15- or 30-minute interval of the coming days, how many contacts
will arrive and how long each will take. Contact-centre traffic has a weekly pattern, an intraday shape
that depends on the weekday, a slow trend, and public holidays that empty (or fill) a day, and people call
by a local clock that changes twice a year. This module learns those from history, and its backtest says
whether the statistical model beats the baseline every planner knows: "same as last week".

Pure core: no I/O, no clock (the first forecast day is an argument), no database. Instants are UTC inside
(epoch seconds on a regular grid); days, weekdays and time-of-day slots are local wall-clock time in the
calendar's zone (default Europe/Paris), so a 23- or 25-hour DST day gets 92 or 100 quarter-hours, each
shaped like the same wall-clock time of a normal day. Durations are seconds.

History
    prepare_history(rows, *, interval, resample_to=None, period_start=None, period_end=None) -> IntervalSeries
    resample(series, interval) -> IntervalSeries
Rows are IntervalVolume(start, volume, handle_time=None) or plain (start, volume[, handle_time]) tuples,
sorted, one per interval, starts UTC-aware. An interval missing inside the period had no contacts.

Forecast
    forecast(series, *, start, days, method="ets", calendar=ForecastCalendar(), profile_weeks=8,
             training_days=728) -> Forecast
"seasonal_naive": each interval as the same weekday and wall-clock slot of the most recent normal week (a
holiday a week ago is skipped: two weeks back); a holiday as the last holiday of that name in history, else
the last holiday, else the calendar's holiday weekday. "ets": exponential smoothing (statsmodels
Holt-Winters: damped additive trend, weekly multiplicative season, additive when some day had no contact)
on daily totals with holidays and special days replaced by their neighbouring weeks, each day split into
intervals by its weekday's intraday profile over the last profile_weeks normal weeks. A holiday's total is
the normal forecast times the ratio that holiday had to its neighbouring weeks in history (same name, else
the median over all holidays seen, else as the calendar's holiday weekday), its shape that of past
holidays. A weekday with no contact in any recent normal week is forecast closed. Handle time per interval
(both methods): volume-weighted mean over the same weekday and slot of recent normal weeks.

Backtest
    backtest(series, *, weeks=8, horizon_days=7, step_days=7, methods=all, ...) -> Backtest
    error_scores(actual, predicted) -> ErrorScores
Rolling origin: every step_days over the last `weeks` weeks, forecast horizon_days from the history
before the origin and score every interval. MAPE is a fraction and skips intervals whose actual is zero
(it is undefined there); ErrorScores.mape_points says how many it counted.

Bad input raises ForecastInputError (a ValueError); too little history raises HistoryTooShortError.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Final, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holiday_tables
import numpy as np
from numpy.typing import ArrayLike, NDArray

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]

DAY: Final = 86_400  # seconds
WEEK_DAYS: Final = 7
MIN_DAYS: Final = {"seasonal_naive": 7, "ets": 21}  # complete local days of history each method needs
_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()


class ForecastInputError(ValueError):
    """History or settings a forecast cannot be built from (unsorted, negative, bad interval...)."""


class HistoryTooShortError(ForecastInputError):
    """Not enough complete days of history before the forecast start for the chosen method."""


class ForecastMethod(StrEnum):
    SEASONAL_NAIVE = "seasonal_naive"
    ETS = "ets"


class IntervalVolume(NamedTuple):
    """One interval of history: its UTC start, contacts that arrived, mean handle seconds if known."""

    start: datetime
    volume: float
    handle_time: float | None = None


@dataclass(frozen=True)
class SpecialDay:
    """A day the caller knows is unusual: forecast it as a normal day times `factor` (0 = closed), or like
    another weekday (`like_weekday`, 0 = Monday). Either way it is left out when learning."""

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
            raise ForecastInputError(f"special day {self.day}: like_weekday must be 0 (Monday) to 6 (Sunday)")


@dataclass(frozen=True)
class ForecastCalendar:
    """Local time and unusual days: the zone seasonality is computed in, public holidays (the `holidays`
    package; country None for none) and special days. A holiday never seen in history is forecast like
    holiday_like_weekday (Sunday by default, as French holidays mostly are)."""

    time_zone: str = "Europe/Paris"
    holiday_country: str | None = "FR"
    holiday_subdivision: str | None = None
    holiday_categories: tuple[str, ...] = ("public",)
    special_days: tuple[SpecialDay, ...] = ()
    holiday_like_weekday: int = 6


@dataclass(frozen=True, eq=False)
class IntervalSeries:
    """History on a regular UTC grid: volumes[i] arrived in [first_start + i*interval, + interval)."""

    first_start: int  # UTC epoch seconds
    interval: int  # seconds
    volumes: Floats
    handle_times: Floats  # mean seconds, NaN where unknown

    @property
    def end(self) -> int:
        """Exclusive end of the period covered, UTC epoch seconds."""
        return self.first_start + self.interval * len(self.volumes)

    @property
    def has_handle_times(self) -> bool:
        return bool(np.isfinite(self.handle_times).any())


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
        handles = self.handle_times
        return [
            ForecastInterval(
                datetime.fromtimestamp(int(s), UTC), float(v), None if handles is None else float(handles[i])
            )
            for i, (s, v) in enumerate(zip(self.starts, self.volumes, strict=True))
        ]


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
# History


def _interval_seconds(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ForecastInputError(f"{name} must be a whole number of seconds, got {value!r}")
    seconds = int(value)
    if seconds < 60 or DAY % seconds:
        raise ForecastInputError(
            f"{name} must be at least 60 s and divide a day (900, 1800...), got {seconds}"
        )
    return seconds


def _epoch(name: str, value: datetime) -> int:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ForecastInputError(f"{name} must be a timezone-aware datetime, got {value!r}")
    seconds = value.timestamp()
    if seconds != int(seconds):
        raise ForecastInputError(f"{name} must fall on a whole second, got {value.isoformat()}")
    return int(seconds)


def _rows_to_arrays(rows: Iterable[Sequence[object]]) -> tuple[Ints, Floats, Floats]:
    starts: list[int] = []
    volumes: list[object] = []
    handles: list[object] = []
    for i, row in enumerate(rows):
        if not isinstance(row, Sequence) or len(row) not in (2, 3):
            raise ForecastInputError(f"row {i}: expected (start, volume[, handle_time]), got {row!r}")
        start = row[0]
        if not isinstance(start, datetime):
            raise ForecastInputError(f"row {i}: start must be a datetime, got {start!r}")
        starts.append(_epoch(f"row {i}: start", start))
        volumes.append(row[1])
        handles.append(row[2] if len(row) == 3 and row[2] is not None else math.nan)
    if not starts:
        raise HistoryTooShortError("history is empty")
    arrays = []
    for name, values in (("volume", volumes), ("handle_time", handles)):
        try:
            array = np.array(values, dtype=float)
        except (TypeError, ValueError):
            bad = next(i for i, v in enumerate(values) if not _is_number(v))
            raise ForecastInputError(f"row {bad}: {name} must be a number, got {values[bad]!r}") from None
        unknown = np.isnan(array) if name == "handle_time" else np.zeros(len(array), dtype=bool)
        wrong = np.flatnonzero(~unknown & ~((array >= 0) & np.isfinite(array)))
        if wrong.size:
            i = int(wrong[0])
            raise ForecastInputError(f"row {i}: {name} must be a finite number >= 0, got {values[i]!r}")
        arrays.append(array)
    return np.array(starts, dtype=np.int64), arrays[0], arrays[1]


def _is_number(value: object) -> bool:
    try:
        float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True


def prepare_history(
    rows: Iterable[Sequence[object]],
    *,
    interval: int,
    resample_to: int | None = None,
    period_start: datetime | None = None,
    period_end: datetime | None = None,
) -> IntervalSeries:
    """Check history rows and lay them on a regular grid (missing intervals = no contacts), optionally
    summed to a coarser interval. period_start/period_end widen the period the history covers (e.g. a
    call export whose first and last intervals had no calls); partial days at either end are never
    learnt from."""
    step = _interval_seconds("interval", interval)
    starts, volumes, handles = _rows_to_arrays(rows)
    gaps = np.diff(starts)
    if (gaps <= 0).any():
        i = int(np.flatnonzero(gaps <= 0)[0]) + 1
        what = "duplicates the previous interval" if gaps[i - 1] == 0 else "is before the previous row"
        raise ForecastInputError(
            f"row {i}: start {_iso(starts[i])} {what} (history must be sorted, one row each)"
        )
    off_grid = np.flatnonzero(gaps % step)
    if off_grid.size:
        i = int(off_grid[0]) + 1
        raise ForecastInputError(
            f"row {i}: start {_iso(starts[i])} is not on the {step}-second grid of row 0"
        )
    first, end = int(starts[0]), int(starts[-1]) + step
    if period_start is not None:
        begin = _epoch("period_start", period_start)
        if begin > first or (first - begin) % step:
            raise ForecastInputError("period_start must be on the interval grid, at or before the first row")
        first = begin
    if period_end is not None:
        until = _epoch("period_end", period_end)
        if until < end or (until - end) % step:
            raise ForecastInputError(
                "period_end must be on the interval grid, at or after the last row's end"
            )
        end = until
    slots = (end - first) // step
    grid_volumes, grid_handles = np.zeros(slots), np.full(slots, math.nan)
    index = (starts - first) // step
    grid_volumes[index], grid_handles[index] = volumes, handles
    series = IntervalSeries(first, step, grid_volumes, grid_handles)
    return series if resample_to is None else resample(series, resample_to)


def resample(series: IntervalSeries, interval: int) -> IntervalSeries:
    """Sum volumes into coarser intervals aligned on UTC multiples of `interval` (local ones in any zone
    whose offset is a multiple of it); handle time is volume-weighted. Partial end buckets are dropped."""
    target = _interval_seconds("resample_to", interval)
    if target % series.interval:
        raise ForecastInputError(f"cannot resample {series.interval}-second intervals to {target}")
    if target == series.interval:
        return series
    begin = -(-series.first_start // target) * target
    until = series.end // target * target
    if until <= begin:
        raise HistoryTooShortError(f"history is shorter than one {target}-second interval")
    lo, hi = (begin - series.first_start) // series.interval, (until - series.first_start) // series.interval
    per = target // series.interval
    volumes = series.volumes[lo:hi].reshape(-1, per)
    handles = series.handle_times[lo:hi].reshape(-1, per)
    known = np.isfinite(handles)
    weight = np.where(known, volumes, 0.0).sum(axis=1)
    weighted = np.where(known, handles * volumes, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_handle = np.where(weight > 0, weighted / weight, math.nan)
    return IntervalSeries(begin, target, volumes.sum(axis=1), mean_handle)


def _iso(epoch: int | np.integer) -> str:
    return datetime.fromtimestamp(int(epoch), UTC).isoformat()


# ---------------------------------------------------------------------------------------------------
# Local time and calendar


def _zone(calendar: ForecastCalendar) -> ZoneInfo:
    try:
        return ZoneInfo(calendar.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ForecastInputError(f"unknown time zone {calendar.time_zone!r}") from None


def _midnight(zone: ZoneInfo, day: date) -> int:
    return int(datetime.combine(day, time(), tzinfo=zone).timestamp())


def _offset(zone: ZoneInfo, instant: int) -> int:
    offset = datetime.fromtimestamp(instant, zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _utc_offsets(zone: ZoneInfo, starts: Ints, step: int) -> Ints:
    """UTC offset at each (sorted) instant: sampled once a day, exact per interval around a transition."""
    offsets = np.empty(len(starts), dtype=np.int64)
    if not len(starts):
        return offsets
    marks = sorted({*range(0, len(starts), max(1, DAY // step)), len(starts) - 1})
    known = [_offset(zone, int(starts[i])) for i in marks]
    offsets[marks[0]] = known[0]
    for a, b, off_a, off_b in zip(marks, marks[1:], known, known[1:], strict=False):
        if off_a == off_b:
            offsets[a : b + 1] = off_a
        else:
            offsets[a : b + 1] = [_offset(zone, int(s)) for s in starts[a : b + 1]]
    return offsets


class _DayKinds:
    """Holiday names and special days of local dates, looked up lazily (any year)."""

    def __init__(self, calendar: ForecastCalendar) -> None:
        if calendar.holiday_like_weekday not in range(7):
            raise ForecastInputError("holiday_like_weekday must be 0 (Monday) to 6 (Sunday)")
        self.like_weekday = calendar.holiday_like_weekday
        self.special: dict[date, SpecialDay] = {}
        for special in calendar.special_days:
            if special.day in self.special:
                raise ForecastInputError(f"special day {special.day} given twice")
            self.special[special.day] = special
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


def _complete_days(series: IntervalSeries, zone: ZoneInfo, kinds: _DayKinds) -> _Days:
    step, slots = series.interval, DAY // series.interval
    starts = series.first_start + step * np.arange(len(series.volumes), dtype=np.int64)
    wall = starts + _utc_offsets(zone, starts, step)
    ordinals = wall // DAY + _EPOCH_ORDINAL
    first = int(ordinals[0]) + (
        0 if _midnight(zone, date.fromordinal(int(ordinals[0]))) >= series.first_start else 1
    )
    last = int((series.end - 1 + _offset(zone, series.end - 1)) // DAY + _EPOCH_ORDINAL)
    if _midnight(zone, date.fromordinal(last + 1)) > series.end:
        last -= 1
    count = max(0, last - first + 1)
    day_index = ordinals - first
    keep = (day_index >= 0) & (day_index < count)
    flat = day_index[keep] * slots + (wall[keep] % DAY) // step
    size = count * slots

    def per_slot(weights: Floats | None) -> Floats:
        return np.bincount(flat, weights=weights, minlength=size).reshape(count, slots).astype(float)

    volumes, handles = series.volumes[keep], series.handle_times[keep]
    known = np.isfinite(handles)
    seen = per_slot(None)
    sums = per_slot(volumes)
    days = [date.fromordinal(first + i) for i in range(count)]
    described = [kinds.describe(d) for d in days]
    return _Days(
        first_day=date.fromordinal(first),
        weekdays=np.array([d.weekday() for d in days], dtype=np.int64),
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
        if days.normal[i] and (weekday is None or days.weekdays[i] == weekday):
            found.append(i)
            if len(found) == count:
                break
    return found


def _neighbour_total(days: _Days, i: int, upto: int) -> float:
    """What day i would have had as a normal day: mean of the normal same weekdays 1-3 weeks around it."""
    found: list[float] = []
    for weeks in (1, 2, 3):
        for j in (i - WEEK_DAYS * weeks, i + WEEK_DAYS * weeks):
            if 0 <= j < upto and days.normal[j]:
                found.append(float(days.totals[j]))
        if len(found) >= 2:
            break
    if found:
        return float(np.mean(found))
    same = _recent_normal(days, upto, int(days.weekdays[i]), 8)
    return float(days.totals[same].mean()) if same else float(days.totals[i])


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
    step, phase = series.interval, series.first_start % series.interval
    first = int(bounds[0]) + (phase - int(bounds[0])) % step
    starts = np.arange(first, int(bounds[-1]), step, dtype=np.int64)
    wall = starts + _utc_offsets(zone, starts, step)
    return _Targets(days, starts, np.searchsorted(bounds, starts, side="right") - 1, (wall % DAY) // step)


def _profile(days: _Days, indices: list[int]) -> Floats:
    return days.slot_means[indices].sum(axis=0) if indices else np.zeros(days.slot_means.shape[1])


def _weekday_profiles(days: _Days, upto: int, weeks: int) -> Floats:
    """Intraday shape per weekday: summed wall-clock slots of its last `weeks` normal, regular days."""
    pooled = _profile(
        days, [i for i in _recent_normal(days, upto, None, weeks * WEEK_DAYS) if days.regular[i]]
    )
    profiles = np.empty((WEEK_DAYS, days.slot_means.shape[1]))
    for weekday in range(WEEK_DAYS):
        recent = [i for i in _recent_normal(days, upto, weekday, weeks + 1) if days.regular[i]][:weeks]
        shape = _profile(days, recent)
        profiles[weekday] = shape if shape.sum() > 0 else pooled
    return profiles


def _handle_profiles(days: _Days, upto: int, weeks: int) -> Floats | None:
    """Volume-weighted mean handle time per weekday and slot; falls back to the slot, then to the mean."""
    if not days.handle_weights[:upto].any():
        return None
    window = _recent_normal(days, upto, None, weeks * WEEK_DAYS) or list(range(upto))
    if not days.handle_weights[window].any():
        window = list(range(upto))
    sums, weights = (
        np.zeros((WEEK_DAYS, days.slot_means.shape[1])),
        np.zeros((WEEK_DAYS, days.slot_means.shape[1])),
    )
    for i in window:
        sums[days.weekdays[i]] += days.handle_sums[i]
        weights[days.weekdays[i]] += days.handle_weights[i]
    overall = sums.sum() / weights.sum()
    slot_weight = weights.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        by_slot = np.where(slot_weight > 0, sums.sum(axis=0) / slot_weight, overall)
        return np.where(weights > 0, sums / weights, by_slot)


def _ets_totals(totals: Floats, steps: int) -> Floats:
    """Daily totals for the next `steps` days from Holt-Winters; weekday means if it cannot be fitted."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing  # imported here: costs ~1 s, ETS only

    seasonal = "mul" if totals.min() > 0 else "add"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = ExponentialSmoothing(
                totals,
                trend="add",
                damped_trend=True,
                seasonal=seasonal,
                seasonal_periods=WEEK_DAYS,
                initialization_method="estimated",
            )
            predicted = np.asarray(model.fit().forecast(steps), dtype=float)
    except (ValueError, ArithmeticError, np.linalg.LinAlgError):
        predicted = np.full(steps, math.nan)
    if not np.isfinite(predicted).all():
        recent = totals[-4 * WEEK_DAYS :]
        weekly = np.array([recent[k::WEEK_DAYS].mean() for k in range(WEEK_DAYS)])
        predicted = weekly[(len(recent) + np.arange(steps)) % WEEK_DAYS]
    return np.clip(predicted, 0.0, None)


def _holiday_ratios(days: _Days, upto: int) -> dict[str, list[float]]:
    """Each past holiday's total over what its neighbouring weeks say a normal day would have had."""
    ratios: dict[str, list[float]] = {}
    for i in range(upto):
        name = days.holiday_names[i]
        expected = _neighbour_total(days, i, upto) if name else 0.0
        if name and expected > 0:
            ratios.setdefault(name, []).append(float(days.totals[i]) / expected)
    return ratios


def _holiday_factor(ratios: dict[str, list[float]], name: str) -> float | None:
    if name in ratios:
        return float(np.mean(ratios[name][-3:]))
    seen = [r for values in ratios.values() for r in values]
    return float(np.median(seen)) if seen else None


def _ets_days(days: _Days, upto: int, targets: list[date], kinds: _DayKinds, weeks: int, training_days: int):
    """Per target day: (total, profile) from ETS on daily totals, holidays and special days adjusted."""
    lo = max(0, upto - training_days)
    totals = days.totals[:upto].copy()
    for i in np.flatnonzero(~days.normal[lo:upto]) + lo:
        totals[i] = _neighbour_total(days, int(i), upto)
    last = days.ordinal(upto - 1)
    steps = [d.toordinal() - last for d in targets]
    predicted = _ets_totals(totals[lo:], max(steps) + WEEK_DAYS)
    profiles = _weekday_profiles(days, upto, weeks)
    recent_totals = [days.totals[_recent_normal(days, upto, w, weeks)] for w in range(WEEK_DAYS)]
    open_days = [not len(t) or bool(t.sum() > 0) for t in recent_totals]  # no evidence: open
    holidays_seen = [i for i in range(upto) if days.holiday_names[i]][-10:]
    holiday_shape = _profile(days, holidays_seen)
    ratios = _holiday_ratios(days, upto)

    def as_weekday(step: int, own: int, like: int) -> tuple[float, Floats]:
        total = predicted[step - 1 + (like - own) % WEEK_DAYS]
        return (total if open_days[like] else 0.0), profiles[like]

    plan: list[tuple[float, Floats]] = []
    for day, step in zip(targets, steps, strict=True):
        own = day.weekday()
        normal = (predicted[step - 1] if open_days[own] else 0.0, profiles[own])
        special, holiday = kinds.special.get(day), kinds.holiday(day)
        if special is not None and special.factor is not None:
            plan.append((normal[0] * special.factor, normal[1]))
        elif special is not None and special.like_weekday is not None:
            plan.append(as_weekday(step, own, special.like_weekday))
        elif holiday:
            factor = _holiday_factor(ratios, holiday)
            if factor is None:
                plan.append(as_weekday(step, own, kinds.like_weekday))
            else:
                shape = holiday_shape if holiday_shape.sum() > 0 else profiles[kinds.like_weekday]
                plan.append((normal[0] * factor, shape))
        else:
            plan.append(normal)
    return plan


def _naive_days(days: _Days, upto: int, targets: list[date], kinds: _DayKinds) -> list[tuple[float, Floats]]:
    """Per target day: (factor, slot volumes of the reference day) for the seasonal naive method."""

    def latest(weekday: int | None, not_after: int | None) -> int:
        for i in range(upto - 1, -1, -1):
            if days.normal[i] and (weekday is None or days.weekdays[i] == weekday):
                if not_after is None or days.ordinal(i) <= not_after:
                    return i
        return upto - 1 if weekday is None else latest(None, None)

    plan: list[tuple[float, Floats]] = []
    for day in targets:
        own, lagged = day.weekday(), day.toordinal() - WEEK_DAYS
        special, holiday = kinds.special.get(day), kinds.holiday(day)
        if special is not None and special.like_weekday is not None:
            plan.append((1.0, days.slot_means[latest(special.like_weekday, None)]))
        elif special is not None:
            plan.append((special.factor or 0.0, days.slot_means[latest(own, lagged)]))
        elif holiday:
            past = [i for i in range(upto) if days.holiday_names[i]]
            same = [i for i in past if days.holiday_names[i] == holiday]
            source = same or past
            plan.append((1.0, days.slot_means[source[-1] if source else latest(kinds.like_weekday, None)]))
        else:
            plan.append((1.0, days.slot_means[latest(own, lagged)]))
    return plan


def _check_horizon(start: object, days: object) -> None:
    if not isinstance(start, date) or isinstance(start, datetime):
        raise ForecastInputError(f"start must be a local date, got {start!r}")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ForecastInputError(f"days must be a whole number >= 1, got {days!r}")


def _predict(
    series: IntervalSeries,
    history: _Days,
    upto: int,
    targets: _Targets,
    method: ForecastMethod,
    kinds: _DayKinds,
    weeks: int,
    training_days: int,
) -> Forecast:
    needed = MIN_DAYS[method.value]
    if upto < needed:
        raise HistoryTooShortError(
            f"{method.value} needs {needed} complete local days of history before the start, found {max(upto, 0)}"
        )
    volumes = np.zeros(len(targets.starts))
    day_totals: list[float] = []
    if method is ForecastMethod.ETS:
        ets_plan = _ets_days(history, upto, targets.days, kinds, weeks, training_days)
    else:
        naive_plan = _naive_days(history, upto, targets.days, kinds)
    for k in range(len(targets.days)):
        members = np.flatnonzero(targets.day_of == k)
        slots = targets.slots[members]
        if method is ForecastMethod.ETS:
            total, shape = ets_plan[k]
            weights = shape[slots]
            share = (
                weights / weights.sum()
                if weights.sum() > 0
                else np.full(len(slots), 1.0 / max(len(slots), 1))
            )
            volumes[members] = total * share
        else:
            factor, reference = naive_plan[k]
            volumes[members] = factor * reference[slots]
        day_totals.append(float(volumes[members].sum()))
    handle_profile = _handle_profiles(history, upto, weeks)
    handles = None
    if handle_profile is not None:
        weekday_of = np.array([d.weekday() for d in targets.days], dtype=np.int64)[targets.day_of]
        handles = handle_profile[weekday_of, targets.slots]
    described = [kinds.describe(d) for d in targets.days]
    summary = tuple(
        DayForecast(d, total, kind, name)
        for d, total, (kind, name) in zip(targets.days, day_totals, described, strict=True)
    )
    return Forecast(method, series.interval, targets.starts, volumes, handles, summary)


def _settings(method: object, weeks: object, training_days: object) -> ForecastMethod:
    try:
        chosen = ForecastMethod(method)
    except ValueError:
        raise ForecastInputError(
            f"unknown method {method!r}: use one of {[m.value for m in ForecastMethod]}"
        ) from None
    for name, value, least in (("profile_weeks", weeks, 1), ("training_days", training_days, 21)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ForecastInputError(f"{name} must be a whole number >= {least}, got {value!r}")
    return chosen


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
    chosen = _settings(method, profile_weeks, training_days)
    _check_horizon(start, days)
    calendar = calendar or ForecastCalendar()
    zone, kinds = _zone(calendar), _DayKinds(calendar)
    history = _complete_days(series, zone, kinds)
    upto = min(start.toordinal() - history.first_day.toordinal(), len(history.totals))
    targets = _targets(series, zone, start, days)
    return _predict(series, history, upto, targets, chosen, kinds, profile_weeks, training_days)


# ---------------------------------------------------------------------------------------------------
# Backtest


def error_scores(actual: ArrayLike, predicted: ArrayLike) -> ErrorScores:
    """MAE, RMSE and MAPE (a fraction, over non-zero actuals only: it is undefined at zero)."""
    truth, guess = np.asarray(actual, dtype=float).ravel(), np.asarray(predicted, dtype=float).ravel()
    if truth.shape != guess.shape or truth.size == 0:
        raise ForecastInputError("actual and predicted must be non-empty and the same length")
    error = guess - truth
    nonzero = truth != 0
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
    chosen = [_settings(m, profile_weeks, training_days) for m in methods]
    for name, value in (("weeks", weeks), ("horizon_days", horizon_days), ("step_days", step_days)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ForecastInputError(f"{name} must be a whole number >= 1, got {value!r}")
    if not chosen:
        raise ForecastInputError("methods must name at least one method")
    calendar = calendar or ForecastCalendar()
    zone, kinds = _zone(calendar), _DayKinds(calendar)
    history = _complete_days(series, zone, kinds)
    count = len(history.totals)
    first = count - WEEK_DAYS * weeks
    origins = list(range(first, count - horizon_days + 1, step_days))
    needed = max(MIN_DAYS[m.value] for m in chosen)
    if first < needed or not origins:
        raise HistoryTooShortError(
            f"a {weeks}-week backtest with {horizon_days}-day horizon needs {needed + WEEK_DAYS * weeks} complete "
            f"days of history, found {count}"
        )
    errors: dict[ForecastMethod, tuple[list[Floats], list[Floats]]] = {m: ([], []) for m in chosen}
    for origin in origins:
        targets = _targets(series, zone, date.fromordinal(history.ordinal(origin)), horizon_days)
        actual = series.volumes[(targets.starts - series.first_start) // series.interval]
        for method in chosen:
            result = _predict(series, history, origin, targets, method, kinds, profile_weeks, training_days)
            errors[method][0].append(actual)
            errors[method][1].append(result.volumes)
    scores = {m: error_scores(np.concatenate(a), np.concatenate(p)) for m, (a, p) in errors.items()}
    return Backtest(
        scores, tuple(date.fromordinal(history.ordinal(o)) for o in origins), horizon_days, series.interval
    )
