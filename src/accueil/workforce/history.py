"""Contact history read from CSV exports: interval volumes, or one row per call.

Why: a site that starts with accueil has its history in another system (telephony platform, ACD, a
spreadsheet), exported either as volumes per interval or as call records with arrival, answer and end
times. Forecasting needs that history; a planner needs to know exactly which lines of the export are wrong
before anything is imported, so a file with bad rows imports nothing unless told to skip them.

Pure: takes the text (a string, a text stream or any iterable of lines), never a path; no clock. Columns
are mapped by the caller (our field name -> the export's header), the delimiter is detected from the header
(, ; tab |) and a semicolon file may use decimal commas. Timestamps are ISO 8601 (with "T" or a space,
optional fraction, "Z" or an offset) or a strptime `timestamp_format`; naive ones are local times in
`time_zone` (default Europe/Paris) and a local time the clocks skip is a bad row. A local time the clocks
repeat (when they go back) is read as its first occurrence, except that a repeated interval start in a
volume file is the second one, and a call's later timestamps are never read as earlier than its arrival.
Everything returned is UTC. Handle times are seconds, or [H:]MM:SS.

    parse_interval_volumes(source, *, columns=None, time_zone="Europe/Paris", interval=None, ...)
        -> VolumeHistory      per queue: IntervalVolume(start, volume, handle_time) sorted by start
    parse_call_records(source, *, interval=900, columns=None, time_zone="Europe/Paris", ...)
        -> CallHistory        per queue: IntervalCounts(start, offered, answered, abandoned, handle_time)

A call is counted in the interval it arrived in; it is abandoned when it has no answer time; its handle
time is end - answer (talk time: exports rarely carry wrap-up). `progress(rows_done, total_or_None)` is
called every `progress_every` rows and at the end, so a command line can drive a progress bar.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from accueil.workforce.intervals import IntervalVolume

DEFAULT_VOLUME_COLUMNS: Final = {
    "interval_start": "interval_start",
    "volume": "volume",
    "handle_time": "handle_time",  # optional
    "queue": "queue",  # optional
}
DEFAULT_CALL_COLUMNS: Final = {"arrival": "arrival", "answer": "answer", "end": "end", "queue": "queue"}
_REQUIRED: Final = {"interval_start", "volume", "arrival", "answer", "end"}
MAX_REPORTED_BAD_ROWS: Final = 100
DEFAULT_QUEUE: Final = ""  # queue of every row when the file has no queue column
_DELIMITERS: Final = ",;\t|"
_DURATION: Final = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2}(?:\.\d+)?)$")

Progress = Callable[[int, int | None], None]


class BadRow(NamedTuple):
    line: int  # 1-based line of the file where the row starts (the header is line 1)
    reason: str


class HistoryImportError(ValueError):
    """The file cannot be imported as it is; `bad_rows` lists the first MAX_REPORTED_BAD_ROWS problems."""

    def __init__(self, message: str, bad_rows: Sequence[BadRow] = (), bad_row_count: int | None = None):
        self.bad_rows = tuple(bad_rows[:MAX_REPORTED_BAD_ROWS])
        self.bad_row_count = len(bad_rows) if bad_row_count is None else bad_row_count
        shown = "; ".join(f"line {row.line}: {row.reason}" for row in self.bad_rows[:5])
        more = f" (and {self.bad_row_count - 5} more)" if self.bad_row_count > 5 else ""
        super().__init__(f"{message}: {shown}{more}" if shown else message)


class IntervalCounts(NamedTuple):
    start: datetime  # UTC
    offered: int
    answered: int
    abandoned: int
    handle_time: float | None  # mean seconds over answered calls


@dataclass(frozen=True)
class VolumeHistory:
    queues: dict[str, tuple[IntervalVolume, ...]]
    interval: int | None  # seconds: greatest common gap between starts (None with one row per queue)
    rows: int  # rows imported
    skipped: tuple[BadRow, ...]  # rows left out (only with skip_bad_rows=True)


@dataclass(frozen=True)
class CallHistory:
    queues: dict[str, tuple[IntervalCounts, ...]]
    interval: int  # seconds
    rows: int  # calls imported
    skipped: tuple[BadRow, ...]

    def volumes(self, queue: str = DEFAULT_QUEUE) -> list[IntervalVolume]:
        """Offered contacts and mean handle time per interval, as the forecast takes them."""
        return [IntervalVolume(c.start, float(c.offered), c.handle_time) for c in self.queues.get(queue, ())]


class _RowError(Exception):
    """One row's problem; becomes a BadRow with the row's line number."""


# ---------------------------------------------------------------------------------------------------
# Values


class _Clock:
    """Reads timestamps into UTC: aware ones as given, naive ones as local wall-clock time in the zone."""

    def __init__(self, time_zone: str, timestamp_format: str | None) -> None:
        try:
            self.zone = ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise HistoryImportError(f"unknown time zone {time_zone!r}") from None
        self.format = timestamp_format
        self._day_offsets: dict[tuple[int, int, int], timedelta | None] = {}  # None: the offset changes

    def parse(self, field: str, text: str) -> datetime:
        """A naive local or UTC datetime."""
        text = text.strip()
        if not text:
            raise _RowError(f"{field} is empty")
        try:
            value = datetime.strptime(text, self.format) if self.format else datetime.fromisoformat(text)
        except ValueError:
            expected = self.format or "ISO 8601 or YYYY-MM-DD HH:MM:SS"
            raise _RowError(f"{field} {text!r} is not a timestamp ({expected})") from None
        return value if value.tzinfo is None else value.astimezone(UTC)

    def readings(self, field: str, value: datetime) -> tuple[datetime, datetime | None]:
        """UTC instant of a timestamp, and its second reading when the local time is one the clocks repeat.
        The UTC offset is cached per local day when it holds all day, else worked out per timestamp."""
        if value.tzinfo is not None:
            return value, None
        key = (value.year, value.month, value.day)
        if key not in self._day_offsets:
            midnight = datetime(*key, tzinfo=self.zone)
            start, end = midnight.utcoffset(), (midnight + timedelta(days=1)).utcoffset()  # wall-clock +1 day
            self._day_offsets[key] = start if start == end else None
        offset = self._day_offsets[key]
        if offset is not None:
            return (value - offset).replace(tzinfo=UTC), None
        local = value.replace(tzinfo=self.zone)
        utc = local.astimezone(UTC)
        if utc.astimezone(self.zone).replace(tzinfo=None) != value:
            raise _RowError(f"{field} {value} does not exist in {self.zone.key} (clocks went forward)")
        later = local.replace(fold=1).astimezone(UTC)
        return utc, (None if later == utc else later)

    def at_or_after(self, field: str, text: str, earliest: datetime) -> datetime:
        """A call's later timestamp: the second reading of a repeated local time if the first is too early."""
        utc, later = self.readings(field, self.parse(field, text))
        return later if later is not None and utc < earliest <= later else utc

    def wall_seconds(self, value: datetime) -> float:
        """Seconds since local midnight on the zone's clock, of a naive local or an aware time."""
        local = value if value.tzinfo is None else value.astimezone(self.zone)
        return local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6


def _number(field: str, text: str, decimal_comma: bool) -> float:
    cleaned = text.strip().replace(",", ".") if decimal_comma else text.strip()
    try:
        value = float(cleaned)
    except ValueError:
        raise _RowError(f"{field} {text.strip()!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise _RowError(f"{field} {text.strip()!r} must be a finite number >= 0")
    return value


def _duration(field: str, text: str, decimal_comma: bool) -> float | None:
    """Seconds, or [H:]MM:SS; empty means unknown."""
    text = text.strip()
    if not text:
        return None
    match = _DURATION.match(text)
    if match:
        hours, minutes, seconds = match.groups()
        return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    return _number(field, text, decimal_comma)


def _interval_seconds(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 60 or 86_400 % value:
        raise HistoryImportError(
            f"interval must be whole seconds, at least 60, dividing a day; got {value!r}"
        )
    return value


# ---------------------------------------------------------------------------------------------------
# Reading rows


@dataclass
class _Table:
    """Header, column positions and rows of a CSV source, each row with the line it starts on."""

    positions: dict[str, int]
    width: int
    decimal_comma: bool
    rows: Iterator[tuple[int, list[str] | None, str | None]]  # (line, fields, csv error)
    total: int | None


def _lines(source: str | Iterable[str]) -> tuple[Iterator[str], int | None]:
    """The lines, and how many rows follow the header when that can be known without reading."""
    if isinstance(source, str):
        lines = source.count("\n") + (0 if source.endswith("\n") else 1)
        return iter(io.StringIO(source, newline="")), max(lines - 1, 0)
    if isinstance(source, Sequence):
        return iter(source), max(len(source) - 1, 0)
    return iter(source), None


def _open_table(
    source: str | Iterable[str],
    defaults: Mapping[str, str],
    columns: Mapping[str, str | None] | None,
    delimiter: str | None,
) -> _Table:
    unknown = set(columns or {}) - set(defaults)
    if unknown:
        raise HistoryImportError(f"unknown column keys {sorted(unknown)}: use {sorted(defaults)}")
    explicit = {key for key, value in (columns or {}).items() if value is not None}
    mapping = {**defaults, **(columns or {})}
    lines, total = _lines(source)
    first = next(lines, None)
    if first is None or not first.strip():
        raise HistoryImportError("the file is empty: line 1 should be a header", [BadRow(1, "no header")])
    first = first.lstrip("\ufeff")
    if delimiter is None:
        delimiter = max(_DELIMITERS, key=first.count) if any(d in first for d in _DELIMITERS) else ","
    header = [name.strip() for name in next(csv.reader([first], delimiter=delimiter))]
    by_name = {name: i for i, name in reversed(list(enumerate(header)))}
    by_folded = {name.casefold(): i for i, name in reversed(list(enumerate(header)))}
    positions: dict[str, int] = {}
    missing = []
    for field, name in mapping.items():
        if name is None:
            continue
        position = by_name.get(name.strip(), by_folded.get(name.strip().casefold()))
        if position is not None:
            positions[field] = position
        elif field in _REQUIRED or field in explicit:
            missing.append(f"{field} (column {name!r})")
    if missing:
        reason = f"missing column {', '.join(missing)}; header has {header}"
        raise HistoryImportError("the header does not match the column mapping", [BadRow(1, reason)])
    reader = csv.reader(lines, delimiter=delimiter)

    def rows() -> Iterator[tuple[int, list[str] | None, str | None]]:
        done = 1  # physical lines consumed so far (the header)
        while True:
            try:
                for fields in reader:
                    line, done = done + 1, reader.line_num + 1
                    if len(fields) > 1 or (fields and fields[0].strip()):  # blank lines are not rows
                        yield line, fields, None
                return
            except csv.Error as error:
                yield done + 1, None, f"unreadable CSV: {error}"
                done = reader.line_num + 1

    return _Table(positions, len(header), delimiter != ",", rows(), total)


def _read(
    table: _Table,
    parse_row: Callable[[list[str], int], None],
    skip_bad_rows: bool,
    progress: Progress | None,
    progress_every: int,
) -> tuple[int, list[BadRow]]:
    """Run parse_row on every row; collect bad rows with their line numbers; report progress."""
    if isinstance(progress_every, bool) or not isinstance(progress_every, int) or progress_every < 1:
        raise HistoryImportError(f"progress_every must be a whole number >= 1, got {progress_every!r}")
    bad: list[BadRow] = []
    done = good = 0
    for line, fields, error in table.rows:
        done += 1
        try:
            if error is not None:
                raise _RowError(error)
            assert fields is not None
            if len(fields) != table.width:
                raise _RowError(f"{len(fields)} fields where the header has {table.width}")
            parse_row(fields, line)
            good += 1
        except _RowError as problem:
            bad.append(BadRow(line, str(problem)))
        except (ValueError, OverflowError) as problem:  # e.g. a date at the edge of the calendar
            bad.append(BadRow(line, f"unreadable value: {problem}"))
        if progress is not None and done % progress_every == 0:
            progress(done, table.total)
    if progress is not None:
        progress(done, done)  # the end: the total is now known (blank lines and quoted newlines aside)
    if bad and not skip_bad_rows:
        raise HistoryImportError(f"{len(bad)} bad row(s), nothing imported", bad, len(bad))
    return good, bad


# ---------------------------------------------------------------------------------------------------
# Interval volumes


def parse_interval_volumes(
    source: str | Iterable[str],
    *,
    columns: Mapping[str, str | None] | None = None,
    time_zone: str = "Europe/Paris",
    interval: int | None = None,
    delimiter: str | None = None,
    timestamp_format: str | None = None,
    skip_bad_rows: bool = False,
    progress: Progress | None = None,
    progress_every: int = 10_000,
) -> VolumeHistory:
    """Volumes (and mean handle times) per interval and queue. With `interval`, a start off the local
    interval grid is a bad row; a start given twice for a queue is always one."""
    step = None if interval is None else _interval_seconds(interval)
    clock = _Clock(time_zone, timestamp_format)
    table = _open_table(source, DEFAULT_VOLUME_COLUMNS, columns, delimiter)
    rows: dict[str, dict[datetime, tuple[IntervalVolume, int]]] = {}
    repeated_local: dict[str, set[datetime]] = {}
    at = table.positions
    start_at, volume_at, handle_at, queue_at = (
        at.get(k) for k in ("interval_start", "volume", "handle_time", "queue")
    )

    def parse_row(fields: list[str], line: int) -> None:
        queue = DEFAULT_QUEUE if queue_at is None else fields[queue_at].strip()
        when = clock.parse("interval_start", fields[start_at])  # type: ignore[index]
        start, second_reading = clock.readings("interval_start", when)
        if second_reading is not None:  # a local time the clocks repeat: the second row is the second one
            seen = repeated_local.setdefault(queue, set())
            start = second_reading if when in seen else start
            seen.add(when)
        if step is not None and clock.wall_seconds(when) % step:
            raise _RowError(f"interval_start {when} is not on the {step // 60}-minute grid")
        volume = _number("volume", fields[volume_at], table.decimal_comma)  # type: ignore[index]
        handle = (
            None if handle_at is None else _duration("handle_time", fields[handle_at], table.decimal_comma)
        )
        per_queue = rows.setdefault(queue, {})
        if start in per_queue:
            raise _RowError(f"interval_start {when} repeats line {per_queue[start][1]}")
        per_queue[start] = (IntervalVolume(start, volume, handle), line)

    good, bad = _read(table, parse_row, skip_bad_rows, progress, progress_every)
    queues = {q: tuple(row for _, (row, _) in sorted(starts.items())) for q, starts in sorted(rows.items())}
    return VolumeHistory(queues, step or _common_gap(queues.values()), good, tuple(bad))


def _common_gap(queues: Iterable[Sequence[IntervalVolume]]) -> int | None:
    gap = 0
    for rows in queues:
        for before, after in zip(rows, rows[1:], strict=False):
            gap = math.gcd(gap, int((after.start - before.start).total_seconds()))
    return gap or None


# ---------------------------------------------------------------------------------------------------
# Call records


def parse_call_records(
    source: str | Iterable[str],
    *,
    interval: int = 900,
    columns: Mapping[str, str | None] | None = None,
    time_zone: str = "Europe/Paris",
    delimiter: str | None = None,
    timestamp_format: str | None = None,
    skip_bad_rows: bool = False,
    progress: Progress | None = None,
    progress_every: int = 10_000,
) -> CallHistory:
    """Offered, answered and abandoned calls and mean handle time per local interval and queue, from one
    row per call. Intervals with no arrival are left out (they had none)."""
    step = _interval_seconds(interval)
    clock = _Clock(time_zone, timestamp_format)
    table = _open_table(source, DEFAULT_CALL_COLUMNS, columns, delimiter)
    totals: dict[tuple[str, datetime], list[float]] = {}  # offered, answered, handle seconds

    at = table.positions
    arrival_at, answer_at, end_at, queue_at = (at.get(k) for k in ("arrival", "answer", "end", "queue"))

    def parse_row(fields: list[str], line: int) -> None:
        queue = DEFAULT_QUEUE if queue_at is None else fields[queue_at].strip()
        arrived = clock.parse("arrival", fields[arrival_at])  # type: ignore[index]
        arrival = clock.readings("arrival", arrived)[0]
        answer_text, end_text = fields[answer_at].strip(), fields[end_at].strip()  # type: ignore[index]
        answer = clock.at_or_after("answer", answer_text, arrival) if answer_text else None
        end = clock.at_or_after("end", end_text, answer or arrival) if end_text else None
        if answer is not None and answer < arrival:
            raise _RowError(f"answered ({answer_text}) before it arrived")
        if answer is not None and end is None:
            raise _RowError("answered call has no end time")
        if end is not None and end < (answer or arrival):
            raise _RowError(f"ends ({end_text}) before it {'was answered' if answer else 'arrived'}")
        bucket = arrival - timedelta(seconds=clock.wall_seconds(arrived) % step)  # local interval start
        counts = totals.setdefault((queue, bucket), [0, 0, 0.0])
        counts[0] += 1
        if answer is not None and end is not None:
            counts[1] += 1
            counts[2] += (end - answer).total_seconds()

    good, bad = _read(table, parse_row, skip_bad_rows, progress, progress_every)
    queues: dict[str, list[IntervalCounts]] = {}
    for (queue, start), (offered, answered, handled) in sorted(totals.items()):
        handle = handled / answered if answered else None
        queues.setdefault(queue, []).append(
            IntervalCounts(start, int(offered), int(answered), int(offered - answered), handle)
        )
    return CallHistory({q: tuple(rows) for q, rows in queues.items()}, step, good, tuple(bad))
