"""Forecasting: synthetic histories with known weekly shape, trend, holidays and DST days, every bad-input
path, and the 1999 Anonymous Bank arrivals (ETS x intraday profiles against seasonal naive)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accueil.workforce.forecast import (
    ForecastCalendar,
    ForecastInputError,
    ForecastMethod,
    HistoryTooShortError,
    IntervalSeries,
    IntervalVolume,
    SpecialDay,
    backtest,
    error_scores,
    forecast,
    prepare_history,
    resample,
)
from accueil.workforce.history import parse_interval_volumes

PARIS = ZoneInfo("Europe/Paris")
NO_HOLIDAYS = ForecastCalendar(holiday_country=None)
WEEKDAY_LEVEL = (1000.0, 950.0, 900.0, 920.0, 800.0, 300.0, 0.0)  # Monday..Sunday; closed on Sunday
PROPERTY = settings(max_examples=25, deadline=None, database=None)
BANK = "wfm/anonymous_bank_1999_6min_calls.csv"
BANK_CALENDAR = ForecastCalendar(time_zone="UTC", holiday_country="IL", holiday_like_weekday=5)  # see below


def office_shape(weekday: int, hour: float) -> float:
    """Weekdays 08:00-20:00 with a 10:00 peak; Saturday 09:00-13:00; Sunday closed (weights per hour)."""
    if weekday < 5 and 8 <= hour < 20:
        return 3.0 if 10 <= hour < 11 else 1.0 + (hour < 12)
    return 1.0 if weekday == 5 and 9 <= hour < 13 else 0.0


def sunday_like_saturday(weekday: int, hour: float) -> float:
    return office_shape(min(weekday, 5), hour)


def round_the_clock_shape(weekday: int, hour: float) -> float:
    return 1.0 + 4.0 * (8 <= hour < 20)


def local_day_starts(day: date, step: int, zone: ZoneInfo = PARIS) -> list[datetime]:
    start = datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
    return [start + timedelta(seconds=k * step) for k in range(int((end - start).total_seconds()) // step)]


def synthetic(
    first: date,
    last: date,
    *,
    step: int = 900,
    shape=office_shape,
    levels: tuple[float, ...] = WEEKDAY_LEVEL,
    trend: float = 0.0,  # relative growth per day
    day_factor=lambda day: 1.0,
    seed: int | None = None,
    handle_time=None,  # (local hour) -> seconds
) -> list[IntervalVolume]:
    """Interval volumes of local days first..last: daily level x trend x factor, spread by the wall-clock
    shape of a standard day (so a DST day has one hour fewer or more); Poisson noise when seeded."""
    rng = np.random.default_rng(seed) if seed is not None else None
    rows = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        weights = [shape(day.weekday(), k * step / 3600) for k in range(86_400 // step)]
        total = levels[day.weekday()] * (1 + trend * offset) * day_factor(day)
        for start in local_day_starts(day, step):
            local = start.astimezone(PARIS)
            hour = local.hour + local.minute / 60
            mean = total * shape(day.weekday(), hour) / sum(weights) if sum(weights) else 0.0
            volume = float(rng.poisson(mean)) if rng is not None else mean
            rows.append(IntervalVolume(start, volume, None if handle_time is None else handle_time(hour)))
    return rows


def series_of(rows: list[IntervalVolume], step: int = 900, **kwargs) -> IntervalSeries:
    return prepare_history(rows, interval=step, **kwargs)


def day_totals(result) -> dict[date, float]:
    return {day.day: day.volume for day in result.days}


# ---------------------------------------------------------------------------------------------------
# History preparation


def test_resampling_sums_volumes_and_weights_handle_times_by_volume() -> None:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    rows = [(t0 + timedelta(minutes=6 * k), float(k), 100.0 + k) for k in range(10)]  # one hour of 6-minute
    rows[1] = (rows[1][0], 1.0, None)  # unknown handle time is left out of the mean
    half_hours = prepare_history(rows, interval=360, resample_to=1800)
    assert half_hours.interval == 1800 and half_hours.first_start == int(t0.timestamp())
    assert half_hours.volumes.tolist() == [0 + 1 + 2 + 3 + 4, 5 + 6 + 7 + 8 + 9]
    assert half_hours.handle_times[0] == pytest.approx((2 * 102 + 3 * 103 + 4 * 104) / 9)
    assert half_hours.handle_times[1] == pytest.approx(sum(k * (100 + k) for k in range(5, 10)) / 35)


def test_six_minutes_to_a_quarter_hour_shares_the_straddling_interval() -> None:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    rows = [
        (t0 + timedelta(minutes=6 * k), float(v), h)
        for k, (v, h) in enumerate([(1, 60), (2, 60), (4, 120), (8, 60), (16, 30)])
    ]
    quarters = prepare_history(rows, interval=360, resample_to=900)  # 00:12-00:18 is split in two
    assert quarters.volumes.tolist() == [1 + 2 + 2, 2 + 8 + 16]
    assert quarters.handle_times.tolist() == [(60 + 2 * 60 + 2 * 120) / 5, (2 * 120 + 8 * 60 + 16 * 30) / 26]


def test_missing_intervals_are_zero_partial_buckets_dropped_and_period_widened() -> None:
    t0 = datetime(2024, 1, 1, 0, 12, tzinfo=UTC)
    rows = [(t0, 1.0), (t0 + timedelta(minutes=30), 2.0), (t0 + timedelta(minutes=48), 4.0)]
    series = prepare_history(rows, interval=360, period_end=datetime(2024, 1, 1, 1, 30, tzinfo=UTC))
    assert series.volumes.tolist() == [1, 0, 0, 0, 0, 2, 0, 0, 4, 0, 0, 0, 0]
    half_hours = resample(series, 1800)  # 00:12-00:30 is a partial bucket: dropped
    assert half_hours.first_start == int(datetime(2024, 1, 1, 0, 30, tzinfo=UTC).timestamp())
    assert half_hours.volumes.tolist() == [2.0, 4.0]
    widened = prepare_history(rows, interval=360, period_start=datetime(2024, 1, 1, tzinfo=UTC))
    assert widened.volumes[:3].tolist() == [0.0, 0.0, 1.0]


@PROPERTY
@given(st.lists(st.floats(0, 1e4, allow_nan=False), min_size=10, max_size=200), st.sampled_from([2, 3, 5]))
def test_resampling_keeps_every_whole_bucket_volume(volumes: list[float], factor: int) -> None:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    series = prepare_history(
        [(t0 + timedelta(minutes=6 * k), v) for k, v in enumerate(volumes)], interval=360
    )
    coarse = resample(series, 360 * factor)
    whole = len(volumes) // factor * factor
    assert coarse.volumes.sum() == pytest.approx(sum(volumes[:whole]), rel=1e-12, abs=1e-9)


# ---------------------------------------------------------------------------------------------------
# Methods on synthetic data


def test_seasonal_naive_repeats_the_last_normal_week() -> None:
    rows = synthetic(date(2024, 1, 8), date(2024, 2, 4), seed=1)  # four weeks, Monday to Sunday
    result = forecast(
        series_of(rows), start=date(2024, 2, 5), days=14, method="seasonal_naive", calendar=NO_HOLIDAYS
    )
    last_week = np.array([row.volume for row in rows[-7 * 96 :]])
    assert result.method is ForecastMethod.SEASONAL_NAIVE
    assert np.array_equal(result.volumes, np.concatenate([last_week, last_week]))  # 2nd week: same week again
    assert result.starts[0] == int(datetime(2024, 2, 4, 23, tzinfo=UTC).timestamp())
    assert result.handle_times is None


@pytest.mark.parametrize("sunday_level", [0.0, 150.0])  # closed Sunday: additive season; open: multiplicative
def test_ets_learns_weekly_pattern_trend_and_intraday_shape(sunday_level: float) -> None:
    levels = (*WEEKDAY_LEVEL[:6], sunday_level)
    shape = office_shape if sunday_level == 0 else sunday_like_saturday
    history = synthetic(date(2023, 9, 4), date(2024, 2, 4), levels=levels, shape=shape, trend=0.002)
    truth = synthetic(date(2023, 9, 4), date(2024, 2, 11), levels=levels, shape=shape, trend=0.002)[
        len(history) :
    ]
    result = forecast(series_of(history), start=date(2024, 2, 5), days=7, calendar=NO_HOLIDAYS)
    expected = np.array([row.volume for row in truth])
    totals = day_totals(result)
    for offset, day in enumerate(sorted(totals)):
        true_total = expected[offset * 96 : (offset + 1) * 96].sum()
        assert totals[day] == pytest.approx(true_total, rel=0.03, abs=1e-6), day
    assert np.abs(result.volumes - expected).max() <= 0.03 * expected.max()
    monday = result.volumes[:96]
    assert int(np.argmax(monday)) == 40  # 10:00 Paris, the peak quarter-hours start there
    if sunday_level == 0:
        assert totals[date(2024, 2, 11)] == 0.0  # closed


def holiday_history(factor: float) -> list[IntervalVolume]:
    """2023-01 to 2025-07, every French public holiday at `factor` times a normal day."""
    french = holidays.country_holidays("FR", categories=ForecastCalendar().holiday_categories)
    return synthetic(
        date(2023, 1, 2), date(2025, 7, 31), day_factor=lambda d: factor if d in french else 1.0, seed=7
    )


@pytest.fixture(scope="module")
def holidays_closed() -> IntervalSeries:
    return series_of(holiday_history(0.05))


@pytest.mark.parametrize("method", ["ets", "seasonal_naive"])
@pytest.mark.parametrize(
    ("week", "holiday"),
    [
        (date(2025, 4, 21), date(2025, 4, 21)),
        (date(2025, 4, 28), date(2025, 5, 1)),
        (date(2025, 7, 14), date(2025, 7, 14)),
    ],
)
def test_holidays_are_forecast_low_when_history_shows_them_low(
    holidays_closed: IntervalSeries, method: str, week: date, holiday: date
) -> None:
    """Easter Monday, 1 May and 14 July had 5 % of a normal day in 2023 and 2024: so in 2025."""
    aware = day_totals(forecast(holidays_closed, start=week, days=7, method=method))
    unaware = day_totals(forecast(holidays_closed, start=week, days=7, method=method, calendar=NO_HOLIDAYS))
    assert aware[holiday] < 0.15 * unaware[holiday]
    assert aware[holiday] > 0  # low, not closed: history shows a few calls
    for day in aware:
        if day != holiday and day.weekday() < 6:
            assert aware[day] == pytest.approx(WEEKDAY_LEVEL[day.weekday()], rel=0.1), (
                day
            )  # other days normal


def test_a_holiday_that_history_shows_normal_stays_normal() -> None:
    series = series_of(holiday_history(1.0))
    aware = day_totals(forecast(series, start=date(2025, 7, 14), days=1))
    normal = day_totals(forecast(series, start=date(2025, 7, 14), days=1, calendar=NO_HOLIDAYS))
    assert aware[date(2025, 7, 14)] == pytest.approx(normal[date(2025, 7, 14)], rel=0.1)


def test_a_holiday_never_seen_in_history_is_forecast_like_sunday() -> None:
    series = series_of(synthetic(date(2025, 1, 6), date(2025, 4, 20), seed=3))  # no holiday in it
    for method in ("ets", "seasonal_naive"):
        result = forecast(series, start=date(2025, 4, 21), days=2, method=method)
        assert result.days[0].kind == "holiday" and result.days[0].volume == 0.0  # Easter Monday, as Sunday
        assert result.days[1].volume > 500


def test_special_days_scale_or_borrow_a_weekday_and_are_not_learnt_from() -> None:
    closure = date(2024, 3, 4)  # a Monday the centre was closed: declared special, it must not teach anything
    rows = synthetic(date(2023, 11, 6), date(2024, 3, 10), day_factor=lambda d: 0.0 if d == closure else 1.0)
    specials = (
        SpecialDay(closure, factor=0.0, name="strike"),
        SpecialDay(date(2024, 3, 12), factor=0.5, name="sales"),
        SpecialDay(date(2024, 3, 13), like_weekday=5, name="bridge day"),
    )
    calendar = ForecastCalendar(holiday_country=None, special_days=specials)
    for method in ("ets", "seasonal_naive"):
        special = day_totals(
            forecast(series_of(rows), start=date(2024, 3, 11), days=7, method=method, calendar=calendar)
        )
        plain = day_totals(
            forecast(series_of(rows), start=date(2024, 3, 11), days=7, method=method, calendar=NO_HOLIDAYS)
        )
        monday = date(2024, 3, 11)
        assert special[monday] == pytest.approx(1000, rel=0.01)  # the declared closure taught nothing
        assert abs(plain[monday] - 1000) > 10 * abs(special[monday] - 1000)  # undeclared, it does
        assert special[date(2024, 3, 12)] == pytest.approx(0.5 * 950, rel=0.01)
        assert special[date(2024, 3, 13)] == pytest.approx(
            special[date(2024, 3, 16)], rel=0.01
        )  # as Saturday


def test_handle_time_follows_the_weekday_and_slot_weighted_by_volume() -> None:
    rows = synthetic(
        date(2024, 1, 8), date(2024, 2, 4), handle_time=lambda hour: 180.0 if hour < 12 else 300.0
    )
    result = forecast(series_of(rows), start=date(2024, 2, 5), days=1, calendar=NO_HOLIDAYS)
    assert result.handle_times is not None
    local_hours = [(datetime.fromtimestamp(s, UTC).astimezone(PARIS)).hour for s in result.starts.tolist()]
    open_slots = result.volumes > 0
    morning = np.array([h < 12 for h in local_hours])
    assert np.allclose(result.handle_times[open_slots & morning], 180.0)
    assert np.allclose(result.handle_times[open_slots & ~morning], 300.0)
    assert np.isfinite(result.handle_times).all()  # night slots without calls: the overall mean, not NaN
    assert result.intervals()[40].handle_time == 180.0


# ---------------------------------------------------------------------------------------------------
# Daylight saving time


@pytest.mark.parametrize("method", ["ets", "seasonal_naive"])
def test_dst_days_have_92_and_100_quarter_hours_shaped_by_the_wall_clock(method: str) -> None:
    rows = synthetic(date(2024, 9, 2), date(2025, 3, 23), shape=round_the_clock_shape, levels=(1000.0,) * 7)
    series = series_of(rows)
    spring = forecast(series, start=date(2025, 3, 29), days=3, method=method, calendar=NO_HOLIDAYS)
    per_day = np.bincount([spring_day_index(spring, s) for s in spring.starts.tolist()])
    assert per_day.tolist() == [96, 92, 96]  # Saturday, the 23-hour Sunday, Monday
    assert (np.diff(spring.starts) == 900).all()  # contiguous in UTC
    first_busy = [
        datetime.fromtimestamp(s, UTC)
        for s, v in zip(spring.starts.tolist(), spring.volumes, strict=True)
        if v > 10
    ]
    assert first_busy[0] == datetime(2025, 3, 29, 7, 0, tzinfo=UTC)  # 08:00 Paris in winter time
    assert datetime(2025, 3, 31, 6, 0, tzinfo=UTC) in first_busy  # 08:00 Paris in summer time
    assert datetime(2025, 3, 31, 5, 45, tzinfo=UTC) not in first_busy

    rows = synthetic(date(2025, 4, 7), date(2025, 10, 19), shape=round_the_clock_shape, levels=(1000.0,) * 7)
    autumn = forecast(series_of(rows), start=date(2025, 10, 26), days=1, method=method, calendar=NO_HOLIDAYS)
    assert len(autumn.starts) == 100
    local = [datetime.fromtimestamp(s, UTC).astimezone(PARIS) for s in autumn.starts.tolist()]
    twice = [v for t, v in zip(local, autumn.volumes, strict=True) if t.hour == 2]
    assert len(twice) == 8 and np.allclose(twice[:4], twice[4:])  # the repeated hour, forecast alike twice


def spring_day_index(result, start: int) -> int:
    local_day = datetime.fromtimestamp(start, UTC).astimezone(PARIS).date()
    return (local_day - result.days[0].day).days


def test_history_across_dst_keeps_wall_clock_profiles() -> None:
    rows = synthetic(date(2025, 2, 3), date(2025, 4, 27))  # clocks change on 30 March, inside the history
    result = forecast(series_of(rows), start=date(2025, 4, 28), days=1, calendar=NO_HOLIDAYS)
    busiest = datetime.fromtimestamp(int(result.starts[np.argmax(result.volumes)]), UTC).astimezone(PARIS)
    assert (busiest.hour, busiest.minute) == (10, 0)
    naive = forecast(
        series_of(rows), start=date(2025, 3, 31), days=1, method="seasonal_naive", calendar=NO_HOLIDAYS
    )
    week_before = {
        r.start.astimezone(PARIS).time(): r.volume
        for r in rows
        if r.start.astimezone(PARIS).date() == date(2025, 3, 24)
    }
    for start, volume in zip(naive.starts.tolist(), naive.volumes, strict=True):
        assert volume == week_before[datetime.fromtimestamp(start, UTC).astimezone(PARIS).time()]


# ---------------------------------------------------------------------------------------------------
# Backtest and error scores


def test_error_scores_skip_zero_actuals_in_mape() -> None:
    scores = error_scores([0.0, 2.0, 4.0], [1.0, 2.0, 2.0])
    assert scores.mae == pytest.approx(1.0)
    assert scores.rmse == pytest.approx(math.sqrt(5 / 3))
    assert scores.mape == pytest.approx(0.25) and scores.mape_points == 2 and scores.points == 3
    assert math.isnan(error_scores([0.0], [1.0]).mape)


def test_backtest_scores_every_interval_of_every_origin() -> None:
    rows = synthetic(date(2024, 1, 1), date(2024, 4, 28), trend=0.003, seed=5)
    result = backtest(series_of(rows), weeks=4, horizon_days=7, calendar=NO_HOLIDAYS)
    assert result.origins == (date(2024, 4, 1), date(2024, 4, 8), date(2024, 4, 15), date(2024, 4, 22))
    for scores in result.scores.values():
        assert scores.points == 4 * 7 * 96
    naive, ets = result.scores[ForecastMethod.SEASONAL_NAIVE], result.scores[ForecastMethod.ETS]
    assert ets.mae < naive.mae  # noisy data: a smoothed level beats repeating last week's noise
    two_weeks = backtest(
        series_of(rows), weeks=4, horizon_days=14, step_days=7, methods=["ets"], calendar=NO_HOLIDAYS
    )
    assert len(two_weeks.origins) == 3 and set(two_weeks.scores) == {ForecastMethod.ETS}


# ---------------------------------------------------------------------------------------------------
# Bad input


T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([], "empty"),
        ([(T0, -1.0)], "row 0: volume must be a finite number >= 0"),
        ([(T0, 1.0), (T0 + timedelta(minutes=15), math.nan)], "row 1: volume must be a finite number"),
        ([(T0, 1.0), (T0 + timedelta(minutes=15), "3")], "row 1: volume must be a number"),
        ([(T0, 1.0, -5.0)], "row 0: handle_time must be a finite number >= 0"),
        ([(T0, 1.0, "90")], "row 0: handle_time must be a number"),
        ([(T0.replace(tzinfo=None), 1.0)], "row 0: start must be a timezone-aware datetime"),
        ([(T0, 1.0), ("2024-01-01", 1.0)], "row 1: start must be a timezone-aware datetime"),
        ([(T0,)], "row 0: expected (start, volume[, handle_time])"),
        ([(T0 + timedelta(minutes=15), 1.0), (T0, 1.0)], "row 1: start 2024-01-01T00:00:00+00:00 is before"),
        ([(T0, 1.0), (T0, 2.0)], "row 1: start 2024-01-01T00:00:00+00:00 repeats"),
        ([(T0, 1.0), (T0 + timedelta(minutes=20), 2.0)], "off the 900-second grid"),
    ],
)
def test_bad_history_rows(rows: list, message: str) -> None:
    with pytest.raises(ForecastInputError) as caught:
        prepare_history(rows, interval=900)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"interval": 0}, "interval must be a whole number >= 60"),
        ({"interval": 7 * 60}, "interval must divide a day"),
        ({"interval": 900.5}, "interval must be a whole number"),
        ({"interval": 900, "resample_to": 600}, "cannot resample 900-second intervals to finer"),
        ({"interval": 900, "period_start": T0 + timedelta(hours=1)}, "period_start"),
        ({"interval": 900, "period_end": T0}, "period_end"),
    ],
)
def test_bad_history_settings(kwargs: dict, message: str) -> None:
    with pytest.raises(ForecastInputError, match=message):
        prepare_history([(T0, 1.0)], **kwargs)


@pytest.fixture(scope="module")
def four_weeks() -> IntervalSeries:
    return series_of(synthetic(date(2024, 1, 1), date(2024, 1, 28), seed=2))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"method": "prophet"}, ForecastInputError, "unknown method"),
        ({"start": datetime(2024, 1, 29, tzinfo=UTC)}, ForecastInputError, "start must be a local date"),
        ({"days": 0}, ForecastInputError, "days must be a whole number >= 1"),
        ({"profile_weeks": 0}, ForecastInputError, "profile_weeks"),
        ({"calendar": ForecastCalendar(time_zone="Mars/Olympus")}, ForecastInputError, "unknown time zone"),
        ({"calendar": ForecastCalendar(holiday_country="XX")}, ForecastInputError, "holiday calendar"),
        ({"calendar": ForecastCalendar(holiday_like_weekday=7)}, ForecastInputError, "holiday_like_weekday"),
        ({"start": date(2024, 1, 20)}, HistoryTooShortError, "ets needs 21 complete local days .* found 19"),
        ({"start": date(2023, 12, 1), "method": "seasonal_naive"}, HistoryTooShortError, "found 0"),
    ],
)
def test_bad_forecast_requests(four_weeks: IntervalSeries, kwargs: dict, error: type, message: str) -> None:
    request = {"start": date(2024, 1, 29), "days": 7, **kwargs}
    with pytest.raises(error, match=message):
        forecast(four_weeks, **request)


def test_bad_special_days_and_backtests(four_weeks: IntervalSeries) -> None:
    with pytest.raises(ForecastInputError, match="exactly one"):
        SpecialDay(date(2024, 1, 1))
    with pytest.raises(ForecastInputError, match="exactly one"):
        SpecialDay(date(2024, 1, 1), factor=0.5, like_weekday=1)
    with pytest.raises(ForecastInputError, match="factor"):
        SpecialDay(date(2024, 1, 1), factor=-1.0)
    with pytest.raises(ForecastInputError, match="twice"):
        forecast(
            four_weeks,
            start=date(2024, 1, 29),
            days=1,
            calendar=ForecastCalendar(special_days=(SpecialDay(date(2024, 1, 1), factor=0.0),) * 2),
        )
    with pytest.raises(HistoryTooShortError, match="needs 77 complete days of history, found 28"):
        backtest(four_weeks, weeks=8)
    with pytest.raises(ForecastInputError, match="weeks"):
        backtest(four_weeks, weeks=0)
    with pytest.raises(ForecastInputError, match="at least one method"):
        backtest(four_weeks, weeks=1, methods=[])
    with pytest.raises(ForecastInputError, match="same length"):
        error_scores([1.0], [1.0, 2.0])


@PROPERTY
@given(st.lists(st.integers(0, 50), min_size=8 * 48, max_size=8 * 48), st.integers(1, 9))
def test_forecasts_are_never_negative_and_days_add_up(volumes: list[int], days: int) -> None:
    rows = [
        (datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=30 * k), float(v))
        for k, v in enumerate(volumes)
    ]
    series = prepare_history(rows, interval=1800)
    calendar = ForecastCalendar(time_zone="UTC", holiday_country=None)
    result = forecast(series, start=date(2024, 1, 9), days=days, method="seasonal_naive", calendar=calendar)
    assert (result.volumes >= 0).all() and len(result.volumes) == 48 * days
    assert sum(day.volume for day in result.days) == pytest.approx(result.volumes.sum())
    assert result.volumes[:48].tolist() == [float(v) for v in volumes[48:96]]  # Tuesday from last Tuesday


# ---------------------------------------------------------------------------------------------------
# The 1999 Anonymous Bank (an Israeli bank): Friday short, Saturday nearly closed, Sunday a working day.
# Its clock has no DST (240 six-minute intervals every day), so it is read as UTC; holidays are Israel's.


@pytest.fixture(scope="module")
def bank(shared_data) -> IntervalSeries:
    with shared_data(BANK).open(newline="") as handle:
        history = parse_interval_volumes(handle, columns={"volume": "calls"}, time_zone="UTC", interval=360)
    return prepare_history(history.queues[""], interval=history.interval, resample_to=1800)


def test_anonymous_bank_ets_beats_seasonal_naive_over_eight_weeks(bank: IntervalSeries) -> None:
    result = backtest(bank, weeks=8, horizon_days=7, calendar=BANK_CALENDAR)
    naive, ets = result.scores[ForecastMethod.SEASONAL_NAIVE], result.scores[ForecastMethod.ETS]
    assert result.origins[0] == date(1999, 11, 6) and len(result.origins) == 8
    assert naive.points == ets.points == 8 * 7 * 48
    assert ets.mae < naive.mae
    assert ets.rmse < naive.rmse
    assert ets.mape < naive.mape


def test_anonymous_bank_first_week_of_2000(bank: IntervalSeries) -> None:
    result = forecast(bank, start=date(2000, 1, 1), days=7, calendar=BANK_CALENDAR)
    assert len(result.volumes) == 7 * 48
    totals = [day.volume for day in result.days]  # Saturday 1 January .. Friday 7 January
    assert totals[0] == min(totals) and totals[6] < 0.5 * min(totals[1:6])  # Saturday, then Friday lowest
    december = bank.volumes[-4 * 7 * 48 :].reshape(4, 7 * 48).sum(axis=1)
    assert december.min() * 0.9 < sum(totals) < december.max() * 1.1


def test_anonymous_bank_yom_kippur_is_forecast_low(bank: IntervalSeries) -> None:
    """Yom Kippur (Monday 20 September 1999) was never seen before in this one-year history; the other
    holidays were, and they say a holiday is a quiet day."""
    day_index = (date(1999, 9, 20) - date(1999, 1, 1)).days
    actual = bank.volumes[day_index * 48 : (day_index + 1) * 48].sum()
    for method in ("ets", "seasonal_naive"):
        aware = day_totals(
            forecast(bank, start=date(1999, 9, 19), days=2, method=method, calendar=BANK_CALENDAR)
        )
        unaware_calendar = ForecastCalendar(time_zone="UTC", holiday_country=None)
        unaware = day_totals(
            forecast(bank, start=date(1999, 9, 19), days=2, method=method, calendar=unaware_calendar)
        )
        yom_kippur = date(1999, 9, 20)
        assert abs(aware[yom_kippur] - actual) < 0.2 * abs(unaware[yom_kippur] - actual)
