from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from slotoptim.ml.noshow.model import train_noshow_model
from slotoptim.ml.noshow.store import (
    ModelNotFoundError,
    default_model_root,
    list_versions,
    load_model,
    save_model,
)
from slotoptim.ml.noshow.synthetic import synthetic_appointments


def test_a_saved_model_loads_back_and_predicts_the_same(tmp_path: Path) -> None:
    table = synthetic_appointments(1_500, days=15, seed=4)
    model = train_noshow_model(table, rounds=10)
    first = save_model(
        model,
        root=tmp_path,
        training_source="synthetic",
        metrics={"roc_auc": 0.7},
        now=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    second = save_model(model, root=tmp_path, now=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert first.name == "20260102T030405Z" and second.name == "20260102T030405Z-2"
    assert list_versions(tmp_path) == [first.name, second.name]
    assert sorted(p.name for p in first.iterdir()) == [
        "calibration.json",
        "encoding.json",
        "metadata.json",
        "model.json",
    ]

    metadata = json.loads((first / "metadata.json").read_text())
    assert metadata["training_window"]["fit_rows"] == model.window.fit_rows
    assert metadata["features"] == list(model.feature_names)
    assert metadata["metrics"] == {"roc_auc": 0.7}
    assert {"python", "numpy", "xgboost"} <= set(metadata["library_versions"])

    loaded, loaded_metadata = load_model(root=tmp_path, version=first.name)
    assert loaded_metadata["version"] == first.name
    np.testing.assert_allclose(loaded.predict(table, table), model.predict(table, table), rtol=1e-6)
    newest, _ = load_model(root=tmp_path)
    assert newest.window == model.window


def test_versions_are_never_overwritten(tmp_path: Path) -> None:
    model = train_noshow_model(synthetic_appointments(600, days=8, seed=5), rounds=3)
    save_model(model, root=tmp_path, version="v1")
    with pytest.raises(FileExistsError):
        save_model(model, root=tmp_path, version="v1")


def test_missing_models_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError):
        load_model(root=tmp_path)


def test_default_root_is_under_the_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLOTOPTIM_STATE_DIR", str(tmp_path))
    assert default_model_root() == tmp_path / "models" / "noshow"
