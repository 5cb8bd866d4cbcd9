"""`slotoptim ml train|score|forecast|buffers` in database mode, and demo-history, as a user runs them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from slotoptim.ml.cli import main


@pytest.fixture
def database(history_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", history_url)
    return history_url


def test_train_score_buffers_forecast(
    database: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, history_at: dt.datetime
) -> None:
    at = history_at.isoformat()
    assert main(["ml", "train", "--at", at, "--model-dir", str(tmp_path), "--rounds", "60"]) == 0
    out = capsys.readouterr()
    train = json.loads(out.out)
    assert train["step"] == "train" and train["failed"] == 0
    assert train["organisations"][0]["source"] == "practice"
    assert "labelled appointments" in out.err

    assert main(["ml", "score", "--at", at, "--org", "harbourview"]) == 0
    score = json.loads(capsys.readouterr().out)
    assert score["organisations"][0]["scored"] > 20

    assert main(["ml", "buffers", "--at", at, "--quantile", "0.9"]) == 0
    buffers = json.loads(capsys.readouterr().out)
    assert buffers["organisations"][0]["quantile"] == 0.9

    assert (
        main(["ml", "forecast", "--at", at, "--method", "seasonal_naive", "--max-origins", "1", "--format", "table"])
        == 0
    )
    table = capsys.readouterr().out
    assert "backtest total: 1 origins" in table and "seasonal_naive" in table
    assert "forecast: seasonal_naive, 14 days from 2026-11-30 (stored)" in table


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ml", "score", "--org", "nobody"], "slotoptim ml score: --org: no organisation with key 'nobody'"),
        (
            ["ml", "train", "--at", "2026-11-30T00:00"],
            "slotoptim ml train: --at: '2026-11-30T00:00' needs a UTC offset",
        ),
        (["ml", "forecast", "--holiday", "2026-12-25"], "slotoptim ml forecast: --holiday goes with --noshow-csv"),
        (["ml", "buffers", "--scheduled-by", "service"], "slotoptim ml buffers: --scheduled-by goes with --hangu"),
        (["ml", "score", "--format", "table"], "slotoptim ml score: --format table: the database mode prints JSON"),
    ],
)
def test_bad_options_are_one_line_and_status_2(
    database: str, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(args) == 2
    assert capsys.readouterr().err.strip().startswith(message)


def test_demo_history_writes_a_synthetic_practice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "history.json"
    assert main(["ml", "demo-history", "--today", "2026-11-30", "--weeks", "2", "--out", str(out)]) == 0
    document = json.loads(out.read_text())
    assert "synthetic" in document["organisation"]["name"]
    assert min(a["start"] for a in document["appointments"]) < "2026-11-17"
    assert "building 2 weeks of synthetic history" in capsys.readouterr().err
