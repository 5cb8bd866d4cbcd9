"""The replay that scores the wait estimates: runs on real Hangu sessions through the SQL queue,
beats the naive baseline of the same run, and refuses bad input with exit status 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from slotoptim.listener.cli import main
from slotoptim.ml.cli import HANGU_CSV, shared_data_file
from slotoptim.ml.queue.replay import ReplayConfig, ReplayInputError, read_sessions, replay

HANGU = shared_data_file(HANGU_CSV)


@pytest.mark.skipif(HANGU is None, reason="the shared Hangu data set is not present")
def test_forecast_beats_the_naive_baseline_on_replayed_days(fresh_db: str) -> None:
    assert HANGU is not None
    sessions = read_sessions(HANGU)
    assert len(sessions) > 300 and 10 < len(sessions[0]) < 40
    report = replay(fresh_db, sessions, ReplayConfig(history_sessions=60, test_sessions=4))
    result = report.as_dict()
    assert report.estimates > 50
    assert report.model.mae < report.naive_default.mae
    assert result["model"]["within_10_minutes"] >= result["naive_default"]["within_10_minutes"]
    assert 0.5 < result["model"]["interval_80_coverage"] <= 1.0


def test_bad_input_names_the_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["queue", "evaluate", "--test-sessions", "0"]) == 2
    assert "--test-sessions" in capsys.readouterr().err
    broken = tmp_path / "Data.csv"
    broken.write_text("Session,ServTime\n1,600\n")
    assert main(["queue", "evaluate", "--hangu", str(broken)]) == 2
    assert "missing column 'Visit.No'" in capsys.readouterr().err
    with pytest.raises(ReplayInputError, match="sessions asked for"):
        replay("", [[]], ReplayConfig(history_sessions=5, test_sessions=5))
