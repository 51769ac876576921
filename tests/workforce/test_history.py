"""CSV history import: column mapping, time zones and DST, call records, and every bad-row path (line numbers
reported, nothing imported unless told to skip), on hand-written files and the 1999 Anonymous Bank data."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accueil.workforce.forecast import IntervalVolume, prepare_history
from accueil.workforce.history import (
    MAX_REPORTED_BAD_ROWS,
    BadRow,
    HistoryImportError,
    IntervalCounts,
    parse_call_records,
    parse_interval_volumes,
)

BANK = "wfm/anonymous_bank_1999_6min_calls.csv"
PROPERTY = settings(max_examples=40, deadline=None, database=None)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def text(*lines: str) -> str:
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------
# Interval volumes


def test_default_columns_local_times_and_queues() -> None:
    result = parse_interval_volumes(
        text(
            "interval_start,volume,handle_time,queue",
            "2024-01-15 09:00:00,12,180,sales",
            "2024-01-15 09:15:00,7,03:20,sales",
            "2024-07-15 09:00:00,3,,support",
        )
    )
    assert result.rows == 3 and result.skipped == ()
    assert result.queues["sales"] == (
        IntervalVolume(utc(2024, 1, 15, 8, 0), 12.0, 180.0),  # Paris is UTC+1 in winter
        IntervalVolume(utc(2024, 1, 15, 8, 15), 7.0, 200.0),  # MM:SS handle time
    )
    assert result.queues["support"] == (IntervalVolume(utc(2024, 7, 15, 7, 0), 3.0, None),)  # UTC+2 in summer
    assert result.interval == 900


def test_mapping_semicolons_decimal_commas_bom_and_unsorted_rows() -> None:
    source = text(
        "\ufeffDébut;Appels;DMT",
        "2024-03-01T10:30:00Z;2,5;1:02:03",
        "2024-03-01T10:00:00+01:00;4;90,5",
    )
    result = parse_interval_volumes(
        source, columns={"interval_start": "Début", "volume": "appels", "handle_time": "DMT"}, time_zone="UTC"
    )
    assert result.queues[""] == (
        IntervalVolume(utc(2024, 3, 1, 9, 0), 4.0, 90.5),  # offsets respected, rows sorted
        IntervalVolume(utc(2024, 3, 1, 10, 30), 2.5, 3723.0),
    )
    assert result.interval == 5400


def test_tab_delimiter_custom_timestamp_format_and_list_of_lines() -> None:
    lines = ["when\tcalls\n", "15/01/2024 09:00\t1\n", "15/01/2024 09:30\t2\n"]
    result = parse_interval_volumes(
        lines, columns={"interval_start": "when", "volume": "calls"}, timestamp_format="%d/%m/%Y %H:%M"
    )
    assert [row.start for row in result.queues[""]] == [utc(2024, 1, 15, 8, 0), utc(2024, 1, 15, 8, 30)]


def test_dst_gap_is_a_bad_row_and_repeated_hour_reads_first_then_second() -> None:
    source = text(
        "interval_start,volume",
        "2024-03-31 01:45:00,1",
        "2024-03-31 02:15:00,1",  # clocks jump from 02:00 to 03:00 in Paris
        "2024-03-31 03:00:00,1",
    )
    with pytest.raises(HistoryImportError) as caught:
        parse_interval_volumes(source)
    assert caught.value.bad_rows == (BadRow(3, caught.value.bad_rows[0].reason),)
    assert "does not exist in Europe/Paris" in caught.value.bad_rows[0].reason

    autumn = parse_interval_volumes(
        text(
            "interval_start,volume", "2024-10-27 02:00:00,5", "2024-10-27 02:00:00,7", "2024-10-27 03:00:00,1"
        )
    )
    assert [(row.start, row.volume) for row in autumn.queues[""]] == [
        (utc(2024, 10, 27, 0, 0), 5.0),  # first 02:00 (summer time, UTC+2)
        (utc(2024, 10, 27, 1, 0), 7.0),  # second 02:00 (winter time, UTC+1)
        (utc(2024, 10, 27, 2, 0), 1.0),
    ]


def test_bad_rows_are_all_reported_with_line_numbers_and_nothing_is_imported() -> None:
    source = text(
        "interval_start,volume,queue",
        "2024-01-15 09:00:00,3,a",
        "2024-01-15 09:15:00,abc,a",  # 3: not a number
        "2024-01-15 09:30:00,-1,a",  # 4: negative
        "",  # blank lines are skipped, not bad
        "yesterday,1,a",  # 6: not a timestamp
        "2024-01-15 09:45:00,1",  # 7: missing field
        "2024-01-15 09:00:00,2,a",  # 8: same interval as line 2
        ",1,a",  # 9: empty start
        '"2024-01-15 10:00:00",nan,a',  # 10: not finite
        "0001-01-01 00:00:00,1,a",  # 11: before UTC can hold it, once shifted from Paris time
        "2024-01-15 10:10:00,1,a",  # 12: off the 15-minute grid
        "2024-01-15 09:00:00,2,b",  # fine: another queue
    )
    with pytest.raises(HistoryImportError) as caught:
        parse_interval_volumes(source, interval=900)
    error = caught.value
    assert [row.line for row in error.bad_rows] == [3, 4, 6, 7, 8, 9, 10, 11, 12]
    assert error.bad_row_count == 9
    reasons = dict(error.bad_rows)
    assert "not a number" in reasons[3] and ">= 0" in reasons[4] and "not a timestamp" in reasons[6]
    assert "2 fields where the header has 3" in reasons[7] and "repeats line 2" in reasons[8]
    assert "empty" in reasons[9] and "finite" in reasons[10] and "unreadable" in reasons[11]
    assert "15-minute grid" in reasons[12]
    assert "line 3:" in str(error) and "(and 4 more)" in str(error)

    skipped = parse_interval_volumes(source, interval=900, skip_bad_rows=True)
    assert [row.line for row in skipped.skipped] == [3, 4, 6, 7, 8, 9, 10, 11, 12]
    assert skipped.rows == 2
    assert {queue: len(rows) for queue, rows in skipped.queues.items()} == {"a": 1, "b": 1}


def test_reported_bad_rows_are_capped_but_counted() -> None:
    source = text("interval_start,volume", *[f"2024-01-01 00:{m:02d}:00,x" for m in range(60)] * 3)
    with pytest.raises(HistoryImportError) as caught:
        parse_interval_volumes(source)
    assert caught.value.bad_row_count == 180
    assert len(caught.value.bad_rows) == MAX_REPORTED_BAD_ROWS
    assert caught.value.bad_rows[0].line == 2


def test_quoted_field_spanning_lines_keeps_later_line_numbers_right() -> None:
    source = text(
        "interval_start,volume,queue", '2024-01-15 09:00:00,1,"two', 'lines"', "2024-01-15 09:15:00,x,q"
    )
    with pytest.raises(HistoryImportError) as caught:
        parse_interval_volumes(source)
    assert [row.line for row in caught.value.bad_rows] == [4]


def test_an_unreadable_csv_row_is_a_bad_row_and_reading_goes_on() -> None:
    oversized = '"' + "x" * 200_000 + '"'  # beyond the csv module's field size limit
    source = text(
        "interval_start,volume,queue", f"2024-01-15 09:00:00,1,{oversized}", "2024-01-15 09:15:00,2,q"
    )
    with pytest.raises(HistoryImportError) as caught:
        parse_interval_volumes(source)
    assert [row.line for row in caught.value.bad_rows] == [2]
    assert "unreadable CSV" in caught.value.bad_rows[0].reason
    assert parse_interval_volumes(source, skip_bad_rows=True).queues["q"][0].volume == 2.0


@pytest.mark.parametrize(
    ("source", "columns", "message"),
    [
        ("", None, "empty"),
        ("time,volume\n2024-01-01 00:00:00,1\n", None, "interval_start (column 'interval_start')"),
        ("interval_start,volume\n", {"handle_time": "AHT"}, "handle_time (column 'AHT')"),
    ],
)
def test_header_problems_are_line_one(source: str, columns: dict[str, str] | None, message: str) -> None:
    with pytest.raises(HistoryImportError, match="line 1") as caught:
        parse_interval_volumes(source, columns=columns)
    assert message in str(caught.value)


def test_bad_settings() -> None:
    with pytest.raises(HistoryImportError, match="unknown column keys"):
        parse_interval_volumes("a,b\n", columns={"calls": "b"})
    with pytest.raises(HistoryImportError, match="unknown time zone"):
        parse_interval_volumes("interval_start,volume\n", time_zone="Mars/Olympus")
    with pytest.raises(HistoryImportError, match="interval"):
        parse_interval_volumes("interval_start,volume\n", interval=7 * 60)
    with pytest.raises(HistoryImportError, match="progress_every"):
        parse_interval_volumes("interval_start,volume\n", progress_every=0)


def test_an_empty_file_with_a_header_imports_nothing_without_error() -> None:
    result = parse_interval_volumes("interval_start,volume\n")
    assert result.queues == {} and result.rows == 0 and result.interval is None


def test_progress_is_reported_every_n_rows_with_total_when_known() -> None:
    lines = ["interval_start,volume"] + [f"2024-01-01 {h:02d}:00:00,1" for h in range(5)]
    calls: list[tuple[int, int | None]] = []
    parse_interval_volumes(lines, progress=lambda done, total: calls.append((done, total)), progress_every=2)
    assert calls == [(2, 5), (4, 5), (5, 5)]

    streamed: list[tuple[int, int | None]] = []
    parse_interval_volumes(iter(lines), progress=lambda d, t: streamed.append((d, t)), progress_every=2)
    assert streamed == [(2, None), (4, None), (5, 5)]  # the end says the total once it is known


@PROPERTY
@given(
    st.lists(
        st.tuples(st.integers(0, 500), st.integers(0, 10_000)),
        min_size=1,
        max_size=40,
        unique_by=lambda r: r[0],
    )
)
def test_written_volumes_read_back(rows: list[tuple[int, int]]) -> None:
    """Whatever interval volumes are written out in UTC, the same come back, sorted."""
    lines = ["interval_start,volume"] + [
        f"{(utc(2024, 1, 1) + timedelta(minutes=15 * slot)).isoformat()},{volume}" for slot, volume in rows
    ]
    result = parse_interval_volumes(lines, interval=900)
    expected = sorted((utc(2024, 1, 1) + timedelta(minutes=15 * slot), float(v)) for slot, v in rows)
    assert [(row.start, row.volume) for row in result.queues[""]] == expected


# ---------------------------------------------------------------------------------------------------
# Call records


def test_call_records_give_offered_answered_abandoned_and_mean_handle_time() -> None:
    source = text(
        "arrival,answer,end,queue",
        "2024-01-15 09:01:00,2024-01-15 09:01:30,2024-01-15 09:04:30,sales",  # handled 180 s
        "2024-01-15 09:14:59,2024-01-15 09:16:00,2024-01-15 09:21:00,sales",  # handled 300 s, same interval
        "2024-01-15 09:05:00,,2024-01-15 09:06:00,sales",  # abandoned
        "2024-01-15 09:15:00,,,sales",  # abandoned, no end: next interval
        "2024-01-15 09:20:00,2024-01-15 09:20:10,2024-01-15 09:22:10,support",
    )
    result = parse_call_records(source, interval=900)
    assert result.rows == 5 and result.interval == 900
    assert result.queues["sales"] == (
        IntervalCounts(utc(2024, 1, 15, 8, 0), offered=3, answered=2, abandoned=1, handle_time=240.0),
        IntervalCounts(utc(2024, 1, 15, 8, 15), offered=1, answered=0, abandoned=1, handle_time=None),
    )
    assert result.volumes("support") == [IntervalVolume(utc(2024, 1, 15, 8, 15), 1.0, 120.0)]


def test_call_records_feed_the_forecast_history() -> None:
    source = text("arrival,answer,end", "2024-01-15 09:01:00,2024-01-15 09:02:00,2024-01-15 09:03:00")
    series = prepare_history(parse_call_records(source, interval=1800).volumes(), interval=1800)
    assert series.volumes.tolist() == [1.0] and series.handle_times.tolist() == [60.0]


def test_a_call_across_the_autumn_change_reads_its_later_times_after_its_arrival() -> None:
    source = text("arrival,answer,end", "2024-10-27 02:50:00,2024-10-27 02:05:00,2024-10-27 02:10:00")
    result = parse_call_records(source, interval=900)
    (interval,) = result.queues[""]
    assert interval.start == utc(2024, 10, 27, 0, 45)  # first 02:45-03:00, summer time
    assert interval.handle_time == 300.0  # answered at the second 02:05 (01:05 UTC), 15 minutes after


def test_thirty_minute_intervals_follow_the_local_clock() -> None:
    result = parse_call_records(text("arrival,answer,end", "2024-07-01T07:59:59Z,,"), interval=1800)
    assert result.queues[""][0].start == utc(2024, 7, 1, 7, 30)  # 09:30 in Paris


def test_call_record_bad_rows() -> None:
    source = text(
        "arrival,answer,end",
        "2024-01-15 09:00:00,2024-01-15 09:01:00,2024-01-15 09:03:00",
        "2024-01-15 09:00:00,2024-01-15 08:59:00,2024-01-15 09:03:00",  # 3: answered before arrival
        "2024-01-15 09:00:00,2024-01-15 09:01:00,2024-01-15 09:00:30",  # 4: ended before answer
        "2024-01-15 09:00:00,2024-01-15 09:01:00,",  # 5: answered, no end
        "2024-01-15 09:00:00,,2024-01-15 08:00:00",  # 6: abandoned before arriving
        ",2024-01-15 09:01:00,2024-01-15 09:03:00",  # 7: no arrival
        "2024-03-31 02:30:00,,",  # 8: local time that does not exist
    )
    with pytest.raises(HistoryImportError) as caught:
        parse_call_records(source)
    reasons = dict(caught.value.bad_rows)
    assert list(reasons) == [3, 4, 5, 6, 7, 8]
    assert "before it arrived" in reasons[3] and "before it was answered" in reasons[4]
    assert "no end time" in reasons[5] and "ends (2024-01-15 08:00:00) before it arrived" in reasons[6]
    assert "arrival is empty" in reasons[7] and "does not exist" in reasons[8]

    kept = parse_call_records(source, skip_bad_rows=True)
    assert kept.rows == 1 and [row.line for row in kept.skipped] == [3, 4, 5, 6, 7, 8]
    assert kept.queues[""][0].offered == 1


# ---------------------------------------------------------------------------------------------------
# The 1999 Anonymous Bank data


def bank_day_totals(path) -> dict[str, float]:
    """The file's own daily sums, read with the csv module alone (independent of the parser)."""
    totals: dict[str, float] = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            totals[row["Date"]] = totals.get(row["Date"], 0.0) + float(row["calls"])
    return totals


def test_anonymous_bank_file_reads_whole_with_a_mapping_and_progress(shared_data) -> None:
    path = shared_data(BANK)
    progress: list[tuple[int, int | None]] = []
    with path.open(newline="") as handle:
        result = parse_interval_volumes(
            handle,
            columns={"volume": "calls"},
            time_zone="UTC",  # every day of the file has 240 six-minute intervals: its clock has no DST
            interval=360,
            progress=lambda done, total: progress.append((done, total)),
            progress_every=20_000,
        )
    rows = result.queues[""]
    assert result.rows == len(rows) == 87_600 and result.interval == 360
    assert progress == [(20_000, None), (40_000, None), (60_000, None), (80_000, None), (87_600, 87_600)]
    totals = bank_day_totals(path)
    may_23 = sum(row.volume for row in rows if row.start.date() == datetime(1999, 5, 23).date())
    assert may_23 == pytest.approx(totals["1999-05-23"])  # the day with imputed fractional values
    assert may_23 != int(may_23)
    assert sum(row.volume for row in rows) == pytest.approx(sum(totals.values()))


def test_anonymous_bank_read_as_israeli_local_time_reports_the_missing_spring_hour(shared_data) -> None:
    """Israel moved its clocks forward at 02:00 on 2 April 1999; the file's clock did not, so read as
    Asia/Jerusalem its ten 6-minute rows from 02:00 to 02:54 that day do not exist (first 100 days read)."""
    with shared_data(BANK).open(newline="") as handle:
        lines = handle.readlines()[: 1 + 100 * 240]
    day_index = (datetime(1999, 4, 2) - datetime(1999, 1, 1)).days
    expected_lines = [2 + day_index * 240 + 20 + k for k in range(10)]  # header is line 1; 02:00 is u = 21
    assert all(lines[n - 1].startswith("1999-04-02 02:") for n in expected_lines)
    with pytest.raises(HistoryImportError) as caught:
        parse_interval_volumes(lines, columns={"volume": "calls"}, time_zone="Asia/Jerusalem")
    assert [row.line for row in caught.value.bad_rows] == expected_lines
    kept = parse_interval_volumes(
        io.StringIO("".join(lines)),
        columns={"volume": "calls"},
        time_zone="Asia/Jerusalem",
        skip_bad_rows=True,
    )
    assert kept.rows == 100 * 240 - 10 and [row.line for row in kept.skipped] == expected_lines
