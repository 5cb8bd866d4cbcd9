from __future__ import annotations

import json
from pathlib import Path

import pytest

from slotoptim.ml.cli import NOSHOW_CSV, main, shared_data_file
from slotoptim.ml.forecast.noshow_counts import daily_appointment_counts, zero_weekdays


def kaggle_file() -> Path:
    path = shared_data_file(NOSHOW_CSV)
    if path is None:
        pytest.skip("shared data folder not found: set SLOTOPTIM_SHARED_DATA to the folder holding noshow/")
    return path


def test_daily_counts_cover_the_file_with_its_closed_days() -> None:
    series = daily_appointment_counts(kaggle_file())
    assert len(series) == 34 and str(series.periods[0]) == "2016-04-29" and str(series.periods[-1]) == "2016-06-01"
    assert series.counts.sum() == 88_535  # every kept appointment, attended or not
    assert (series.counts > 0).sum() == 22
    assert zero_weekdays(series) == ["2016-05-23", "2016-05-26", "2016-05-27"]


def test_command_reports_both_methods(capsys: pytest.CaptureFixture[str]) -> None:
    path = kaggle_file()
    status = main(["ml", "forecast", "--noshow-csv", str(path), "--max-origins", "2", "--format", "json"])
    captured = capsys.readouterr()
    assert status == 0
    data = json.loads(captured.out)
    assert [s["method"] for s in data["summaries"]] == ["prophet", "seasonal_naive"]
    assert len(data["origins"]) == 2 and data["zero_demand_weekdays"] == ["2016-05-23", "2016-05-26", "2016-05-27"]
    assert all(s["skipped_zero_points"] > 0 and s["mase_open_days"] > 0 for s in data["summaries"])
    assert "origin 1/2" in captured.err and "cmdstanpy" not in captured.err

    assert main(["ml", "forecast", "--noshow-csv", str(path), "--max-origins", "1", "--holiday", "2016-05-26"]) == 0
    assert "MAPE skips zero-demand periods" in capsys.readouterr().out


def test_bad_options_are_one_line_and_status_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ml", "forecast", "--noshow-csv", str(tmp_path / "x.csv"), "--holiday", "2016-05-xx"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["slotoptim ml forecast: --holiday: not a date (YYYY-MM-DD): '2016-05-xx'"]
    assert main(["ml", "forecast", "--noshow-csv", str(tmp_path / "absent.csv")]) == 2
    assert "absent.csv" in capsys.readouterr().err
    # Without --noshow-csv the command reads the database; a file-only option says so before connecting.
    assert main(["ml", "forecast", "--holiday", "2016-05-26"]) == 2
    assert "--noshow-csv" in capsys.readouterr().err


def test_too_short_for_a_weekly_backtest(capsys: pytest.CaptureFixture[str]) -> None:
    path = kaggle_file()
    # Five weeks of data cannot back-test a weekly model with a yearly season.
    assert main(["ml", "forecast", "--noshow-csv", str(path), "--frequency", "weekly", "--initial", "2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "exceed one season" in err[0]
