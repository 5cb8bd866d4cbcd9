"""Versioned storage of trained no-show models on disk.

Layout: <root>/<version>/ with
  model.json        XGBoost's own JSON model format,
  calibration.json  calibration method and its numbers (Platt slope/intercept or isotonic knots),
  encoding.json     neighbourhood encoding fitted on the training fold,
  metadata.json     version, training window, features, parameters, metrics, library versions.
Default root: <state dir>/models/noshow (state dir from slotoptim.listener.config: SLOTOPTIM_STATE_DIR or the
platform's user state dir). Versions are UTC timestamps, so their names sort in training order. A
version is written to a hidden folder first and renamed into place, so readers never see half a model.
metadata.json is self-contained so it can be mirrored into the database as one JSON document.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from slotoptim.listener.config import load_settings
from slotoptim.ml.noshow.calibration import calibration_from_json
from slotoptim.ml.noshow.encoding import NeighbourhoodEncoding
from slotoptim.ml.noshow.model import NoShowModel, TrainingWindow

MODEL_FILE = "model.json"
CALIBRATION_FILE = "calibration.json"
ENCODING_FILE = "encoding.json"
METADATA_FILE = "metadata.json"
MODEL_KIND = "noshow-xgboost"


class ModelNotFoundError(LookupError):
    pass


def default_model_root() -> Path:
    return load_settings().state_dir / "models" / "noshow"


def list_versions(root: Path | None = None) -> list[str]:
    """Stored versions, oldest first."""
    folder = root or default_model_root()
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and (p / METADATA_FILE).is_file())


def save_model(
    model: NoShowModel,
    *,
    root: Path | None = None,
    version: str | None = None,
    training_source: str = "",
    metrics: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Path:
    """Write a new version and return its folder; an existing version is never overwritten."""
    folder = root or default_model_root()
    folder.mkdir(parents=True, exist_ok=True)
    created = (now or datetime.now(UTC)).astimezone(UTC)
    name = version or _free_version_name(folder, created.strftime("%Y%m%dT%H%M%SZ"))
    target = folder / name
    if target.exists():
        raise FileExistsError(f"{target}: model version already exists")

    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=folder))
    model.booster.save_model(str(staging / MODEL_FILE))
    _write_json(staging / CALIBRATION_FILE, model.calibration.to_json())
    _write_json(staging / ENCODING_FILE, model.encoding.to_json())
    _write_json(staging / METADATA_FILE, _metadata(model, name, created, training_source, metrics))
    os.rename(staging, target)
    return target


def load_model(*, root: Path | None = None, version: str | None = None) -> tuple[NoShowModel, dict[str, Any]]:
    """The given version, or the newest one; returns the model and its metadata."""
    import xgboost

    folder = root or default_model_root()
    versions = list_versions(folder)
    if not versions:
        raise ModelNotFoundError(f"{folder}: no stored no-show model")
    name = version or versions[-1]
    if name not in versions:
        raise ModelNotFoundError(f"{folder}: no model version {name!r} (have {', '.join(versions)})")
    path = folder / name
    metadata: dict[str, Any] = json.loads((path / METADATA_FILE).read_text())
    booster = xgboost.Booster()
    booster.load_model(str(path / MODEL_FILE))
    window = metadata["training_window"]
    model = NoShowModel(
        booster=booster,
        calibration=calibration_from_json(json.loads((path / CALIBRATION_FILE).read_text())),
        encoding=NeighbourhoodEncoding.from_json(json.loads((path / ENCODING_FILE).read_text())),
        window=TrainingWindow(
            fit_days=(window["fit_days"][0], window["fit_days"][1]),
            calibration_days=(window["calibration_days"][0], window["calibration_days"][1]),
            fit_rows=int(window["fit_rows"]),
            calibration_rows=int(window["calibration_rows"]),
        ),
        feature_names=tuple(metadata["features"]),
        params=dict(metadata["params"]),
        rounds=int(metadata["rounds"]),
    )
    return model, metadata


def _metadata(
    model: NoShowModel, version: str, created: datetime, training_source: str, metrics: dict[str, Any] | None
) -> dict[str, Any]:
    import numpy
    import xgboost

    return {
        "kind": MODEL_KIND,
        "version": version,
        "created_at": created.isoformat(),
        "training_source": training_source,
        "training_window": model.window.to_json(),
        "features": list(model.feature_names),
        "params": model.params,
        "rounds": model.rounds,
        "calibration": model.calibration.to_json()["method"],
        "metrics": metrics or {},
        "library_versions": {
            "python": platform.python_version(),
            "numpy": numpy.__version__,
            "xgboost": xgboost.__version__,
        },
        "files": {"model": MODEL_FILE, "calibration": CALIBRATION_FILE, "encoding": ENCODING_FILE},
    }


def _free_version_name(folder: Path, stamp: str) -> str:
    name, suffix = stamp, 2
    while (folder / name).exists():
        name, suffix = f"{stamp}-{suffix}", suffix + 1
    return name


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
