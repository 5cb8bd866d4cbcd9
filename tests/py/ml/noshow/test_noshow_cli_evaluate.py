from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from slotoptim.ml.cli import NOSHOW_CSV, main, shared_data_file
from slotoptim.ml.noshow.kaggle import read_noshow_csv
from slotoptim.ml.noshow.model import split_by_day
from slotoptim.ml.noshow.synthetic import synthetic_appointments, write_kaggle_csv
from slotoptim.ml.noshow.table import AppointmentTable, sample_patients


def write_split(table: AppointmentTable, day: str, folder: Path) -> tuple[Path, Path]:
    train, test = split_by_day(table, np.datetime64(day, "D"))
    write_kaggle_csv(train, folder / "train.csv")
    write_kaggle_csv(test, folder / "test.csv")
    return folder / "train.csv", folder / "test.csv"


def test_train_and_test_files_split_by_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = shared_data_file(NOSHOW_CSV)
    if path is None:
        pytest.skip("shared data folder not found: set SLOTOPTIM_SHARED_DATA to the folder holding noshow/")
    table, _ = read_noshow_csv(path)
    train, test = write_split(sample_patients(table, 0.25, seed=9), "2016-05-16", tmp_path)

    status = main(["ml", "evaluate", "--train", str(train), "--test", str(test), "--format", "json"])
    captured = capsys.readouterr()
    assert status == 0
    report = json.loads(captured.out)
    assert report["test"]["first_day"] >= "2016-05-16" > report["train"]["last_day"]
    assert 0.66 < report["metrics"]["roc_auc"] < 0.80
    assert len(report["metrics"]["calibration"]) == 10
    assert report["notes"] == []
    assert "boosting rounds" in captured.err


def test_one_file_with_a_split_date_as_a_table_and_a_stored_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "synthetic.csv"
    write_kaggle_csv(synthetic_appointments(3_000, days=30, seed=6), data)
    models = tmp_path / "models"
    status = main(
        [
            "ml",
            "evaluate",
            "--data",
            str(data),
            "--split-date",
            "2016-04-24",
            "--save-model",
            "--model-dir",
            str(models),
        ]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert "ROC AUC" in out and "calibration" in out and "model stored in" in out
    assert len(list(models.iterdir())) == 1


def run_failing(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    status = main(args)
    captured = capsys.readouterr()
    assert status == 2
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


def test_bad_input_is_one_line_and_status_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.csv"
    write_kaggle_csv(synthetic_appointments(200, days=10, seed=7), good)
    missing = tmp_path / "nope.csv"
    assert str(missing) in run_failing(["ml", "evaluate", "--train", str(missing), "--test", str(good)], capsys)

    wrong_columns = tmp_path / "wrong.csv"
    wrong_columns.write_text("a,b\n1,2\n")
    line = run_failing(["ml", "evaluate", "--train", str(good), "--test", str(wrong_columns)], capsys)
    assert str(wrong_columns) in line and "missing column 'PatientId'" in line

    bad_date = tmp_path / "bad_date.csv"
    text = good.read_text().splitlines()
    fields = text[1].split(",")
    fields[3] = "29/04/2016"
    bad_date.write_text("\n".join([text[0], ",".join(fields), *text[2:]]) + "\n")
    line = run_failing(["ml", "evaluate", "--train", str(bad_date), "--test", str(good)], capsys)
    assert "'ScheduledDay'" in line and "line 2" in line

    assert "go together" in run_failing(["ml", "evaluate", "--train", str(good)], capsys)
    assert "either" in run_failing(["ml", "evaluate"], capsys)
    line = run_failing(["ml", "evaluate", "--data", str(good), "--split-date", "2030-01-01"], capsys)
    assert "no appointments" in line
    line = run_failing(["ml", "evaluate", "--data", str(good), "--split-date", "2016-13-01"], capsys)
    assert "--split-date" in line and "2016-13-01" in line
