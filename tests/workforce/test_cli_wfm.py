"""``accueil wfm``: forecast → staff → schedule → simulate chained on the real Anonymous Bank history."""

from __future__ import annotations

import csv
import io
import json

from click.testing import CliRunner

from accueil.cli import main

SHIFTS = [{"name": "day", "start": {"from": "06:00", "to": "14:00", "every": 60}, "hours": 8, "cost": 100,
           "breaks": [{"minutes": 30, "after_hours": 3, "latest_hours": 5}]},
          {"name": "evening", "start": ["14:00", "16:00"], "hours": 8, "cost": 110}]


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_forecast_staff_schedule_simulate_chain(shared_data, tmp_path):
    runner = CliRunner()
    history = shared_data("wfm/anonymous_bank_1999_6min_calls.csv")
    forecast = tmp_path / "forecast.csv"
    done = runner.invoke(main, ["wfm", "forecast", str(history), "--column", "volume=calls", "--timezone", "UTC",
                                "--country", "IL", "--start", "1999-12-06", "--days", "1", "-o", str(forecast)])
    assert done.exit_code == 0, done.output
    predicted = rows(forecast.read_text())
    assert len(predicted) == 48 and predicted[0]["start"] == "1999-12-06T00:00:00Z"
    assert 1500 < sum(float(r["volume"]) for r in predicted) < 4500  # a Monday of the bank: ~2,500-3,500 calls
    plan = tmp_path / "plan.csv"
    done = runner.invoke(main, ["wfm", "staff", str(forecast), "--handle-time", "200", "--patience", "180",
                                "--shrinkage", "0.25", "-o", str(plan)])
    assert done.exit_code == 0, done.output
    staffed = rows(plan.read_text())
    busy = [r for r in staffed if float(r["volume"]) > 0]
    assert all(float(r["service_level"]) >= 0.8 for r in busy)
    assert all(int(r["positions"]) >= int(r["agents"]) for r in staffed)
    (tmp_path / "shifts.json").write_text(json.dumps(SHIFTS))
    schedule = tmp_path / "schedule.json"
    done = runner.invoke(main, ["wfm", "schedule", str(plan), "--shifts", str(tmp_path / "shifts.json"),
                                "--objective", "deviation", "--time-limit", "5", "--format", "json",
                                "-o", str(schedule)])
    assert done.exit_code == 0, done.output
    result = json.loads(schedule.read_text())
    assert result["status"] in ("optimal", "feasible") and result["rows"]
    assert len(result["coverage"]) == 48
    check = tmp_path / "check.csv"
    done = runner.invoke(main, ["wfm", "simulate", str(plan), "--patience", "180", "--runs", "3", "-o", str(check)])
    assert done.exit_code == 0, done.output
    simulated = rows(check.read_text())
    offered = sum(float(r["offered"]) for r in simulated)
    assert abs(offered - sum(float(r["volume"]) for r in staffed)) < 0.1 * offered  # same traffic
    assert "service level" in done.output


def test_bad_history_lists_the_lines_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("interval_start,calls\n1999-01-01 00:00:00,3\nnot-a-date,2\n1999-01-01 00:12:00,-1\n")
    out = tmp_path / "out.csv"
    done = CliRunner().invoke(main, ["wfm", "forecast", str(bad), "--column", "volume=calls", "-o", str(out)])
    assert done.exit_code == 2 and "line 3" in done.output and "line 4" in done.output
    assert "nothing imported" in done.output and not out.exists()
    impossible = tmp_path / "f.csv"
    impossible.write_text("start,volume,handle_time\n2026-01-05T08:00:00Z,10,300\n2026-01-05T08:30:00Z,10,300\n")
    done = CliRunner().invoke(main, ["wfm", "staff", str(impossible), "--service-level", "1.0", "-o", str(out)])
    assert done.exit_code == 2 and not out.exists()
    done = CliRunner().invoke(main, ["wfm", "staff", str(impossible), "--handle-time", "0", "-o", str(out)])
    assert done.exit_code == 0  # the forecast's own handle time is used; --handle-time only fills gaps
