"""Contact history on a regular interval grid: the input of the forecast, checked and resampled.

Why: history arrives from accueil's own interactions or from CSV exports at any interval (6, 15, 30 min...)
and with gaps; the forecast needs one regular UTC grid, with volumes (and mean handle times where known)
per interval, an interval missing inside the period meaning no contact. Pure: no I/O, no clock.

    prepare_history(rows, *, interval, resample_to=None, period_start=None, period_end=None) -> IntervalSeries
    resample(series, interval) -> IntervalSeries
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, NamedTuple

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]

DAY: Final = 86_400  # seconds
_NUMBER_TYPES: Final = {int, float, np.float64, np.float32, np.int64, np.int32}


class ForecastInputError(ValueError):
    """History or settings a forecast cannot be built from (unsorted, negative, bad interval...)."""


class HistoryTooShortError(ForecastInputError):
    """Not enough complete local days of history before the forecast start for the chosen method."""


class IntervalVolume(NamedTuple):
    """One interval of history: its UTC start, contacts that arrived, mean handle seconds if known."""

    start: datetime
    volume: float
    handle_time: float | None = None


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


# ---------------------------------------------------------------------------------------------------
# History


def whole_at_least(name: str, value: object, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value) or value < least:
        raise ForecastInputError(f"{name} must be a whole number >= {least}, got {value!r}")
    return int(value)


def _interval_seconds(name: str, value: object) -> int:
    seconds = whole_at_least(name, value, 60)
    if DAY % seconds:
        raise ForecastInputError(f"{name} must divide a day (900, 1800...), got {seconds} s")
    return seconds


def _epoch(name: str, value: object) -> int:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ForecastInputError(f"{name} must be a timezone-aware datetime, got {value!r}")
    seconds = value.timestamp()
    if seconds != int(seconds):
        raise ForecastInputError(f"{name} must fall on a whole second, got {value.isoformat()}")
    return int(seconds)


def _number(name: str, value: object, *, missing_ok: bool = False) -> float:
    if missing_ok and (value is None or (isinstance(value, float) and math.isnan(value))):
        return math.nan
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ForecastInputError(f"{name} must be a number, got {value!r}")
    if not (math.isfinite(value) and value >= 0):
        raise ForecastInputError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def _rows_to_arrays(rows: Iterable[Sequence[object]]) -> tuple[Ints, Floats, Floats]:
    """Columns of the rows: in bulk when every row is plainly right (a year of 6-minute rows is 87,600),
    else row by row, to name the first bad one."""
    rows = list(rows)
    if not rows:
        raise HistoryTooShortError("history is empty")
    try:
        if {len(row) for row in rows} - {2, 3} or {type(row[1]) for row in rows} - _NUMBER_TYPES:
            raise TypeError
        if {type(row[2]) for row in rows if len(row) == 3} - _NUMBER_TYPES - {type(None)}:
            raise TypeError
        handles = np.array([row[2] if len(row) == 3 else None for row in rows], dtype=float)  # None: NaN
        aware = [row[0].timestamp() for row in rows if row[0].utcoffset() is not None]  # type: ignore
        starts, volumes = np.array(aware), np.array([row[1] for row in rows], dtype=float)
        if len(starts) < len(rows) or (starts % 1).any() or not (np.isfinite(volumes) & (volumes >= 0)).all():
            raise ValueError
        if np.isinf(handles).any() or (handles < 0).any():
            raise ValueError
        return starts.astype(np.int64), volumes, handles
    except (TypeError, ValueError, AttributeError):
        pass
    columns: tuple[list[int], list[float], list[float]] = ([], [], [])
    for i, row in enumerate(rows):
        if not isinstance(row, Sequence) or isinstance(row, str) or len(row) not in (2, 3):
            raise ForecastInputError(f"row {i}: expected (start, volume[, handle_time]), got {row!r}")
        columns[0].append(_epoch(f"row {i}: start", row[0]))
        columns[1].append(_number(f"row {i}: volume", row[1]))
        columns[2].append(
            _number(f"row {i}: handle_time", row[2] if len(row) == 3 else None, missing_ok=True)
        )
    return np.array(columns[0], dtype=np.int64), np.array(columns[1]), np.array(columns[2])


def prepare_history(
    rows: Iterable[Sequence[object]],
    *,
    interval: int,
    resample_to: int | None = None,
    period_start: datetime | None = None,
    period_end: datetime | None = None,
) -> IntervalSeries:
    """Check history rows and lay them on a regular grid (missing intervals = no contacts), optionally
    summed to a coarser interval. period_start/period_end widen the period covered (a call export whose
    first or last intervals had no call); partial local days at either end are never learnt from."""
    step = _interval_seconds("interval", interval)
    starts, volumes, handles = _rows_to_arrays(rows)
    gaps = np.diff(starts)
    if (gaps <= 0).any():
        i = int(np.flatnonzero(gaps <= 0)[0]) + 1
        what = "repeats the previous row's" if gaps[i - 1] == 0 else "is before the previous row's"
        raise ForecastInputError(f"row {i}: start {iso_utc(starts[i])} {what} (sort, one row per interval)")
    if (gaps % step).any():
        i = int(np.flatnonzero(gaps % step)[0]) + 1
        raise ForecastInputError(f"row {i}: start {iso_utc(starts[i])} is off the {step}-second grid of row 0")
    first, end = int(starts[0]), int(starts[-1]) + step
    if period_start is not None:
        first = _epoch("period_start", period_start)
        if first > starts[0] or (starts[0] - first) % step:
            raise ForecastInputError("period_start must be on the interval grid, at or before the first row")
    if period_end is not None:
        end = _epoch("period_end", period_end)
        if end < starts[-1] + step or (end - starts[-1]) % step:
            raise ForecastInputError("period_end must be on the interval grid, at or after the last row")
    grid_volumes, grid_handles = np.zeros((end - first) // step), np.full((end - first) // step, math.nan)
    grid_volumes[(starts - first) // step], grid_handles[(starts - first) // step] = volumes, handles
    series = IntervalSeries(first, step, grid_volumes, grid_handles)
    return series if resample_to is None else resample(series, resample_to)


def resample(series: IntervalSeries, interval: int) -> IntervalSeries:
    """Sum volumes into coarser intervals aligned on UTC multiples of `interval` (local ones in any zone
    whose offset is a multiple of it); handle time volume-weighted; partial end buckets dropped. When it
    is not a multiple (6 to 15 minutes), a source interval's volume is shared evenly by the intervals it
    overlaps, as if its arrivals were spread evenly."""
    target = _interval_seconds("resample_to", interval)
    if target < series.interval:
        raise ForecastInputError(f"cannot resample {series.interval}-second intervals to finer {target} s")
    if target == series.interval:
        return series
    fine = math.gcd(series.interval, target)
    parts = series.interval // fine
    begin, until = -(-series.first_start // target) * target, series.end // target * target
    if until <= begin:
        raise HistoryTooShortError(f"history is shorter than one {target}-second interval")
    lo, hi = ((edge - series.first_start) // fine for edge in (begin, until))
    volumes = np.repeat(series.volumes / parts, parts)[lo:hi].reshape(-1, target // fine)
    handles = np.repeat(series.handle_times, parts)[lo:hi].reshape(volumes.shape)
    known = np.isfinite(handles)
    weight = np.where(known, volumes, 0.0).sum(axis=1)
    weighted = np.where(known, handles * volumes, 0.0).sum(axis=1)
    mean_handle = np.divide(weighted, weight, out=np.full(len(weight), math.nan), where=weight > 0)
    return IntervalSeries(begin, target, volumes.sum(axis=1), mean_handle)


def iso_utc(epoch: int | np.integer) -> str:
    return datetime.fromtimestamp(int(epoch), UTC).isoformat()
