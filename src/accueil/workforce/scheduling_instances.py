"""Benchmark instances for shift scheduling, read into scheduling.py's own types.

The shift design instances of Musliu, Schaerf and Slany (TU Wien, "Operating Hours Assistant"
benchmarks), as MiniZinc data files (``.dzn``) in github Stieguu/Bounded-Minimum-Shift-Design-Constraint-
Programming: a week of demand in slots of `interval` minutes, cyclic (Sunday night runs into Monday), and
shift types given by windows of start slot and length. Reading them lets the scheduler be checked against
instances other people have solved. Pure: the caller reads the file and passes its text.

Units. The benchmark counts shortage and excess in agent-minutes with weight 1 and each distinct shift
(start, length) with a weight equal to the slot length in minutes (15, 30 or 60): one more shift pattern
costs as much as one agent missing for one slot. Objective weights are per agent-slot here, so
weightUnderCover and weightOverCover are multiplied by the slot length. The fourth criterion of the
original problem, average duties per week (minDuties, maxDuties, avgMinutes, weightDutiesPerWeek), is kept
as data but not part of the objective, as in the minimum shift design problem of Di Gaspero et al. (2007).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from accueil.workforce.scheduling import Objective, Requirement, SchedulingInputError, ShiftType

MINUTES_PER_DAY: Final = 24 * 60
_STATEMENT: Final = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$", re.DOTALL)
_NUMBER: Final = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_INTEGERS: Final = ("interval", "days", "shiftTypes", "avgMinutes")
_WEIGHTS: Final = ("weightUnderCover", "weightOverCover", "weightDutiesPerWeek", "weightShiftInstances")
_WINDOWS: Final = ("minStart", "maxStart", "minLength", "maxLength")


class InstanceFormatError(SchedulingInputError):
    """The text is not a shift design instance this reader understands (missing field, wrong length...)."""


@dataclass(frozen=True)
class ShiftDesignInstance:
    """One Musliu shift design instance: the requirement, its shift types, and the benchmark objective."""

    requirement: Requirement  # cyclic week (or day), agents per slot
    shift_types: tuple[ShiftType, ...]  # one per window; names "type1"...; no cost, no breaks
    objective: Objective  # shift design weights, per agent-slot
    slot_minutes: int
    min_duties: float  # average duties (shifts) per employee and week, lower and upper bound
    max_duties: float
    average_minutes: int  # contracted minutes per employee and week
    weight_duties: int  # weight of the duties-per-week criterion (not in `objective`)


def _value(name: str, text: str) -> float | list[float]:
    """A number or a one-dimensional array of numbers in MiniZinc syntax."""
    text = text.strip()
    if text.startswith("["):
        if not text.endswith("]"):
            raise InstanceFormatError(f"{name}: array is not closed with ]")
        items = [item.strip() for item in text[1:-1].split(",")]
        if items == [""]:
            return []
        return [_number(name, item) for item in items]
    return _number(name, text)


def _number(name: str, text: str) -> float:
    if not _NUMBER.match(text):
        raise InstanceFormatError(f"{name}: {text[:40]!r} is not a number")
    return float(text)


def _integer(name: str, value: float) -> int:
    if value != int(value):
        raise InstanceFormatError(f"{name}: {value} should be a whole number")
    return int(value)


def parse_dzn(text: str) -> dict[str, float | list[float]]:
    """Assignments ``name = value;`` of a MiniZinc data file (numbers and flat arrays; % comments)."""
    if not isinstance(text, str):
        raise InstanceFormatError("give the text of the .dzn file")
    body = "\n".join(line.split("%", 1)[0] for line in text.splitlines())
    values: dict[str, float | list[float]] = {}
    for statement in body.split(";"):
        if not statement.strip():
            continue
        match = _STATEMENT.match(statement)
        if not match:
            raise InstanceFormatError(f"cannot read {statement.strip()[:60]!r} (expected name = value)")
        name, raw = match.groups()
        if name in values:
            raise InstanceFormatError(f"{name} is given twice")
        values[name] = _value(name, raw)
    return values


def _scalar(values: dict[str, float | list[float]], name: str) -> float:
    if name not in values:
        raise InstanceFormatError(f"missing {name}")
    value = values[name]
    if isinstance(value, list):
        raise InstanceFormatError(f"{name} should be a number, not an array")
    return value


def _array(values: dict[str, float | list[float]], name: str, size: int) -> list[int]:
    if name not in values:
        raise InstanceFormatError(f"missing {name}")
    value = values[name]
    if not isinstance(value, list):
        raise InstanceFormatError(f"{name} should be an array")
    if len(value) != size:
        raise InstanceFormatError(f"{name} has {len(value)} values, expected {size}")
    return [_integer(name, v) for v in value]


def parse_shift_design_instance(text: str) -> ShiftDesignInstance:
    """Read a Musliu shift design instance (.dzn text) into a requirement, shift types and objective."""
    values = parse_dzn(text)
    interval, days, type_count, average_minutes = (_integer(n, _scalar(values, n)) for n in _INTEGERS)
    if interval < 1 or MINUTES_PER_DAY % interval:
        raise InstanceFormatError(f"interval {interval} minutes does not divide a day")
    if days < 1 or type_count < 1:
        raise InstanceFormatError("days and shiftTypes must be at least 1")
    per_day = MINUTES_PER_DAY // interval
    demand = _array(values, "demand", days * per_day)
    min_start, max_start, min_length, max_length = (_array(values, n, type_count) for n in _WINDOWS)
    weight_under, weight_over, weight_duties, weight_shift = (
        _integer(n, _scalar(values, n)) for n in _WEIGHTS
    )
    types = []
    for k in range(type_count):
        if min_start[k] > max_start[k] or min_length[k] > max_length[k]:
            raise InstanceFormatError(f"shift type {k + 1}: a window ends before it starts")
        types.append(
            ShiftType(
                f"type{k + 1}",
                start=range(min_start[k], max_start[k] + 1),
                length=range(min_length[k], max_length[k] + 1),
            )
        )
    return ShiftDesignInstance(
        requirement=Requirement(demand, slots_per_day=per_day, cyclic=True),
        shift_types=tuple(types),
        objective=Objective.shift_design(
            under=weight_under * interval, over=weight_over * interval, distinct_shift=weight_shift
        ),
        slot_minutes=interval,
        min_duties=_scalar(values, "minDuties"),
        max_duties=_scalar(values, "maxDuties"),
        average_minutes=average_minutes,
        weight_duties=weight_duties,
    )
